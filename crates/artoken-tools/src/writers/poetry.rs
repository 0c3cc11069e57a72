//! poetry: a `[[tool.poetry.source]]` in pyproject.toml, and the credentials in poetry's
//! auth.toml as `[http-basic.NAME]` (where poetry keeps them when no keyring is used).
//!
//! poetry rewrites both files itself (`poetry add`, `poetry source add`, `poetry config`), so
//! artoken's entries are found by structure ([`super::toml_entry`]), not by markers: the source
//! named NAME whose `url` is a CodeArtifact PyPI index, and the `[http-basic.NAME]` whose
//! `username` is `aws`. Logout takes those out and leaves everything poetry or the user did.

use super::toml::{key, quote};
use super::toml_entry::{self, Entry, checked, is_pypi_index};
use crate::index_url::shown;

const SOURCES: [&str; 3] = ["tool", "poetry", "source"];
const USER: &str = "aws";

/// True for a source artoken wrote (or one it takes as its own: the same name, a CodeArtifact
/// PyPI index).
fn our_source(e: &Entry) -> bool {
    e.str("url").is_some_and(is_pypi_index)
}

/// True for credentials artoken wrote (CodeArtifact's user name).
fn our_auth(e: &Entry) -> bool {
    e.str("username") == Some(USER)
}

/// Adds source `name` at `url` (the `/simple/` URL without a token): primary, or supplemental
/// with `extra`. A source of that name that is artoken's keeps its place and priority; only
/// its URL is brought up to date.
pub fn login_source(text: &str, name: &str, url: &str, extra: bool) -> Result<String, String> {
    let sources = toml_entry::array(text, &SOURCES)?;
    if let Some(e) = sources.named(name).next() {
        return match e.str("url") {
            Some(u) if u == url => Ok(text.to_string()),
            _ if our_source(e) => match e.set(text, "url", &quote(url)) {
                Some(out) => checked(out, &format!("updating source {name}")),
                None => Ok(text.to_string()),
            },
            u => Err(format!(
                "a source named {name:?} (url {:?}) that artoken did not write is already there; remove it, or name the repository differently in artoken.yml",
                shown(u.unwrap_or(""))
            )),
        };
    }
    let priority = quote(if extra { "supplemental" } else { "primary" });
    let (n, u) = (quote(name), quote(url));
    let table = [
        "[[tool.poetry.source]]".to_string(),
        format!("name = {n}"),
        format!("url = {u}"),
        format!("priority = {priority}"),
    ];
    let inline = format!("{{ name = {n}, url = {u}, priority = {priority} }}");
    let out = sources.add(text, &table, &inline).ok_or_else(|| {
        "tool.poetry.source is not a list of sources; fix it or add the source by hand".to_string()
    })?;
    checked(out, &format!("adding source {name}"))
}

/// Adds `[http-basic.NAME]` to auth.toml, or puts the new token in artoken's one.
pub fn login_auth(text: &str, name: &str, token: &str) -> Result<String, String> {
    if let Some(e) = toml_entry::table(text, &["http-basic", name])? {
        if !our_auth(&e) {
            return Err(format!(
                "credentials for {name:?} that artoken did not write are already there; remove them first"
            ));
        }
        return match e.set(text, "password", &quote(token)) {
            Some(out) => checked(out, &format!("updating credentials for {name}")),
            None => Err(format!(
                "the credentials for {name:?} have no password; remove them first"
            )),
        };
    }
    let table = [
        format!("[http-basic.{}]", key(name)),
        format!("username = {}", quote(USER)),
        format!("password = {}", quote(token)),
    ];
    checked(
        toml_entry::append_table(text, &table),
        &format!("adding credentials for {name}"),
    )
}

/// Removes what [`login_source`] or [`login_auth`] added for `name` (pyproject.toml or
/// auth.toml: each holds only its own kind).
pub fn logout(text: &str, name: &str) -> Result<String, String> {
    let mut out = text.to_string();
    let sources = toml_entry::array(&out, &SOURCES)?;
    if let Some(e) = sources.named(name).find(|e| our_source(e))
        && let Some(t) = e.remove(&out)
    {
        out = checked(t, &format!("removing source {name}"))?;
    }
    if let Some(e) = toml_entry::table(&out, &["http-basic", name])?
        && our_auth(&e)
        && let Some(t) = e.remove(&out)
    {
        out = checked(t, &format!("removing the credentials for {name}"))?;
    }
    Ok(toml_entry::strip_old_markers(
        &out,
        name,
        &["source", "http-basic"],
    ))
}

/// True when `text` holds an entry of artoken's for any repository (what marker blocks tell
/// for the files artoken alone edits).
pub fn has_entries(text: &str) -> bool {
    let Ok(sources) = toml_entry::array(text, &SOURCES) else {
        return false;
    };
    if sources.entries.iter().any(our_source) {
        return true;
    }
    let Ok(doc) = super::toml::parse(text) else {
        return false;
    };
    let names: Vec<String> = match doc.get("http-basic").and_then(|i| i.as_table_like()) {
        Some(t) => t.iter().map(|(k, _)| k.to_string()).collect(),
        None => return false,
    };
    names.iter().any(|n| {
        toml_entry::table(text, &["http-basic", n])
            .ok()
            .flatten()
            .is_some_and(|e| our_auth(&e))
    })
}

/// What [`logout`] leaves of `name` in `text` and why, in one line (`None`: nothing).
pub fn kept(text: &str, name: &str) -> Option<String> {
    let text = &logout(text, name).ok()?;
    let sources = toml_entry::array(text, &SOURCES).ok()?;
    if let Some(e) = sources.named(name).next() {
        return Some(if our_source(e) {
            format!(
                "source {name:?} is not in a form artoken takes apart (a sub-table?): left as is; remove it with `poetry source remove {name}`"
            )
        } else {
            format!(
                "source {name:?} points at {:?}, not a CodeArtifact PyPI index, so artoken did not write it (or it was changed since): left as is; remove it with `poetry source remove {name}`",
                shown(e.str("url").unwrap_or(""))
            )
        });
    }
    let e = toml_entry::table(text, &["http-basic", name]).ok()??;
    Some(if our_auth(&e) {
        format!(
            "the credentials for {name:?} are not in a form artoken takes apart: left as is; remove them with `poetry config --unset http-basic.{name}`"
        )
    } else {
        format!(
            "the credentials for {name:?} are not artoken's (user name not {USER:?}): left as is"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const URL: &str =
        "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/simple/";
    const URL2: &str =
        "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/b/simple/";
    const PYPROJECT: &str = "[tool.poetry]\nname = \"app\" # the app\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\n\n[[tool.poetry.source]]\nname = \"other\"\nurl = \"https://other/simple/\"\n";
    /// Comments, odd spacing, CRLF, no final line ending.
    const ODD: &str = "# my project\r\n[tool.poetry]   # poetry\r\nname=\"app\"\r\n\r\n\r\n[[tool.poetry.source]]\r\n  name   =   'mine'  # my mirror\r\n  url='https://mirror.example/simple/'\r\n[tool.poetry.dependencies]\r\npython = \"^3.11\"   # last, no line ending";

    #[test]
    fn roundtrips() {
        for t in [
            "",
            PYPROJECT,
            &PYPROJECT.replace('\n', "\r\n"),
            ODD,
            "[tool.poetry]\nsource = []\n",
        ] {
            let once = login_source(t, "a", URL, false).unwrap();
            assert_eq!(login_source(&once, "a", URL, false).unwrap(), once);
            assert_eq!(logout(&once, "a").unwrap(), t);
            assert_eq!(kept(&once, "a"), None);
        }
        let odd = login_source(ODD, "a", URL, true).unwrap();
        assert!(
            odd.ends_with("last, no line ending\r\n\r\n[[tool.poetry.source]]\r\nname = \"a\"\r\nurl = \"https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/simple/\"\r\npriority = \"supplemental\""),
            "{odd:?}"
        );
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
        let e = login_source(PYPROJECT, "other", URL, true).unwrap_err();
        assert!(
            e.contains("\"other\"") && e.contains("https://other/simple/"),
            "{e}"
        );
        let e = login_source("[tool]\npoetry = 1\n", "a", URL, true).unwrap_err();
        assert!(e.contains("would break the file"), "{e}");
        let e = login_source("[tool.poetry]\nsource = \"x\"\n", "a", URL, true).unwrap_err();
        assert!(e.contains("not a list of sources"), "{e}");
    }

    /// What `poetry add artoken-demo` and `poetry source add other ... --priority=supplemental`
    /// (poetry 2.5.1) made of a logged-in pyproject.toml: the dependency at the end of
    /// `[tool.poetry.dependencies]`, the sources gathered, blank lines doubled, the
    /// dependencies table moved after them. Logout takes artoken's source and nothing else.
    #[test]
    fn logout_after_poetry_rewrote_the_file() {
        let original = "[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\n";
        let once = login_source(original, "demo", URL, false).unwrap();
        assert_eq!(
            once,
            format!(
                "{original}\n[[tool.poetry.source]]\nname = \"demo\"\nurl = \"{URL}\"\npriority = \"primary\"\n"
            )
        );
        let by_poetry = format!(
            "[tool.poetry]\npackage-mode = false\n\n\n[[tool.poetry.source]]\nname = \"demo\"\nurl = \"{URL}\"\npriority = \"primary\"\n\n\n[[tool.poetry.source]]\nname = \"other\"\nurl = \"https://example.invalid/simple/\"\npriority = \"supplemental\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nartoken-demo = \"^1.0.0\"\n"
        );
        // A second login (a new token) leaves poetry's layout alone.
        assert_eq!(
            login_source(&by_poetry, "demo", URL, false).unwrap(),
            by_poetry
        );
        assert_eq!(
            logout(&by_poetry, "demo").unwrap(),
            "[tool.poetry]\npackage-mode = false\n\n\n\n[[tool.poetry.source]]\nname = \"other\"\nurl = \"https://example.invalid/simple/\"\npriority = \"supplemental\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nartoken-demo = \"^1.0.0\"\n"
        );
        // poetry 2.5.1's `poetry source remove` leaves `source = []`: login goes in there.
        let emptied = "[tool.poetry]\nsource = []\npackage-mode = false\n";
        let again = login_source(emptied, "demo", URL, true).unwrap();
        assert_eq!(
            again,
            format!(
                "[tool.poetry]\nsource = [{{ name = \"demo\", url = \"{URL}\", priority = \"supplemental\" }}]\npackage-mode = false\n"
            )
        );
        assert_eq!(logout(&again, "demo").unwrap(), emptied);
    }

    #[test]
    fn a_source_of_that_name() {
        // artoken's, moved and with another priority: its URL brought up to date in place.
        let moved = format!(
            "[[tool.poetry.source]]\nname = \"Demo\"   # ours\nurl = \"{URL2}\"\npriority = \"explicit\"\n\n[tool.poetry]\nname = \"app\"\n"
        );
        let updated = login_source(&moved, "demo", URL, false).unwrap();
        assert_eq!(updated, moved.replace(URL2, URL));
        assert_eq!(
            logout(&updated, "demo").unwrap(),
            "[tool.poetry]\nname = \"app\"\n"
        );
        // The user pointed it elsewhere: logout leaves it, and says so.
        let changed = updated.replace(URL, "https://mirror.example/simple/");
        assert_eq!(logout(&changed, "demo").unwrap(), changed);
        let note = kept(&changed, "demo").unwrap();
        assert!(
            note.contains("mirror.example") && note.contains("left as is") && !note.contains('\n'),
            "{note}"
        );
        // A URL with a password in it is never shown.
        let secret = updated.replace(URL, "https://me:hunter2@mirror.example/simple/");
        let note = kept(&secret, "demo").unwrap();
        assert!(!note.contains("hunter2"), "{note}");
        assert!(
            login_source(&secret, "demo", URL, false)
                .unwrap_err()
                .contains("***")
        );
    }

    #[test]
    fn auth_edited_by_poetry_config() {
        let once = login_auth("# mine\n", "demo", "TKNONE").unwrap();
        // `poetry config http-basic.other u p` appends after ours.
        let more = format!("{once}\n[http-basic.other]\nusername = \"u\"\npassword = \"p\"\n");
        assert_eq!(
            logout(&more, "demo").unwrap(),
            "# mine\n\n[http-basic.other]\nusername = \"u\"\npassword = \"p\"\n"
        );
        // `poetry config http-basic.demo me pw` replaced ours: it is the user's now.
        let theirs = more.replace("\"aws\"", "\"me\"");
        assert_eq!(logout(&theirs, "demo").unwrap(), theirs);
        assert!(kept(&theirs, "demo").unwrap().contains("not artoken's"));
        assert!(login_auth(&theirs, "demo", "TKNTWO").is_err());
        assert!(has_entries(&more) && !has_entries(&theirs));
        assert!(has_entries(&login_source("", "x", URL, false).unwrap()));
        assert!(!has_entries(PYPROJECT));
        // `poetry config --unset http-basic.demo` took it out: nothing to do.
        assert_eq!(logout("# mine\n", "demo").unwrap(), "# mine\n");
    }

    /// What an earlier artoken wrote (the source between marker comments), then issue #17:
    /// `poetry add` put the dependency inside the block and `poetry source add` dropped the
    /// end marker. Logout takes the source and the markers; the dependency stays.
    #[test]
    fn an_earlier_artokens_markers_go_and_what_poetry_put_between_them_stays() {
        let content = [
            "[[tool.poetry.source]]".to_string(),
            "name = \"a\"".to_string(),
            format!("url = \"{URL}\""),
            "priority = \"primary\"".to_string(),
        ];
        let old =
            super::super::toml::upsert(PYPROJECT, "a", "source", &content, &|_| None).unwrap();
        assert!(old.contains("# >>> artoken:a source >>>"), "{old}");
        assert_eq!(logout(&old, "a").unwrap(), PYPROJECT);
        let original = "[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\n";
        let issue_17 = format!(
            "[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\n# >>> artoken:a source >>>\nartoken-demo = \"^1.0.0\"\n\n\n[[tool.poetry.source]]\nname = \"a\"\nurl = \"{URL}\"\npriority = \"primary\"\n\n\n[[tool.poetry.source]]\nname = \"other\"\nurl = \"https://example.invalid/simple/\"\npriority = \"supplemental\"\n"
        );
        let out = logout(&issue_17, "a").unwrap();
        assert_eq!(
            out,
            "[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nartoken-demo = \"^1.0.0\"\n\n\n\n[[tool.poetry.source]]\nname = \"other\"\nurl = \"https://example.invalid/simple/\"\npriority = \"supplemental\"\n"
        );
        assert!(out.starts_with(original.trim_end()));
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
