//! Where a setting came from: a file and line, or an environment variable.

use std::fmt;
use std::path::{Path, PathBuf};

/// The place a setting was written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A config file, and the line (1-based) when known.
    File { path: PathBuf, line: Option<u32> },
    /// An `ARTOKEN_*` environment variable.
    Env { variable: String },
}

impl Origin {
    pub(crate) fn file(path: &Path, line: Option<u32>) -> Self {
        Origin::File {
            path: path.to_path_buf(),
            line,
        }
    }

    pub(crate) fn env(variable: &str) -> Self {
        Origin::Env {
            variable: variable.to_string(),
        }
    }

    /// The file, for file origins.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Origin::File { path, .. } => Some(path),
            Origin::Env { .. } => None,
        }
    }

    /// The line, for file origins that know it.
    pub fn line(&self) -> Option<u32> {
        match self {
            Origin::File { line, .. } => *line,
            Origin::Env { .. } => None,
        }
    }

    /// The same place without its line: the file, or the variable.
    pub fn place(&self) -> Origin {
        match self {
            Origin::File { path, .. } => Origin::File {
                path: path.clone(),
                line: None,
            },
            Origin::Env { .. } => self.clone(),
        }
    }
}

impl fmt::Display for Origin {
    /// `/p/artoken.yml:7`, `/p/artoken.yml`, or `environment variable ARTOKEN_PROFILE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                path,
                line: Some(line),
            } => write!(f, "{}:{line}", path.display()),
            Origin::File { path, line: None } => write!(f, "{}", path.display()),
            Origin::Env { variable } => write!(f, "environment variable {variable}"),
        }
    }
}

/// A value and where it was set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Located<T> {
    pub fn new(value: T, origin: Origin) -> Self {
        Located { value, origin }
    }
}

/// A setting as layers see it: `None` never set, `Some(None)` set to nothing (cleared),
/// `Some(Some(v))` set to `v`. A later layer's `Some` replaces an earlier one.
pub(crate) type Slot<T> = Option<Located<Option<T>>>;

/// Lists the distinct places (files without lines, variables) of `origins`, in order.
pub(crate) fn places(origins: &[Origin]) -> String {
    let mut seen: Vec<Origin> = Vec::new();
    for o in origins {
        let p = o.place();
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    seen.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_read_like_compiler_locations() {
        assert_eq!(
            Origin::file(Path::new("/p/artoken.yml"), Some(7)).to_string(),
            "/p/artoken.yml:7"
        );
        assert_eq!(
            Origin::file(Path::new("/p/artoken.yml"), None).to_string(),
            "/p/artoken.yml"
        );
        assert_eq!(
            Origin::env("ARTOKEN_PROFILE").to_string(),
            "environment variable ARTOKEN_PROFILE"
        );
    }

    #[test]
    fn places_drop_lines_and_repeats() {
        let a = Path::new("/a/artoken.yml");
        let b = Path::new("/p/artoken.user.yml");
        let list = [
            Origin::file(a, Some(2)),
            Origin::file(a, Some(9)),
            Origin::file(b, Some(1)),
        ];
        assert_eq!(places(&list), "/a/artoken.yml, /p/artoken.user.yml");
    }
}
