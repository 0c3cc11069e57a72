//! pipenv: a `[[source]]` in the Pipfile whose URL names `${CODEARTIFACT_AUTH_TOKEN}` (pipenv
//! expands it), so the token stays out of the file.

use super::toml::{at, names_in, quote, remove, upsert};

/// The variable the Pipfile URL refers to.
pub const TOKEN_VAR: &str = "CODEARTIFACT_AUTH_TOKEN";

/// `https://aws:${CODEARTIFACT_AUTH_TOKEN}@host/.../simple/` from the `/simple/` URL.
pub fn url_with_reference(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://aws:${{{TOKEN_VAR}}}@{rest}"),
        None => url.to_string(),
    }
}

/// Adds (or refreshes) source `name` for the `/simple/` URL `url` (no token in it).
pub fn login(text: &str, name: &str, url: &str) -> Result<String, String> {
    let content = [
        "[[source]]".to_string(),
        format!("name = {}", quote(name)),
        format!("url = {}", quote(&url_with_reference(url))),
        "verify_ssl = true".to_string(),
    ];
    upsert(text, name, "source", &content, &|doc| {
        names_in(at(doc, &["source"])).iter().any(|n| n == name).then(|| {
            format!("a source named {name:?} that artoken did not write is already there; remove it, or name the repository differently in artoken.yml")
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
    const PIPFILE: &str = "[[source]]\nurl = \"https://pypi.org/simple\"\nverify_ssl = true\nname = \"pypi\"\n\n[packages]\nrequests = \"*\"\n\n[requires]\npython_version = \"3.11\"\n";

    #[test]
    fn roundtrips_with_a_reference_not_a_token() {
        for t in ["", PIPFILE, &PIPFILE.replace('\n', "\r\n")] {
            let once = login(t, "a", URL).unwrap();
            assert!(
                once.contains("url = \"https://aws:${CODEARTIFACT_AUTH_TOKEN}@corp-"),
                "{once}"
            );
            assert_eq!(login(&once, "a", URL).unwrap(), once);
            assert_eq!(logout(&once, "a").unwrap(), t);
        }
        assert!(login(PIPFILE, "pypi", URL).is_err());
    }

    proptest! {
        #[test]
        fn logout_undoes_login(text in super::super::toml::tests::arb_toml()) {
            let once = login(&text, "a", URL).unwrap();
            prop_assert_eq!(logout(&once, "a").unwrap(), text);
        }
    }
}
