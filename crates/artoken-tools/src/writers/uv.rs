//! uv: an `[[index]]` in uv.toml (or `[[tool.uv.index]]` in pyproject.toml) with the index's
//! name and URL; the token never goes there but into `UV_INDEX_<NAME>_USERNAME/PASSWORD`.
//!
//! `uv add` rewrites pyproject.toml, so artoken's index is found by structure
//! ([`super::toml_entry`]), not by markers: the index named NAME whose `url` is a CodeArtifact
//! PyPI index (the same in uv.toml, which uv leaves alone). For the keyring helper the URL
//! carries the user name `aws` (and no password), and uv.toml gets `keyring-provider`.

use super::toml::{parse_error, quote};
use super::toml_entry::{self, Entry, checked, is_pypi_index};
use crate::index_url::shown;
use crate::keyring::USERNAME;

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

/// The line [`login_helper`] puts first in uv.toml; its comment tells logout it is artoken's.
pub const KEYRING_LINE: &str =
    "keyring-provider = \"subprocess\" # added by `artoken login uv --helper`";

/// A helper login's URL (`https://aws@HOST/...`, no password) without its user name.
fn without_helper_user(url: &str) -> Option<String> {
    let mut u = url::Url::parse(url).ok()?;
    if u.username() != USERNAME || u.password().is_some() {
        return None;
    }
    u.set_username("").ok()?;
    Some(u.to_string())
}

fn our_index(e: &Entry) -> bool {
    e.str("url")
        .is_some_and(|u| is_pypi_index(u) || helper_url(u))
}

/// True for a CodeArtifact PyPI index with the user name `aws` and no password.
fn helper_url(u: &str) -> bool {
    without_helper_user(u).is_some_and(|u| is_pypi_index(&u))
}

/// `login` for the keyring helper, in uv.toml only (the helper is the user's and this
/// machine's, not a project's): `url` has the user name and no password (uv then asks
/// `keyring get URL aws`), and [`KEYRING_LINE`] goes first in the file unless a
/// `keyring-provider = "subprocess"` is there already; logout takes it out with the last
/// helper index. A `keyring-provider` of the user's with another value (top level or
/// `[pip]`) is refused: uv would never ask.
pub fn login_helper(
    text: &str,
    name: &str,
    url: &str,
    extra: bool,
    pyproject: bool,
) -> Result<String, String> {
    if pyproject {
        return Err(
            "--helper writes your own uv.toml (the keyring shim is this machine's), not a project's pyproject.toml; log in without --file, or without --helper".to_string(),
        );
    }
    let out = login(text, name, url, extra, false)?;
    let doc = toml_edit::Document::parse(out.as_str()).map_err(|e| parse_error(&out, &e))?;
    let top = doc.get("keyring-provider");
    let pip = doc.get("pip").and_then(|p| p.get("keyring-provider"));
    for (section, item) in [("", top), ("[pip] ", pip)] {
        let Some(item) = item else { continue };
        if item.as_str() != Some("subprocess") {
            return Err(format!(
                "{section}keyring-provider = {}: uv would never ask artoken's keyring; set it to \"subprocess\", or log in without --helper",
                item.to_string().trim()
            ));
        }
    }
    if top.is_some() {
        return Ok(out);
    }
    let bom = bom_len(&out);
    let eol = toml_entry::eol(&out);
    checked(
        format!("{}{KEYRING_LINE}{eol}{}", &out[..bom], &out[bom..]),
        "adding keyring-provider",
    )
}

fn bom_len(text: &str) -> usize {
    if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    }
}

/// `text` without [`KEYRING_LINE`] when no helper index is left in it.
fn drop_unused_keyring_provider(text: &str) -> Result<String, String> {
    if !text.contains(KEYRING_LINE)
        || toml_entry::array(text, &UV_TOML)?
            .entries
            .iter()
            .any(|e| e.str("url").is_some_and(helper_url))
    {
        return Ok(text.to_string());
    }
    let doc = toml_edit::Document::parse(text).map_err(|e| parse_error(text, &e))?;
    let Some(span) = doc
        .get("keyring-provider")
        .and_then(|i| i.as_value())
        .and_then(|v| v.span())
    else {
        return Ok(text.to_string());
    };
    let start = text[..span.start]
        .rfind('\n')
        .map_or(bom_len(text), |i| i + 1);
    let end = text[span.end..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i + 1);
    if text[start..end].trim_end_matches(['\r', '\n']) != KEYRING_LINE {
        // Edited since: the user's now.
        return Ok(text.to_string());
    }
    let mut before = &text[..start];
    if !text[..end].ends_with('\n') {
        // The last line had no ending: neither has the one before it now.
        before = before.strip_suffix('\n').unwrap_or(before);
        before = before.strip_suffix('\r').unwrap_or(before);
    }
    checked(
        format!("{before}{}", &text[end..]),
        "removing keyring-provider",
    )
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
    drop_unused_keyring_provider(&add_index(text, name, url, extra, pyproject)?)
}

fn add_index(
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
    drop_unused_keyring_provider(&toml_entry::strip_old_markers(&out, name, &["index"]))
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

    const HELPER: &str =
        "https://aws@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/simple/";
    const HELPER_B: &str =
        "https://aws@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/b/simple/";

    #[test]
    fn helper_login_writes_the_user_name_and_the_keyring_provider() {
        let out = login_helper("", "a", HELPER, false, false).unwrap();
        assert_eq!(
            out,
            format!(
                "{KEYRING_LINE}\n[[index]]\nname = \"a\"\nurl = \"{HELPER}\"\ndefault = true\n"
            )
        );
        assert_eq!(logout(&out, "a").unwrap(), "");
        let e = login_helper("", "a", HELPER, false, true).unwrap_err();
        assert!(e.contains("pyproject.toml"), "{e}");
    }

    #[test]
    fn helper_roundtrips_and_switches_with_token_logins() {
        for t in [
            "",
            BUSY,
            &BUSY.replace('\n', "\r\n"),
            "x = 1",
            "\u{feff}x = 1\n",
            "keyring-provider = \"subprocess\"\n",
            "[pip]\nkeyring-provider = \"subprocess\"\n",
        ] {
            for extra in [false, true] {
                let once = login_helper(t, "a", HELPER, extra, false).unwrap();
                let ours = usize::from(!t.starts_with("keyring"));
                assert_eq!(once.matches(KEYRING_LINE).count(), ours, "{once}");
                assert_eq!(
                    login_helper(&once, "a", HELPER, extra, false).unwrap(),
                    once
                );
                assert_eq!(logout(&once, "a").unwrap(), t, "{once}");
                assert!(has_entries(&once) && kept(&once, "a").is_none());
                // A token login in its place takes artoken's keyring-provider out, and back.
                let token = login(&once, "a", URL, extra, false).unwrap();
                assert_eq!(token, login(t, "a", URL, extra, false).unwrap(), "{token}");
                assert_eq!(
                    login_helper(&token, "a", HELPER, extra, false).unwrap(),
                    once
                );
                // Two helper indexes share the line; it goes with the last.
                let both = login_helper(&once, "b", HELPER_B, true, false).unwrap();
                assert_eq!(both.matches(KEYRING_LINE).count(), ours, "{both}");
                let only_b = logout(&both, "a").unwrap();
                assert_eq!(
                    only_b.contains(KEYRING_LINE),
                    !t.starts_with("keyring"),
                    "{only_b}"
                );
                assert_eq!(logout(&only_b, "b").unwrap(), t);
                assert_eq!(logout(&both, "b").unwrap(), once);
                // Beside a token login, a helper login keeps it.
                let mixed =
                    login(&once, "b", URL.replace("/a/", "/b/").as_str(), true, false).unwrap();
                assert_eq!(mixed.contains(KEYRING_LINE), !t.starts_with("keyring"));
                assert_eq!(logout(&logout(&mixed, "a").unwrap(), "b").unwrap(), t);
            }
        }
    }

    #[test]
    fn a_keyring_provider_that_never_asks_is_refused_and_an_edited_line_stays() {
        for t in [
            "keyring-provider = \"disabled\"\n",
            "[pip]\nkeyring-provider = \"disabled\"\n",
        ] {
            let e = login_helper(t, "a", HELPER, false, false).unwrap_err();
            assert!(e.contains("keyring-provider = \"disabled\""), "{e}");
            assert_eq!(e.lines().count(), 1);
        }
        let once = login_helper("", "a", HELPER, false, false).unwrap();
        let edited = once.replace("# added by", "# mine now, added by");
        assert_eq!(
            logout(&edited, "a").unwrap(),
            "keyring-provider = \"subprocess\" # mine now, added by `artoken login uv --helper`\n"
        );
    }

    proptest! {
        #[test]
        fn logout_undoes_helper_login(text in super::super::toml::tests::arb_toml(), extra in prop::bool::ANY) {
            let once = login_helper(&text, "a", HELPER, extra, false).unwrap();
            prop_assert_eq!(logout(&once, "a").unwrap(), text.clone());
            prop_assert_eq!(login_helper(&once, "a", HELPER, extra, false).unwrap(), once);
        }

        #[test]
        fn logout_undoes_login(text in super::super::toml::tests::arb_toml(), extra in prop::bool::ANY) {
            let once = login(&text, "a", URL, extra, false).unwrap();
            prop_assert_eq!(logout(&once, "a").unwrap(), text.clone());
            prop_assert_eq!(login(&once, "a", URL, extra, false).unwrap(), once);
        }
    }
}
