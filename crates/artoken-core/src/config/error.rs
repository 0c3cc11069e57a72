//! Config errors: one line each, naming the file, the line and the key.

use std::io;
use std::path::{Path, PathBuf};

use super::origin::{Origin, places};

/// Why the configuration could not be loaded, or a repository could not be chosen.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be opened or read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The path names a directory.
    #[error("{}: is a directory, not a config file", path.display())]
    Directory { path: PathBuf },

    /// The path names a FIFO, a device or a socket.
    #[error("{}: is not a regular file", path.display())]
    NotAFile { path: PathBuf },

    /// Bigger than [`MAX_BYTES`](super::MAX_BYTES) (1 MiB).
    #[error("{}: is larger than 1 MiB; that is no config file", path.display())]
    TooLarge { path: PathBuf },

    /// Not UTF-8.
    #[error("{}: is not valid UTF-8 (at byte {offset})", path.display())]
    NotUtf8 { path: PathBuf, offset: usize },

    /// Not YAML, or YAML beyond the limits (aliases that expand too far, nesting too deep).
    #[error("{origin}: {message}")]
    Yaml { origin: Origin, message: String },

    /// A value that is wrong in itself: an unknown field, a bad name, a duration AWS refuses.
    #[error("{origin}: {key}: {message}")]
    Invalid {
        origin: Origin,
        /// The key path, e.g. `repositories.corp.duration`.
        key: String,
        message: String,
    },

    /// A required field no layer set, e.g. a repository's domain.
    #[error("{key}: missing {field} (defined in {})", places(defined_in))]
    Missing {
        key: String,
        field: &'static str,
        defined_in: Vec<Origin>,
    },

    /// A wev.yml variable resolved by a plugin artoken does not implement.
    #[error(
        "{origin}: {variable}: plugin {id} is not supported by artoken; supported: wev-awscodeartifact, wev-echo"
    )]
    UnsupportedPlugin {
        origin: Origin,
        variable: String,
        id: String,
    },

    /// An `ARTOKEN_*` variable with a value that cannot be used.
    #[error("{variable}: {message}")]
    Environment { variable: String, message: String },

    /// No repository at all.
    #[error("{}", no_repository(sources))]
    NoRepository { sources: Vec<PathBuf> },

    /// Several repositories, no default, and none named.
    #[error(
        "{} repositories are configured ({}) and none is the default: name one, or set `default:` in artoken.yml",
        names.len(),
        names.join(", ")
    )]
    Ambiguous { names: Vec<String> },

    /// A name that is not configured.
    #[error("{}", unknown_repository(name, names, sources))]
    UnknownRepository {
        name: String,
        names: Vec<String>,
        sources: Vec<PathBuf>,
    },
}

fn files(sources: &[PathBuf]) -> String {
    sources
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn no_repository(sources: &[PathBuf]) -> String {
    if sources.is_empty() {
        "no repository is configured: no artoken.yml or wev.yml was found (in $HOME, and from / down to the current directory) and ARTOKEN_DOMAIN is not set".into()
    } else {
        format!(
            "no repository is configured in {} and ARTOKEN_DOMAIN is not set",
            files(sources)
        )
    }
}

fn unknown_repository(name: &str, names: &[String], sources: &[PathBuf]) -> String {
    let name = one_line(name);
    let read = if sources.is_empty() {
        "no config file was found".to_string()
    } else {
        format!("read {}", files(sources))
    };
    if names.is_empty() {
        format!("no repository named `{name}`: none is configured ({read})")
    } else {
        format!(
            "no repository named `{name}`; configured: {} ({read})",
            names.join(", ")
        )
    }
}

/// Builds errors located in one file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InFile<'a> {
    pub path: &'a Path,
}

impl InFile<'_> {
    pub fn origin(&self, line: Option<u32>) -> Origin {
        Origin::file(self.path, line)
    }

    /// `file:line: key: message`.
    pub fn invalid(&self, line: Option<u32>, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            origin: self.origin(line),
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// Escapes line breaks and other control characters so user text keeps an error on one line.
pub(crate) fn one_line(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_stay_on_one_line() {
        assert_eq!(one_line("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(one_line("plain"), "plain");
        let e = ConfigError::UnknownRepository {
            name: "x\ny".into(),
            names: vec!["a".into()],
            sources: vec![PathBuf::from("/p/artoken.yml")],
        };
        assert_eq!(
            e.to_string(),
            "no repository named `x\\ny`; configured: a (read /p/artoken.yml)"
        );
    }

    #[test]
    fn missing_lists_files_not_lines() {
        let e = ConfigError::Missing {
            key: "repositories.corp".into(),
            field: "domain",
            defined_in: vec![
                Origin::file(std::path::Path::new("/a/artoken.yml"), Some(3)),
                Origin::file(std::path::Path::new("/p/artoken.user.yml"), Some(2)),
            ],
        };
        assert_eq!(
            e.to_string(),
            "repositories.corp: missing domain (defined in /a/artoken.yml, /p/artoken.user.yml)"
        );
    }
}
