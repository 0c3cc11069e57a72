//! How Python's configparser reads pip.conf and .pypirc, line by line: sections, keys, and
//! values continued on indented lines (comments and blank lines inside them included).

use super::lines::{Doc, Tag};

pub fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

pub fn is_comment(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('#') || t.starts_with(';')
}

/// A line that continues the value above (indented, not blank, not a comment).
pub fn is_continuation(text: &str) -> bool {
    text.starts_with([' ', '\t']) && !is_blank(text) && !is_comment(text)
}

/// `[name]` at the start of a line.
pub fn header(text: &str) -> Option<&str> {
    if text.starts_with([' ', '\t']) {
        return None;
    }
    let t = text.trim();
    let inner = t.strip_prefix('[')?;
    let end = inner.rfind(']')?;
    Some(inner[..end].trim())
}

/// `key = value` or `key: value` at the start of a line: the key as pip compares it
/// (lowercase, `_` as `-`).
pub fn key(text: &str) -> Option<String> {
    if text.starts_with([' ', '\t']) || is_comment(text) || header(text).is_some() {
        return None;
    }
    let i = text.find(['=', ':'])?;
    let k = text[..i].trim();
    (!k.is_empty()).then(|| k.to_lowercase().replace('_', "-"))
}

/// The value of a `key = value` line, trimmed.
pub fn inline_value(text: &str) -> &str {
    text.find(['=', ':'])
        .map(|i| text[i + 1..].trim())
        .unwrap_or("")
}

/// A section: its header line (`None` for lines before the first header) and the lines up to
/// the next header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: Option<String>,
    pub header: Option<usize>,
    pub end: usize,
}

/// The sections as the tool sees them: the user's lines and artoken's (not switched-off ones).
pub fn sections(doc: &Doc, tags: &[Tag]) -> Vec<Section> {
    let mut out = vec![Section {
        name: None,
        header: None,
        end: doc.len(),
    }];
    for (i, l) in doc.lines.iter().enumerate() {
        if tags[i] == Tag::Marker {
            continue;
        }
        if let Some(h) = header(&l.text) {
            out.last_mut().unwrap().end = i;
            out.push(Section {
                name: Some(h.to_string()),
                header: Some(i),
                end: doc.len(),
            });
        }
    }
    out
}

pub fn find_section<'a>(sections: &'a [Section], name: &str) -> Option<&'a Section> {
    sections.iter().find(|s| s.name.as_deref() == Some(name))
}

/// Where new lines for a section go: after its last key or value line (blocks kept whole),
/// so comments and blank lines before the next header stay with it.
pub fn content_end(doc: &Doc, tags: &[Tag], s: &Section) -> Result<usize, String> {
    let start = s.header.map(|h| h + 1).unwrap_or(0);
    let mut at = s.header.map(|h| doc.after(h)).transpose()?.unwrap_or(0);
    for i in start..s.end {
        let t = doc.text(i);
        if tags[i] != Tag::Marker && !is_blank(t) && !is_comment(t) {
            at = at.max(doc.after(i)?);
        }
    }
    Ok(at)
}

/// The key lines named `key` in a section (the tool's view: user and artoken lines).
pub fn key_lines(doc: &Doc, tags: &[Tag], s: &Section, key_name: &str) -> Vec<usize> {
    let start = s.header.map(|h| h + 1).unwrap_or(0);
    (start..s.end)
        .filter(|&i| tags[i] != Tag::Marker && key(doc.text(i)).as_deref() == Some(key_name))
        .collect()
}

/// The last line of the value that starts on line `k` (the key line itself when it has no
/// continuation lines).
pub fn value_last(doc: &Doc, tags: &[Tag], k: usize) -> usize {
    let mut last = k;
    for i in k + 1..doc.len() {
        let t = doc.text(i);
        if tags[i] == Tag::Marker || is_blank(t) || is_comment(t) {
            continue;
        }
        if is_continuation(t) {
            last = i;
        } else {
            break;
        }
    }
    last
}

/// The indentation continuation lines of the value at `k` use (4 spaces if it has none).
pub fn continuation_indent(doc: &Doc, tags: &[Tag], k: usize) -> String {
    let last = value_last(doc, tags, k);
    (k + 1..=last)
        .find(|&i| is_continuation(doc.text(i)))
        .map(|i| super::lines::indent_of(doc.text(i)).to_string())
        .unwrap_or_else(|| "    ".to_string())
}

/// The words of a value (key line and continuation lines), as pip and twine split it.
pub fn value_words(doc: &Doc, tags: &[Tag], k: usize) -> Vec<String> {
    let mut words: Vec<String> = inline_value(doc.text(k))
        .split_whitespace()
        .map(str::to_string)
        .collect();
    for i in k + 1..=value_last(doc, tags, k) {
        if tags[i] != Tag::Marker && is_continuation(doc.text(i)) {
            words.extend(doc.text(i).split_whitespace().map(str::to_string));
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::super::lines::HASH;
    use super::*;

    #[test]
    fn reads_like_configparser() {
        let d = Doc::parse(
            "top = 1\n[global]\nIndex_URL = a\n  b\n# c\n\n  d\ntimeout: 3\n\n# next\n[install]\nx=1\n",
            HASH,
        );
        let tags = d.tags().unwrap();
        let s = sections(&d, &tags);
        assert_eq!(s.len(), 3);
        let g = find_section(&s, "global").unwrap();
        assert_eq!(key_lines(&d, &tags, g, "index-url"), vec![2]);
        assert_eq!(value_last(&d, &tags, 2), 6);
        assert_eq!(value_words(&d, &tags, 2), ["a", "b", "d"]);
        assert_eq!(content_end(&d, &tags, g).unwrap(), 8);
        assert_eq!(continuation_indent(&d, &tags, 2), "  ");
    }
}
