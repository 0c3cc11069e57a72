//! poetry: a `[[tool.poetry.source]]` in pyproject.toml, and the credentials in poetry's
//! auth.toml as `[http-basic.NAME]` (where poetry keeps them when no keyring is used).

use super::toml::{at, key, names_in, quote, remove, upsert};

/// Adds (or refreshes) source `name` at `url` (the `/simple/` URL without a token): primary,
/// or supplemental with `extra`.
pub fn login_source(text: &str, name: &str, url: &str, extra: bool) -> Result<String, String> {
    let priority = if extra { "supplemental" } else { "primary" };
    let content = [
        "[[tool.poetry.source]]".to_string(),
        format!("name = {}", quote(name)),
        format!("url = {}", quote(url)),
        format!("priority = {}", quote(priority)),
    ];
    upsert(text, name, "source", &content, &|doc| {
        names_in(at(doc, &["tool", "poetry", "source"]))
            .iter()
            .any(|n| n == name)
            .then(|| format!("a source named {name:?} that artoken did not write is already there; remove it, or name the repository differently in artoken.yml"))
    })
}

/// Adds (or refreshes) `[http-basic.NAME]` in auth.toml.
pub fn login_auth(text: &str, name: &str, token: &str) -> Result<String, String> {
    let content = [
        format!("[http-basic.{}]", key(name)),
        "username = \"aws\"".to_string(),
        format!("password = {}", quote(token)),
    ];
    upsert(text, name, "http-basic", &content, &|doc| {
        at(doc, &["http-basic", name]).is_some().then(|| {
            format!("credentials for {name:?} that artoken did not write are already there; remove them first")
        })
    })
}

pub fn logout(text: &str, name: &str) -> Result<String, String> {
    remove(text, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const URL: &str =
        "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/simple/";
    const PYPROJECT: &str = "[tool.poetry]\nname = \"app\" # the app\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\n\n[[tool.poetry.source]]\nname = \"other\"\nurl = \"https://other/simple/\"\n";

    #[test]
    fn roundtrips() {
        for t in ["", PYPROJECT, &PYPROJECT.replace('\n', "\r\n")] {
            let once = login_source(t, "a", URL, false).unwrap();
            assert_eq!(login_source(&once, "a", URL, false).unwrap(), once);
            assert_eq!(logout(&once, "a").unwrap(), t);
        }
        let auth = login_auth(
            "# auth\n[http-basic.other]\nusername = \"x\"\n",
            "a",
            "TKNONE",
        )
        .unwrap();
        assert!(
            auth.contains("[http-basic.a]\nusername = \"aws\"\npassword = \"TKNONE\"\n"),
            "{auth}"
        );
        assert_eq!(
            login_auth(&auth, "a", "TKNTWO")
                .unwrap()
                .replace("TKNTWO", "TKNONE"),
            auth
        );
        assert_eq!(
            logout(&auth, "a").unwrap(),
            "# auth\n[http-basic.other]\nusername = \"x\"\n"
        );
        assert!(
            login_auth(&auth, "other", "t")
                .unwrap_err()
                .contains("already there")
        );
        assert!(
            login_source(PYPROJECT, "other", URL, true)
                .unwrap_err()
                .contains("\"other\"")
        );
    }

    proptest! {
        #[test]
        fn logout_undoes_login(text in super::super::toml::tests::arb_toml()) {
            let once = login_source(&text, "a", URL, true).unwrap();
            prop_assert_eq!(logout(&once, "a").unwrap(), text.clone());
            let auth = login_auth(&text, "a", "TKNONE").unwrap();
            prop_assert_eq!(login_auth(&auth, "a", "TKNTWO").unwrap().replace("TKNTWO", "TKNONE"), auth.clone());
            prop_assert_eq!(logout(&auth, "a").unwrap(), text);
        }
    }
}
