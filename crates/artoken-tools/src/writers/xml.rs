//! XML files (maven settings.xml, NuGet.Config): a small scanner that finds elements (skipping
//! comments, CDATA, processing instructions and the doctype), and marked blocks inserted on
//! lines of their own inside a container element, which a scaffold adds when it is missing.

use std::ops::Range;

use super::lines::{Block, Doc, XML, indent_of};

/// An element: byte offsets of its start tag and its end tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elem {
    pub name: String,
    pub depth: usize,
    pub start: usize,
    pub open_end: usize,
    /// Where `</name>` starts; `None` for `<name/>`.
    pub close: Option<usize>,
}

fn skip_to(text: &str, from: usize, end: &str) -> Result<usize, String> {
    text[from..]
        .find(end)
        .map(|i| from + i + end.len())
        .ok_or_else(|| format!("line {}: unterminated markup", line_of(text, from) + 1))
}

/// The 0-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count()
}

/// Every element, in document order.
pub fn elements(text: &str) -> Result<Vec<Elem>, String> {
    let mut out: Vec<Elem> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(off) = text[i..].find('<') {
        let s = i + off;
        let rest = &text[s..];
        if rest.starts_with("<!--") {
            i = skip_to(text, s + 4, "-->")?;
        } else if rest.starts_with("<![CDATA[") {
            i = skip_to(text, s, "]]>")?;
        } else if rest.starts_with("<?") {
            i = skip_to(text, s, "?>")?;
        } else if rest.starts_with("<!") {
            i = skip_to(text, s, ">")?;
        } else if let Some(r) = rest.strip_prefix("</") {
            let e = skip_to(text, s, ">")?;
            // Shown escaped in errors: a broken tag may run over several lines.
            let name = r[..e - s - 3].trim();
            let shown = name.escape_debug();
            let Some(top) = open.pop() else {
                return Err(format!(
                    "line {}: </{shown}> closes nothing",
                    line_of(text, s) + 1
                ));
            };
            if out[top].name != name {
                return Err(format!(
                    "line {}: </{shown}> does not close <{}>",
                    line_of(text, s) + 1,
                    out[top].name
                ));
            }
            out[top].close = Some(s);
            i = e;
        } else {
            let mut j = s + 1;
            let mut quote = None;
            while j < b.len() {
                match (quote, b[j]) {
                    (None, b'"' | b'\'') => quote = Some(b[j]),
                    (Some(q), c) if c == q => quote = None,
                    (None, b'>') => break,
                    _ => {}
                }
                j += 1;
            }
            if j >= b.len() {
                return Err(format!("line {}: unterminated tag", line_of(text, s) + 1));
            }
            let name: String = text[s + 1..j]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/' && *c != '>')
                .collect();
            let self_closing = b[j - 1] == b'/';
            out.push(Elem {
                name,
                depth: open.len(),
                start: s,
                open_end: j + 1,
                close: None,
            });
            if !self_closing {
                open.push(out.len() - 1);
            }
            i = j + 1;
        }
    }
    if let Some(&top) = open.last() {
        return Err(format!(
            "line {}: <{}> is never closed",
            line_of(text, out[top].start) + 1,
            out[top].name
        ));
    }
    Ok(out)
}

/// The root element, which must be `<root>`.
pub fn root<'a>(elems: &'a [Elem], root: &str) -> Result<&'a Elem, String> {
    let r = elems
        .iter()
        .find(|e| e.depth == 0)
        .ok_or_else(|| format!("no <{root}> element"))?;
    if r.name != root {
        return Err(format!("the root element is <{}>, not <{root}>", r.name));
    }
    Ok(r)
}

/// The direct children of `parent` named `name`.
pub fn children<'a>(elems: &'a [Elem], parent: &Elem, name: Option<&str>) -> Vec<&'a Elem> {
    let end = parent.close.unwrap_or(parent.open_end);
    elems
        .iter()
        .filter(|e| {
            e.depth == parent.depth + 1
                && e.start > parent.start
                && e.start < end
                && name.is_none_or(|n| e.name == n)
        })
        .collect()
}

/// The line of `</name>` of `e`, which must have nothing else on it.
pub fn close_line(text: &str, d: &Doc, e: &Elem) -> Result<usize, String> {
    let Some(c) = e.close else {
        return Err(format!(
            "line {}: <{}/> is empty; write it as <{0}></{0}> so artoken can add to it",
            line_of(text, e.start) + 1,
            e.name
        ));
    };
    let l = line_of(text, c);
    if d.text(l).trim() != format!("</{}>", e.name) {
        return Err(format!(
            "line {}: put </{}> on a line of its own so artoken can add before it",
            l + 1,
            e.name
        ));
    }
    Ok(l)
}

/// The indentation step of the file: the first indented element line's indentation.
pub fn step(d: &Doc) -> String {
    d.lines
        .iter()
        .map(|l| indent_of(&l.text))
        .find(|i| !i.is_empty())
        .map(|i| if i.starts_with('\t') { "\t" } else { i })
        .unwrap_or("  ")
        .to_string()
}

/// `&`, `<`, `>`, `"`, `'` as entities.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Where a block for container `name` (a child of the root) goes: before its `</name>`,
/// adding the container as a scaffold when missing. Returns `(line, indent of the block's
/// lines)`.
pub fn container(d: &mut Doc, root_name: &str, name: &str) -> Result<(usize, String), String> {
    let text = d.render();
    let elems = elements(&text)?;
    let r = root(&elems, root_name)?;
    let unit = step(d);
    if let Some(c) = children(&elems, r, Some(name)).first() {
        let l = close_line(&text, d, c)?;
        let inner = format!("{}{unit}", indent_of(d.text(l)));
        return Ok((l, inner));
    }
    let rl = close_line(&text, d, r)?;
    let base = format!("{}{unit}", indent_of(d.text(rl)));
    if d.block_at(rl)?.is_some_and(|b| b.name.is_none()) {
        // Inside the scaffold of a whole file artoken wrote: the container is part of it
        // (markers of its own would nest, which the markers cannot).
        let eol = d.eol.clone();
        let lines = [format!("{base}<{name}>"), format!("{base}</{name}>")];
        d.lines.splice(
            rl..rl,
            lines.map(|text| super::lines::Line {
                text,
                eol: eol.clone(),
            }),
        );
        return Ok((rl + 1, format!("{base}{unit}")));
    }
    let s = d.insert(
        rl,
        &base,
        None,
        "",
        &[format!("{base}<{name}>"), format!("{base}</{name}>")],
    );
    Ok((s.begin + 2, format!("{base}{unit}")))
}

/// The attributes of `e`'s start tag: each name and the byte range of its value in `text`.
pub fn attrs(text: &str, e: &Elem) -> Vec<(String, Range<usize>)> {
    let tag = &text[e.start..e.open_end];
    let b = tag.as_bytes();
    let mut out = Vec::new();
    let mut i = 1 + e.name.len();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let from = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !b"=/>".contains(&b[i]) {
            i += 1;
        }
        if i == from {
            return out;
        }
        let name = tag[from..i].to_string();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            return out;
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let Some(&q) = b.get(i).filter(|q| **q == b'"' || **q == b'\'') else {
            return out;
        };
        let Some(len) = tag[i + 1..].find(q as char) else {
            return out;
        };
        out.push((name, e.start + i + 1..e.start + i + 1 + len));
        i += len + 2;
    }
}

/// The value of attribute `name` of `e`, and its byte range in `text`.
pub fn attr<'a>(text: &'a str, e: &Elem, name: &str) -> Option<(&'a str, Range<usize>)> {
    attrs(text, e)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, r)| (&text[r.clone()], r))
}

/// The elements that lie wholly between the markers of block `b`.
pub fn inside<'a>(d: &Doc, elems: &'a [Elem], b: &Block) -> Vec<&'a Elem> {
    let (lo, hi) = (d.offset(b.begin + 1), d.offset(b.end));
    elems
        .iter()
        .filter(|e| e.start >= lo && e.close.map_or(e.open_end, |c| c) <= hi)
        .collect()
}

/// The text of `e` between its tags (`None` for `<e/>`).
pub fn content(e: &Elem) -> Option<Range<usize>> {
    e.close.map(|c| e.open_end..c)
}

/// What a login wrote must still parse with the right root: a block whose markers a hand
/// edit moved into an element would otherwise leave a broken file.
pub fn check(out: &str, root_name: &str, name: &str) -> Result<(), String> {
    Doc::parse(out, XML).blocks().map_err(|e| {
        format!(
            "{e} (after adding the artoken:{name} block: the markers around it were edited by hand)"
        )
    })?;
    let elems = elements(out).map_err(|e| {
        format!("{e} (after refreshing the artoken:{name} block; fix its markers by hand)")
    })?;
    if !out.trim().is_empty() {
        root(&elems, root_name)?;
    }
    Ok(())
}

/// A whole file as a scaffold, for a file that is missing or empty.
pub fn skeleton(d: &mut Doc, lines: &[String]) {
    let at = d.len();
    d.insert(at, "", None, "", lines);
}

/// A scaffold stays while a named block sits in it.
pub fn needed(d: &Doc, b: &Block) -> bool {
    d.has_named_inside(b).unwrap_or(true)
}

/// Removes what login added for `name`, and the scaffolds nothing needs any more.
pub fn logout(text: &str, name: &str) -> Result<String, String> {
    let mut d = Doc::parse(text, XML);
    d.remove_named(name)?;
    d.remove_unneeded_scaffolds(&needed)?;
    Ok(d.render())
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_broken_closing_tag_is_one_line() {
        // Found by the other_writers fuzz target: the tag runs to the next line's `>`.
        let e = elements("<settings>\n  <servers>\n  </servers\n</settings>\n").unwrap_err();
        assert_eq!(
            e,
            "line 3: </servers\\n</settings> does not close <servers>"
        );
    }

    #[test]
    fn scans_elements_past_comments_and_cdata() {
        let t = "<?xml version=\"1.0\"?>\n<!-- <servers> -->\n<a x=\"1>2\">\n  <b/><![CDATA[</a>]]>\n  <c>\n  </c>\n</a>\n";
        let e = elements(t).unwrap();
        let names: Vec<_> = e.iter().map(|e| (e.name.as_str(), e.depth)).collect();
        assert_eq!(names, [("a", 0), ("b", 1), ("c", 1)]);
        let r = root(&e, "a").unwrap();
        assert_eq!(children(&e, r, Some("c")).len(), 1);
        assert!(root(&e, "settings").unwrap_err().contains("<a>"));
        assert!(elements("<a><b></a>").is_err());
    }

    /// Random XML around a root: comments, blank lines, other elements, CRLF or not.
    pub fn arb_xml(root: &'static str) -> impl Strategy<Value = String> {
        let line = prop_oneof![
            Just(String::new()),
            "  <!--[ a-z<>]{0,10}-->",
            "  <[a-z]{1,5}>[a-z0-9]{0,5}</x>".prop_map(|s| {
                let n: String = s[3..].chars().take_while(|c| *c != '>').collect();
                s.replace("</x>", &format!("</{n}>"))
            }),
            "  <[a-z]{1,5}/>",
        ];
        (
            prop::collection::vec(line.clone(), 0..5),
            prop::collection::vec(line, 0..5),
            prop::bool::ANY,
            prop::bool::ANY,
        )
            .prop_map(move |(a, b, crlf, decl)| {
                let eol = if crlf { "\r\n" } else { "\n" };
                let mut v = Vec::new();
                if decl {
                    v.push("<?xml version=\"1.0\" encoding=\"utf-8\"?>".to_string());
                }
                v.push(format!("<{root}>"));
                v.extend(a);
                v.extend(b);
                v.push(format!("</{root}>"));
                v.join(eol) + eol
            })
    }
}
