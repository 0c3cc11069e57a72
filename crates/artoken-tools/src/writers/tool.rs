//! The tools `artoken login` knows, what repository format each needs, and its flags.

use std::fmt;
use std::str::FromStr;

use artoken_core::Format;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Pip,
    Uv,
    Poetry,
    Pipenv,
    Twine,
    Npm,
    Pnpm,
    Yarn,
    Bun,
    Maven,
    Gradle,
    Nuget,
    Dotnet,
    Cargo,
    Swift,
    Netrc,
}

impl Tool {
    pub const ALL: [Tool; 16] = [
        Tool::Pip,
        Tool::Uv,
        Tool::Poetry,
        Tool::Pipenv,
        Tool::Twine,
        Tool::Npm,
        Tool::Pnpm,
        Tool::Yarn,
        Tool::Bun,
        Tool::Maven,
        Tool::Gradle,
        Tool::Nuget,
        Tool::Dotnet,
        Tool::Cargo,
        Tool::Swift,
        Tool::Netrc,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Pip => "pip",
            Tool::Uv => "uv",
            Tool::Poetry => "poetry",
            Tool::Pipenv => "pipenv",
            Tool::Twine => "twine",
            Tool::Npm => "npm",
            Tool::Pnpm => "pnpm",
            Tool::Yarn => "yarn",
            Tool::Bun => "bun",
            Tool::Maven => "maven",
            Tool::Gradle => "gradle",
            Tool::Nuget => "nuget",
            Tool::Dotnet => "dotnet",
            Tool::Cargo => "cargo",
            Tool::Swift => "swift",
            Tool::Netrc => "netrc",
        }
    }

    /// The repository format the tool needs (`None`: any, for .netrc).
    pub fn format(self) -> Option<Format> {
        Some(match self {
            Tool::Pip | Tool::Uv | Tool::Poetry | Tool::Pipenv | Tool::Twine => Format::Pypi,
            Tool::Npm | Tool::Pnpm | Tool::Yarn | Tool::Bun => Format::Npm,
            Tool::Maven | Tool::Gradle => Format::Maven,
            Tool::Nuget | Tool::Dotnet => Format::Nuget,
            Tool::Cargo => Format::Cargo,
            Tool::Swift => Format::Swift,
            Tool::Netrc => return None,
        })
    }

    /// False for the tools whose files never hold the token (cargo asks artoken for it;
    /// the Pipfile and bunfig.toml name an environment variable).
    pub fn needs_token(self) -> bool {
        !matches!(self, Tool::Cargo | Tool::Pipenv | Tool::Bun)
    }

    pub fn takes_extra(self) -> bool {
        matches!(self, Tool::Pip | Tool::Uv | Tool::Poetry)
    }

    pub fn takes_scope(self) -> bool {
        matches!(self, Tool::Npm | Tool::Pnpm | Tool::Yarn | Tool::Bun)
    }

    fn names() -> String {
        Tool::ALL.map(Tool::name).join(", ")
    }
}

impl FromStr for Tool {
    type Err = String;
    fn from_str(s: &str) -> Result<Tool, String> {
        let s = s.to_ascii_lowercase();
        let alias = match s.as_str() {
            "pip3" => "pip",
            "mvn" => "maven",
            "yarn-berry" => "yarn",
            other => other,
        };
        Tool::ALL
            .into_iter()
            .find(|t| t.name() == alias)
            .ok_or_else(|| format!("unknown tool {s:?} (expected one of: {})", Tool::names()))
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for t in Tool::ALL {
            assert_eq!(t.name().parse::<Tool>().unwrap(), t);
        }
        let e = "gradlew".parse::<Tool>().unwrap_err();
        assert_eq!(e.lines().count(), 1);
        assert!(
            e.contains("pip, uv, poetry") && e.ends_with("swift, netrc)"),
            "{e}"
        );
    }
}
