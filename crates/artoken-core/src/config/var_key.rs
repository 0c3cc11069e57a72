//! Keys naming environment variables: one name (`A:`) or a YAML list of names (`[A, B]:`).

use super::error::one_line;
use super::names;
use super::yaml::{Kind, Node};

/// The names a key sets, in order. `[A]` and `A` name the same variable.
pub(crate) fn var_names(key: &Node) -> Result<Vec<String>, String> {
    let names = match &key.kind {
        Kind::Seq(items) => items
            .iter()
            .map(|item| {
                item.text().ok_or_else(|| {
                    format!(
                        "a list key holds variable names, found {} in it",
                        item.describe()
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => vec![key.text().ok_or_else(|| {
            format!(
                "expected a variable name or a list of names as key, found {}",
                key.describe()
            )
        })?],
    };
    if names.is_empty() {
        return Err("an empty list names no variable".into());
    }
    for (i, n) in names.iter().enumerate() {
        names::env_var(n)?;
        if names[..i].contains(n) {
            return Err(format!("`{}` is listed twice", one_line(n)));
        }
    }
    Ok(names)
}

/// `A`, or `[A, B]` for several names: how a key is shown in messages and key paths.
pub(crate) fn display_names(names: &[String]) -> String {
    match names {
        [one] => one_line(one),
        _ => format!(
            "[{}]",
            names
                .iter()
                .map(|n| one_line(n))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: Kind) -> Node {
        Node { kind, line: None }
    }

    fn s(v: &str) -> Node {
        key(Kind::Str(v.into()))
    }

    #[test]
    fn one_name_or_a_list() {
        assert_eq!(var_names(&s("A")).unwrap(), ["A"]);
        assert_eq!(
            var_names(&key(Kind::Seq(vec![s("A"), s("B")]))).unwrap(),
            ["A", "B"]
        );
        assert_eq!(var_names(&key(Kind::Seq(vec![s("A")]))).unwrap(), ["A"]);
        assert!(var_names(&key(Kind::Seq(vec![]))).is_err());
        assert!(var_names(&key(Kind::Seq(vec![s("A"), s("A")]))).is_err());
        assert!(var_names(&key(Kind::Bool(true))).is_err());
        assert!(var_names(&key(Kind::Seq(vec![key(Kind::Seq(vec![]))]))).is_err());
    }

    #[test]
    fn shown_like_the_yaml_key() {
        assert_eq!(display_names(&["A".into()]), "A");
        assert_eq!(display_names(&["A".into(), "B".into()]), "[A, B]");
    }
}
