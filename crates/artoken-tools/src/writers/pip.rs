//! pip.conf: `index-url` (the user's own one switched off meanwhile) or one more
//! `extra-index-url` line in `[global]`; for the keyring helper, the URL with the user name
//! only and `keyring-provider = subprocess` beside it.

use super::ini::{self, content_end, find_section, key_lines, sections, value_last};
use super::lines::{Block, Doc, HASH, Tag};

pub const INDEX: &str = "index-url";
pub const EXTRA: &str = "extra-index-url";
pub const KEYRING: &str = "keyring-provider";

/// `login` for the keyring helper: `url` carries the user name and no password
/// (`https://aws@HOST/pypi/REPO/simple/`: pip before 26.2 asks a keyring only then), and
/// `keyring-provider = subprocess` in `[global]` makes pip run `keyring`. That line is a
/// scaffold shared by every repository logged in so; the logout of the last one takes it out.
/// A `keyring-provider` of the user's with another value is refused: pip would never ask.
pub fn login_helper(text: &str, name: &str, url: &str, extra: bool) -> Result<String, String> {
    let out = login(text, name, url, extra)?;
    let mut d = Doc::parse(&out, HASH);
    let tags = d.tags()?;
    let global = find_section(&sections(&d, &tags), "global")
        .cloned()
        .ok_or("no [global] section")?;
    let lines = key_lines(&d, &tags, &global, KEYRING);
    for &k in &lines {
        let words = ini::value_words(&d, &tags, k);
        if words != ["subprocess"] {
            return Err(format!(
                "line {}: keyring-provider = {} in [global]: pip would never ask artoken's keyring; set it to subprocess, or log in without --helper",
                k + 1,
                words.join(" ")
            ));
        }
    }
    if lines.is_empty() {
        let at = content_end(&d, &tags, &global)?;
        d.insert(at, "", None, "", &[format!("{KEYRING} = subprocess")]);
    }
    Ok(d.render())
}

/// True for a URL with a user name and no password: a login for the keyring helper.
fn is_helper_url(word: &str) -> bool {
    url::Url::parse(word).is_ok_and(|u| !u.username().is_empty() && u.password().is_none())
}

/// True when a repository is logged in for the keyring helper (an index block of artoken's
/// whose URL has no password).
fn has_helper_login(d: &Doc) -> bool {
    let Ok(tags) = d.tags() else {
        return true;
    };
    let Ok(blocks) = d.blocks() else {
        return true;
    };
    blocks
        .iter()
        .filter(|b| b.name.is_some() && (b.kind == INDEX || b.kind == EXTRA))
        .any(|b| {
            (b.begin + 1..b.end).any(|i| {
                tags[i] == Tag::Named
                    && d.text(i)
                        .split(|c: char| c.is_whitespace() || c == '=')
                        .any(is_helper_url)
            })
        })
}

/// True for the scaffold holding `keyring-provider = subprocess`.
fn holds_keyring_provider(d: &Doc, b: &Block) -> bool {
    b.name.is_none()
        && (b.begin + 1..b.end).any(|i| ini::key(d.text(i)).as_deref() == Some(KEYRING))
}

/// Takes out `keyring-provider` when no helper login is left (a token login replaced one).
fn drop_unused_keyring_provider(d: &mut Doc) -> Result<(), String> {
    if has_helper_login(d) {
        return Ok(());
    }
    while let Some(b) = d
        .blocks()?
        .into_iter()
        .find(|b| holds_keyring_provider(d, b))
    {
        d.remove(&b);
    }
    Ok(())
}

/// Adds (or refreshes) repository `name` with `url` (the index URL, token included).
pub fn login(text: &str, name: &str, url: &str, extra: bool) -> Result<String, String> {
    let kind = if extra { EXTRA } else { INDEX };
    let mut d = Doc::parse(text, HASH);
    if let Some(b) = d.find(name, kind)? {
        let old = d.text(b.begin + 1).to_string();
        let line = if ini::is_continuation(&old) {
            format!("{}{url}", super::lines::indent_of(&old))
        } else {
            format!("{kind} = {url}")
        };
        d.replace_content(&b, &[line]);
        drop_unused_keyring_provider(&mut d)?;
        return Ok(d.render());
    }
    d.remove_named(name)?;
    let global = global_section(&mut d)?;
    let tags = d.tags()?;
    if !extra {
        for k in key_lines(&d, &tags, &global, INDEX).into_iter().rev() {
            // Switching a later line off shifts what follows: tags afresh for each key.
            let tags = d.tags()?;
            if tags[k] == Tag::User {
                // The value's lines, never past a line of artoken's.
                let last = (k + 1..=value_last(&d, &tags, k))
                    .take_while(|&i| tags[i] == Tag::User)
                    .last()
                    .unwrap_or(k);
                d.switch_off(k, last + 1, name);
            } else {
                return Err(taken_by(&d, k, INDEX)?);
            }
        }
        // In place of the user's own line when there was one, else at the section's end.
        let at = match d.find(name, super::lines::OFF)? {
            Some(off) => off.end + 1,
            None => {
                let tags = d.tags()?;
                let global = find_section(&sections(&d, &tags), "global")
                    .cloned()
                    .ok_or("no [global] section")?;
                content_end(&d, &tags, &global)?
            }
        };
        d.insert(at, "", Some(name), INDEX, &[format!("{INDEX} = {url}")]);
    } else if let Some(&k) = key_lines(&d, &tags, &global, EXTRA).last() {
        if ini::value_words(&d, &tags, k).iter().any(|w| w == url) {
            return Ok(d.render());
        }
        let indent = ini::continuation_indent(&d, &tags, k);
        let at = d.after(value_last(&d, &tags, k))?;
        d.insert(at, "", Some(name), EXTRA, &[format!("{indent}{url}")]);
    } else {
        let at = content_end(&d, &tags, &global)?;
        let s = d.insert(at, "", None, "", &[format!("{EXTRA} =")]);
        d.insert(s.end + 1, "", Some(name), EXTRA, &[format!("    {url}")]);
    }
    drop_unused_keyring_provider(&mut d)?;
    Ok(d.render())
}

/// Removes what login added for `name`.
pub fn logout(text: &str, name: &str) -> Result<String, String> {
    let mut d = Doc::parse(text, HASH);
    d.remove_named(name)?;
    d.remove_unneeded_scaffolds(&needed)?;
    Ok(d.render())
}

/// `[global]`, added as a scaffold at the end when the file has none.
fn global_section(d: &mut Doc) -> Result<ini::Section, String> {
    let tags = d.tags()?;
    if let Some(s) = find_section(&sections(d, &tags), "global") {
        return Ok(s.clone());
    }
    d.insert(d.len(), "", None, "", &["[global]".to_string()]);
    let tags = d.tags()?;
    Ok(find_section(&sections(d, &tags), "global")
        .cloned()
        .expect("just added"))
}

fn taken_by(d: &Doc, k: usize, key: &str) -> Result<String, String> {
    let owner = d
        .block_at(k)?
        .and_then(|b| b.name)
        .unwrap_or_else(|| "another repository".into());
    Ok(format!(
        "line {}: {key} in [global] comes from `artoken login pip {owner}`; add this repository with --extra, or run `artoken logout pip {owner}` first",
        k + 1
    ))
}

/// A `[global]` scaffold stays while its section has content; an `extra-index-url =` one
/// while lines continue it; `keyring-provider = subprocess` while a helper login is left.
pub fn needed(d: &Doc, b: &Block) -> bool {
    if holds_keyring_provider(d, b) {
        return has_helper_login(d);
    }
    section_scaffold_needed(d, b)
}

/// Shared with .pypirc: a scaffold holding a section header and/or a key whose value others
/// continue.
pub fn section_scaffold_needed(d: &Doc, b: &Block) -> bool {
    let Ok(tags) = d.tags() else {
        return true;
    };
    let mut has_header = false;
    for i in b.begin + 1..b.end {
        let t = d.text(i);
        if ini::header(t).is_some() {
            has_header = true;
        } else if ini::key(t).is_some() && value_last(d, &tags, i) > b.end {
            return true;
        }
    }
    if !has_header {
        return false;
    }
    for i in b.end + 1..d.len() {
        let t = d.text(i);
        if tags[i] == Tag::Marker || ini::is_blank(t) || ini::is_comment(t) {
            continue;
        }
        return ini::header(t).is_none();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const U1: &str = "https://aws:TKNONE@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/simple/";
    const U2: &str = "https://aws:TKNTWO@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/simple/";
    const V1: &str = "https://aws:TKNONE@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/b/simple/";

    const BUSY: &str = "# my pip config\n; with comments\n\n[global]\n# timeouts\ntimeout = 60\nindex-url = https://pypi.org/simple\n    # odd\n\n[install]\n; keep\ntrusted-host = example.com\n";

    fn check_roundtrip(original: &str, extra: bool) {
        let once = login(original, "a", U1, extra).unwrap();
        assert_ne!(once, original);
        assert_eq!(
            login(&once, "a", U1, extra).unwrap(),
            once,
            "login twice == once"
        );
        let refreshed = login(&once, "a", U2, extra).unwrap();
        assert_eq!(
            refreshed.replace("TKNTWO", "TKNONE"),
            once,
            "a new token changes only the token"
        );
        assert_eq!(logout(&once, "a").unwrap(), original);
        assert_eq!(logout(&refreshed, "a").unwrap(), original);
    }

    #[test]
    fn roundtrips() {
        for t in [
            "",
            "\n",
            BUSY,
            &BUSY.replace('\n', "\r\n"),
            "[global]\ntimeout = 1",
            "[install]\nx = 1\n",
            "[global]\nextra-index-url = https://x/simple\n  https://y/simple\n# c\n[other]\n",
            // Found by the pip_conf fuzz target: a last line ending in a lone CR, and two
            // `index-url` lines in [global] with a section after them.
            "# c\r",
            "[global]\nindex-url = a\nindex-url = b\n[install]\nx = 1\n",
            "[global]\nindex-url = https://x/simple\r",
        ] {
            check_roundtrip(t, false);
            check_roundtrip(t, true);
        }
    }

    #[test]
    fn index_url_switches_the_users_own_off_and_back() {
        let out = login(BUSY, "a", U1, false).unwrap();
        assert!(
            out.contains("# artoken-was: index-url = https://pypi.org/simple\n"),
            "{out}"
        );
        assert!(
            out.contains("# <<< artoken:a off <<<\n# >>> artoken:a index-url >>>\n"),
            "{out}"
        );
        assert_eq!(out.matches("\nindex-url =").count(), 1, "{out}");
        assert!(out.contains("[install]\n; keep\ntrusted-host = example.com\n"));
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let t = BUSY.replace('\n', "\r\n");
        let out = login(&t, "a", U1, true).unwrap();
        assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
    }

    #[test]
    fn two_repositories_side_by_side() {
        let one = login(BUSY, "a", U1, false).unwrap();
        let two = login(&one, "b", V1, true).unwrap();
        assert!(two.contains("extra-index-url =\n"), "{two}");
        assert!(two.contains(&format!("    {V1}\n")), "{two}");
        // a second index-url is refused with the way out
        let e = login(&two, "c", V1, false).unwrap_err();
        assert!(
            e.contains("--extra") && e.contains("artoken logout pip a"),
            "{e}"
        );
        // a refreshed token for `a` does not move it
        let again = login(&two, "a", U2, false).unwrap();
        assert_eq!(again.replace("TKNTWO", "TKNONE"), two);
        assert_eq!(logout(&logout(&two, "a").unwrap(), "b").unwrap(), BUSY);
        assert_eq!(logout(&logout(&two, "b").unwrap(), "a").unwrap(), BUSY);
        // two extras, either order out
        let e2 = login(&login(BUSY, "a", U1, true).unwrap(), "b", V1, true).unwrap();
        assert_eq!(e2.matches("extra-index-url =").count(), 1, "{e2}");
        assert_eq!(logout(&logout(&e2, "a").unwrap(), "b").unwrap(), BUSY);
        assert_eq!(logout(&logout(&e2, "b").unwrap(), "a").unwrap(), BUSY);
    }

    #[test]
    fn switching_between_index_and_extra_starts_over() {
        let one = login(BUSY, "a", U1, false).unwrap();
        let two = login(&one, "a", U1, true).unwrap();
        assert!(two.contains("index-url = https://pypi.org/simple\n"));
        assert!(!two.contains("artoken-was"));
        assert_eq!(logout(&two, "a").unwrap(), BUSY);
    }

    const H1: &str =
        "https://aws@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/simple/";
    const H2: &str =
        "https://aws@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/b/simple/";

    #[test]
    fn helper_login_writes_the_user_name_and_the_keyring_provider() {
        let out = login_helper("", "a", H1, false).unwrap();
        assert_eq!(
            out,
            format!(
                "# >>> artoken >>>\n[global]\n# <<< artoken <<<\n# >>> artoken:a index-url >>>\nindex-url = {H1}\n# <<< artoken:a index-url <<<\n# >>> artoken >>>\nkeyring-provider = subprocess\n# <<< artoken <<<\n"
            )
        );
        assert_eq!(logout(&out, "a").unwrap(), "");
    }

    #[test]
    fn helper_roundtrips_and_switches_with_token_logins() {
        for t in [
            "",
            "\n",
            BUSY,
            &BUSY.replace('\n', "\r\n"),
            "[global]\ntimeout = 1",
            "[install]\nx = 1\n",
            "# c\r",
            "[global]\nkeyring-provider = subprocess\n",
        ] {
            for extra in [false, true] {
                let once = login_helper(t, "a", H1, extra).unwrap();
                assert_eq!(once.matches("keyring-provider").count(), 1, "{once}");
                assert_eq!(login_helper(&once, "a", H1, extra).unwrap(), once);
                assert_eq!(logout(&once, "a").unwrap(), t, "{once}");
                // A token login in its place takes the keyring provider out (unless the
                // user's), and back.
                let token = login(&once, "a", U1, extra).unwrap();
                assert_eq!(token, login(t, "a", U1, extra).unwrap(), "{token}");
                assert_eq!(login_helper(&token, "a", H1, extra).unwrap(), once);
                assert_eq!(logout(&token, "a").unwrap(), t);
                // Two helper logins share the line; it goes with the last.
                let both = login_helper(&once, "b", H2, true).unwrap();
                assert_eq!(both.matches("keyring-provider").count(), 1, "{both}");
                let only_b = logout(&both, "a").unwrap();
                assert!(only_b.contains("keyring-provider = subprocess"), "{only_b}");
                assert_eq!(logout(&only_b, "b").unwrap(), t);
                let only_a = logout(&both, "b").unwrap();
                assert_eq!(only_a, once);
                // A token login beside a helper one keeps it.
                let mixed = login(&once, "b", V1, true).unwrap();
                assert!(mixed.contains("keyring-provider = subprocess"), "{mixed}");
                assert_eq!(logout(&logout(&mixed, "a").unwrap(), "b").unwrap(), t);
            }
        }
    }

    #[test]
    fn a_keyring_provider_that_never_asks_is_refused() {
        for v in ["import", "disabled", "auto"] {
            let t = format!("[global]\nkeyring_provider = {v}\n");
            let e = login_helper(&t, "a", H1, false).unwrap_err();
            assert!(
                e.starts_with("line 2: keyring-provider = ") && e.contains(v),
                "{e}"
            );
            assert_eq!(e.lines().count(), 1);
        }
    }

    #[test]
    fn a_keyring_provider_continued_on_the_next_line_is_refused_and_token_logins_roundtrip() {
        // The proptest seed: configparser reads `subprocess\n:` (the tab line continues the
        // value), which pip rejects, so a helper login would never be asked: refused, in one
        // line naming it; a token login around it still gives back every byte.
        let t = "[global]\nkeyring-provider = subprocess\n\t:";
        let e = login_helper(t, "a", H1, false).unwrap_err();
        assert_eq!(
            e,
            "line 2: keyring-provider = subprocess : in [global]: pip would never ask artoken's keyring; set it to subprocess, or log in without --helper"
        );
        for extra in [false, true] {
            assert!(login_helper(t, "a", H1, extra).is_err());
            let once = login(t, "a", U1, extra).unwrap();
            assert!(
                once.contains("keyring-provider = subprocess\n\t:\n"),
                "{once}"
            );
            assert_eq!(logout(&once, "a").unwrap(), t);
        }
    }

    fn arb_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[#;][ a-z=:\\[\\]]{0,12}".prop_map(|s| s),
            "[a-z_-]{1,8} ?= ?[a-z0-9:/.]{0,12}".prop_map(|s| s),
            "\\[(install|freeze|global|x)\\]".prop_map(|s| s),
            Just("index-url = https://pypi.org/simple".to_string()),
            Just("extra-index-url = https://e/simple".to_string()),
            Just("keyring-provider = subprocess".to_string()),
            Just("keyring-provider = import".to_string()),
            "[ \t]{1,4}[a-z:/.]{1,10}".prop_map(|s| s),
        ]
    }

    fn arb_file() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(arb_line(), 0..14),
            prop::bool::ANY,
            prop::bool::ANY,
        )
            .prop_map(|(lines, crlf, final_eol)| {
                let eol = if crlf { "\r\n" } else { "\n" };
                let mut s = lines.join(eol);
                if final_eol && !s.is_empty() {
                    s.push_str(eol);
                }
                s
            })
            .prop_filter(
                "configparser allows one [global] and one key of each",
                |s| {
                    s.matches("[global]").count() <= 1
                        && s.matches("index-url").count() <= 1
                        && s.matches("extra-index-url").count() <= 1
                        && s.matches("keyring-provider").count() <= 1
                },
            )
    }

    proptest! {
        #[test]
        fn logout_undoes_login(text in arb_file(), extra in prop::bool::ANY) {
            let once = login(&text, "a", U1, extra).unwrap();
            prop_assert_eq!(logout(&once, "a").unwrap(), text.clone());
            let again = login(&once, "a", U2, extra).unwrap();
            prop_assert_eq!(again.replace("TKNTWO", "TKNONE"), once.clone());
            let both = login(&once, "b", V1, true).unwrap();
            prop_assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), text.clone());
            prop_assert_eq!(logout(&logout(&both, "b").unwrap(), "a").unwrap(), text);
        }

        #[test]
        fn logout_undoes_helper_login(text in arb_file(), extra in prop::bool::ANY) {
            // A file whose own keyring-provider is not subprocess is refused, which is checked
            // above; every other one round-trips.
            let once = match login_helper(&text, "a", H1, extra) {
                Ok(once) => once,
                Err(e) => {
                    // (a value continued on the next line is not `subprocess` either)
                    prop_assert!(text.contains("keyring-provider"), "{}", e);
                    prop_assert!(e.starts_with("line ") && e.contains("keyring-provider = "), "{}", e);
                    prop_assert_eq!(e.lines().count(), 1);
                    return Ok(());
                }
            };
            prop_assert_eq!(logout(&once, "a").unwrap(), text.clone());
            prop_assert_eq!(login_helper(&once, "a", H1, extra).unwrap(), once.clone());
            let both = login_helper(&once, "b", H2, true).unwrap();
            prop_assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), text.clone());
            prop_assert_eq!(logout(&logout(&both, "b").unwrap(), "a").unwrap(), text);
        }
    }
}
