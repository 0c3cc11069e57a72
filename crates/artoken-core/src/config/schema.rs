//! Reading a config file's YAML tree by a schema: known field names, maps, strings, and the
//! top-level keys of artoken.yml. Below every schema module (artoken.yml, wev.yml, targets) so
//! their imports run one way.

use super::error::{ConfigError, InFile, one_line};
use super::yaml::{Kind, Node};

/// The top-level keys of an artoken.yml.
pub(crate) const TOP_FIELDS: [&str; 5] = ["default", "repositories", "env", "cache", "targets"];

/// True for a top-level key of an artoken.yml (to tell an artoken file from a wev one).
pub(crate) fn is_top_field(key: &str) -> bool {
    TOP_FIELDS.contains(&key)
}

/// The fields as an error message lists them: `` `a`, `b` ``.
pub(crate) fn list(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The key as one of `fields`, else an "unknown field" error at the key's line.
pub(crate) fn field_name<'f>(
    f: &InFile<'_>,
    key: &Node,
    parent: &str,
    fields: &[&'f str],
) -> Result<&'f str, ConfigError> {
    let name = key.text();
    if let Some(n) = &name
        && let Some(found) = fields.iter().find(|f| **f == n.as_str())
    {
        return Ok(found);
    }
    let shown = match &name {
        Some(n) => format!("`{}`", one_line(n)),
        None => key.describe().to_string(),
    };
    Err(f.invalid(
        key.line,
        parent,
        format!("unknown field {shown}, expected one of {}", list(fields)),
    ))
}

/// The node's entries, else an "expected a map" error at its line.
pub(crate) fn map<'n>(
    f: &InFile<'_>,
    node: &'n Node,
    key: &str,
) -> Result<&'n [(Node, Node)], ConfigError> {
    node.entries().ok_or_else(|| {
        f.invalid(
            node.line,
            key,
            format!("expected a map, found {}", node.describe()),
        )
    })
}

/// A string (an integer reads as its digits); null and `""` are `None`.
pub(crate) fn text(f: &InFile<'_>, node: &Node, key: &str) -> Result<Option<String>, ConfigError> {
    match &node.kind {
        Kind::Null => Ok(None),
        _ => node.text().map(Some).ok_or_else(|| {
            f.invalid(
                node.line,
                key,
                format!("expected a string, found {}", node.describe()),
            )
        }),
    }
}
