//! The `targets:` section: files holding an index URL that `artoken refresh` keeps current.
//!
//! ```yaml
//! targets:
//!   - s3: s3://mwaa-bucket/requirements/codeartifact.txt   # an object in S3
//!     repository: corp        # optional: `default:`, else the only repository
//!   - file: requirements.txt  # a local file; relative to this config file's directory
//! ```
//!
//! Each entry has exactly one of `s3` and `file`, and names a repository with a CodeArtifact
//! `repository:` of format pypi (the rewriter edits pip index lines). A later file's `targets:`
//! replaces an earlier one's whole (lists are replaced, as everywhere); `targets: []` clears it.
//! Glue jobs are not targets: their runs get a fresh URL from `artoken glue start-job-run`.

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, InFile, one_line};
use super::origin::{Located, Origin};
use super::schema::{field_name, list, map, text};
use super::yaml::{Kind, Node};

const TARGET_FIELDS: [&str; 4] = ["s3", "file", "glue", "repository"];
const TARGET_KINDS: [&str; 2] = ["s3", "file"];

/// Where a target lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetLocation {
    /// An S3 object.
    S3 { bucket: String, key: String },
    /// A local file (absolute: relative paths are taken against the config file's directory).
    File(PathBuf),
}

impl fmt::Display for TargetLocation {
    /// `s3://bucket/key` or the file's path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetLocation::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            TargetLocation::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// One configured target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub location: TargetLocation,
    /// The repository whose URL the target holds (checked to exist, with an endpoint).
    pub repository: String,
    /// Where the entry was written.
    pub origin: Origin,
}

/// A target as read, before the repository is resolved.
#[derive(Debug, Clone)]
pub(crate) struct TargetDef {
    pub location: TargetLocation,
    pub repository: Option<String>,
    pub origin: Origin,
}

/// `s3://BUCKET/KEY` into bucket and key.
pub fn parse_s3_url(s: &str) -> Result<(String, String), String> {
    let bad = |why: &str| {
        format!(
            "`{}` is not an S3 object URL ({why}; expected s3://BUCKET/KEY)",
            one_line(s)
        )
    };
    let rest = s
        .strip_prefix("s3://")
        .ok_or_else(|| bad("it does not start with s3://"))?;
    let (bucket, key) = rest.split_once('/').ok_or_else(|| bad("it names no key"))?;
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !bucket_ok {
        return Err(bad(
            "the bucket name must be 3 to 63 lowercase letters, digits, `.` and `-`",
        ));
    }
    if key.is_empty() || key.ends_with('/') {
        return Err(bad("it names no object, only a bucket or a folder"));
    }
    Ok((bucket.to_string(), key.to_string()))
}

/// Reads the `targets:` list of one file; null is an empty list.
pub(crate) fn targets(f: &InFile<'_>, node: &Node) -> Result<Vec<TargetDef>, ConfigError> {
    let items: &[Node] = match &node.kind {
        Kind::Seq(items) => items,
        Kind::Null => &[],
        _ => {
            return Err(f.invalid(
                node.line,
                "targets",
                format!(
                    "expected a list like `- {{ s3: s3://bucket/key, repository: corp }}`, found {}",
                    node.describe()
                ),
            ));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| target(f, &format!("targets[{i}]"), item))
        .collect()
}

fn target(f: &InFile<'_>, key: &str, node: &Node) -> Result<TargetDef, ConfigError> {
    let mut location: Option<(&str, TargetLocation)> = None;
    let mut repository = None;
    for (k, v) in map(f, node, key)? {
        let field = field_name(f, k, key, &TARGET_FIELDS)?;
        let sub = format!("{key}.{field}");
        let found = match field {
            "repository" => {
                repository = text(f, v, &sub)?.filter(|s| !s.is_empty());
                continue;
            }
            "glue" => {
                return Err(f.invalid(
                    k.line,
                    key,
                    "Glue jobs are not refreshed in place (UpdateJob would replace the whole job definition): start runs with `artoken glue start-job-run` (or the Lambda) instead",
                ));
            }
            "s3" => {
                let s = text(f, v, &sub)?.unwrap_or_default();
                let (bucket, key) = parse_s3_url(&s).map_err(|m| f.invalid(v.line, &sub, m))?;
                TargetLocation::S3 { bucket, key }
            }
            _file => {
                let s = text(f, v, &sub)?
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| f.invalid(v.line, &sub, "expected a file path"))?;
                TargetLocation::File(beside(f.path, &s))
            }
        };
        if let Some((first, _)) = &location {
            return Err(f.invalid(
                k.line,
                key,
                format!(
                    "sets both `{first}` and `{field}`; a target has exactly one of {}",
                    list(&TARGET_KINDS)
                ),
            ));
        }
        location = Some((field, found));
    }
    let (_, location) = location.ok_or_else(|| {
        f.invalid(
            node.line,
            key,
            format!(
                "needs one of {} (e.g. `{{ s3: s3://bucket/requirements.txt }}`)",
                list(&TARGET_KINDS)
            ),
        )
    })?;
    Ok(TargetDef {
        location,
        repository,
        origin: f.origin(node.line),
    })
}

/// `path` taken against the directory of the config file that names it.
fn beside(config: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    config.parent().unwrap_or(Path::new("/")).join(p)
}

/// A later file's list replaces an earlier one's.
pub(crate) type TargetsSlot = Option<Located<Vec<TargetDef>>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml;

    const FILE: &str = "/p/artoken.yml";

    fn read(text: &str) -> Result<Vec<TargetDef>, ConfigError> {
        let root = yaml::parse(Path::new(FILE), text)?.unwrap();
        let f = InFile {
            path: Path::new(FILE),
        };
        targets(&f, &root)
    }

    fn err(text: &str) -> String {
        read(text).unwrap_err().to_string()
    }

    #[test]
    fn reads_s3_and_file_targets() {
        let t = read("- s3: s3://my-bucket/req/codeartifact.txt\n  repository: corp\n- file: reqs.txt\n- {file: /abs/r.txt}\n")
            .unwrap();
        assert_eq!(
            t[0].location,
            TargetLocation::S3 {
                bucket: "my-bucket".into(),
                key: "req/codeartifact.txt".into()
            }
        );
        assert_eq!(t[0].repository.as_deref(), Some("corp"));
        assert_eq!(t[0].origin.line(), Some(1));
        assert_eq!(t[1].location, TargetLocation::File("/p/reqs.txt".into()));
        assert_eq!(t[1].repository, None);
        assert_eq!(t[2].location.to_string(), "/abs/r.txt");
        assert_eq!(
            t[0].location.to_string(),
            "s3://my-bucket/req/codeartifact.txt"
        );
    }

    #[test]
    fn mistakes_are_located() {
        assert_eq!(
            err("- s3: s3://b\n"),
            "/p/artoken.yml:1: targets[0].s3: `s3://b` is not an S3 object URL (it names no key; expected s3://BUCKET/KEY)"
        );
        assert_eq!(
            err("- s3: https://b/k\n"),
            "/p/artoken.yml:1: targets[0].s3: `https://b/k` is not an S3 object URL (it does not start with s3://; expected s3://BUCKET/KEY)"
        );
        assert_eq!(
            err("- {s3: s3://bkt/k, file: x}\n"),
            "/p/artoken.yml:1: targets[0]: sets both `s3` and `file`; a target has exactly one of `s3`, `file`"
        );
        assert_eq!(
            err("- repository: corp\n"),
            "/p/artoken.yml:1: targets[0]: needs one of `s3`, `file` (e.g. `{ s3: s3://bucket/requirements.txt }`)"
        );
        assert_eq!(
            err("- s3: s3://bkt/k\n  repo: corp\n"),
            "/p/artoken.yml:2: targets[0]: unknown field `repo`, expected one of `s3`, `file`, `glue`, `repository`"
        );
        assert!(err("- glue: job\n").contains("start-job-run"));
        assert_eq!(
            err("{a: 1}\n"),
            "/p/artoken.yml:1: targets: expected a list like `- { s3: s3://bucket/key, repository: corp }`, found a map"
        );
    }

    #[test]
    fn s3_urls() {
        assert_eq!(
            parse_s3_url("s3://a.b-c/x/y.txt").unwrap(),
            ("a.b-c".to_string(), "x/y.txt".to_string())
        );
        assert!(parse_s3_url("s3://Bad/x").is_err());
        assert!(parse_s3_url("s3://ok-bucket/dir/").is_err());
        assert!(parse_s3_url("s3:///x").is_err());
    }
}
