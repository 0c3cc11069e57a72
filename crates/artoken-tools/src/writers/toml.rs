//! TOML files: quoting and parse errors for every TOML writer, and the marked block of tables
//! appended at the end that cargo's config.toml gets (the files other tools rewrite, where a
//! marker would not survive, use [`super::toml_entry`] instead).

use toml_edit::{DocumentMut, Item, TomlError};

use super::lines::{Doc, HASH};

/// Parses TOML; the error names the line.
pub fn parse(text: &str) -> Result<DocumentMut, String> {
    text.parse::<DocumentMut>()
        .map_err(|e| parse_error(text, &e))
}

/// toml_edit's error on `text` as one line naming the line.
pub fn parse_error(text: &str, e: &TomlError) -> String {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let msg = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    match line {
        Some(l) => format!("line {l}: not valid TOML: {msg}"),
        None => format!("not valid TOML: {msg}"),
    }
}

/// A basic TOML string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key as TOML wants it: bare when it can be, quoted otherwise.
pub fn key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        s.to_string()
    } else {
        quote(s)
    }
}

/// The item at a dotted path (`["tool", "uv", "index"]`).
pub fn at<'a>(doc: &'a DocumentMut, path: &[&str]) -> Option<&'a Item> {
    let mut item = doc.get(path.first()?)?;
    for p in &path[1..] {
        item = item.get(*p)?;
    }
    Some(item)
}

/// The `name`s of the tables in an array of tables (or an inline array of inline tables).
pub fn names_in(item: Option<&Item>) -> Vec<String> {
    let Some(item) = item else { return Vec::new() };
    let mut v = Vec::new();
    if let Some(a) = item.as_array_of_tables() {
        for t in a.iter() {
            if let Some(n) = t.get("name").and_then(Item::as_str) {
                v.push(n.to_string());
            }
        }
    } else if let Some(a) = item.as_array() {
        for t in a.iter().filter_map(|v| v.as_inline_table()) {
            if let Some(n) = t.get("name").and_then(|v| v.as_str()) {
                v.push(n.to_string());
            }
        }
    }
    v
}

/// Puts `content` (whole tables) in block `name`/`kind`: refreshed in place when there,
/// else appended after `conflict` found nothing against it in the user's file.
pub fn upsert(
    text: &str,
    name: &str,
    kind: &str,
    content: &[String],
    conflict: &dyn Fn(&DocumentMut) -> Option<String>,
) -> Result<String, String> {
    let mut d = Doc::parse(text, HASH);
    if let Some(b) = d.find(name, kind)? {
        d.replace_content(&b, content);
    } else {
        d.remove_named(name)?;
        let before = parse(&d.render())?;
        if let Some(e) = conflict(&before) {
            return Err(e);
        }
        d.insert(d.len(), "", Some(name), kind, content);
    }
    let out = d.render();
    parse(&out).map_err(|e| {
        format!("adding {kind} for {name} would break the file ({e}); edit it by hand")
    })?;
    Ok(out)
}

/// Removes what login added for `name`.
pub fn remove(text: &str, name: &str) -> Result<String, String> {
    let mut d = Doc::parse(text, HASH);
    d.remove_named(name)?;
    Ok(d.render())
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Random TOML-ish files: comments, blank lines, keys, tables, arrays of tables.
    pub fn arb_toml() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            Just(String::new()),
            "#[ a-z=\\[\\]\"]{0,12}",
            "[a-z]{1,6} = [0-9]{1,4}",
            "[a-z]{1,6} = \"[a-z ]{0,6}\" # [a-z]{0,4}",
            "\\[(t[0-9])\\]",
            "\\[\\[(a[0-9])\\]\\]",
        ];
        (
            prop::collection::vec(line, 0..12),
            prop::bool::ANY,
            prop::bool::ANY,
        )
            .prop_map(|(l, crlf, final_eol)| {
                let eol = if crlf { "\r\n" } else { "\n" };
                let mut s = l.join(eol);
                if final_eol && !s.is_empty() {
                    s.push_str(eol);
                }
                s
            })
            .prop_filter("valid TOML", |s| parse(s).is_ok())
    }

    #[test]
    fn quoting_and_errors() {
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        let e = parse("a = 1\nb = \n").unwrap_err();
        assert!(e.starts_with("line 2: not valid TOML"), "{e}");
    }
}
