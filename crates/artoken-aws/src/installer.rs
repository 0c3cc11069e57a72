//! Glue's `--python-modules-installer-option`: the repository's index URL merged into the pip
//! options already there.
//!
//! The value is a list of pip options separated by blanks (`--upgrade --index-url=URL`). Every
//! `--index-url` / `--extra-index-url` / `-i` that points at the same repository (with a token,
//! a placeholder or nothing in its password place) is dropped; the new option takes the place
//! of the first one dropped, or goes last. Every other option stays, in order.

use std::fmt;
use std::str::FromStr;

use crate::index_url::RepoUrl;

/// The Glue argument that carries pip options.
pub const INSTALLER_OPTION: &str = "--python-modules-installer-option";
/// The Glue argument naming the modules pip installs (the installer option only matters with it).
pub const ADDITIONAL_MODULES: &str = "--additional-python-modules";

/// Which pip option the repository goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// `--index-url`: the repository replaces PyPI (pip's last `--index-url` wins).
    #[default]
    IndexUrl,
    /// `--extra-index-url`: searched besides the main index.
    ExtraIndexUrl,
}

impl Mode {
    pub fn option(self) -> &'static str {
        match self {
            Mode::IndexUrl => "--index-url",
            Mode::ExtraIndexUrl => "--extra-index-url",
        }
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "index-url" | "--index-url" => Ok(Mode::IndexUrl),
            "extra-index-url" | "--extra-index-url" => Ok(Mode::ExtraIndexUrl),
            _ => Err(format!(
                "unknown mode {s:?} (expected index-url or extra-index-url)"
            )),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.option()[2..])
    }
}

/// The option's value with `url` (the repository's index URL, token in it) merged in.
pub fn merge_installer_option(
    existing: Option<&str>,
    repo: &RepoUrl,
    url: &str,
    mode: Mode,
) -> String {
    let ours = format!("{}={url}", mode.option());
    let tokens: Vec<&str> = existing.unwrap_or("").split_whitespace().collect();
    let mut out: Vec<String> = Vec::with_capacity(tokens.len() + 1);
    let mut placed = false;
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        // (the URL, how many tokens the option takes)
        let option = if let Some(u) = ["--index-url=", "--extra-index-url="]
            .iter()
            .find_map(|p| t.strip_prefix(p))
        {
            Some((u, 1))
        } else if matches!(t, "--index-url" | "--extra-index-url" | "-i") {
            tokens.get(i + 1).map(|u| (*u, 2))
        } else {
            t.strip_prefix("-i")
                .filter(|u| u.starts_with("http"))
                .map(|u| (u, 1))
        };
        match option {
            Some((u, n)) if repo.matches(u.trim_matches(['"', '\''])) => {
                if !placed {
                    out.push(ours.clone());
                    placed = true;
                }
                i += n;
            }
            Some((_, n)) => {
                out.extend(tokens[i..i + n].iter().map(|s| s.to_string()));
                i += n;
            }
            None => {
                out.push(t.to_string());
                i += 1;
            }
        }
    }
    if !placed {
        out.push(ours);
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "https://corp-1.d.codeartifact.eu-west-1.amazonaws.com";

    fn repo() -> RepoUrl {
        RepoUrl::new(&format!("{H}/pypi/store/")).unwrap()
    }

    fn url() -> String {
        "https://aws:NEW@corp-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/simple/"
            .to_string()
    }

    #[test]
    fn keeps_other_options_and_replaces_the_repository() {
        let m = |e: Option<&str>, mode| merge_installer_option(e, &repo(), &url(), mode);
        assert_eq!(m(None, Mode::IndexUrl), format!("--index-url={}", url()));
        assert_eq!(
            m(Some("--upgrade"), Mode::IndexUrl),
            format!("--upgrade --index-url={}", url())
        );
        assert_eq!(
            m(
                Some(
                    "--upgrade --index-url https://aws:OLD@corp-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/simple/ --no-cache-dir"
                ),
                Mode::IndexUrl
            ),
            format!("--upgrade --index-url={} --no-cache-dir", url())
        );
        assert_eq!(
            m(
                Some(
                    "--extra-index-url=https://aws:{auth_token}@corp-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/simple/ -i https://aws:x@corp-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/simple/"
                ),
                Mode::ExtraIndexUrl
            ),
            format!("--extra-index-url={}", url())
        );
        // Other repositories and indexes stay.
        assert_eq!(
            m(
                Some(
                    "--index-url https://pypi.org/simple/ --extra-index-url=https://aws:T@corp-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/other/simple/"
                ),
                Mode::ExtraIndexUrl
            ),
            format!(
                "--index-url https://pypi.org/simple/ --extra-index-url=https://aws:T@corp-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/other/simple/ --extra-index-url={}",
                url()
            )
        );
    }

    #[test]
    fn modes_read_both_ways() {
        assert_eq!("index-url".parse::<Mode>().unwrap(), Mode::IndexUrl);
        assert_eq!(
            "extra-index-url".parse::<Mode>().unwrap(),
            Mode::ExtraIndexUrl
        );
        assert!("x".parse::<Mode>().is_err());
        assert_eq!(Mode::ExtraIndexUrl.to_string(), "extra-index-url");
    }
}
