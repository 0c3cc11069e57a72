//! bun: `[install.registry]` (or `[install.scopes."@scope"]`) in bunfig.toml with the registry URL and `token = "$CODEARTIFACT_AUTH_TOKEN"`, never the token.
//!
//! bun expands `$VAR` in bunfig.toml, so the file names the variable and `artoken exec -- bun
//! install` (or `eval "$(artoken env)"`) supplies a fresh token each run. bun never rewrites
//! bunfig.toml: artoken's table sits in a marked block at the end (like cargo's config.toml,
//! [`super::toml::upsert`]), and a `registry` or scope the user's own part of the file already
//! sets (found with toml_edit) is refused rather than overridden.

use toml_edit::DocumentMut;

use super::toml::{at, quote, remove, upsert};

/// The variable bunfig.toml reads the token from: the one `artoken exec` and `artoken env`
/// set for the default repository (see `artoken_core::resolve`).
pub const TOKEN_VAR: &str = "CODEARTIFACT_AUTH_TOKEN";

/// The path of the table for `scope` (`@corp`), or of the default registry.
fn path(scope: Option<&str>) -> Vec<&str> {
    match scope {
        Some(s) => vec!["install", "scopes", s],
        None => vec!["install", "registry"],
    }
}

/// Adds (or refreshes) repository `name`: `registry` is the endpoint (ends with `/`), `scope`
/// like `@corp`.
pub fn login(
    text: &str,
    name: &str,
    registry: &str,
    scope: Option<&str>,
) -> Result<String, String> {
    let header = match scope {
        Some(s) => format!("[install.scopes.{}]", quote(s)),
        None => "[install.registry]".to_string(),
    };
    let content = [
        header,
        format!("url = {}", quote(registry)),
        format!("token = {}", quote(&format!("${TOKEN_VAR}"))),
    ];
    let kind = scope.unwrap_or("registry");
    let conflict = |doc: &DocumentMut| {
        let p = path(scope);
        at(doc, &p).is_some().then(|| {
            let what = match scope {
                Some(s) => format!("a registry for scope {s}"),
                None => "install.registry".to_string(),
            };
            let hint = if scope.is_some() {
                "remove it (`artoken logout bun REPO` if artoken wrote it)"
            } else {
                "give --scope @SCOPE, or remove it (`artoken logout bun REPO` if artoken wrote it)"
            };
            format!("the file already sets {what}; {hint}")
        })
    };
    upsert(text, name, kind, &content, &conflict)
}

/// Removes what login added for `name`.
pub fn logout(text: &str, name: &str) -> Result<String, String> {
    remove(text, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const R1: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/a/";
    const R2: &str =
        "http://127.0.0.1:9000/corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/b/";
    const BUSY: &str = "# bun settings\n[install]\nexact = true # pin\n\n[install.scopes]\n\"@other\" = { url = \"https://other.example/\" }\n\n[run]\nshell = \"bun\"\n";

    #[test]
    fn roundtrips_without_a_token_and_side_by_side() {
        for t in ["", BUSY, &BUSY.replace('\n', "\r\n"), "x = 1"] {
            let once = login(t, "a", R1, None).unwrap();
            assert!(
                once.contains(&format!(
                    "[install.registry]{eol}url = \"{R1}\"{eol}token = \"$CODEARTIFACT_AUTH_TOKEN\"",
                    eol = if t.contains('\r') { "\r\n" } else { "\n" }
                )),
                "{once}"
            );
            let doc: DocumentMut = once.parse().unwrap();
            assert_eq!(
                at(&doc, &["install", "registry", "url"]).and_then(|i| i.as_str()),
                Some(R1)
            );
            assert_eq!(login(&once, "a", R1, None).unwrap(), once);
            assert_eq!(logout(&once, "a").unwrap(), t);
            let both = login(&once, "b", R2, Some("@corp")).unwrap();
            let doc: DocumentMut = both.parse().unwrap();
            assert_eq!(
                at(&doc, &["install", "scopes", "@corp", "token"]).and_then(|i| i.as_str()),
                Some("$CODEARTIFACT_AUTH_TOKEN")
            );
            assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), t);
            assert_eq!(logout(&logout(&both, "b").unwrap(), "a").unwrap(), t);
        }
        // The endpoint moved: the block is refreshed in place.
        let once = login(BUSY, "a", R1, None).unwrap();
        assert_eq!(login(&once, "a", R2, None).unwrap(), once.replace(R1, R2));
    }

    #[test]
    fn the_users_own_registry_is_refused() {
        let e = login(
            "[install]\nregistry = \"https://r.example/\"\n",
            "a",
            R1,
            None,
        )
        .unwrap_err();
        assert!(
            e.contains("install.registry") && e.contains("--scope"),
            "{e}"
        );
        let e = login(BUSY, "a", R1, Some("@other")).unwrap_err();
        assert!(e.contains("scope @other"), "{e}");
        // Another repository's default registry is there: a second one needs a scope.
        let once = login("", "a", R1, None).unwrap();
        assert!(login(&once, "b", R2, None).unwrap_err().contains("--scope"));
        // A file the table cannot go into.
        let e = login("install = { exact = true }\n", "a", R1, None).unwrap_err();
        assert!(e.contains("would break the file"), "{e}");
        assert!(
            login("[install\n", "a", R1, None)
                .unwrap_err()
                .contains("line 1")
        );
    }

    proptest! {
        #[test]
        fn logout_undoes_login(text in super::super::toml::tests::arb_toml(), scoped in prop::bool::ANY) {
            let scope = scoped.then_some("@corp");
            let once = login(&text, "a", R1, scope).unwrap();
            prop_assert_eq!(logout(&once, "a").unwrap(), text.clone());
            prop_assert_eq!(login(&once, "a", R1, scope).unwrap(), once);
        }
    }
}
