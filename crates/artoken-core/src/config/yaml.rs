//! YAML text into a tree of nodes that remember their line, with limits that stop alias bombs.
//!
//! Both schemas (artoken.yml and wev.yml) are read from this tree rather than through derived
//! `Deserialize` impls: wev keys may be YAML lists (`[A, B]:`), layers merge field by field, and
//! every error names its file, line and key path.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Error as YamlError, MessageFormatter, Spanned, UserMessageFormatter};

use super::error::{ConfigError, one_line};
use super::origin::Origin;

/// A YAML node and the line (1-based) it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: Kind,
    pub line: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// What the node is, for "expected ..., found ..." messages.
    pub fn describe(&self) -> &'static str {
        match self.kind {
            Kind::Null => "nothing (null)",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) | Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a map",
        }
    }

    /// A string, or an integer read as its digits (`owner: 123456789012`).
    pub fn text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// A map's entries; null reads as an empty map. `None` for anything else.
    pub fn entries(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            Kind::Null => Some(&[]),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Kind>::deserialize(d)?;
        let line = u32::try_from(spanned.referenced.line())
            .ok()
            .filter(|&l| l > 0);
        Ok(Node {
            kind: spanned.value,
            line,
        })
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_none<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        Kind::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Kind, E> {
        Ok(Kind::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Kind, E> {
        Ok(Kind::Int(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Kind, E> {
        Ok(Kind::Int(v.into()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Kind, E> {
        Ok(Kind::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Kind, E> {
        i128::try_from(v)
            .map(Kind::Int)
            .map_err(|_| E::custom("integer too large"))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Kind, E> {
        Ok(Kind::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Kind, E> {
        Ok(Kind::Str(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Kind, E> {
        Ok(Kind::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Kind, E> {
        String::from_utf8(v.to_vec())
            .map(Kind::Str)
            .map_err(|_| E::custom("binary values are not supported"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Kind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<Node, Node>()? {
            entries.push(entry);
        }
        Ok(Kind::Map(entries))
    }
}

/// Parses one YAML document; `None` for an empty file (or one holding only comments or `~`).
///
/// Limits: at most 10,000 events replayed from aliases (a billion-laughs bomb stops there),
/// 1,000 anchors and aliases, 20,000 nodes, nesting 32 deep; one document per file. Booleans are YAML
/// 1.2's (`yes`, `no`, `on`, `off` stay strings) and `012345678901` stays a string.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Option<Node>, ConfigError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 100_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_nodes: 20_000,
            max_depth: 32,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 10_000,
            max_replay_stack_depth: 16,
        },
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
    };
    serde_saphyr::from_str_with_options::<Option<Node>>(text, options)
        .map_err(|e| yaml_error(path, &e))
}

fn yaml_error(path: &Path, err: &YamlError) -> ConfigError {
    let line = err
        .location()
        .and_then(|l| u32::try_from(l.line()).ok())
        .filter(|&l| l > 0);
    let mut inner = err;
    while let YamlError::WithSnippet { error, .. } | YamlError::AliasError { error, .. } = inner {
        inner = error;
    }
    let message = UserMessageFormatter.format_message(inner);
    ConfigError::Yaml {
        origin: Origin::file(path, line),
        message: one_line(&message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Option<Node>, ConfigError> {
        parse(Path::new("/p/artoken.yml"), text)
    }

    /// A list of 98 scalars (100 events with its start and end) and `aliases` references to it.
    fn replaying(aliases: usize) -> String {
        let items = vec!["x"; 98].join(", ");
        let refs = vec!["*a"; aliases].join(", ");
        format!("a: &a [{items}]\nb: [{refs}]\n")
    }

    #[test]
    fn aliases_may_replay_up_to_10_000_events_and_no_more() {
        // 99 x 100 = 9,900 events replayed: a legitimate file with many references parses.
        assert!(p(&replaying(99)).is_ok());
        // 101 x 100 = 10,100: past the limit, one line naming the file.
        let e = p(&replaying(101)).unwrap_err().to_string();
        assert!(e.starts_with("/p/artoken.yml"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn keys_may_be_lists_and_lines_are_kept() {
        let root = p("# c\n[A, B]:\n  plugin: {id: wev-echo}\nC: 1\n")
            .unwrap()
            .unwrap();
        let Kind::Map(entries) = root.kind else {
            panic!("map expected")
        };
        let (k, v) = &entries[0];
        assert_eq!(k.line, Some(2));
        let Kind::Seq(names) = &k.kind else {
            panic!("list key expected")
        };
        assert_eq!(names[1].kind, Kind::Str("B".into()));
        assert_eq!(v.describe(), "a map");
        assert_eq!(entries[1].0.line, Some(4));
        assert_eq!(entries[1].1.kind, Kind::Int(1));
    }

    #[test]
    fn scalars_keep_their_spelling_where_it_matters() {
        let root = p("owner: 012345678901\nn: yes\ny: 3600\n")
            .unwrap()
            .unwrap();
        let Kind::Map(entries) = root.kind else {
            panic!("map expected")
        };
        assert_eq!(entries[0].1.kind, Kind::Str("012345678901".into()));
        assert_eq!(entries[1].0.kind, Kind::Str("n".into()));
        assert_eq!(entries[1].1.kind, Kind::Str("yes".into()));
        assert_eq!(entries[2].0.kind, Kind::Str("y".into()));
    }

    #[test]
    fn empty_documents_are_none() {
        assert_eq!(p("").unwrap(), None);
        assert_eq!(p("# only a comment\n").unwrap(), None);
        assert_eq!(p("~\n").unwrap(), None);
    }

    #[test]
    fn a_billion_laughs_is_refused_not_expanded() {
        let bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n\
                    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n\
                    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n\
                    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n\
                    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n\
                    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
        let started = std::time::Instant::now();
        let err = p(bomb).unwrap_err().to_string();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(err.starts_with("/p/artoken.yml:"), "{err}");
        assert!(err.contains("too large or too complex"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let err = p("repositories:\n  corp: [1\n").unwrap_err().to_string();
        assert!(err.starts_with("/p/artoken.yml:2: "), "{err}");
        assert!(!err.contains('\n'), "{err}");
        let err = p("a: 1\na: 2\n").unwrap_err().to_string();
        assert!(
            err.starts_with("/p/artoken.yml:2: duplicate mapping key"),
            "{err}"
        );
        let err = p("a: 1\n---\nb: 2\n").unwrap_err().to_string();
        assert_eq!(
            err,
            "/p/artoken.yml:3: only single YAML document expected but multiple found"
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(p(&deep).is_err());
    }
}
