//! .npmrc (npm, pnpm, yarn 1): `registry=` or `@scope:registry=`, and the `//host/path/:_authToken=`
//! line (yarn 1: with `:always-auth=true`), or pnpm's `:tokenHelper=` line that runs artoken
//! instead of holding a token; the user's own lines for the same keys are switched off meanwhile.

use std::path::{Path, PathBuf};

use super::lines::{Doc, HASH, Tag};

const AUTH_KEYS: [&str; 6] = [
    "_authToken",
    "_auth",
    "username",
    "_password",
    "always-auth",
    "tokenHelper",
];

/// The artoken command pnpm runs as the token helper (see [`helper_command`]).
pub const PNPM_HELPER: &str = "pnpm-token-helper";

/// How the registry gets its token.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// `:_authToken=TOKEN` (npm, pnpm).
    Token(&'a str),
    /// The token and `:always-auth=true`, without which yarn 1 sends it only for scoped
    /// packages. npm 11 warns about `always-auth` (unknown since npm 9) on every run but still
    /// works: only `login yarn --classic` writes it.
    TokenAlwaysAuth(&'a str),
    /// `:tokenHelper=COMMAND` (pnpm runs COMMAND and sends what it prints; no token in the file).
    Helper(&'a str),
}

/// The `tokenHelper` value that runs `exe` with `config` for `registry`: pnpm splits it at
/// whitespace and refuses `$`, `%`, quotes and backquotes (and `#`, `;` could start a comment),
/// so no part may hold any; `exe` and the config files must be absolute paths.
pub fn helper_command(exe: &Path, config: &[PathBuf], registry: &str) -> Result<String, String> {
    let bad = |s: &str| {
        s.chars()
            .find(|c| c.is_whitespace() || c.is_control() || "$%`\"'#;".contains(*c))
    };
    let path = |p: &Path, what: &str| -> Result<String, String> {
        let text = p.to_str().ok_or_else(|| {
            format!(
                "{what} {} is not UTF-8; pnpm cannot run it as a token helper",
                p.display()
            )
        })?;
        if !p.is_absolute() {
            return Err(format!("{what} {text} is not an absolute path"));
        }
        if let Some(c) = bad(text) {
            return Err(format!(
                "{what} {text} holds {c:?}, which pnpm cannot take in a tokenHelper line; use a path without spaces, quotes, '$', '%', '#' or ';'"
            ));
        }
        Ok(text.to_string())
    };
    let mut words = vec![
        path(exe, "the artoken executable")?,
        PNPM_HELPER.to_string(),
    ];
    for c in config {
        words.push("--config".into());
        words.push(path(c, "the config file")?);
    }
    if let Some(c) = bad(registry) {
        return Err(format!(
            "the registry URL {registry} holds {c:?}, which pnpm cannot take in a tokenHelper line"
        ));
    }
    words.push(registry.to_string());
    Ok(words.join(" "))
}

/// The key of a `key=value` line (`None` for comments, blanks and `[section]` lines).
fn key(text: &str) -> Option<&str> {
    let t = text.trim();
    if t.is_empty() || t.starts_with(['#', ';', '[']) {
        return None;
    }
    Some(t.split_once('=').map(|(k, _)| k).unwrap_or(t).trim())
}

/// Adds (or refreshes) repository `name`. `registry` is the endpoint (ends with `/`),
/// `scope` like `@corp`.
pub fn login(
    text: &str,
    name: &str,
    registry: &str,
    token: &str,
    scope: Option<&str>,
) -> Result<String, String> {
    login_with(text, name, registry, Auth::Token(token), scope)
}

/// [`login`] with the registry's token given as `auth` says.
pub fn login_with(
    text: &str,
    name: &str,
    registry: &str,
    auth: Auth<'_>,
    scope: Option<&str>,
) -> Result<String, String> {
    let kind = scope.unwrap_or("registry");
    let reg_key = match scope {
        Some(s) => format!("{s}:registry"),
        None => "registry".to_string(),
    };
    let nerf = artoken_core::urls::npmrc_key(registry);
    let mut content = vec![format!("{reg_key}={registry}")];
    match auth {
        Auth::Token(token) => content.push(format!("{nerf}:_authToken={token}")),
        Auth::TokenAlwaysAuth(token) => {
            content.push(format!("{nerf}:_authToken={token}"));
            content.push(format!("{nerf}:always-auth=true"));
        }
        Auth::Helper(command) => content.push(format!("{nerf}:tokenHelper={command}")),
    }
    let mut d = Doc::parse(text, HASH);
    if let Some(b) = d.find(name, kind)? {
        d.replace_content(&b, &content);
        return Ok(d.render());
    }
    d.remove_named(name)?;
    let tags = d.tags()?;
    let mut off = Vec::new();
    for i in 0..d.len() {
        let Some(k) = key(d.text(i)) else { continue };
        let auth = k
            .strip_prefix(nerf.as_str())
            .and_then(|r| r.strip_prefix(':'))
            .is_some_and(|r| AUTH_KEYS.contains(&r));
        if k != reg_key && !auth {
            continue;
        }
        match tags[i] {
            Tag::User => off.push(i),
            Tag::Named if k == reg_key => {
                let owner = d.block_at(i)?.and_then(|b| b.name).unwrap_or_default();
                let hint = if scope.is_some() {
                    format!("`artoken logout npm {owner}` first")
                } else {
                    format!("use --scope @SCOPE, or `artoken logout npm {owner}` first")
                };
                return Err(format!(
                    "line {}: {reg_key}= comes from `artoken login npm {owner}`; {hint}",
                    i + 1
                ));
            }
            _ => {}
        }
    }
    for i in off.into_iter().rev() {
        d.switch_off(i, i + 1, name);
    }
    let tags = d.tags()?;
    // Keys after a `[section]` line would land in that section: stay above the first one.
    let at = (0..d.len())
        .find(|&i| tags[i] == Tag::User && d.text(i).trim_start().starts_with('['))
        .unwrap_or(d.len());
    d.insert(at, "", Some(name), kind, &content);
    Ok(d.render())
}

/// Removes what login added for `name`.
pub fn logout(text: &str, name: &str) -> Result<String, String> {
    let mut d = Doc::parse(text, HASH);
    d.remove_named(name)?;
    Ok(d.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    const R1: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/a/";
    const R2: &str =
        "http://127.0.0.1:9000/corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/b/";

    const BUSY: &str = "; npm settings\nregistry=https://registry.npmjs.org/\n# save exact\nsave-exact=true\n//corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/a/:_authToken=OLD\n\n@other:registry=https://other/\n";

    #[test]
    fn roundtrips_refreshes_and_side_by_side() {
        for t in [
            "",
            "x=1",
            BUSY,
            &BUSY.replace('\n', "\r\n"),
            "a=1\n[section]\nb=2\n",
        ] {
            let once = login(t, "a", R1, "TKNONE", None).unwrap();
            assert_eq!(login(&once, "a", R1, "TKNONE", None).unwrap(), once);
            assert_eq!(
                login(&once, "a", R1, "TKNTWO", None)
                    .unwrap()
                    .replace("TKNTWO", "TKNONE"),
                once
            );
            assert_eq!(logout(&once, "a").unwrap(), t);
            let both = login(&once, "b", R2, "TKNONE", Some("@corp")).unwrap();
            assert!(both.contains(&format!("@corp:registry={R2}")));
            assert!(both.contains("//127.0.0.1:9000/corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/b/:_authToken=TKNONE"));
            assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), t);
            assert_eq!(logout(&logout(&both, "b").unwrap(), "a").unwrap(), t);
        }
    }

    #[test]
    fn the_users_registry_and_old_token_are_switched_off() {
        let out = login(BUSY, "a", R1, "TKNONE", None).unwrap();
        assert!(
            out.contains("# artoken-was: registry=https://registry.npmjs.org/\n"),
            "{out}"
        );
        assert!(out.contains("# artoken-was: //corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/a/:_authToken=OLD\n"));
        assert!(out.contains("@other:registry=https://other/\n"));
        let e = login(&out, "b", R2, "t", None).unwrap_err();
        assert!(e.contains("--scope"), "{e}");
    }

    #[test]
    fn a_token_helper_line_holds_no_token_and_yarn_classic_gets_always_auth() {
        let cmd = helper_command(Path::new("/opt/bin/artoken"), &[], R1).unwrap();
        assert_eq!(cmd, format!("/opt/bin/artoken pnpm-token-helper {R1}"));
        let config = [
            PathBuf::from("/home/me/artoken.yml"),
            PathBuf::from("/p/wev.yml"),
        ];
        assert_eq!(
            helper_command(Path::new("/opt/bin/artoken"), &config, R1).unwrap(),
            format!(
                "/opt/bin/artoken pnpm-token-helper --config /home/me/artoken.yml --config /p/wev.yml {R1}"
            )
        );
        for t in ["", BUSY, &BUSY.replace('\n', "\r\n")] {
            let once = login_with(t, "a", R1, Auth::Helper(&cmd), None).unwrap();
            assert!(once.contains(&format!(
                "//corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/a/:tokenHelper={cmd}"
            )));
            // No token, and the user's old one is switched off.
            assert!(
                once.lines()
                    .all(|l| !l.contains(":_authToken=") || l.starts_with("# artoken-was: ")),
                "{once}"
            );
            assert_eq!(logout(&once, "a").unwrap(), t);
            // From a token to the helper and back: the block's content is replaced in place.
            let token = login(t, "a", R1, "TKNONE", None).unwrap();
            assert_eq!(
                login_with(&token, "a", R1, Auth::Helper(&cmd), None).unwrap(),
                once
            );
            assert_eq!(login(&once, "a", R1, "TKNONE", None).unwrap(), token);
            let yarn =
                login_with(t, "a", R2, Auth::TokenAlwaysAuth("TKNONE"), Some("@corp")).unwrap();
            let nerf =
                "//127.0.0.1:9000/corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/b/";
            assert!(yarn.contains(&format!("{nerf}:_authToken=TKNONE")));
            assert!(yarn.contains(&format!("{nerf}:always-auth=true")));
            assert_eq!(logout(&yarn, "a").unwrap(), t);
        }
        // The user's own helper for that registry is switched off, and back after logout.
        let mine =
            "//corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/a/:tokenHelper=/usr/bin/mine\n"
                .to_string();
        let once = login_with(&mine, "a", R1, Auth::Helper(&cmd), None).unwrap();
        assert!(once.contains(&format!("# artoken-was: {mine}")), "{once}");
        assert_eq!(logout(&once, "a").unwrap(), mine);
    }

    #[test]
    fn helper_commands_pnpm_cannot_split_are_refused() {
        for (exe, what) in [
            ("artoken", "absolute"),
            ("/home/me/my tools/artoken", "' '"),
            ("/opt/$HOME/artoken", "'$'"),
            ("/opt/100%/artoken", "'%'"),
            ("/opt/it's/artoken", "'\\''"),
            ("/opt/#/artoken", "'#'"),
        ] {
            let e = helper_command(Path::new(exe), &[], R1).unwrap_err();
            assert!(e.contains(what) && e.lines().count() == 1, "{exe}: {e}");
            let e = helper_command(Path::new("/a"), &[PathBuf::from(exe)], R1).unwrap_err();
            assert!(
                e.contains("the config file") && e.contains(what),
                "{exe}: {e}"
            );
        }
        let e = helper_command(Path::new("/a"), &[], "https://h/x y/").unwrap_err();
        assert!(e.contains("registry URL"), "{e}");
    }

    #[test]
    fn keys_stay_above_sections() {
        let out = login("a=1\n[section]\nb=2\n", "a", R1, "t", None).unwrap();
        assert!(
            out.starts_with("a=1\n# >>> artoken:a registry >>>\n"),
            "{out}"
        );
    }
}
