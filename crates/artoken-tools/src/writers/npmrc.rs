//! .npmrc (npm, pnpm): `registry=` or `@scope:registry=`, and the `//host/path/:_authToken=`
//! line; the user's own lines for the same keys are switched off meanwhile.

use super::lines::{Doc, HASH, Tag};

const AUTH_KEYS: [&str; 5] = [
    "_authToken",
    "_auth",
    "username",
    "_password",
    "always-auth",
];

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
    let kind = scope.unwrap_or("registry");
    let reg_key = match scope {
        Some(s) => format!("{s}:registry"),
        None => "registry".to_string(),
    };
    let nerf = artoken_core::urls::npmrc_key(registry);
    let content = [
        format!("{reg_key}={registry}"),
        format!("{nerf}:_authToken={token}"),
    ];
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
    fn keys_stay_above_sections() {
        let out = login("a=1\n[section]\nb=2\n", "a", R1, "t", None).unwrap();
        assert!(
            out.starts_with("a=1\n# >>> artoken:a registry >>>\n"),
            "{out}"
        );
    }
}
