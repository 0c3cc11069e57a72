//! Resolves the configured `env` entries (and wev variables) into name/value pairs.

use std::collections::HashMap;

use crate::config::{Config, EnvEntry, EnvValue};
use crate::provider::{Provider, ProviderError};
use crate::secret::Token;
use crate::spec::{Format, RepositorySpec};
use crate::urls::{Tool, tool_url};

/// One variable for `exec`/`env`. The value may hold a token, so it is a [`Token`].
#[derive(Debug, Clone)]
pub struct EnvVar {
    pub name: String,
    pub value: Token,
}

/// Why a variable could not be resolved; names the variable and the file it came from.
#[derive(Debug, thiserror::Error)]
#[error("{name} (from {source_file}): {message}")]
pub struct ResolveError {
    pub name: String,
    pub source_file: String,
    pub message: String,
    #[source]
    pub cause: Option<ProviderError>,
}

/// What `exec` and `env` set for a config with no `env:` entries: for the default repository
/// (or the only one), `CODEARTIFACT_AUTH_TOKEN`, plus the index URL variables of its format:
/// pypi `PIP_INDEX_URL` and `UV_DEFAULT_INDEX` (token in the URL), npm `NPM_CONFIG_REGISTRY`
/// (the token goes by `${CODEARTIFACT_AUTH_TOKEN}` in `.npmrc`). A config with no default among
/// several repositories, or with none, is an error that says what to add: never an empty
/// success that lets pip fall back to PyPI.
pub fn default_env(config: &Config) -> Result<Vec<EnvEntry>, String> {
    let spec = config.repository(None).map_err(|e| {
        format!(
            "no `env:` entries to set, and no repository to set defaults for ({e}); add `default: NAME` or an `env:` section"
        )
    })?;
    let repository = spec.name.clone();
    let source = std::path::PathBuf::from(format!("the defaults for repository {repository}"));
    let entry = |name: &str, value: EnvValue| EnvEntry {
        names: vec![name.to_string()],
        value,
        source: source.clone(),
        line: None,
    };
    let url = |tool: &str| EnvValue::Url {
        repository: repository.clone(),
        tool: Some(tool.to_string()),
    };
    let mut entries = vec![entry(
        "CODEARTIFACT_AUTH_TOKEN",
        EnvValue::Token {
            repository: repository.clone(),
        },
    )];
    // Index URLs need the repository itself, not only its domain.
    if spec.repository.is_some() {
        match spec.format {
            Format::Pypi => {
                entries.push(entry("PIP_INDEX_URL", url("pip")));
                entries.push(entry("UV_DEFAULT_INDEX", url("uv")));
            }
            Format::Npm => entries.push(entry("NPM_CONFIG_REGISTRY", url("npm"))),
            _ => {}
        }
    }
    Ok(entries)
}

/// The files a config came from, for messages.
fn sources(config: &Config) -> String {
    if config.sources.is_empty() {
        "no config file".into()
    } else {
        config
            .sources
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Resolves every entry, in config order; later entries win for the same name. With no
/// entries at all, the [`default_env`] of the default repository.
pub async fn resolve_env(
    config: &Config,
    provider: &Provider,
) -> Result<Vec<EnvVar>, ResolveError> {
    let defaults;
    let entries = if config.env.is_empty() {
        defaults = default_env(config).map_err(|message| ResolveError {
            name: "env".into(),
            source_file: sources(config),
            message,
            cause: None,
        })?;
        &defaults
    } else {
        &config.env
    };
    let mut out: Vec<EnvVar> = Vec::new();
    let mut tokens = HashMap::new();
    for entry in entries {
        let first = entry.names.first().cloned().unwrap_or_default();
        let fail = |message: String, cause: Option<ProviderError>| ResolveError {
            name: first.clone(),
            source_file: entry.source.display().to_string(),
            message,
            cause,
        };
        let value = match &entry.value {
            EnvValue::Literal(s) => Token::new(s.clone()),
            EnvValue::Token { repository } => {
                let spec = config
                    .repository(Some(repository))
                    .map_err(|e| fail(e.to_string(), None))?;
                token_once(provider, spec, &mut tokens)
                    .await
                    .map_err(|e| fail(format!("cannot get a token for {repository}"), Some(e)))?
            }
            EnvValue::Endpoint { repository } => {
                let spec = config
                    .repository(Some(repository))
                    .map_err(|e| fail(e.to_string(), None))?;
                let e = provider.endpoint(spec).await.map_err(|e| {
                    fail(format!("cannot get the endpoint of {repository}"), Some(e))
                })?;
                Token::new(e)
            }
            EnvValue::Url { repository, tool } => {
                let spec = config
                    .repository(Some(repository))
                    .map_err(|e| fail(e.to_string(), None))?;
                let tool: Tool = tool
                    .as_deref()
                    .unwrap_or("pip")
                    .parse()
                    .map_err(|e: String| fail(e, None))?;
                let endpoint = provider.endpoint(spec).await.map_err(|e| {
                    fail(format!("cannot get the endpoint of {repository}"), Some(e))
                })?;
                let token = if tool.needs_token() {
                    Some(token_once(provider, spec, &mut tokens).await.map_err(|e| {
                        fail(format!("cannot get a token for {repository}"), Some(e))
                    })?)
                } else {
                    None
                };
                Token::new(tool_url(tool, &endpoint, token.as_ref()).map_err(|e| fail(e, None))?)
            }
        };
        for name in &entry.names {
            out.retain(|v| &v.name != name);
            out.push(EnvVar {
                name: name.clone(),
                value: value.clone(),
            });
        }
    }
    Ok(out)
}

/// The repository's token, asked of the provider once per resolution: with `--refresh` (which
/// makes every provider call fetch) the variables of one repository still hold one token.
async fn token_once(
    provider: &Provider,
    spec: &RepositorySpec,
    tokens: &mut HashMap<String, Token>,
) -> Result<Token, ProviderError> {
    if let Some(t) = tokens.get(&spec.name) {
        return Ok(t.clone());
    }
    let t = provider.token(spec).await?.token;
    tokens.insert(spec.name.clone(), t.clone());
    Ok(t)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::spec::RepositorySpec;

    fn config(repos: &[(&str, Option<&str>, Format)], default: Option<&str>) -> Config {
        let repositories: BTreeMap<String, RepositorySpec> = repos
            .iter()
            .map(|(name, repo, format)| {
                let mut s = RepositorySpec::new(*name, "corp");
                s.repository = repo.map(str::to_string);
                s.format = *format;
                (name.to_string(), s)
            })
            .collect();
        Config {
            repositories,
            default: default.map(str::to_string),
            env: Vec::new(),
            refresh_before: None,
            targets: Vec::new(),
            sources: vec!["/p/artoken.yml".into()],
            origins: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    fn names(entries: &[EnvEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.names[0].as_str()).collect()
    }

    #[test]
    fn with_no_env_section_the_default_repository_gets_the_usual_variables() {
        let c = config(&[("py", Some("pypi-store"), Format::Pypi)], None);
        let e = default_env(&c).unwrap();
        assert_eq!(
            names(&e),
            [
                "CODEARTIFACT_AUTH_TOKEN",
                "PIP_INDEX_URL",
                "UV_DEFAULT_INDEX"
            ]
        );
        assert_eq!(
            e[1].value,
            EnvValue::Url {
                repository: "py".into(),
                tool: Some("pip".into())
            }
        );
        let c = config(
            &[
                ("py", Some("pypi-store"), Format::Pypi),
                ("js", Some("npm-store"), Format::Npm),
            ],
            Some("js"),
        );
        assert_eq!(
            names(&default_env(&c).unwrap()),
            ["CODEARTIFACT_AUTH_TOKEN", "NPM_CONFIG_REGISTRY"]
        );
        // Token-only (no repository), or a format with no index variable: the token alone.
        for (repo, format) in [(None, Format::Pypi), (Some("m"), Format::Maven)] {
            let c = config(&[("t", repo, format)], None);
            assert_eq!(
                names(&default_env(&c).unwrap()),
                ["CODEARTIFACT_AUTH_TOKEN"]
            );
        }
    }

    #[test]
    fn with_no_env_section_and_no_default_it_says_what_to_add() {
        for c in [
            config(
                &[
                    ("a", Some("r"), Format::Pypi),
                    ("b", Some("r"), Format::Pypi),
                ],
                None,
            ),
            config(&[], None),
        ] {
            let e = default_env(&c).unwrap_err();
            assert!(e.starts_with("no `env:` entries"), "{e}");
            assert!(
                e.contains("add `default: NAME` or an `env:` section"),
                "{e}"
            );
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
