//! The loaded configuration: repositories, the default, what `exec`/`env` inject, and where
//! each came from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::spec::RepositorySpec;

use super::error::ConfigError;
use super::origin::Origin;
use super::targets::Target;

/// The merged, checked configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// By configured name. wev.yml variables resolved by `wev-awscodeartifact` appear as
    /// token-only repositories named `wev:VARIABLE` (`wev:A,B` for a list key).
    pub repositories: BTreeMap<String, RepositorySpec>,
    /// The repository used when a command names none (checked to exist).
    pub default: Option<String>,
    /// What `artoken exec` / `artoken env` set, in file order; each variable appears once.
    pub env: Vec<EnvEntry>,
    /// Refresh a token when less than this many seconds of its life are left.
    pub refresh_before: Option<u64>,
    /// What `artoken refresh` keeps current, in file order.
    pub targets: Vec<Target>,
    /// The files read, lowest precedence first.
    pub sources: Vec<PathBuf>,
    /// Where each repository was defined, and where each of its fields was last set.
    pub origins: BTreeMap<String, RepositoryOrigins>,
    /// Notes that did not stop loading (e.g. a wev `duration` AWS cannot honour, adjusted).
    pub warnings: Vec<String>,
}

/// Where a repository's settings were written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepositoryOrigins {
    /// Every place that mentioned the repository, in order (the last one defined it last).
    pub defined_in: Vec<Origin>,
    /// Field name (`domain`, `profile`, ...) to the place that last set it.
    pub fields: BTreeMap<&'static str, Origin>,
}

/// Environment variables set to one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    /// One name, or several for a list key (`[A, B]: ...`), all set to the same value.
    pub names: Vec<String>,
    pub value: EnvValue,
    /// The file the entry was (last) written in.
    pub source: PathBuf,
    /// Its line there, when known.
    pub line: Option<u32>,
}

/// What an environment variable is set to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// The repository's index URL, with the token, as `tool` wants it (`pip` when `None`).
    Url {
        repository: String,
        tool: Option<String>,
    },
    /// The bare token.
    Token { repository: String },
    /// The repository endpoint, without the token.
    Endpoint { repository: String },
    /// Fixed text.
    Literal(String),
}

impl EnvValue {
    /// The repository it needs, if any.
    pub fn repository(&self) -> Option<&str> {
        match self {
            EnvValue::Url { repository, .. }
            | EnvValue::Token { repository }
            | EnvValue::Endpoint { repository } => Some(repository),
            EnvValue::Literal(_) => None,
        }
    }
}

impl Config {
    /// Where repository `name` was last defined (`/p/artoken.yml:3`, or an `ARTOKEN_*`
    /// variable); `None` for an unknown name.
    pub fn origin(&self, name: &str) -> Option<&Origin> {
        self.origins.get(name)?.defined_in.last()
    }

    /// The repository `name`, or with no name: the default, else the only one configured.
    pub fn repository(&self, name: Option<&str>) -> Result<&RepositorySpec, ConfigError> {
        let names = || self.repositories.keys().cloned().collect::<Vec<_>>();
        let name = match name.or(self.default.as_deref()) {
            Some(n) => n,
            None => {
                let mut all = self.repositories.values();
                return match (all.next(), all.next()) {
                    (Some(only), None) => Ok(only),
                    (None, _) => Err(ConfigError::NoRepository {
                        sources: self.sources.clone(),
                    }),
                    (Some(_), Some(_)) => Err(ConfigError::Ambiguous { names: names() }),
                };
            }
        };
        self.repositories
            .get(name)
            .ok_or_else(|| ConfigError::UnknownRepository {
                name: name.to_string(),
                names: names(),
                sources: self.sources.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(names: &[&str], default: Option<&str>) -> Config {
        Config {
            repositories: names
                .iter()
                .map(|n| (n.to_string(), RepositorySpec::new(*n, "corp")))
                .collect(),
            default: default.map(Into::into),
            env: Vec::new(),
            refresh_before: None,
            targets: Vec::new(),
            sources: vec![PathBuf::from("/p/artoken.yml")],
            origins: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn no_name_means_default_then_the_only_one() {
        assert_eq!(config(&["a"], None).repository(None).unwrap().name, "a");
        assert_eq!(
            config(&["a", "b"], Some("b"))
                .repository(None)
                .unwrap()
                .name,
            "b"
        );
        assert_eq!(
            config(&["a", "b"], None)
                .repository(None)
                .unwrap_err()
                .to_string(),
            "2 repositories are configured (a, b) and none is the default: name one, or set `default:` in artoken.yml"
        );
        assert_eq!(
            config(&[], None).repository(None).unwrap_err().to_string(),
            "no repository is configured in /p/artoken.yml and ARTOKEN_DOMAIN is not set"
        );
    }

    #[test]
    fn unknown_names_list_what_is_there() {
        assert_eq!(
            config(&["a", "b"], None)
                .repository(Some("c"))
                .unwrap_err()
                .to_string(),
            "no repository named `c`; configured: a, b (read /p/artoken.yml)"
        );
        assert_eq!(
            config(&["a", "b"], Some("a"))
                .repository(Some("b"))
                .unwrap()
                .name,
            "b"
        );
    }
}
