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

fn source(indent: &str, name: &str, url: &str) -> Vec<String> {
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

fn attr<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let i = tag.find(&format!("{attr}=\""))? + attr.len() + 2;
    tag[i..].split('"').next()
}

/// Adds (or refreshes) source `name` at `url` (the v3 `index.json`).
pub fn login(text: &str, name: &str, url: &str, token: &str) -> Result<String, String> {
    let mut d = Doc::parse(text, XML);
    if let (Some(s), Some(c)) = (d.find(name, SOURCE)?, d.find(name, CREDENTIALS)?) {
        let si = indent_of(d.text(s.begin + 1)).to_string();
        d.replace_content(&s, &source(&si, name, url));
        let c = d.find(name, CREDENTIALS)?.unwrap_or(c);
        let ci = indent_of(d.text(c.begin + 1)).to_string();
        let step = indent_of(d.text(c.begin + 2))[ci.len()..].to_string();
        d.replace_content(&c, &credentials(&ci, &step, name, token));
        return Ok(d.render());
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
            &source("    ", name, url),
        );
        return Ok(d.render());
    }
    let text = d.render();
    let elems = elements(&text)?;
    let r = root(&elems, "configuration")?;
    let el = element_name(name);
    for (container, what) in [
        ("packageSources", "a source"),
        ("packageSourceCredentials", "credentials"),
    ] {
        for c in children(&elems, r, Some(container)) {
            for e in children(&elems, c, None) {
                let tag = &text[e.start..e.open_end];
                let same = if container == "packageSources" {
                    e.name == "add"
                        && attr(tag, "key").is_some_and(|k| k.eq_ignore_ascii_case(name))
                } else {
                    e.name.eq_ignore_ascii_case(&el)
                };
                if same {
                    return Err(format!(
                        "line {}: {what} for {name:?} that artoken did not write is already there; remove it, or name the repository differently in artoken.yml",
                        xml::line_of(&text, e.start) + 1
                    ));
                }
            }
        }
    }
    let unit = xml::step(&d);
    let (at, indent) = xml::container(&mut d, "configuration", "packageSources")?;
    d.insert(at, &indent, Some(name), SOURCE, &source(&indent, name, url));
    let (at, indent) = xml::container(&mut d, "configuration", "packageSourceCredentials")?;
    d.insert(
        at,
        &indent,
        Some(name),
        CREDENTIALS,
        &credentials(&indent, &unit, name, token),
    );
    Ok(d.render())
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
