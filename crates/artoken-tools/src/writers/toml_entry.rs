//! Entries artoken adds to TOML files another tool rewrites (a source in pyproject.toml or a
//! Pipfile, an index in uv.toml, credentials in poetry's auth.toml): found by name and shape,
//! not by marker comments (which such a tool drops or moves), and added, changed or removed as
//! text at the spans toml_edit reports, so every other byte stays as it was.
//!
//! A new entry is a table appended at the end after one blank line (or an inline table added
//! to an inline array); removing it takes its lines and that blank line, so logout after login
//! on a file nothing else touched gives back the original bytes. Whatever the other tool did
//! meanwhile (moved the entry, reformatted it, added its own entries around it) stays.

use std::ops::Range;

use toml_edit::{Document, Item, Table, Value};

use super::toml::parse_error;

/// One entry: its string keys, and where its text is.
#[derive(Debug, Clone)]
pub struct Entry {
    fields: Vec<Field>,
    form: Form,
}

#[derive(Debug, Clone)]
struct Field {
    key: String,
    /// The value when it is a string.
    text: Option<String>,
    /// The value when it is a boolean.
    flag: Option<bool>,
    /// The value's span (for strings, the quoted literal).
    span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Form {
    /// A table with a header: its whole lines, header to the end of its last value's line.
    Table(Range<usize>),
    /// An inline table in an array, with where the elements before and after it end and begin.
    Inline {
        span: Range<usize>,
        prev_end: Option<usize>,
        next_start: Option<usize>,
    },
    /// A form artoken reads but does not take apart (dotted keys, an inline table as a key's
    /// value, a table with sub-tables).
    Other,
}

impl Entry {
    /// The string at `key`.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.field(key).and_then(|f| f.text.as_deref())
    }

    /// True when `key` is `true`.
    pub fn is_true(&self, key: &str) -> bool {
        self.field(key).and_then(|f| f.flag) == Some(true)
    }

    fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// `text` with the value at `key` (a string now) replaced by `literal`; `None` when the
    /// entry has no such key.
    pub fn set(&self, text: &str, key: &str, literal: &str) -> Option<String> {
        let f = self.field(key)?;
        Some(format!(
            "{}{literal}{}",
            &text[..f.span.start],
            &text[f.span.end..]
        ))
    }

    /// `text` without this entry (see the module); `None` for a form artoken does not take
    /// apart. The caller checks that the result parses.
    pub fn remove(&self, text: &str) -> Option<String> {
        match &self.form {
            Form::Table(lines) => Some(remove_lines(text, lines.clone())),
            Form::Inline {
                span,
                prev_end,
                next_start,
            } => {
                let cut = match (prev_end, next_start) {
                    (Some(p), _) => *p..span.end,
                    (None, Some(n)) => span.start..*n,
                    (None, None) => {
                        // The only element: a trailing comma after it goes too (`[,]` is not TOML).
                        let rest = &text[span.end..];
                        let ws = rest.len() - rest.trim_start_matches([' ', '\t']).len();
                        let end = if rest[ws..].starts_with(',') {
                            span.end + ws + 1
                        } else {
                            span.end
                        };
                        span.start..end
                    }
                };
                Some(format!("{}{}", &text[..cut.start], &text[cut.end..]))
            }
            Form::Other => None,
        }
    }
}

/// Removes whole lines `lines`, the blank line before them (the one [`append_table`] put
/// there; else a blank line after them) and, when they ended the file without a line ending,
/// the line ending before them.
fn remove_lines(text: &str, lines: Range<usize>) -> String {
    let mut before = &text[..lines.start];
    let mut after = &text[lines.end..];
    let blank = |l: &str| l.trim_matches([' ', '\t', '\r', '\n']).is_empty();
    let last_line = before
        .strip_suffix('\n')
        .map(|body| body.rfind('\n').map_or(0, |i| i + 1));
    // The ending of the blank line taken: the one append_table wrote after a last line without.
    let mut eol = "\n";
    match last_line {
        Some(start) if blank(&before[start..]) => {
            if before[start..].ends_with("\r\n") {
                eol = "\r\n";
            }
            before = &before[..start];
        }
        // Moved by a tool to the top, or under a line of its own: the blank line after goes.
        _ => {
            let first = after.find('\n').map_or(after.len(), |i| i + 1);
            if first > 0 && blank(&after[..first]) && after[..first].ends_with('\n') {
                after = &after[first..];
            }
        }
    }
    if !text[lines].ends_with('\n') {
        before = before.strip_suffix(eol).unwrap_or(before);
    }
    format!("{before}{after}")
}

/// `text` without the marker comments of `name` an earlier artoken wrote around its entries
/// (`# >>> artoken:NAME KIND >>>`, `# <<< ... <<<`, for `kinds`); what was between them stays.
pub fn strip_old_markers(text: &str, name: &str, kinds: &[&str]) -> String {
    let marker = |l: &str| {
        let l = l.trim();
        kinds.iter().any(|k| {
            l == format!("# >>> artoken:{name} {k} >>>")
                || l == format!("# <<< artoken:{name} {k} <<<")
        })
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if !marker(line) {
            out.push_str(line);
        } else if !line.ends_with('\n') {
            // The last line had no ending: neither has the one before it now.
            let trimmed = out
                .strip_suffix('\n')
                .map(|o| o.strip_suffix('\r').unwrap_or(o));
            out = trimmed.unwrap_or(&out).to_string();
        }
    }
    out
}

/// Where new entries go in an array of tables.
#[derive(Debug, Clone)]
enum Place {
    /// `[[...]]` tables, or no such key yet: a table appended at the end.
    Tables,
    /// An inline array: after its last element, or just inside the `[`.
    Inline {
        open: usize,
        last_end: Option<usize>,
    },
    /// Something else (a string, a table): an entry cannot go there.
    Blocked,
}

/// The entries of an array of tables (`[[tool.poetry.source]]`, `index = [{...}]`).
#[derive(Debug, Clone)]
pub struct Array {
    pub entries: Vec<Entry>,
    place: Place,
}

impl Array {
    /// The entries whose `name` is `name` (ASCII case ignored, as poetry and uv compare them).
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.str("name").is_some_and(|n| n.eq_ignore_ascii_case(name)))
    }

    /// `text` with a new entry: `table` (header first, one line each) appended as a table, or
    /// `inline` (`{ ... }`) added to an inline array. `None` when something else is there.
    pub fn add(&self, text: &str, table: &[String], inline: &str) -> Option<String> {
        match self.place {
            Place::Tables => Some(append_table(text, table)),
            Place::Inline {
                open,
                last_end: None,
            } => Some(format!(
                "{}{inline}{}",
                &text[..open + 1],
                &text[open + 1..]
            )),
            Place::Inline {
                last_end: Some(end),
                ..
            } => Some(format!("{}, {inline}{}", &text[..end], &text[end..])),
            Place::Blocked => None,
        }
    }
}

/// The file's line ending: its first one, else `\n`.
pub fn eol(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// `text` with the table `lines` (header first) at the end, after one blank line; the new last
/// line ends like the file's did (with a line ending, or without one).
pub fn append_table(text: &str, lines: &[String]) -> String {
    let eol = eol(text);
    let table = lines.join(eol);
    if text.is_empty() {
        format!("{table}{eol}")
    } else if text.ends_with('\n') {
        format!("{text}{eol}{table}{eol}")
    } else {
        format!("{text}{eol}{eol}{table}")
    }
}

fn spanned(text: &str) -> Result<Document<&str>, String> {
    Document::parse(text).map_err(|e| parse_error(text, &e))
}

fn item_at<'a>(doc: &'a Document<&str>, path: &[&str]) -> Option<&'a Item> {
    let mut item = doc.as_item();
    for p in path {
        item = item.get(*p)?;
    }
    Some(item)
}

/// The array of tables at `path`.
pub fn array(text: &str, path: &[&str]) -> Result<Array, String> {
    let doc = spanned(text)?;
    let Some(item) = item_at(&doc, path) else {
        return Ok(Array {
            entries: Vec::new(),
            place: Place::Tables,
        });
    };
    if let Some(aot) = item.as_array_of_tables() {
        let entries = aot.iter().map(|t| table_entry(text, t)).collect();
        return Ok(Array {
            entries,
            place: Place::Tables,
        });
    }
    let Some((arr, open)) = item.as_array().and_then(|a| Some((a, a.span()?.start))) else {
        return Ok(Array {
            entries: Vec::new(),
            place: Place::Blocked,
        });
    };
    let spans: Vec<Option<Range<usize>>> = arr.iter().map(|v| v.span()).collect();
    let mut entries = Vec::new();
    for (i, v) in arr.iter().enumerate() {
        let (Some(t), Some(span)) = (v.as_inline_table(), spans[i].clone()) else {
            continue;
        };
        let prev_end = i
            .checked_sub(1)
            .and_then(|p| spans[p].as_ref())
            .map(|s| s.end);
        let next_start = spans.get(i + 1).and_then(|s| s.as_ref()).map(|s| s.start);
        let fields = t.iter().filter_map(|(k, v)| field(k, v)).collect();
        entries.push(Entry {
            fields,
            form: Form::Inline {
                span,
                prev_end,
                next_start,
            },
        });
    }
    let last_end = spans.last().and_then(|s| s.as_ref()).map(|s| s.end);
    Ok(Array {
        entries,
        place: Place::Inline { open, last_end },
    })
}

/// The table at `path` (`["http-basic", "corp"]`), in whatever form it is written.
pub fn table(text: &str, path: &[&str]) -> Result<Option<Entry>, String> {
    let doc = spanned(text)?;
    let Some(item) = item_at(&doc, path) else {
        return Ok(None);
    };
    if let Some(t) = item.as_table() {
        return Ok(Some(table_entry(text, t)));
    }
    Ok(item.as_inline_table().map(|t| Entry {
        fields: t.iter().filter_map(|(k, v)| field(k, v)).collect(),
        form: Form::Other,
    }))
}

fn field(key: &str, v: &Value) -> Option<Field> {
    Some(Field {
        key: key.to_string(),
        text: v.as_str().map(str::to_string),
        flag: v.as_bool(),
        span: v.span()?,
    })
}

/// A table's entry: whole lines when it has a header of its own and no sub-table with one.
fn table_entry(text: &str, t: &Table) -> Entry {
    let fields = t
        .iter()
        .filter_map(|(k, v)| field(k, v.as_value()?))
        .collect();
    let header = t.span().filter(|_| !t.is_dotted() && !t.is_implicit());
    let form = match (header, last_value_end(t)) {
        (Some(h), Ok(end)) => {
            let start = text[..h.start].rfind('\n').map_or(0, |i| i + 1);
            let end = end.unwrap_or(h.end).max(h.end);
            let end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
            Form::Table(start..end)
        }
        _ => Form::Other,
    };
    Entry { fields, form }
}

/// Where the last value of `t` (and of its dotted keys) ends; `Err` when it has a sub-table
/// with a header of its own (its lines are elsewhere).
fn last_value_end(t: &Table) -> Result<Option<usize>, ()> {
    let mut end = None;
    for (_, item) in t.iter() {
        let e = match item {
            Item::Value(v) => v.span().map(|s| s.end),
            Item::Table(sub) if sub.is_dotted() => last_value_end(sub)?,
            Item::None => None,
            _ => return Err(()),
        };
        end = end.max(e);
    }
    Ok(end)
}

/// True for the `/simple/` index of a CodeArtifact PyPI repository (`.../pypi/REPO/simple/`,
/// what login writes; the emulator's URLs have that path too) with no credentials, query or
/// fragment in it.
pub fn is_pypi_index(url: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    if !matches!(u.scheme(), "http" | "https")
        || u.host().is_none()
        || !u.username().is_empty()
        || u.password().is_some()
        || u.query().is_some()
        || u.fragment().is_some()
    {
        return false;
    }
    let path = u.path();
    let path = path.strip_suffix('/').unwrap_or(path);
    let segs: Vec<&str> = path.split('/').collect();
    matches!(segs.as_slice(), [.., "pypi", repo, "simple"] if !repo.is_empty())
}

/// Checks that an edit left valid TOML.
pub fn checked(out: String, what: &str) -> Result<String, String> {
    match spanned(&out) {
        Ok(_) => Ok(out),
        Err(e) => Err(format!(
            "{what} would break the file ({e}); edit it by hand"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn appended_tables_come_off_exactly() {
        let t = lines(&["[[s]]", "name = \"a\""]);
        for text in ["", "x = 1\n", "x = 1", "x = 1\r\n\r\n", "# c", "\n"] {
            let once = append_table(text, &t);
            let arr = array(&once, &["s"]).unwrap();
            let e = arr.named("a").next().unwrap();
            assert_eq!(e.remove(&once).unwrap(), text, "{once:?}");
        }
        assert_eq!(
            append_table("x = 1\r\n", &t),
            "x = 1\r\n\r\n[[s]]\r\nname = \"a\"\r\n"
        );
    }

    #[test]
    fn a_table_is_its_header_to_its_last_value_line() {
        let text = "[[s]]\r\nname = \"x\"\r\n# mine\r\n[[s]] # h\r\n# in\r\nname = 'a'\r\nurl = [\r\n 1,\r\n]  # tail\r\n# theirs\r\n[t]\r\n";
        let arr = array(text, &["s"]).unwrap();
        let a = arr.named("A").next().unwrap();
        assert_eq!(
            a.remove(text).unwrap(),
            "[[s]]\r\nname = \"x\"\r\n# mine\r\n# theirs\r\n[t]\r\n"
        );
        assert_eq!(
            a.set(text, "name", "\"b\"").unwrap(),
            text.replace("'a'", "\"b\"")
        );
        // A sub-table with its own header: found, not taken apart.
        let sub = "[[s]]\nname = \"a\"\n[s.x]\ny = 1\n";
        let arr = array(sub, &["s"]).unwrap();
        assert!(arr.named("a").next().unwrap().remove(sub).is_none());
    }

    #[test]
    fn inline_arrays() {
        for (text, added) in [
            ("s = []\n", "s = [{ name = \"a\" }]\n"),
            ("s = [ ]\n", "s = [{ name = \"a\" } ]\n"),
            (
                "s = [{ name = \"x\" },]\n",
                "s = [{ name = \"x\" }, { name = \"a\" },]\n",
            ),
        ] {
            let arr = array(text, &["s"]).unwrap();
            let once = arr.add(text, &[], "{ name = \"a\" }").unwrap();
            assert_eq!(once, added);
            let arr = array(&once, &["s"]).unwrap();
            assert_eq!(arr.named("a").next().unwrap().remove(&once).unwrap(), text);
        }
        let text = "s = [{ name = \"a\" }, { name = \"x\" }]\n";
        let arr = array(text, &["s"]).unwrap();
        assert_eq!(
            arr.named("a").next().unwrap().remove(text).unwrap(),
            "s = [{ name = \"x\" }]\n"
        );
        let text = "s = [{ name = \"a\" } , ]\n";
        let arr = array(text, &["s"]).unwrap();
        assert_eq!(
            arr.named("a").next().unwrap().remove(text).unwrap(),
            "s = [ ]\n"
        );
        assert!(
            array("s = 3\n", &["s"])
                .unwrap()
                .add("s = 3\n", &[], "{}")
                .is_none()
        );
    }

    #[test]
    fn pypi_indexes() {
        for ok in [
            "https://corp-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/simple/",
            "http://127.0.0.1:9/d-1.d.codeartifact.r.amazonaws.com/pypi/a/simple",
        ] {
            assert!(is_pypi_index(ok), "{ok}");
        }
        for no in [
            "https://pypi.org/simple/",
            "https://aws:t@h/pypi/a/simple/",
            "https://h/pypi/a/simple/?x",
            "https://h/pypi//simple/",
            "file:///pypi/a/simple/",
            "not a url",
        ] {
            assert!(!is_pypi_index(no), "{no}");
        }
    }
}
