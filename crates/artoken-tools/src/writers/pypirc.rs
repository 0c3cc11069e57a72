//! ~/.pypirc for twine: a `[NAME]` section per repository (repository, username `aws`,
//! password) and NAME in `[distutils] index-servers`.

use super::ini::{self, content_end, find_section, key_lines, sections, value_last};
use super::lines::{Doc, HASH};

const SERVERS: &str = "index-servers";
const SECTION: &str = "section";

/// Adds (or refreshes) repository `name`: `url` is the upload URL (no token in it).
pub fn login(text: &str, name: &str, url: &str, token: &str) -> Result<String, String> {
    let section = vec![
        format!("[{name}]"),
        format!("repository = {url}"),
        "username = aws".to_string(),
        format!("password = {token}"),
    ];
    let mut d = Doc::parse(text, HASH);
    if let Some(b) = d.find(name, SECTION)? {
        d.replace_content(&b, &section);
        return Ok(d.render());
    }
    d.remove_named(name)?;
    let tags = d.tags()?;
    let secs = sections(&d, &tags);
    if let Some(s) = find_section(&secs, name) {
        return Err(format!(
            "line {}: a [{name}] section that artoken did not write is already there; remove it, or name the repository differently in artoken.yml",
            s.header.unwrap_or(0) + 1
        ));
    }
    match find_section(&secs, "distutils") {
        None => {
            let s = d.insert(
                d.len(),
                "",
                None,
                "",
                &[
                    "[distutils]".into(),
                    format!("{SERVERS} ="),
                    "    pypi".into(),
                    "    testpypi".into(),
                ],
            );
            d.insert(s.end + 1, "", Some(name), SERVERS, &[format!("    {name}")]);
        }
        Some(s) => match key_lines(&d, &tags, s, SERVERS).last() {
            Some(&k) => {
                if !ini::value_words(&d, &tags, k).iter().any(|w| w == name) {
                    let indent = ini::continuation_indent(&d, &tags, k);
                    let at = d.after(value_last(&d, &tags, k))?;
                    d.insert(at, "", Some(name), SERVERS, &[format!("{indent}{name}")]);
                }
            }
            None => {
                // Without the key twine serves `pypi testpypi`: keep them.
                let at = content_end(&d, &tags, s)?;
                let sc = d.insert(
                    at,
                    "",
                    None,
                    "",
                    &[
                        format!("{SERVERS} ="),
                        "    pypi".into(),
                        "    testpypi".into(),
                    ],
                );
                d.insert(
                    sc.end + 1,
                    "",
                    Some(name),
                    SERVERS,
                    &[format!("    {name}")],
                );
            }
        },
    }
    d.insert(d.len(), "", Some(name), SECTION, &section);
    Ok(d.render())
}

/// Removes what login added for `name`.
pub fn logout(text: &str, name: &str) -> Result<String, String> {
    let mut d = Doc::parse(text, HASH);
    d.remove_named(name)?;
    d.remove_unneeded_scaffolds(&super::pip::section_scaffold_needed)?;
    Ok(d.render())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const URL: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/";

    const BUSY: &str = "# twine settings\n[distutils]\nindex-servers =\n    pypi\n    # private\n    internal\n\n[pypi]\nusername = __token__\n\n; internal one\n[internal]\nrepository = https://internal/\n";

    #[test]
    fn roundtrips_and_refreshes() {
        for t in [
            "",
            BUSY,
            &BUSY.replace('\n', "\r\n"),
            "[pypi]\nusername = x",
            "[distutils]\n# none\n[x]\ny=1\n",
        ] {
            let once = login(t, "ca", URL, "TKNONE").unwrap();
            assert_eq!(login(&once, "ca", URL, "TKNONE").unwrap(), once);
            let again = login(&once, "ca", URL, "TKNTWO").unwrap();
            assert_eq!(again.replace("TKNTWO", "TKNONE"), once);
            assert_eq!(logout(&once, "ca").unwrap(), t);
            let both = login(&once, "cb", URL, "TKNONE").unwrap();
            assert_eq!(logout(&logout(&both, "ca").unwrap(), "cb").unwrap(), t);
            assert_eq!(logout(&logout(&both, "cb").unwrap(), "ca").unwrap(), t);
        }
    }

    #[test]
    fn the_section_and_the_server_list() {
        let out = login(BUSY, "ca", URL, "TKNONE").unwrap();
        assert!(
            out.contains("    internal\n# >>> artoken:ca index-servers >>>\n    ca\n"),
            "{out}"
        );
        assert!(out.ends_with(&format!("[ca]\nrepository = {URL}\nusername = aws\npassword = TKNONE\n# <<< artoken:ca section <<<\n")), "{out}");
        let fresh = login("", "ca", URL, "t").unwrap();
        assert!(
            fresh.starts_with(
                "# >>> artoken >>>\n[distutils]\nindex-servers =\n    pypi\n    testpypi\n"
            ),
            "{fresh}"
        );
        let e = login(BUSY, "internal", URL, "t").unwrap_err();
        assert!(
            e.contains("[internal] section that artoken did not write"),
            "{e}"
        );
    }

    fn arb_file() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            Just(String::new()),
            "[#;][ a-z=]{0,10}",
            "[a-z]{1,6} = [a-z0-9:/.]{0,10}",
            "\\[(pypi|distutils|x|y)\\]",
            Just("index-servers =".to_string()),
            "    [a-z]{1,6}",
        ];
        (prop::collection::vec(line, 0..12), prop::bool::ANY)
            .prop_map(|(l, crlf)| l.join(if crlf { "\r\n" } else { "\n" }))
            .prop_filter("one of each", |s| {
                s.matches("[distutils]").count() <= 1 && s.matches("index-servers").count() <= 1
            })
    }

    proptest! {
        #[test]
        fn logout_undoes_login(text in arb_file()) {
            let once = login(&text, "ca", URL, "TKNONE").unwrap();
            prop_assert_eq!(logout(&once, "ca").unwrap(), text.clone());
            prop_assert_eq!(login(&once, "ca", URL, "TKNTWO").unwrap().replace("TKNTWO", "TKNONE"), once);
        }
    }
}
