//! NuGet.Config (nuget, dotnet): a `packageSources` entry and its `packageSourceCredentials`
//! (username `aws`, the token as ClearTextPassword).

use super::lines::{Doc, XML, indent_of};
use super::xml::{self, children, elements, escape, root};

const SOURCE: &str = "source";
const CREDENTIALS: &str = "credentials";

/// The element name NuGet uses for a source's credentials (XmlConvert.EncodeLocalName).
pub fn element_name(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        let ok = c.is_ascii_alphabetic()
            || c == '_'
            || (i > 0 && (c.is_ascii_digit() || c == '-' || c == '.'));
        if ok {
            out.push(c);
        } else {
            out.push_str(&format!("_x{:04X}_", c as u32));
        }
    }
    out
}

fn source_lines(indent: &str, name: &str, url: &str) -> Vec<String> {
    vec![format!(
        "{indent}<add key=\"{}\" value=\"{}\" />",
        escape(name),
        escape(url)
    )]
}

fn credentials(indent: &str, step: &str, name: &str, token: &str) -> Vec<String> {
    let el = element_name(name);
    vec![
        format!("{indent}<{el}>"),
        format!("{indent}{step}<add key=\"Username\" value=\"aws\" />"),
        format!(
            "{indent}{step}<add key=\"ClearTextPassword\" value=\"{}\" />",
            escape(token)
        ),
        format!("{indent}</{el}>"),
    ]
}

/// The `<add>` in `elems` whose `key` is `key` (NuGet compares keys ignoring case).
fn add_with_key<'e>(text: &str, elems: &[&'e xml::Elem], key: &str) -> Option<&'e xml::Elem> {
    elems.iter().copied().find(|e| {
        e.name == "add"
            && xml::attr(text, e, "key").is_some_and(|(k, _)| k.eq_ignore_ascii_case(key))
    })
}

/// Refreshes source and credentials of `name` by structure, each in its block: only the
/// `value` of the source's `<add>` and of the `ClearTextPassword` change, in place, so the
/// formatting the blocks have now stays (`dotnet nuget` rewrites entries in place, a user may
/// re-indent them). A block whose entry was removed (`dotnet nuget remove source`) or broken
/// by hand gets a whole new one between its markers.
fn refresh(mut d: Doc, name: &str, url: &str, token: &str) -> Result<String, String> {
    let el = element_name(name);
    for _ in 0..2 {
        let (Some(s), Some(c)) = (d.find(name, SOURCE)?, d.find(name, CREDENTIALS)?) else {
            break;
        };
        let text = d.render();
        let elems = elements(&text)?;
        let source = add_with_key(&text, &xml::inside(&d, &elems, &s), name)
            .and_then(|e| xml::attr(&text, e, "value"))
            .map(|(_, r)| r);
        let password = xml::inside(&d, &elems, &c)
            .into_iter()
            .filter(|e| e.name.eq_ignore_ascii_case(&el))
            .find_map(|e| {
                add_with_key(
                    &text,
                    &children(&elems, e, Some("add")),
                    "ClearTextPassword",
                )
            })
            .and_then(|e| xml::attr(&text, e, "value"))
            .map(|(_, r)| r);
        let (found_s, found_c) = (source.is_some(), password.is_some());
        if let (Some(sr), Some(pr)) = (source, password) {
            // The later range first, so the earlier one's offsets still hold.
            let mut edits = [(sr, escape(url)), (pr, escape(token))];
            edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
            let mut out = text;
            for (r, v) in edits {
                out.replace_range(r, &v);
            }
            xml::check(&out, "configuration", name)?;
            return Ok(out);
        }
        foreign(&d, name)?;
        // A whole new entry for whichever is missing (the later block first, so the earlier
        // one's lines keep their numbers); the next round refreshes the other in place.
        let unit = xml::step(&d);
        let mut blocks = [(s, found_s), (c, found_c)];
        blocks.sort_by_key(|(b, _)| std::cmp::Reverse(b.begin));
        for (b, found) in blocks {
            if found {
                continue;
            }
            let indent = indent_of(d.text(b.begin)).to_string();
            let lines = if b.kind == SOURCE {
                source_lines(&indent, name, url)
            } else {
                credentials(&indent, &unit, name, token)
            };
            d.replace_content(&b, &lines);
        }
        d = Doc::parse(&d.render(), XML);
    }
    Err(format!(
        "the artoken:{name} blocks do not hold a source and its credentials; remove them by hand, or run `artoken logout nuget {name}`"
    ))
}

/// An error when a source or credentials of `name` that artoken did not write (outside its
/// blocks: the user's, or `dotnet nuget add source`'s) is in the file.
fn foreign(d: &Doc, name: &str) -> Result<(), String> {
    let text = d.render();
    let elems = elements(&text)?;
    let r = root(&elems, "configuration")?;
    let el = element_name(name);
    let ours: Vec<usize> = d
        .blocks()?
        .iter()
        .filter(|b| b.name.as_deref() == Some(name))
        .flat_map(|b| xml::inside(d, &elems, b))
        .map(|e| e.start)
        .collect();
    for (container, what) in [
        ("packageSources", "a source"),
        ("packageSourceCredentials", "credentials"),
    ] {
        for c in children(&elems, r, Some(container)) {
            for e in children(&elems, c, None) {
                let same = if container == "packageSources" {
                    e.name == "add"
                        && xml::attr(&text, e, "key")
                            .is_some_and(|(k, _)| k.eq_ignore_ascii_case(name))
                } else {
                    e.name.eq_ignore_ascii_case(&el)
                };
                if same && !ours.contains(&e.start) {
                    return Err(format!(
                        "line {}: {what} for {name:?} that artoken did not write is already there; remove it, or name the repository differently in artoken.yml",
                        xml::line_of(&text, e.start) + 1
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Adds (or refreshes) source `name` at `url` (the v3 `index.json`).
pub fn login(text: &str, name: &str, url: &str, token: &str) -> Result<String, String> {
    let mut d = Doc::parse(text, XML);
    if d.find(name, SOURCE)?.is_some() && d.find(name, CREDENTIALS)?.is_some() {
        return refresh(d, name, url, token);
    }
    d.remove_named(name)?;
    if d.render().trim().is_empty() {
        xml::skeleton(
            &mut d,
            &[
                "<configuration>".into(),
                "  <packageSources>".into(),
                "  </packageSources>".into(),
                "  <packageSourceCredentials>".into(),
                "  </packageSourceCredentials>".into(),
                "</configuration>".into(),
            ],
        );
        let n = d.len();
        d.insert(
            n - 3,
            "    ",
            Some(name),
            CREDENTIALS,
            &credentials("    ", "  ", name, token),
        );
        d.insert(
            n - 5,
            "    ",
            Some(name),
            SOURCE,
            &source_lines("    ", name, url),
        );
        return Ok(d.render());
    }
    foreign(&d, name)?;
    let unit = xml::step(&d);
    let (at, indent) = xml::container(&mut d, "configuration", "packageSources")?;
    d.insert(
        at,
        &indent,
        Some(name),
        SOURCE,
        &source_lines(&indent, name, url),
    );
    let (at, indent) = xml::container(&mut d, "configuration", "packageSourceCredentials")?;
    d.insert(
        at,
        &indent,
        Some(name),
        CREDENTIALS,
        &credentials(&indent, &unit, name, token),
    );
    let out = d.render();
    xml::check(&out, "configuration", name)?;
    Ok(out)
}

pub fn logout(text: &str, name: &str) -> Result<String, String> {
    xml::logout(text, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const URL: &str =
        "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/nuget/a/v3/index.json";
    const CONFIG: &str = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<configuration>\r\n  <packageSources>\r\n    <clear />\r\n    <add key=\"nuget.org\" value=\"https://api.nuget.org/v3/index.json\" protocolVersion=\"3\" />\r\n  </packageSources>\r\n  <!-- proxy -->\r\n  <config>\r\n    <add key=\"http_proxy\" value=\"http://proxy\" />\r\n  </config>\r\n</configuration>\r\n";

    #[test]
    fn roundtrips() {
        for t in ["", CONFIG, &CONFIG.replace("\r\n", "\n")] {
            let once = login(t, "a", URL, "TKNONE").unwrap();
            xml::elements(&once).unwrap();
            assert!(
                once.contains("<add key=\"ClearTextPassword\" value=\"TKNONE\" />"),
                "{once}"
            );
            assert_eq!(login(&once, "a", URL, "TKNONE").unwrap(), once);
            assert_eq!(
                login(&once, "a", URL, "TKNTWO")
                    .unwrap()
                    .replace("TKNTWO", "TKNONE"),
                once
            );
            assert_eq!(logout(&once, "a").unwrap(), t);
            let both = login(&once, "b", URL, "TKNONE").unwrap();
            assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), t);
            assert_eq!(logout(&logout(&both, "b").unwrap(), "a").unwrap(), t);
        }
    }

    #[test]
    fn sources_and_credentials() {
        let once = login(CONFIG, "a", URL, "TKNONE").unwrap();
        assert!(once.contains(&format!("    <add key=\"a\" value=\"{URL}\" />\r\n    <!-- <<< artoken:a source <<< -->\r\n  </packageSources>")), "{once}");
        assert!(once.contains("  <packageSourceCredentials>\r\n"), "{once}");
        assert!(
            login(CONFIG, "nuget.org", URL, "t")
                .unwrap_err()
                .contains("a source")
        );
        assert_eq!(element_name("my repo.1"), "my_x0020_repo.1");
        assert_eq!(element_name("1a"), "_x0031_a");
    }

    proptest! {
        #[test]
        fn logout_undoes_login(text in xml::tests::arb_xml("configuration")) {
            let once = login(&text, "a", URL, "TKNONE").unwrap();
            xml::elements(&once).unwrap();
            prop_assert_eq!(logout(&once, "a").unwrap(), text.clone());
            prop_assert_eq!(login(&once, "a", URL, "TKNTWO").unwrap().replace("TKNTWO", "TKNONE"), once);
        }
    }
}
