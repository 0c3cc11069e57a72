//! Line-level editing with marked blocks: what `login` adds sits between marker comments, so
//! `logout` removes exactly that and gives back every other byte (line endings included).
//!
//! A named block holds what `artoken login TOOL NAME` added:
//!
//! ```text
//! # >>> artoken:NAME KIND >>>
//! ...
//! # <<< artoken:NAME KIND <<<
//! ```
//!
//! A user line that login had to switch off (a second `index-url`, an old `_authToken`) is kept
//! in an `off` block as `# artoken-was: ORIGINAL` and put back by logout. A scaffold block
//! (`# >>> artoken >>>`) holds structure several repositories share (a `[global]` header, an
//! `<servers>` element); it goes when nothing needs it any more.

/// How comments look in a file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub open: &'static str,
    pub close: &'static str,
}

/// `# ...` (INI, TOML, YAML, .npmrc, properties, netrc, dotenv).
pub const HASH: Style = Style {
    open: "#",
    close: "",
};

/// `<!-- ... -->` (XML).
pub const XML: Style = Style {
    open: "<!--",
    close: " -->",
};

/// The kind of an `off` block (user lines switched off by login).
pub const OFF: &str = "off";

const WAS: &str = "artoken-was: ";

const BOM: char = '\u{feff}';

/// One line and its own line ending (`""` for a last line without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub eol: String,
}

/// A marked block: lines `begin..=end`, markers included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// `None` for a scaffold.
    pub name: Option<String>,
    pub kind: String,
    pub begin: usize,
    pub end: usize,
    /// The scaffold this block sits in, if any.
    pub parent: Option<usize>,
}

impl Block {
    pub fn contains(&self, i: usize) -> bool {
        self.begin <= i && i <= self.end
    }
}

/// What a line is, for writers scanning a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// The user's own line.
    User,
    /// A marker or an `artoken-was:` line.
    Marker,
    /// Content of a scaffold (shared structure artoken added).
    Scaffold,
    /// Content of a named block.
    Named,
}

/// A file as lines.
#[derive(Debug, Clone)]
pub struct Doc {
    pub lines: Vec<Line>,
    /// The line ending new lines get: the first marker's, else the file's first one, else `\n`.
    pub eol: String,
    pub style: Style,
}

impl Doc {
    pub fn parse(text: &str, style: Style) -> Doc {
        let mut lines = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find('\n') {
                Some(i) => {
                    let (mut body, eol) = (&rest[..i], "\n");
                    let eol = if body.ends_with('\r') {
                        body = &body[..body.len() - 1];
                        "\r\n"
                    } else {
                        eol
                    };
                    lines.push(Line {
                        text: body.to_string(),
                        eol: eol.to_string(),
                    });
                    rest = &rest[i + 1..];
                }
                None => {
                    lines.push(Line {
                        text: rest.to_string(),
                        eol: String::new(),
                    });
                    rest = "";
                }
            }
        }
        let mut doc = Doc {
            lines,
            eol: "\n".to_string(),
            style,
        };
        // The ending of the first marker (what an earlier login chose, so a second one
        // writes the same bytes), else the file's first.
        let first_marker = doc
            .lines
            .iter()
            .find(|l| !l.eol.is_empty() && doc.marker(&l.text).is_some());
        if let Some(l) = first_marker.or_else(|| doc.lines.iter().find(|l| !l.eol.is_empty())) {
            doc.eol = l.eol.clone();
        }
        doc
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            s.push_str(&l.text);
            s.push_str(&l.eol);
        }
        s
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn text(&self, i: usize) -> &str {
        &self.lines[i].text
    }

    fn comment(&self, body: &str) -> String {
        format!("{} {body}{}", self.style.open, self.style.close)
    }

    fn begin_marker(&self, name: Option<&str>, kind: &str) -> String {
        match name {
            Some(n) => self.comment(&format!(">>> artoken:{n} {kind} >>>")),
            None => self.comment(">>> artoken >>>"),
        }
    }

    fn end_marker(&self, name: Option<&str>, kind: &str) -> String {
        match name {
            Some(n) => self.comment(&format!("<<< artoken:{n} {kind} <<<")),
            None => self.comment("<<< artoken <<<"),
        }
    }

    fn was_prefix(&self) -> String {
        format!("{} {WAS}", self.style.open)
    }

    /// Reads a marker: `(begin?, name, kind)`.
    fn marker(&self, text: &str) -> Option<(bool, Option<String>, String)> {
        // A byte-order mark an editor put before a marker on the first line.
        let t = text.trim_start_matches(BOM).trim();
        let t = t.strip_prefix(self.style.open)?;
        let t = t.strip_suffix(self.style.close.trim()).unwrap_or(t).trim();
        let (begin, inner) = if let Some(i) = t.strip_prefix(">>> artoken") {
            (true, i.strip_suffix(">>>")?)
        } else if let Some(i) = t.strip_prefix("<<< artoken") {
            (false, i.strip_suffix("<<<")?)
        } else {
            return None;
        };
        let inner = inner.trim_end();
        if inner.is_empty() {
            return Some((begin, None, String::new()));
        }
        let rest = inner.strip_prefix(':')?;
        let (name, kind) = rest.split_once(' ')?;
        if name.is_empty() || kind.is_empty() || kind.contains(' ') {
            return None;
        }
        Some((begin, Some(name.to_string()), kind.to_string()))
    }

    /// Every block, in order (a scaffold before the blocks inside it).
    pub fn blocks(&self) -> Result<Vec<Block>, String> {
        let mut out: Vec<Block> = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        for (i, l) in self.lines.iter().enumerate() {
            let Some((begin, name, kind)) = self.marker(&l.text) else {
                continue;
            };
            if begin {
                if let Some(&top) = open.last()
                    && (out[top].name.is_some() || name.is_none())
                {
                    return Err(format!(
                        "line {}: an artoken block starts inside the block of line {}; fix the markers by hand",
                        i + 1,
                        out[top].begin + 1
                    ));
                }
                out.push(Block {
                    name,
                    kind,
                    begin: i,
                    end: i,
                    parent: open.last().copied(),
                });
                open.push(out.len() - 1);
            } else {
                let Some(top) = open.pop() else {
                    return Err(format!(
                        "line {}: an artoken end marker without its start; fix the markers by hand",
                        i + 1
                    ));
                };
                if out[top].name != name || out[top].kind != kind {
                    return Err(format!(
                        "line {}: this artoken end marker does not match the start on line {}; fix the markers by hand",
                        i + 1,
                        out[top].begin + 1
                    ));
                }
                out[top].end = i;
            }
        }
        if let Some(&top) = open.last() {
            return Err(format!(
                "line {}: an artoken block without its end marker; fix the markers by hand",
                out[top].begin + 1
            ));
        }
        Ok(out)
    }

    /// What each line is.
    pub fn tags(&self) -> Result<Vec<Tag>, String> {
        let mut tags = vec![Tag::User; self.lines.len()];
        let was = self.was_prefix();
        for b in self.blocks()? {
            let inner = if b.name.is_some() {
                Tag::Named
            } else {
                Tag::Scaffold
            };
            for (i, tag) in tags.iter_mut().enumerate().take(b.end + 1).skip(b.begin) {
                if i == b.begin || i == b.end || self.lines[i].text.starts_with(&was) {
                    *tag = Tag::Marker;
                } else if b.name.is_some() || *tag == Tag::User {
                    *tag = inner;
                }
            }
        }
        Ok(tags)
    }

    /// The block of `name` and `kind`. A second one (a block copied by hand) is an error:
    /// refreshing one would leave the other's token behind.
    pub fn find(&self, name: &str, kind: &str) -> Result<Option<Block>, String> {
        let mut found = self
            .blocks()?
            .into_iter()
            .filter(|b| b.name.as_deref() == Some(name) && b.kind == kind);
        let first = found.next();
        if let (Some(a), Some(b)) = (&first, found.next())
            && kind != OFF
        {
            return Err(format!(
                "line {}: a second artoken:{name} {kind} block (the first starts on line {}); remove one by hand",
                b.begin + 1,
                a.begin + 1
            ));
        }
        Ok(first)
    }

    /// The outermost block holding line `i`, if any.
    pub fn block_at(&self, i: usize) -> Result<Option<Block>, String> {
        Ok(self
            .blocks()?
            .into_iter()
            .find(|b| b.parent.is_none() && b.contains(i)))
    }

    /// The index just after line `i`, or after the outermost block holding it.
    pub fn after(&self, i: usize) -> Result<usize, String> {
        Ok(match self.block_at(i)? {
            Some(b) => b.end + 1,
            None => i + 1,
        })
    }

    /// Inserts a block before line `at` (`at == len` appends). `indent` goes before markers.
    /// Returns the block.
    pub fn insert(
        &mut self,
        at: usize,
        indent: &str,
        name: Option<&str>,
        kind: &str,
        content: &[String],
    ) -> Block {
        self.insert_with(at, indent, name, kind, Vec::new(), content)
    }

    /// The ending for a last line that had none: the file's own, but `\r\n` after a text
    /// ending in a lone `\r` (with `\n` alone, the `\r` would read back as part of the
    /// ending, and logout would drop it).
    fn eol_for(&self, text: &str) -> String {
        if text.ends_with('\r') {
            "\r\n".to_string()
        } else {
            self.eol.clone()
        }
    }

    fn insert_with(
        &mut self,
        at: usize,
        indent: &str,
        name: Option<&str>,
        kind: &str,
        was: Vec<Line>,
        content: &[String],
    ) -> Block {
        let eol = self.eol.clone();
        let mut end_eol = eol.clone();
        if at == self.lines.len() && at > 0 && self.lines[at - 1].eol.is_empty() {
            self.lines[at - 1].eol = self.eol_for(&self.lines[at - 1].text);
            end_eol = String::new();
        }
        let mut new = vec![Line {
            text: format!("{indent}{}", self.begin_marker(name, kind)),
            eol: eol.clone(),
        }];
        let prefix = self.was_prefix();
        for w in was {
            if w.eol.is_empty() {
                end_eol = String::new();
            }
            new.push(Line {
                text: format!("{prefix}{}", w.text),
                eol: if w.eol.is_empty() {
                    self.eol_for(&w.text)
                } else {
                    w.eol
                },
            });
        }
        for c in content {
            new.push(Line {
                text: c.clone(),
                eol: eol.clone(),
            });
        }
        new.push(Line {
            text: format!("{indent}{}", self.end_marker(name, kind)),
            eol: end_eol,
        });
        let n = new.len();
        self.lines.splice(at..at, new);
        Block {
            name: name.map(str::to_string),
            kind: kind.to_string(),
            begin: at,
            end: at + n - 1,
            parent: None,
        }
    }

    /// The byte offset of line `i` in the rendered text (`len` gives the text's length).
    pub fn offset(&self, i: usize) -> usize {
        self.lines[..i.min(self.lines.len())]
            .iter()
            .map(|l| l.text.len() + l.eol.len())
            .sum()
    }

    /// Marks the existing lines `from..=to` as block `name`/`kind` (markers at `indent`), for
    /// an entry artoken takes over as it is. Returns the block.
    pub fn wrap(&mut self, from: usize, to: usize, indent: &str, name: &str, kind: &str) -> Block {
        let eol = self.eol.clone();
        let mut end_eol = eol.clone();
        if self.lines[to].eol.is_empty() {
            self.lines[to].eol = self.eol_for(&self.lines[to].text);
            end_eol = String::new();
        }
        let end = Line {
            text: format!("{indent}{}", self.end_marker(Some(name), kind)),
            eol: end_eol,
        };
        self.lines.insert(to + 1, end);
        let begin = Line {
            text: format!("{indent}{}", self.begin_marker(Some(name), kind)),
            eol,
        };
        self.lines.insert(from, begin);
        Block {
            name: Some(name.to_string()),
            kind: kind.to_string(),
            begin: from,
            end: to + 2,
            parent: None,
        }
    }

    /// Switches off the user's lines `from..to`: they move into an `off` block of `name` in
    /// place, as comments, and logout puts them back.
    pub fn switch_off(&mut self, from: usize, to: usize, name: &str) {
        let was: Vec<Line> = self.lines.drain(from..to).collect();
        self.insert_with(from, "", Some(name), OFF, was, &[]);
    }

    /// Replaces what is between a block's markers (keeping `artoken-was:` lines).
    pub fn replace_content(&mut self, b: &Block, content: &[String]) {
        let was = self.was_prefix();
        let keep: Vec<Line> = self.lines[b.begin + 1..b.end]
            .iter()
            .filter(|l| l.text.starts_with(&was))
            .cloned()
            .collect();
        let mut new = keep;
        for c in content {
            new.push(Line {
                text: c.clone(),
                eol: self.eol.clone(),
            });
        }
        self.lines.splice(b.begin + 1..b.end, new);
    }

    /// Removes a block, putting back the lines it switched off.
    pub fn remove(&mut self, b: &Block) {
        let prefix = self.was_prefix();
        let mut restored: Vec<Line> = self.lines[b.begin + 1..b.end]
            .iter()
            .filter_map(|l| {
                l.text.strip_prefix(&prefix).map(|t| Line {
                    text: t.to_string(),
                    eol: l.eol.clone(),
                })
            })
            .collect();
        let at_eof_without_eol = self.lines[b.end].eol.is_empty();
        if at_eof_without_eol && let Some(last) = restored.last_mut() {
            last.eol = String::new();
        }
        let none_restored = restored.is_empty();
        // A byte-order mark before the file's first marker stays the file's.
        let bom = b.begin == 0 && self.lines[0].text.starts_with(BOM);
        self.lines.splice(b.begin..=b.end, restored);
        if bom {
            match self.lines.first_mut() {
                Some(l) if !l.text.starts_with(BOM) => l.text.insert(0, BOM),
                Some(_) => {}
                None => self.lines.push(Line {
                    text: BOM.to_string(),
                    eol: String::new(),
                }),
            }
        }
        if at_eof_without_eol && none_restored && b.begin > 0 && b.begin == self.lines.len() {
            self.lines[b.begin - 1].eol = String::new();
        }
    }

    /// Removes every block of `name`; true if there was one.
    pub fn remove_named(&mut self, name: &str) -> Result<bool, String> {
        let mut any = false;
        loop {
            let blocks = self.blocks()?;
            let Some(b) = blocks
                .iter()
                .rev()
                .find(|b| b.name.as_deref() == Some(name))
            else {
                return Ok(any);
            };
            self.remove(&b.clone());
            any = true;
        }
    }

    /// Removes the blocks of `name` whose kind is not in `keep`.
    pub fn remove_kinds_except(&mut self, name: &str, keep: &[&str]) -> Result<(), String> {
        loop {
            let blocks = self.blocks()?;
            let Some(b) = blocks.iter().rev().find(|b| {
                b.name.as_deref() == Some(name) && b.kind != OFF && !keep.contains(&b.kind.as_str())
            }) else {
                return Ok(());
            };
            self.remove(&b.clone());
        }
    }

    /// Removes the scaffolds `needed` says nothing uses any more, until none is left to remove.
    pub fn remove_unneeded_scaffolds(
        &mut self,
        needed: &dyn Fn(&Doc, &Block) -> bool,
    ) -> Result<(), String> {
        loop {
            let blocks = self.blocks()?;
            let Some(b) = blocks
                .iter()
                .rev()
                .find(|b| b.name.is_none() && !needed(self, b))
            else {
                return Ok(());
            };
            self.remove(&b.clone());
        }
    }

    /// True if a named block sits inside scaffold `b`.
    pub fn has_named_inside(&self, b: &Block) -> Result<bool, String> {
        Ok(self
            .blocks()?
            .iter()
            .any(|n| n.name.is_some() && n.begin > b.begin && n.end < b.end))
    }

    /// The names that have blocks in this file.
    pub fn names(&self) -> Result<Vec<String>, String> {
        let mut v: Vec<String> = self.blocks()?.into_iter().filter_map(|b| b.name).collect();
        v.dedup();
        Ok(v)
    }
}

/// Leading whitespace of a line.
pub fn indent_of(text: &str) -> &str {
    &text[..text.len() - text.trim_start().len()]
}

/// The indentation step from an outer line's indentation to an inner one's, when the inner
/// one extends it (`None` for a hand-edited block that does not: the caller picks a default).
pub fn step_between(outer: &str, inner: &str) -> Option<String> {
    inner
        .strip_prefix(outer)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str) {
        assert_eq!(Doc::parse(text, HASH).render(), text);
    }

    #[test]
    fn parse_and_render_keep_every_byte() {
        for t in [
            "",
            "a",
            "a\n",
            "a\r\nb",
            "a\r\nb\n\n",
            "\n\n",
            "x\ry\n",
            "\u{feff}a\n",
        ] {
            roundtrip(t);
        }
        assert_eq!(Doc::parse("a\r\nb\n", HASH).eol, "\r\n");
        assert_eq!(Doc::parse("a", HASH).eol, "\n");
    }

    #[test]
    fn insert_then_remove_is_the_identity_even_without_a_final_newline() {
        for t in ["", "a", "a\n", "a\r\nb", "a\nb\n"] {
            for at in 0..=Doc::parse(t, HASH).len() {
                let mut d = Doc::parse(t, HASH);
                let b = d.insert(at, "", Some("x"), "k", &["k = v".into()]);
                let text = d.render();
                assert!(text.contains("# >>> artoken:x k >>>"), "{text:?}");
                let d2 = Doc::parse(&text, HASH);
                assert_eq!(d2.find("x", "k").unwrap(), Some(b.clone()));
                let mut d3 = d2.clone();
                assert!(d3.remove_named("x").unwrap());
                assert_eq!(d3.render(), t, "at {at} in {t:?}");
            }
        }
    }

    #[test]
    fn switched_off_lines_come_back() {
        for t in ["a\nb\nc", "a\r\nb\r\nc\r\n", "b"] {
            let mut d = Doc::parse(t, HASH);
            let i = d.lines.iter().position(|l| l.text == "b").unwrap();
            d.switch_off(i, i + 1, "x");
            let text = d.render();
            assert!(text.contains("# artoken-was: b"), "{text:?}");
            let mut d = Doc::parse(&text, HASH);
            d.remove_named("x").unwrap();
            assert_eq!(d.render(), t);
        }
    }

    #[test]
    fn xml_markers_and_nesting() {
        let mut d = Doc::parse("<a>\n</a>\n", XML);
        let s = d.insert(1, "  ", None, "", &["  <b>".into(), "  </b>".into()]);
        d.insert(
            s.begin + 2,
            "    ",
            Some("r"),
            "server",
            &["    <x/>".into()],
        );
        let d = Doc::parse(&d.render(), XML);
        let blocks = d.blocks().unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[1].parent, Some(0));
        assert!(d.has_named_inside(&blocks[0]).unwrap());
        assert!(
            d.render()
                .contains("    <!-- >>> artoken:r server >>> -->\n")
        );
    }

    #[test]
    fn broken_markers_are_reported_with_their_line() {
        let d = Doc::parse("a\n# >>> artoken:x k >>>\nb\n", HASH);
        assert!(d.blocks().unwrap_err().starts_with("line 2:"));
        let d = Doc::parse("# <<< artoken:x k <<<\n", HASH);
        assert!(d.blocks().unwrap_err().starts_with("line 1:"));
    }
}
