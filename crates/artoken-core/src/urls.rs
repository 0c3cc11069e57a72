//! The URL each tool wants for a repository endpoint, with or without the token in it.

use std::fmt;
use std::str::FromStr;

use crate::secret::Token;

/// Tools `artoken url --tool` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// The bare endpoint, as GetRepositoryEndpoint returns it (no token).
    Endpoint,
    /// pip, uv, poetry, pipenv: `https://aws:TOKEN@host/pypi/repo/simple/`.
    Pip,
    Uv,
    Poetry,
    Pipenv,
    /// twine: `https://aws:TOKEN@host/pypi/repo/` (the upload URL).
    Twine,
    /// npm, pnpm, yarn: the registry URL (the token goes in `.npmrc`, see [`npmrc_auth_line`]).
    Npm,
    /// The `.npmrc` line `//host/npm/repo/:_authToken=TOKEN`.
    Npmrc,
    /// cargo: `sparse+https://host/cargo/repo/`.
    Cargo,
}

impl Tool {
    pub const NAMES: [&'static str; 9] = [
        "endpoint", "pip", "uv", "poetry", "pipenv", "twine", "npm", "npmrc", "cargo",
    ];
}

impl FromStr for Tool {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "endpoint" | "raw" => Tool::Endpoint,
            "pip" => Tool::Pip,
            "uv" => Tool::Uv,
            "poetry" => Tool::Poetry,
            "pipenv" => Tool::Pipenv,
            "twine" => Tool::Twine,
            "npm" | "pnpm" | "yarn" => Tool::Npm,
            "npmrc" => Tool::Npmrc,
            "cargo" => Tool::Cargo,
            _ => {
                return Err(format!(
                    "unknown tool {s:?} (expected one of: {})",
                    Tool::NAMES.join(", ")
                ));
            }
        })
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Tool::Endpoint => "endpoint",
            Tool::Pip => "pip",
            Tool::Uv => "uv",
            Tool::Poetry => "poetry",
            Tool::Pipenv => "pipenv",
            Tool::Twine => "twine",
            Tool::Npm => "npm",
            Tool::Npmrc => "npmrc",
            Tool::Cargo => "cargo",
        };
        f.write_str(s)
    }
}

impl Tool {
    /// True if the URL for this tool carries the token.
    pub fn needs_token(self) -> bool {
        !matches!(self, Tool::Endpoint | Tool::Npm | Tool::Cargo)
    }
}

/// Builds the string `tool` wants from `endpoint` (ends with `/`) and the token.
pub fn tool_url(tool: Tool, endpoint: &str, token: Option<&Token>) -> Result<String, String> {
    let base = if endpoint.ends_with('/') {
        endpoint.to_string()
    } else {
        format!("{endpoint}/")
    };
    let with_token = |u: &str| -> Result<String, String> {
        let token = token.ok_or("a token is needed")?;
        with_userinfo(u, token)
    };
    match tool {
        Tool::Endpoint => Ok(base),
        Tool::Pip | Tool::Uv | Tool::Poetry | Tool::Pipenv => with_token(&format!("{base}simple/")),
        Tool::Twine => with_token(&base),
        Tool::Npm => Ok(base),
        Tool::Npmrc => {
            let token = token.ok_or("a token is needed")?;
            Ok(npmrc_auth_line(&base, token))
        }
        Tool::Cargo => Ok(format!("sparse+{base}")),
    }
}

/// `https://aws:TOKEN@host/...` (the token percent-encoded where needed).
pub fn with_userinfo(url: &str, token: &Token) -> Result<String, String> {
    let mut u = url::Url::parse(url).map_err(|e| format!("invalid endpoint URL {url:?}: {e}"))?;
    u.set_username("aws")
        .and_then(|_| u.set_password(Some(token.expose())))
        .map_err(|_| format!("cannot put credentials into {url:?}"))?;
    Ok(u.to_string())
}

/// `//host/npm/repo/:_authToken=TOKEN` for `.npmrc`.
pub fn npmrc_auth_line(endpoint: &str, token: &Token) -> String {
    format!("{}:_authToken={}", npmrc_key(endpoint), token.expose())
}

/// `//host[:port]/path/` : the scheme-less prefix npm matches credentials by.
pub fn npmrc_key(endpoint: &str) -> String {
    let rest = endpoint
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(endpoint);
    let rest = if rest.ends_with('/') {
        rest.to_string()
    } else {
        format!("{rest}/")
    };
    format!("//{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const E: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/";

    #[test]
    fn each_tool_gets_its_url() {
        let t = Token::new("eyJ.abc_-");
        assert_eq!(
            tool_url(Tool::Pip, E, Some(&t)).unwrap(),
            "https://aws:eyJ.abc_-@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/simple/"
        );
        assert!(
            tool_url(Tool::Twine, E, Some(&t))
                .unwrap()
                .ends_with("/pypi/store/")
        );
        assert_eq!(tool_url(Tool::Endpoint, E, None).unwrap(), E);
        assert_eq!(
            tool_url(Tool::Cargo, E, None).unwrap(),
            format!("sparse+{E}")
        );
        assert_eq!(
            tool_url(Tool::Npmrc, "http://127.0.0.1:9/h/npm/r/", Some(&t)).unwrap(),
            "//127.0.0.1:9/h/npm/r/:_authToken=eyJ.abc_-"
        );
        assert!(tool_url(Tool::Pip, E, None).is_err());
        assert!("pnpm".parse::<Tool>().is_ok());
        assert!("gradle".parse::<Tool>().unwrap_err().contains("pip"));
    }

    #[test]
    fn odd_characters_in_a_token_are_encoded() {
        let t = Token::new("a/b+c=@d");
        let u = tool_url(Tool::Pip, E, Some(&t)).unwrap();
        assert!(u.starts_with("https://aws:a%2Fb+c%3D%40d@"), "{u}");
    }
}
