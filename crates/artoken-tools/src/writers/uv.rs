//! uv: an `[[index]]` in uv.toml (or `[[tool.uv.index]]` in pyproject.toml) with the index's
//! name and URL; the token never goes there but into `UV_INDEX_<NAME>_USERNAME/PASSWORD`.
//!
//! `uv add` rewrites pyproject.toml, so artoken's index is found by structure
//! ([`super::toml_entry`]), not by markers: the index named NAME whose `url` is a CodeArtifact
//! PyPI index (the same in uv.toml, which uv leaves alone).

use super::toml::quote;
use super::toml_entry::{self, Entry, checked, is_pypi_index};
use crate::index_url::shown;

const UV_TOML: [&str; 1] = ["index"];
const PYPROJECT: [&str; 3] = ["tool", "uv", "index"];

/// `UV_INDEX_<NAME>_` as uv spells it: upper case, anything not alphanumeric as `_`.
pub fn env_prefix(name: &str) -> String {
    let n: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("UV_INDEX_{n}_")
}

/// The variables uv reads the credentials of index `name` from.
pub fn env_vars(name: &str, token: &str) -> Vec<(String, String)> {
    let p = env_prefix(name);
    vec![
        (format!("{p}USERNAME"), "aws".to_string()),
        (format!("{p}PASSWORD"), token.to_string()),
    ]
}

fn our_index(e: &Entry) -> bool {
    e.str("url").is_some_and(is_pypi_index)
}

/// Adds index `name` at `url` (the `/simple/` URL without a token). Without `extra` it is the
/// default index (in place of PyPI). An index of that name that is artoken's keeps its place
/// and `default`; only its URL is brought up to date.
pub fn login(
    text: &str,
    name: &str,
    url: &str,
    extra: bool,
    pyproject: bool,
) -> Result<String, String> {
    let (header, path): (&str, &[&str]) = if pyproject {
        ("[[tool.uv.index]]", &PYPROJECT)
    } else {
        ("[[index]]", &UV_TOML)
    };
    let indexes = toml_entry::array(text, path)?;
    if let Some(e) = indexes.named(name).next() {
        return match e.str("url") {
            Some(u) if u == url => Ok(text.to_string()),
            _ if our_index(e) => match e.set(text, "url", &quote(url)) {
                Some(out) => checked(out, &format!("updating index {name}")),
                None => Ok(text.to_string()),
            },
            u => Err(format!(
                "an index named {name:?} (url {:?}) that artoken did not write is already there; remove it, or name the repository differently in artoken.yml",
                shown(u.unwrap_or(""))
            )),
        };
    }
    if !extra && indexes.entries.iter().any(|e| e.is_true("default")) {
        return Err(
            "another index already has `default = true`; add this one with --extra".to_string(),
        );
    }
    let (n, u) = (quote(name), quote(url));
    let mut table = vec![
        header.to_string(),
        format!("name = {n}"),
        format!("url = {u}"),
    ];
    let mut inline = format!("{{ name = {n}, url = {u}");
    if !extra {
        table.push("default = true".into());
        inline.push_str(", default = true");
    }
    inline.push_str(" }");
    let out = indexes.add(text, &table, &inline).ok_or_else(|| {
        format!(
            "{} is not a list of indexes; fix it or add the index by hand",
            path.join(".")
        )
    })?;
    checked(out, &format!("adding index {name}"))
}

/// Removes artoken's index `name` (from uv.toml's `[[index]]` or pyproject.toml's
/// `[[tool.uv.index]]`, whichever the file has).
pub fn logout(text: &str, name: &str) -> Result<String, String> {
    let mut out = text.to_string();
    for path in [&UV_TOML[..], &PYPROJECT[..]] {
        let indexes = toml_entry::array(&out, path)?;
        if let Some(t) = indexes
            .named(name)
            .find(|e| our_index(e))
            .and_then(|e| e.remove(&out))
        {
            out = checked(t, &format!("removing index {name}"))?;
        }
    }
    Ok(toml_entry::strip_old_markers(&out, name, &["index"]))
}

/// True when `text` holds an index of artoken's for any repository.
pub fn has_entries(text: &str) -> bool {
    [&UV_TOML[..], &PYPROJECT[..]]
        .iter()
        .any(|path| toml_entry::array(text, path).is_ok_and(|a| a.entries.iter().any(our_index)))
}

/// What [`logout`] leaves of `name` in `text` and why, in one line (`None`: nothing).
pub fn kept(text: &str, name: &str) -> Option<String> {
    let text = &logout(text, name).ok()?;
    for path in [&UV_TOML[..], &PYPROJECT[..]] {
        let indexes = toml_entry::array(text, path).ok()?;
        if let Some(e) = indexes.named(name).next() {
            return Some(if our_index(e) {
                format!(
                    "index {name:?} is not in a form artoken takes apart: left as is; remove it by hand"
                )
            } else {
                format!(
                    "index {name:?} points at {:?}, not a CodeArtifact PyPI index, so artoken did not write it (or it was changed since): left as is",
                    shown(e.str("url").unwrap_or(""))
                )
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const URL: &str =
        "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/simple/";
    const BUSY: &str = "# uv settings\nnative-tls = true # corp proxy\n\n[[index]]\nname = \"pytorch\"\nurl = \"https://download.pytorch.org/whl/cpu\"\n\n[pip]\n# nothing\n";

    #[test]
    fn roundtrips() {
        for t in ["", BUSY, &BUSY.replace('\n', "\r\n"), "x = 1"] {
            for extra in [false, true] {
                let once = login(t, "a", URL, extra, false).unwrap();
                assert!(!once.contains("aws:"));
                assert_eq!(login(&once, "a", URL, extra, false).unwrap(), once);
                assert_eq!(logout(&once, "a").unwrap(), t);
                let both = login(&once, "b", URL, true, false).unwrap();
                assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), t);
                assert_eq!(logout(&logout(&both, "b").unwrap(), "a").unwrap(), t);
            }
        }
        let p = login("[project]\nname = \"x\"\n", "a", URL, false, true).unwrap();
        assert!(p.contains("[[tool.uv.index]]\nname = \"a\"\n"), "{p}");
    }

    #[test]
    fn conflicts_are_refused() {
        let e = login(BUSY, "pytorch", URL, true, false).unwrap_err();
        assert!(e.contains("\"pytorch\""), "{e}");
        let one = login(BUSY, "a", URL, false, false).unwrap();
        let e = login(&one, "b", URL, false, false).unwrap_err();
        assert!(e.contains("--extra"), "{e}");
        let e = login("index = 3\n", "a", URL, false, false).unwrap_err();
        assert!(e.contains("index is not a list of indexes"), "{e}");
        let e = login("[tool]\nuv = 3\n", "a", URL, false, true).unwrap_err();
        assert!(e.contains("would break the file"), "{e}");
        assert_eq!(env_prefix("my-repo.x"), "UV_INDEX_MY_REPO_X_");
    }

    /// What `uv add --index other=https://example.invalid/simple/ artoken-demo` (uv 0.9) made of
    /// a logged-in pyproject.toml: the new index before ours, the dependency, a
    /// `[tool.uv.sources]`. Logout takes artoken's index and nothing else; after
    /// `uv add --index a=ELSEWHERE` (the user re-pointed ours) it leaves it and says so.
    #[test]
    fn logout_after_uv_add_rewrote_pyproject() {
        let original = "# app\n[project]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = []\n";
        let once = login(original, "a", URL, false, true).unwrap();
        assert_eq!(
            once,
            format!(
                "{original}\n[[tool.uv.index]]\nname = \"a\"\nurl = \"{URL}\"\ndefault = true\n"
            )
        );
        let by_uv = format!(
            "# app\n[project]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n    \"artoken-demo\",\n]\n\n[[tool.uv.index]]\nname = \"other\"\nurl = \"https://example.invalid/simple/\"\n\n[[tool.uv.index]]\nname = \"a\"\nurl = \"{URL}\"\ndefault = true\n\n[tool.uv.sources]\nartoken-demo = {{ index = \"other\" }}\n"
        );
        assert_eq!(login(&by_uv, "a", URL, false, true).unwrap(), by_uv);
        assert_eq!(
            logout(&by_uv, "a").unwrap(),
            "# app\n[project]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n    \"artoken-demo\",\n]\n\n[[tool.uv.index]]\nname = \"other\"\nurl = \"https://example.invalid/simple/\"\n\n[tool.uv.sources]\nartoken-demo = { index = \"other\" }\n"
        );
        assert_eq!(kept(&by_uv, "a"), None);
        assert!(has_entries(&by_uv) && !has_entries(original));
        let repointed = by_uv.replace(URL, "https://example.invalid/b/simple/");
        assert_eq!(logout(&repointed, "a").unwrap(), repointed);
        assert!(kept(&repointed, "a").unwrap().contains("example.invalid/b"));
        // Another CodeArtifact repository under that name: artoken's, brought up to date.
        let moved = by_uv.replace("/pypi/a/", "/pypi/old/");
        assert_eq!(login(&moved, "a", URL, true, true).unwrap(), by_uv);
    }

    proptest! {
        #[test]
        fn logout_undoes_login(text in super::super::toml::tests::arb_toml(), extra in prop::bool::ANY) {
            let once = login(&text, "a", URL, extra, false).unwrap();
            prop_assert_eq!(logout(&once, "a").unwrap(), text.clone());
            prop_assert_eq!(login(&once, "a", URL, extra, false).unwrap(), once);
        }
    }
}
