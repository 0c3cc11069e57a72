//! The `targets:` section: where `artoken refresh` keeps a token current.
//!
//! ```yaml
//! targets:
//!   - s3: s3://mwaa-bucket/requirements/codeartifact.txt   # an object in S3
//!     repository: corp        # optional: `default:`, else the only repository
//!   - file: requirements.txt  # a local file; relative to this config file's directory
//!   - secretsmanager: ci/codeartifact   # a secret (name or ARN): the bare token
//!   - secretsmanager: ci/pip
//!     json_key: token         # one key of a JSON secret; the other keys stay
//!   - ssm: /ci/codeartifact/index-url   # a SecureString parameter
//!     value: url              # the pip index URL with the token, not the bare token
//! ```
//!
//! Each entry has exactly one of `s3`, `file`, `secretsmanager` and `ssm`. A requirements file
//! (S3, file) names a repository with a CodeArtifact `repository:` of format pypi (the rewriter
//! edits pip index lines); so does a secret store target with `value: url`; one holding the bare
//! token needs only a domain. A later file's `targets:` replaces an earlier one's whole (lists
//! are replaced, as everywhere); `targets: []` clears it. Glue jobs are not targets: their runs
//! get a fresh URL from `artoken glue start-job-run`.

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, InFile, one_line};
use super::origin::{Located, Origin};
use super::schema::{field_name, list, map, text};
use super::yaml::{Kind, Node};

const TARGET_FIELDS: [&str; 8] = [
    "s3",
    "file",
    "secretsmanager",
    "ssm",
    "glue",
    "repository",
    "json_key",
    "value",
];
const TARGET_KINDS: [&str; 4] = ["s3", "file", "secretsmanager", "ssm"];

/// Where a target lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetLocation {
    /// An S3 object.
    S3 { bucket: String, key: String },
    /// A local file (absolute: relative paths are taken against the config file's directory).
    File(PathBuf),
    /// A secret in AWS Secrets Manager, by name or ARN.
    SecretsManager { secret: String, value: StoreValue },
    /// A parameter in SSM Parameter Store (written as a SecureString), by name.
    Ssm { name: String, value: StoreValue },
}

impl TargetLocation {
    /// True when the target holds the repository's index URL (so the repository needs a
    /// CodeArtifact `repository:` of format pypi); false for a secret store's bare token.
    pub fn needs_index_url(&self) -> bool {
        match self {
            TargetLocation::S3 { .. } | TargetLocation::File(_) => true,
            TargetLocation::SecretsManager { value, .. } | TargetLocation::Ssm { value, .. } => {
                value.kind == ValueKind::Url
            }
        }
    }
}

/// What a secret store target is given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ValueKind {
    /// The bare token (`value: token`, the default).
    #[default]
    Token,
    /// The pip index URL with the token in it (`value: url`).
    Url,
}

/// The value a secret store target holds: the [`ValueKind`], as the whole value or as one key
/// of a JSON object (`json_key:`; the object's other keys stay).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreValue {
    pub kind: ValueKind,
    pub json_key: Option<String>,
}

impl fmt::Display for TargetLocation {
    /// `s3://bucket/key`, the file's path, `secretsmanager:ID` or `ssm:NAME`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetLocation::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            TargetLocation::File(p) => write!(f, "{}", p.display()),
            TargetLocation::SecretsManager { secret, .. } => write!(f, "secretsmanager:{secret}"),
            TargetLocation::Ssm { name, .. } => write!(f, "ssm:{name}"),
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

/// Checks a Secrets Manager secret id: a name (1 to 512 of `A-Za-z0-9/_+=.@-`) or an ARN
/// (`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`).
pub fn check_secret_id(s: &str) -> Result<(), String> {
    let name_ok = |n: &str| {
        (1..=512).contains(&n.len())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
    };
    if let Some(rest) = s.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(6, ':').collect();
        let ok = matches!(parts.as_slice(),
            [partition, "secretsmanager", region, account, "secret", name]
                if !partition.is_empty()
                    && !region.is_empty()
                    && account.len() == 12
                    && account.chars().all(|c| c.is_ascii_digit())
                    && name_ok(name));
        return if ok {
            Ok(())
        } else {
            Err(format!(
                "`{}` is not a Secrets Manager secret ARN (expected arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)",
                one_line(s)
            ))
        };
    }
    if name_ok(s) {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a Secrets Manager secret name (1 to 512 letters, digits and / _ + = . @ -) or ARN",
            one_line(s)
        ))
    }
}

/// Checks an SSM parameter name: letters, digits and `_ . - /`, at most 1011 characters, a name
/// with `/` starting with `/`, not beginning with `aws` or `ssm` (reserved).
pub fn check_parameter_name(s: &str) -> Result<(), String> {
    let bad = |why: &str| {
        format!(
            "`{}` is not an SSM parameter name ({why}; e.g. /ci/codeartifact/token)",
            one_line(s)
        )
    };
    if s.starts_with("arn:") {
        return Err(bad("give the parameter's name, not its ARN"));
    }
    if s.is_empty()
        || s.len() > 1011
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
    {
        return Err(bad("1 to 1011 letters, digits and _ . - /"));
    }
    if s.contains('/') && (!s.starts_with('/') || s.ends_with('/') || s.contains("//")) {
        return Err(bad(
            "a hierarchical name starts with / and has no empty level",
        ));
    }
    let bare = s.trim_start_matches('/').to_ascii_lowercase();
    if bare.starts_with("aws") || bare.starts_with("ssm") {
        return Err(bad("names beginning with aws or ssm are reserved"));
    }
    Ok(())
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
    // `json_key` and `value`, with the line of each (they apply to secret stores only).
    let mut store = StoreValue::default();
    let mut store_field: Option<(&str, Option<u32>)> = None;
    for (k, v) in map(f, node, key)? {
        let field = field_name(f, k, key, &TARGET_FIELDS)?;
        let sub = format!("{key}.{field}");
        let found = match field {
            "repository" => {
                repository = text(f, v, &sub)?.filter(|s| !s.is_empty());
                continue;
            }
            "json_key" => {
                let s = text(f, v, &sub)?.filter(|s| !s.is_empty()).ok_or_else(|| {
                    f.invalid(
                        v.line,
                        &sub,
                        "expected the name of a key of the JSON object",
                    )
                })?;
                store.json_key = Some(s);
                store_field = Some((field, k.line));
                continue;
            }
            "value" => {
                store.kind = match text(f, v, &sub)?.as_deref() {
                    Some("token") => ValueKind::Token,
                    Some("url") => ValueKind::Url,
                    other => {
                        return Err(f.invalid(
                            v.line,
                            &sub,
                            format!(
                                "expected `token` (the bare token) or `url` (the pip index URL with the token), found {}",
                                other.map_or("nothing".to_string(), |o| format!("`{}`", one_line(o)))
                            ),
                        ));
                    }
                };
                store_field = Some((field, k.line));
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
            "secretsmanager" => {
                let s = text(f, v, &sub)?.unwrap_or_default();
                check_secret_id(&s).map_err(|m| f.invalid(v.line, &sub, m))?;
                TargetLocation::SecretsManager {
                    secret: s,
                    value: StoreValue::default(),
                }
            }
            "ssm" => {
                let s = text(f, v, &sub)?.unwrap_or_default();
                check_parameter_name(&s).map_err(|m| f.invalid(v.line, &sub, m))?;
                TargetLocation::Ssm {
                    name: s,
                    value: StoreValue::default(),
                }
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
    let (_, mut location) = location.ok_or_else(|| {
        f.invalid(
            node.line,
            key,
            format!(
                "needs one of {} (e.g. `{{ s3: s3://bucket/requirements.txt }}`)",
                list(&TARGET_KINDS)
            ),
        )
    })?;
    match &mut location {
        TargetLocation::SecretsManager { value, .. } | TargetLocation::Ssm { value, .. } => {
            *value = store;
        }
        TargetLocation::S3 { .. } | TargetLocation::File(_) => {
            if let Some((field, line)) = store_field {
                return Err(f.invalid(
                    line,
                    key,
                    format!(
                        "`{field}` is for `secretsmanager` and `ssm` targets only (an S3 object or a file is a requirements file: its index lines get the token)"
                    ),
                ));
            }
        }
    }
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
            "/p/artoken.yml:1: targets[0]: sets both `s3` and `file`; a target has exactly one of `s3`, `file`, `secretsmanager`, `ssm`"
        );
        assert_eq!(
            err("- repository: corp\n"),
            "/p/artoken.yml:1: targets[0]: needs one of `s3`, `file`, `secretsmanager`, `ssm` (e.g. `{ s3: s3://bucket/requirements.txt }`)"
        );
        assert_eq!(
            err("- s3: s3://bkt/k\n  repo: corp\n"),
            "/p/artoken.yml:2: targets[0]: unknown field `repo`, expected one of `s3`, `file`, `secretsmanager`, `ssm`, `glue`, `repository`, `json_key`, `value`"
        );
        assert!(err("- glue: job\n").contains("start-job-run"));
        assert_eq!(
            err("{a: 1}\n"),
            "/p/artoken.yml:1: targets: expected a list like `- { s3: s3://bucket/key, repository: corp }`, found a map"
        );
    }

    #[test]
    fn reads_secret_store_targets() {
        let t = read(
            "- secretsmanager: ci/codeartifact\n\
             - secretsmanager: arn:aws:secretsmanager:eu-west-1:111122223333:secret:ci/pip-AbCdEf\n  json_key: token\n  repository: corp\n\
             - {ssm: /ci/codeartifact/index-url, value: url}\n\
             - {value: token, json_key: CODEARTIFACT_AUTH_TOKEN, ssm: plain-name}\n",
        )
        .unwrap();
        assert_eq!(
            t[0].location,
            TargetLocation::SecretsManager {
                secret: "ci/codeartifact".into(),
                value: StoreValue::default()
            }
        );
        assert_eq!(t[0].location.to_string(), "secretsmanager:ci/codeartifact");
        assert!(!t[0].location.needs_index_url());
        assert_eq!(
            t[1].location,
            TargetLocation::SecretsManager {
                secret: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:ci/pip-AbCdEf".into(),
                value: StoreValue {
                    kind: ValueKind::Token,
                    json_key: Some("token".into())
                }
            }
        );
        assert_eq!(t[1].repository.as_deref(), Some("corp"));
        assert_eq!(t[1].origin.line(), Some(2));
        assert_eq!(
            t[2].location,
            TargetLocation::Ssm {
                name: "/ci/codeartifact/index-url".into(),
                value: StoreValue {
                    kind: ValueKind::Url,
                    json_key: None
                }
            }
        );
        assert_eq!(t[2].location.to_string(), "ssm:/ci/codeartifact/index-url");
        assert!(t[2].location.needs_index_url());
        // Field order does not matter: the options apply once the kind is known.
        assert_eq!(
            t[3].location,
            TargetLocation::Ssm {
                name: "plain-name".into(),
                value: StoreValue {
                    kind: ValueKind::Token,
                    json_key: Some("CODEARTIFACT_AUTH_TOKEN".into())
                }
            }
        );
        assert!(TargetLocation::File("/x".into()).needs_index_url());
    }

    #[test]
    fn secret_store_mistakes_are_located() {
        assert_eq!(
            err("- s3: s3://bkt/k\n  json_key: token\n"),
            "/p/artoken.yml:2: targets[0]: `json_key` is for `secretsmanager` and `ssm` targets only (an S3 object or a file is a requirements file: its index lines get the token)"
        );
        assert_eq!(
            err("- {value: url, file: r.txt}\n"),
            "/p/artoken.yml:1: targets[0]: `value` is for `secretsmanager` and `ssm` targets only (an S3 object or a file is a requirements file: its index lines get the token)"
        );
        assert_eq!(
            err("- ssm: /ci/t\n  value: password\n"),
            "/p/artoken.yml:2: targets[0].value: expected `token` (the bare token) or `url` (the pip index URL with the token), found `password`"
        );
        assert_eq!(
            err("- ssm: /ci/t\n  json_key: \"\"\n"),
            "/p/artoken.yml:2: targets[0].json_key: expected the name of a key of the JSON object"
        );
        assert_eq!(
            err("- {ssm: /ci/t, secretsmanager: ci/t}\n"),
            "/p/artoken.yml:1: targets[0]: sets both `ssm` and `secretsmanager`; a target has exactly one of `s3`, `file`, `secretsmanager`, `ssm`"
        );
        assert_eq!(
            err("- secretsmanager: \"ci pip\"\n"),
            "/p/artoken.yml:1: targets[0].secretsmanager: `ci pip` is not a Secrets Manager secret name (1 to 512 letters, digits and / _ + = . @ -) or ARN"
        );
        assert_eq!(
            err("- secretsmanager: arn:aws:ssm:eu-west-1:111122223333:parameter/x\n"),
            "/p/artoken.yml:1: targets[0].secretsmanager: `arn:aws:ssm:eu-west-1:111122223333:parameter/x` is not a Secrets Manager secret ARN (expected arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)"
        );
        assert_eq!(
            err("- ssm: ci/token\n"),
            "/p/artoken.yml:1: targets[0].ssm: `ci/token` is not an SSM parameter name (a hierarchical name starts with / and has no empty level; e.g. /ci/codeartifact/token)"
        );
        assert_eq!(
            err("- secretsmanager: ci/t\n  jsonkey: token\n"),
            "/p/artoken.yml:2: targets[0]: unknown field `jsonkey`, expected one of `s3`, `file`, `secretsmanager`, `ssm`, `glue`, `repository`, `json_key`, `value`"
        );
        assert_eq!(
            err("- s3: s3://bkt/k\n  ssm: /ci/t\n"),
            "/p/artoken.yml:2: targets[0]: sets both `s3` and `ssm`; a target has exactly one of `s3`, `file`, `secretsmanager`, `ssm`"
        );
        assert_eq!(
            err("- json_key: token\n  value: url\n"),
            "/p/artoken.yml:1: targets[0]: needs one of `s3`, `file`, `secretsmanager`, `ssm` (e.g. `{ s3: s3://bucket/requirements.txt }`)"
        );
        assert!(
            err("- secretsmanager: ci/t\n  json_key: [a, b]\n")
                .starts_with("/p/artoken.yml:2: targets[0].json_key: "),
            "{}",
            err("- secretsmanager: ci/t\n  json_key: [a, b]\n")
        );
        assert!(err("- ssm:\n").contains("targets[0].ssm: `` is not an SSM parameter name"));
        // A name never spills a second line into the error.
        assert_eq!(err("- ssm: \"/a\\nb\"\n").lines().count(), 1);
    }

    #[test]
    fn secret_ids_and_parameter_names() {
        for ok in [
            "ci/pip",
            "a",
            "prod/db_user+x=y.z@corp-1",
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:ci/pip-AbCdEf",
            "arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:x",
        ] {
            assert_eq!(check_secret_id(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "with space",
            "semi;colon",
            &"x".repeat(513),
            "arn:aws:secretsmanager:eu-west-1:1111:secret:x",
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:",
            "arn:aws:secretsmanager::111122223333:secret:x",
        ] {
            assert!(check_secret_id(bad).is_err(), "{bad}");
        }
        for ok in ["/ci/codeartifact/token", "token", "/t", "a.b-c_d"] {
            assert_eq!(check_parameter_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "a/b",
            "/a//b",
            "/a/",
            "/aws/x",
            "ssm-token",
            "/SSM/x",
            "with space",
            "arn:aws:ssm:eu-west-1:111122223333:parameter/x",
        ] {
            assert!(check_parameter_name(bad).is_err(), "{bad}");
        }
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
