//! The last step: defaults filled in, required fields and cross-references checked.

use std::collections::BTreeMap;
use std::path::Path;

use crate::spec::{Format, RepositorySpec};

use super::error::{ConfigError, one_line};
use super::merge::{Draft, EnvDefKind};
use super::origin::{Located, Slot};
use super::resolved::{Config, EnvEntry, EnvValue, RepositoryOrigins};
use super::targets::{Target, TargetDef};
use super::var_key::display_names;

fn get<T: Clone>(slot: &Slot<T>) -> Option<T> {
    slot.as_ref().and_then(|l| l.value.clone())
}

fn configured(names: &[String]) -> String {
    if names.is_empty() {
        "none is configured".to_string()
    } else {
        format!("configured: {}", names.join(", "))
    }
}

/// Turns the merged draft (wev variables resolved, environment applied) into a [`Config`].
pub(crate) fn finish(draft: Draft) -> Result<Config, ConfigError> {
    let names: Vec<String> = draft.repositories.keys().cloned().collect();
    let mut repositories = BTreeMap::new();
    let mut origins = BTreeMap::new();
    for (name, r) in &draft.repositories {
        let domain = get(&r.domain).ok_or_else(|| ConfigError::Missing {
            key: format!("repositories.{name}"),
            field: "domain",
            defined_in: r.defined_in.clone(),
        })?;
        let mut spec = RepositorySpec::new(name.clone(), domain);
        spec.owner = get(&r.owner);
        spec.region = get(&r.region);
        spec.repository = get(&r.repository);
        spec.profile = get(&r.profile);
        spec.role_arn = get(&r.role_arn);
        spec.endpoint = get(&r.endpoint);
        spec.repository_endpoint = get(&r.repository_endpoint);
        spec.token_file = get(&r.token_file).map(std::path::PathBuf::from);
        if let Some(format) = get(&r.format) {
            spec.format = format;
        }
        if let Some(duration) = get(&r.duration) {
            spec.duration = duration;
        }
        repositories.insert(name.clone(), spec);
        origins.insert(
            name.clone(),
            RepositoryOrigins {
                defined_in: r.defined_in.clone(),
                fields: r.field_origins(),
            },
        );
    }

    let default = match draft.default {
        Some(Located {
            value: Some(name),
            origin,
        }) => {
            if !repositories.contains_key(&name) {
                return Err(ConfigError::Invalid {
                    origin,
                    key: "default".into(),
                    message: format!(
                        "no repository named `{}` ({})",
                        one_line(&name),
                        configured(&names)
                    ),
                });
            }
            Some(name)
        }
        _ => None,
    };

    let mut env = Vec::new();
    for def in draft.env {
        // wev variables were resolved before the environment was applied.
        let EnvDefKind::Value(value) = def.kind else {
            continue;
        };
        if let Some(repo) = value.repository() {
            let key = format!("env.{}", display_names(&def.names));
            let invalid = |message: String| ConfigError::Invalid {
                origin: def.origin.clone(),
                key: key.clone(),
                message,
            };
            let Some(spec) = repositories.get(repo) else {
                return Err(invalid(format!(
                    "no repository named `{}` ({})",
                    one_line(repo),
                    configured(&names)
                )));
            };
            let what = match value {
                EnvValue::Url { .. } => Some("URL"),
                EnvValue::Endpoint { .. } => Some("endpoint"),
                _ => None,
            };
            if let Some(what) = what
                && spec.repository.is_none()
            {
                return Err(invalid(format!(
                    "repository `{repo}` names no CodeArtifact `repository:` (it is token-only), so it has no {what}"
                )));
            }
        }
        env.push(EnvEntry {
            names: def.names,
            value,
            source: def.origin.path().map(Path::to_path_buf).unwrap_or_default(),
            line: def.origin.line(),
        });
    }

    let targets = match draft.targets {
        Some(list) => resolve_targets(list.value, &repositories, default.as_deref(), &names)?,
        None => Vec::new(),
    };

    Ok(Config {
        repositories,
        default,
        env,
        refresh_before: get(&draft.refresh_before),
        targets,
        sources: draft.sources,
        origins,
        warnings: draft.warnings,
    })
}

/// Names each target's repository (its own, the default, or the only one) and checks that it
/// has a pypi endpoint when the target holds an index URL.
fn resolve_targets(
    defs: Vec<TargetDef>,
    repositories: &BTreeMap<String, RepositorySpec>,
    default: Option<&str>,
    names: &[String],
) -> Result<Vec<Target>, ConfigError> {
    let mut out = Vec::new();
    for (i, def) in defs.into_iter().enumerate() {
        let invalid = |message: String| ConfigError::Invalid {
            origin: def.origin.clone(),
            key: format!("targets[{i}]"),
            message,
        };
        let name = match def.repository.as_deref().or(default) {
            Some(n) => n.to_string(),
            None if repositories.len() == 1 => names[0].clone(),
            None => {
                return Err(invalid(format!(
                    "names no `repository:` and there is no default ({})",
                    configured(names)
                )));
            }
        };
        let Some(spec) = repositories.get(&name) else {
            return Err(invalid(format!(
                "no repository named `{}` ({})",
                one_line(&name),
                configured(names)
            )));
        };
        // A secret store target holding the bare token needs only a token (any repository).
        let needs_url = def.location.needs_index_url();
        if needs_url && spec.repository.is_none() {
            return Err(invalid(format!(
                "repository `{name}` names no CodeArtifact `repository:` (it is token-only), so it has no index URL"
            )));
        }
        if needs_url && spec.format != Format::Pypi {
            return Err(invalid(format!(
                "repository `{name}` has format {}; targets hold pip index URLs (format pypi)",
                spec.format
            )));
        }
        out.push(Target {
            location: def.location,
            repository: name,
            origin: def.origin,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::merge::{DraftRepo, EnvDef};
    use crate::config::origin::Origin;
    use crate::spec::{Format, TokenDuration};

    fn at(line: u32) -> Origin {
        Origin::file(Path::new("/p/artoken.yml"), Some(line))
    }

    fn repo(domain: Option<&str>, repository: Option<&str>) -> DraftRepo {
        DraftRepo {
            defined_in: vec![at(2)],
            domain: domain.map(|d| Located::new(Some(d.to_string()), at(3))),
            repository: repository.map(|r| Located::new(Some(r.to_string()), at(4))),
            ..DraftRepo::default()
        }
    }

    fn entry(name: &str, value: EnvValue) -> EnvDef {
        EnvDef {
            names: vec![name.into()],
            kind: EnvDefKind::Value(value),
            origin: at(9),
        }
    }

    #[test]
    fn defaults_fill_in() {
        let mut d = Draft::default();
        d.repositories
            .insert("corp".into(), repo(Some("corp"), None));
        let c = finish(d).unwrap();
        let spec = &c.repositories["corp"];
        assert_eq!(spec.format, Format::Pypi);
        assert_eq!(spec.duration, TokenDuration::Seconds(43_200));
        assert_eq!(c.origins["corp"].fields["domain"], at(3));
    }

    #[test]
    fn a_repository_needs_a_domain() {
        let mut d = Draft::default();
        d.repositories.insert("corp".into(), repo(None, Some("r1")));
        assert_eq!(
            finish(d).unwrap_err().to_string(),
            "repositories.corp: missing domain (defined in /p/artoken.yml)"
        );
    }

    #[test]
    fn references_must_resolve() {
        let mut d = Draft::default();
        d.repositories
            .insert("corp".into(), repo(Some("corp"), None));
        d.env.push(entry(
            "X",
            EnvValue::Token {
                repository: "crop".into(),
            },
        ));
        assert_eq!(
            finish(d).unwrap_err().to_string(),
            "/p/artoken.yml:9: env.X: no repository named `crop` (configured: corp)"
        );

        let mut d = Draft::default();
        d.repositories
            .insert("corp".into(), repo(Some("corp"), None));
        d.env.push(entry(
            "PIP_INDEX_URL",
            EnvValue::Url {
                repository: "corp".into(),
                tool: None,
            },
        ));
        assert_eq!(
            finish(d).unwrap_err().to_string(),
            "/p/artoken.yml:9: env.PIP_INDEX_URL: repository `corp` names no CodeArtifact `repository:` (it is token-only), so it has no URL"
        );

        let d = Draft {
            default: Some(Located::new(Some("nope".into()), at(1))),
            ..Draft::default()
        };
        assert_eq!(
            finish(d).unwrap_err().to_string(),
            "/p/artoken.yml:1: default: no repository named `nope` (none is configured)"
        );
    }
}
