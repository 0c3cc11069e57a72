//! pipenv: a `[[source]]` in the Pipfile whose URL names `${CODEARTIFACT_AUTH_TOKEN}` (pipenv
//! expands it), so the token stays out of the file.
//!
//! `pipenv install` rewrites the Pipfile, so artoken's source is found by structure
//! ([`super::toml_entry`]), not by markers: the source named NAME whose `url` is
//! `https://aws:${CODEARTIFACT_AUTH_TOKEN}@` and a CodeArtifact PyPI index.

use super::toml::quote;
use super::toml_entry::{self, Entry, checked, is_pypi_index};
use crate::index_url::shown;

/// The variable the Pipfile URL refers to.
pub const TOKEN_VAR: &str = "CODEARTIFACT_AUTH_TOKEN";

const SOURCES: [&str; 1] = ["source"];

/// `https://aws:${CODEARTIFACT_AUTH_TOKEN}@host/.../simple/` from the `/simple/` URL.
pub fn url_with_reference(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://aws:${{{TOKEN_VAR}}}@{rest}"),
        None => url.to_string(),
    }
}

/// True for a URL [`url_with_reference`] made of a CodeArtifact PyPI index.
fn is_ours(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    rest.strip_prefix(&format!("aws:${{{TOKEN_VAR}}}@"))
        .is_some_and(|rest| is_pypi_index(&format!("{scheme}://{rest}")))
}

fn our_source(e: &Entry) -> bool {
    e.str("url").is_some_and(is_ours)
}

/// Adds source `name` for the `/simple/` URL `url` (no token in it). A source of that name
/// that is artoken's keeps its place; only its URL is brought up to date.
pub fn login(text: &str, name: &str, url: &str) -> Result<String, String> {
    let url = url_with_reference(url);
    let sources = toml_entry::array(text, &SOURCES)?;
    if let Some(e) = sources.named(name).next() {
        return match e.str("url") {
            Some(u) if u == url => Ok(text.to_string()),
            _ if our_source(e) => match e.set(text, "url", &quote(&url)) {
                Some(out) => checked(out, &format!("updating source {name}")),
                None => Ok(text.to_string()),
            },
            u => Err(format!(
                "a source named {name:?} (url {:?}) that artoken did not write is already there; remove it, or name the repository differently in artoken.yml",
                shown(u.unwrap_or(""))
            )),
        };
    }
    let (n, u) = (quote(name), quote(&url));
    let table = [
        "[[source]]".to_string(),
        format!("name = {n}"),
        format!("url = {u}"),
        "verify_ssl = true".to_string(),
    ];
    let inline = format!("{{ name = {n}, url = {u}, verify_ssl = true }}");
    let out = sources.add(text, &table, &inline).ok_or_else(|| {
        "source is not a list of sources; fix it or add the source by hand".to_string()
    })?;
    checked(out, &format!("adding source {name}"))
}

/// Removes artoken's source `name`.
pub fn logout(text: &str, name: &str) -> Result<String, String> {
    let sources = toml_entry::array(text, &SOURCES)?;
    let out = match sources
        .named(name)
        .find(|e| our_source(e))
        .and_then(|e| e.remove(text))
    {
        Some(out) => checked(out, &format!("removing source {name}"))?,
        None => text.to_string(),
    };
    Ok(toml_entry::strip_old_markers(&out, name, &["source"]))
}

/// True when `text` holds a source of artoken's for any repository.
pub fn has_entries(text: &str) -> bool {
    toml_entry::array(text, &SOURCES).is_ok_and(|s| s.entries.iter().any(our_source))
}

/// What [`logout`] leaves of `name` in `text` and why, in one line (`None`: nothing).
pub fn kept(text: &str, name: &str) -> Option<String> {
    let text = &logout(text, name).ok()?;
    let sources = toml_entry::array(text, &SOURCES).ok()?;
    let e = sources.named(name).next()?;
    Some(if our_source(e) {
        format!(
            "source {name:?} is not in a form artoken takes apart: left as is; remove it by hand"
        )
    } else {
        format!(
            "source {name:?} points at {:?}, not artoken's https://aws:${{{TOKEN_VAR}}}@ URL of a CodeArtifact PyPI index, so artoken did not write it (or it was changed since): left as is",
            shown(e.str("url").unwrap_or(""))
        )
    })
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
        assert!(has_entries(&login(PIPFILE, "a", URL).unwrap()) && !has_entries(PIPFILE));
    }

    /// What `pipenv install` makes of a Pipfile (pipenv rewrites it with tomlkit): the sources
    /// first with its own key order, a package added, its own blank lines. Logout takes
    /// artoken's source and nothing else; the user's comments stay.
    #[test]
    fn logout_after_pipenv_rewrote_the_pipfile() {
        let once = login(PIPFILE, "a", URL).unwrap();
        let r = url_with_reference(URL);
        let by_pipenv = format!(
            "[[source]]\nurl = \"https://pypi.org/simple\"\nverify_ssl = true\nname = \"pypi\"\n\n[[source]]\nurl = \"{r}\"\nverify_ssl = true\nname = \"a\"\n\n[packages]\nrequests = \"*\"\nartoken-demo = \"*\"   # added\n\n[dev-packages]\n\n[requires]\npython_version = \"3.11\"\n"
        );
        assert!(once.contains(&r));
        assert_eq!(login(&by_pipenv, "a", URL).unwrap(), by_pipenv);
        assert_eq!(
            logout(&by_pipenv, "a").unwrap(),
            "[[source]]\nurl = \"https://pypi.org/simple\"\nverify_ssl = true\nname = \"pypi\"\n\n[packages]\nrequests = \"*\"\nartoken-demo = \"*\"   # added\n\n[dev-packages]\n\n[requires]\npython_version = \"3.11\"\n"
        );
        // Expanded by hand (a token in the file): not artoken's URL, left, and said so.
        let expanded = by_pipenv.replace("${CODEARTIFACT_AUTH_TOKEN}", "TKNONE");
        assert_eq!(logout(&expanded, "a").unwrap(), expanded);
        let note = kept(&expanded, "a").unwrap();
        assert!(
            note.contains("left as is") && !note.contains("TKNONE"),
            "{note}"
        );
    }

    proptest! {
        #[test]
        fn logout_undoes_login(text in super::super::toml::tests::arb_toml()) {
            let once = login(&text, "a", URL).unwrap();
            prop_assert_eq!(logout(&once, "a").unwrap(), text);
        }
    }
}
