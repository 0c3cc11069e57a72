//! uv: an `[[index]]` in uv.toml (or `[[tool.uv.index]]` in pyproject.toml) with the index's
//! name and URL; the token never goes there but into `UV_INDEX_<NAME>_USERNAME/PASSWORD`.

use super::toml::{at, names_in, quote, remove, upsert};

const KIND: &str = "index";

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

/// Adds (or refreshes) index `name` at `url` (the `/simple/` URL without a token). Without
/// `extra` it is the default index (in place of PyPI).
pub fn login(
    text: &str,
    name: &str,
    url: &str,
    extra: bool,
    pyproject: bool,
) -> Result<String, String> {
    let (header, path): (&str, &[&str]) = if pyproject {
        ("[[tool.uv.index]]", &["tool", "uv", "index"])
    } else {
        ("[[index]]", &["index"])
    };
    let mut content = vec![
        header.to_string(),
        format!("name = {}", quote(name)),
        format!("url = {}", quote(url)),
    ];
    if !extra {
        content.push("default = true".into());
    }
    upsert(text, name, KIND, &content, &|doc| {
        let item = at(doc, path);
        if names_in(item).iter().any(|n| n == name) {
            return Some(format!(
                "an index named {name:?} that artoken did not write is already there; remove it, or name the repository differently in artoken.yml"
            ));
        }
        let has_default = item.and_then(|i| i.as_array_of_tables()).is_some_and(|a| {
            a.iter()
                .any(|t| t.get("default").and_then(|d| d.as_bool()) == Some(true))
        });
        (!extra && has_default).then(|| {
            "another index already has `default = true`; add this one with --extra".to_string()
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
        assert!(e.contains("would break the file"), "{e}");
        assert_eq!(env_prefix("my-repo.x"), "UV_INDEX_MY_REPO_X_");
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
