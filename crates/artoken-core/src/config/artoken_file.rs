//! The artoken.yml schema: one file's YAML tree into a layer (see the `config` module docs).

use std::collections::BTreeMap;
use std::path::Path;

use crate::spec::Format;

use super::endpoints;
use super::error::{ConfigError, InFile, one_line};
use super::merge::{DraftRepo, EnvDef, EnvDefKind, Layer};
use super::names;
use super::origin::{Located, Slot};
use super::resolved::EnvValue;
use super::schema::{TOP_FIELDS, field_name, list, map, text};
use super::targets;
use super::var_key::{display_names, var_names};
use super::yaml::{Kind, Node};

const REPOSITORY_FIELDS: [&str; 11] = [
    "domain",
    "owner",
    "region",
    "repository",
    "format",
    "profile",
    "role_arn",
    "duration",
    "token_file",
    "endpoint",
    "repository_endpoint",
];
const ENV_KINDS: [&str; 4] = ["url", "token", "endpoint", "value"];
const ENV_FIELDS: [&str; 5] = ["url", "token", "endpoint", "value", "tool"];
const CACHE_FIELDS: [&str; 1] = ["refresh_before"];

/// Reads one artoken.yml; `None` (an empty file) is an empty layer.
pub(crate) fn layer(path: &Path, root: Option<&Node>) -> Result<Layer, ConfigError> {
    let f = InFile { path };
    let mut layer = Layer::default();
    let Some(root) = root else {
        return Ok(layer);
    };
    let top = root.entries().ok_or_else(|| {
        f.invalid(
            root.line,
            "(top level)",
            format!(
                "expected a map with {}, found {}",
                list(&TOP_FIELDS),
                root.describe()
            ),
        )
    })?;
    for (k, v) in top {
        match field_name(&f, k, "(top level)", &TOP_FIELDS)? {
            "default" => {
                layer.default = slot(&f, v, |n| {
                    Ok(text(&f, n, "default")?.filter(|s| !s.is_empty()))
                })?;
            }
            "repositories" => layer.repositories = repositories(&f, v)?,
            "env" => layer.env = env(&f, v)?,
            "targets" => {
                layer.targets = Some(Located::new(targets::targets(&f, v)?, f.origin(k.line)));
            }
            _cache => {
                for (ck, cv) in map(&f, v, "cache")? {
                    // `refresh_before`, the only field so far.
                    field_name(&f, ck, "cache", &CACHE_FIELDS)?;
                    layer.refresh_before = slot(&f, cv, |n| refresh_before(&f, n))?;
                }
            }
        }
    }
    Ok(layer)
}

/// A set-or-cleared slot at the node's line: null clears, anything else goes through `read`.
fn slot<T>(
    f: &InFile<'_>,
    node: &Node,
    read: impl FnOnce(&Node) -> Result<Option<T>, ConfigError>,
) -> Result<Slot<T>, ConfigError> {
    let value = if node.is_null() { None } else { read(node)? };
    Ok(Some(Located::new(value, f.origin(node.line))))
}

/// A string field checked by `check`; null and `""` clear it.
fn checked(
    f: &InFile<'_>,
    node: &Node,
    key: &str,
    check: fn(&str) -> Result<(), String>,
) -> Result<Slot<String>, ConfigError> {
    slot(f, node, |n| {
        let v = text(f, n, key)?.filter(|s| !s.is_empty());
        if let Some(s) = &v {
            check(s).map_err(|m| f.invalid(n.line, key, m))?;
        }
        Ok(v)
    })
}

fn repositories(f: &InFile<'_>, node: &Node) -> Result<Vec<(String, DraftRepo)>, ConfigError> {
    let mut out = Vec::new();
    for (k, v) in map(f, node, "repositories")? {
        let name = k.text().ok_or_else(|| {
            f.invalid(
                k.line,
                "repositories",
                format!("expected a repository name as key, found {}", k.describe()),
            )
        })?;
        names::repository_key(&name).map_err(|m| f.invalid(k.line, "repositories", m))?;
        out.push((name.clone(), repository(f, &name, k, v)?));
    }
    Ok(out)
}

fn repository(
    f: &InFile<'_>,
    name: &str,
    key: &Node,
    node: &Node,
) -> Result<DraftRepo, ConfigError> {
    let path = format!("repositories.{name}");
    let mut r = DraftRepo {
        defined_in: vec![f.origin(key.line)],
        ..DraftRepo::default()
    };
    for (k, v) in map(f, node, &path)? {
        let field = field_name(f, k, &path, &REPOSITORY_FIELDS)?;
        let key = format!("{path}.{field}");
        match field {
            "domain" => r.domain = checked(f, v, &key, names::domain)?,
            "owner" => r.owner = checked(f, v, &key, names::owner)?,
            "region" => r.region = checked(f, v, &key, names::region)?,
            "repository" => r.repository = checked(f, v, &key, names::repository)?,
            "profile" => r.profile = checked(f, v, &key, names::profile)?,
            "role_arn" => r.role_arn = checked(f, v, &key, names::role_arn)?,
            "endpoint" => r.endpoint = checked(f, v, &key, endpoints::endpoint)?,
            "repository_endpoint" => {
                r.repository_endpoint = checked(f, v, &key, endpoints::repository_endpoint)?
            }
            "token_file" => r.token_file = checked(f, v, &key, token_file)?,
            "format" => {
                r.format = slot(f, v, |n| {
                    let s = text(f, n, &key)?.unwrap_or_default();
                    s.parse::<Format>()
                        .map(Some)
                        .map_err(|m| f.invalid(n.line, &key, one_line(&m)))
                })?;
            }
            _duration => {
                r.duration = slot(f, v, |n| {
                    let d = match &n.kind {
                        Kind::Int(i) => names::duration_seconds(*i),
                        Kind::Str(s) => names::duration(s),
                        _ => Err(format!(
                            "expected a duration (12h, 90m, 3600 or session), found {}",
                            n.describe()
                        )),
                    };
                    d.map(Some).map_err(|m| f.invalid(n.line, &key, m))
                })?;
            }
        }
    }
    Ok(r)
}

/// A token file handed in (see `crate::handed`): an absolute path, so it names the same file
/// from any directory.
fn token_file(s: &str) -> Result<(), String> {
    if std::path::Path::new(s).is_absolute() {
        Ok(())
    } else {
        Err(format!(
            "expected an absolute path (e.g. /run/secrets/codeartifact), found {}",
            one_line(s)
        ))
    }
}

fn refresh_before(f: &InFile<'_>, n: &Node) -> Result<Option<u64>, ConfigError> {
    let key = "cache.refresh_before";
    let secs = match &n.kind {
        Kind::Int(i) => names::refresh_before_seconds(*i),
        Kind::Str(s) => names::refresh_before(s),
        _ => Err(format!(
            "expected a duration (15m, 900), found {}",
            n.describe()
        )),
    };
    secs.map(Some).map_err(|m| f.invalid(n.line, key, m))
}

fn env(f: &InFile<'_>, node: &Node) -> Result<Vec<EnvDef>, ConfigError> {
    let mut out: Vec<EnvDef> = Vec::new();
    // Variable name -> (key shown, line) of the entry that set it in this file.
    let mut set_by: BTreeMap<String, (String, Option<u32>)> = BTreeMap::new();
    for (k, v) in map(f, node, "env")? {
        let names = var_names(k).map_err(|m| f.invalid(k.line, "env", m))?;
        let shown = display_names(&names);
        let key = format!("env.{shown}");
        for n in &names {
            if let Some((other, line)) = set_by.get(n) {
                let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
                return Err(f.invalid(
                    k.line,
                    &key,
                    format!("`{}` is already set by env.{other}{at}", one_line(n)),
                ));
            }
            set_by.insert(n.clone(), (shown.clone(), k.line));
        }
        let value = env_value(f, &key, v)?;
        out.push(EnvDef {
            names,
            kind: EnvDefKind::Value(value),
            origin: f.origin(k.line),
        });
    }
    Ok(out)
}

fn env_value(f: &InFile<'_>, key: &str, node: &Node) -> Result<EnvValue, ConfigError> {
    let entries = node.entries().ok_or_else(|| {
        f.invalid(
            node.line,
            key,
            format!(
                "expected a map like `{{ token: corp }}`, found {}",
                node.describe()
            ),
        )
    })?;
    let mut kinds: Vec<(&str, &Node)> = Vec::new();
    let mut tool: Option<&Node> = None;
    for (k, v) in entries {
        match field_name(f, k, key, &ENV_FIELDS)? {
            "tool" => tool = Some(v),
            kind if !v.is_null() => kinds.push((kind, v)),
            _ => {}
        }
    }
    let (kind, v) = match kinds.as_slice() {
        [] => {
            return Err(f.invalid(
                node.line,
                key,
                format!(
                    "needs one of {} (e.g. `{{ token: corp }}`)",
                    list(&ENV_KINDS)
                ),
            ));
        }
        [one] => *one,
        [a, b, ..] => {
            return Err(f.invalid(
                b.1.line,
                key,
                format!(
                    "sets both `{}` and `{}`; an entry has exactly one of {}",
                    a.0,
                    b.0,
                    list(&ENV_KINDS)
                ),
            ));
        }
    };
    let sub = format!("{key}.{kind}");
    let tool = match tool {
        Some(t) if kind != "url" && !t.is_null() => {
            return Err(f.invalid(t.line, key, "`tool` goes with `url` only"));
        }
        Some(t) => text(f, t, &format!("{key}.tool"))?.filter(|s| !s.is_empty()),
        None => None,
    };
    if kind == "value" {
        return match &v.kind {
            Kind::Str(s) => Ok(EnvValue::Literal(s.clone())),
            Kind::Int(i) => Ok(EnvValue::Literal(i.to_string())),
            Kind::Float(x) => Ok(EnvValue::Literal(x.to_string())),
            _ => Err(f.invalid(
                v.line,
                &sub,
                format!(
                    "expected a string, found {} (quote `true` or `false` to use them as text)",
                    v.describe()
                ),
            )),
        };
    }
    let repository = text(f, v, &sub)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| f.invalid(v.line, &sub, "expected a repository name"))?;
    Ok(match kind {
        "url" => EnvValue::Url { repository, tool },
        "token" => EnvValue::Token { repository },
        _ => EnvValue::Endpoint { repository },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml;
    use crate::spec::TokenDuration;

    const FILE: &str = "/p/artoken.yml";

    fn read(text: &str) -> Result<Layer, ConfigError> {
        let root = yaml::parse(Path::new(FILE), text)?;
        layer(Path::new(FILE), root.as_ref())
    }

    fn err(text: &str) -> String {
        read(text).unwrap_err().to_string()
    }

    fn value<T: Clone>(s: &Slot<T>) -> Option<T> {
        s.as_ref().and_then(|l| l.value.clone())
    }

    #[test]
    fn reads_the_whole_schema() {
        let l = read(
            "default: corp\n\
             repositories:\n\
             \x20 corp:\n\
             \x20   domain: corp\n\
             \x20   owner: \"012345678901\"\n\
             \x20   region: eu-west-1\n\
             \x20   repository: pypi-mirror\n\
             \x20   format: npm\n\
             \x20   profile: work\n\
             \x20   role_arn: arn:aws:iam::012345678901:role/ci\n\
             \x20   duration: 1h30m\n\
             env:\n\
             \x20 PIP_INDEX_URL: { url: corp, tool: uv }\n\
             \x20 CODEARTIFACT_AUTH_TOKEN: { token: corp }\n\
             \x20 CODEARTIFACT_ENDPOINT: { endpoint: corp }\n\
             \x20 SOME_TEXT: { value: literal }\n\
             \x20 [A, B]: { token: corp }\n\
             cache:\n\
             \x20 refresh_before: 15m\n",
        )
        .unwrap();
        assert_eq!(value(&l.default).as_deref(), Some("corp"));
        assert_eq!(value(&l.refresh_before), Some(900));
        let (name, r) = &l.repositories[0];
        assert_eq!(name, "corp");
        assert_eq!(value(&r.domain).as_deref(), Some("corp"));
        assert_eq!(value(&r.owner).as_deref(), Some("012345678901"));
        assert_eq!(value(&r.format), Some(Format::Npm));
        assert_eq!(value(&r.duration), Some(TokenDuration::Seconds(5400)));
        assert_eq!(r.duration.as_ref().unwrap().origin.line(), Some(11));
        let env: Vec<(Vec<String>, EnvValue)> = l
            .env
            .iter()
            .map(|d| match &d.kind {
                EnvDefKind::Value(v) => (d.names.clone(), v.clone()),
                EnvDefKind::Wev(_) => unreachable!(),
            })
            .collect();
        assert_eq!(
            env[0],
            (
                vec!["PIP_INDEX_URL".to_string()],
                EnvValue::Url {
                    repository: "corp".into(),
                    tool: Some("uv".into())
                }
            )
        );
        assert_eq!(env[3].1, EnvValue::Literal("literal".into()));
        assert_eq!(env[4].0, ["A", "B"]);
        assert_eq!(l.env[4].origin.line(), Some(17));
    }

    #[test]
    fn empty_files_and_nulls() {
        assert!(read("").unwrap().repositories.is_empty());
        let l = read("repositories:\n  corp:\n    profile: ~\n    region: ''\n").unwrap();
        let r = &l.repositories[0].1;
        assert!(r.profile.is_some() && value(&r.profile).is_none());
        assert!(r.region.is_some() && value(&r.region).is_none());
        assert!(r.domain.is_none());
    }

    #[test]
    fn unknown_fields_name_the_key_path_and_line() {
        assert_eq!(
            err("repositories:\n  corp:\n    domain: corp\n    domian: corp\n"),
            "/p/artoken.yml:4: repositories.corp: unknown field `domian`, expected one of `domain`, `owner`, `region`, `repository`, `format`, `profile`, `role_arn`, `duration`, `token_file`, `endpoint`, `repository_endpoint`"
        );
        assert_eq!(
            err("repository:\n  corp: {}\n"),
            "/p/artoken.yml:1: (top level): unknown field `repository`, expected one of `default`, `repositories`, `env`, `cache`, `targets`"
        );
    }

    #[test]
    fn values_aws_would_refuse() {
        assert_eq!(
            err("repositories:\n  corp:\n    domain: corp\n\n\n\n    duration: 13h\n"),
            "/p/artoken.yml:7: repositories.corp.duration: 13h is outside what AWS accepts (15m to 12h, or session)"
        );
        assert_eq!(
            err("repositories:\n  corp:\n    domain: Corp\n"),
            "/p/artoken.yml:3: repositories.corp.domain: `Corp` is not a CodeArtifact domain name (2 to 50 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen)"
        );
        assert_eq!(
            err("repositories:\n  corp:\n    owner: 12345\n"),
            "/p/artoken.yml:3: repositories.corp.owner: `12345` is not an AWS account id (12 digits; quote it in YAML so leading zeros stay)"
        );
        assert_eq!(
            err("repositories:\n  corp:\n    repository: -x\n"),
            "/p/artoken.yml:3: repositories.corp.repository: `-x` is not a CodeArtifact repository name (2 to 100 letters, digits, `.`, `_` and `-`, starting with a letter or digit)"
        );
        assert_eq!(
            err("repositories:\n  corp:\n    format: pip\n"),
            "/p/artoken.yml:3: repositories.corp.format: unknown format \"pip\" (expected one of: npm, pypi, maven, nuget, generic, ruby, swift, cargo)"
        );
        assert_eq!(
            err("repositories:\n  corp:\n    duration: [1]\n"),
            "/p/artoken.yml:3: repositories.corp.duration: expected a duration (12h, 90m, 3600 or session), found a list"
        );
        assert_eq!(
            err("repositories:\n  co rp: {}\n"),
            "/p/artoken.yml:2: repositories: `co rp` cannot name a repository (up to 64 letters, digits, `.`, `_` and `-`, starting with a letter or digit)"
        );
        assert_eq!(
            err("repositories: [corp]\n"),
            "/p/artoken.yml:1: repositories: expected a map, found a list"
        );
    }

    #[test]
    fn env_entries_have_exactly_one_kind() {
        assert_eq!(
            err("env:\n  A: {}\n"),
            "/p/artoken.yml:2: env.A: needs one of `url`, `token`, `endpoint`, `value` (e.g. `{ token: corp }`)"
        );
        assert_eq!(
            err("env:\n  A:\n    url: corp\n    token: corp\n"),
            "/p/artoken.yml:4: env.A: sets both `url` and `token`; an entry has exactly one of `url`, `token`, `endpoint`, `value`"
        );
        assert_eq!(
            err("env:\n  A: { token: corp, tool: uv }\n"),
            "/p/artoken.yml:2: env.A: `tool` goes with `url` only"
        );
        assert_eq!(
            err("env:\n  A: corp\n"),
            "/p/artoken.yml:2: env.A: expected a map like `{ token: corp }`, found a string"
        );
        assert_eq!(
            err("env:\n  A: { value: true }\n"),
            "/p/artoken.yml:2: env.A.value: expected a string, found a boolean (quote `true` or `false` to use them as text)"
        );
        assert_eq!(
            err("env:\n  A: { token: corp }\n  [B, A]: { token: corp }\n"),
            "/p/artoken.yml:3: env.[B, A]: `A` is already set by env.A (line 2)"
        );
        assert_eq!(
            err("env:\n  [A, 1.5]: { token: corp }\n"),
            "/p/artoken.yml:2: env: a list key holds variable names, found a number in it"
        );
        assert_eq!(
            err("env:\n  A: { tokn: corp }\n"),
            "/p/artoken.yml:2: env.A: unknown field `tokn`, expected one of `url`, `token`, `endpoint`, `value`, `tool`"
        );
    }

    #[test]
    fn refresh_before_is_checked() {
        assert_eq!(
            value(
                &read("cache: {refresh_before: 600}\n")
                    .unwrap()
                    .refresh_before
            ),
            Some(600)
        );
        assert_eq!(
            err("cache:\n  refresh_before: 13h\n"),
            "/p/artoken.yml:2: cache.refresh_before: 13h is longer than a token lives (12h at most)"
        );
    }
}
