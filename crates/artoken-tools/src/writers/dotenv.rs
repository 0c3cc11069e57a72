//! A dotenv file (`--env-file` for uv): `NAME=value` lines; the user's own lines for the same
//! names are switched off meanwhile.

use super::lines::{Doc, HASH, Tag};

fn key(text: &str) -> Option<&str> {
    let t = text.trim_start();
    let t = t.strip_prefix("export ").unwrap_or(t);
    if t.starts_with('#') {
        return None;
    }
    t.split_once('=').map(|(k, _)| k.trim())
}

/// Adds (or refreshes) `vars` for repository `name`.
pub fn login(text: &str, name: &str, vars: &[(String, String)]) -> Result<String, String> {
    let content: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut d = Doc::parse(text, HASH);
    if let Some(b) = d.find(name, "env")? {
        d.replace_content(&b, &content);
        return Ok(d.render());
    }
    d.remove_named(name)?;
    let tags = d.tags()?;
    let off: Vec<usize> = (0..d.len())
        .filter(|&i| {
            tags[i] == Tag::User && key(d.text(i)).is_some_and(|k| vars.iter().any(|(n, _)| n == k))
        })
        .collect();
    for i in off.into_iter().rev() {
        d.switch_off(i, i + 1, name);
    }
    d.insert(d.len(), "", Some(name), "env", &content);
    Ok(d.render())
}

pub fn logout(text: &str, name: &str) -> Result<String, String> {
    let mut d = Doc::parse(text, HASH);
    d.remove_named(name)?;
    Ok(d.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrips() {
        let vars = |t: &str| {
            vec![
                ("UV_INDEX_A_USERNAME".to_string(), "aws".to_string()),
                ("UV_INDEX_A_PASSWORD".to_string(), t.to_string()),
            ]
        };
        for t in [
            "",
            "X=1\n# c\nexport UV_INDEX_A_PASSWORD=old\n",
            "X=1\r\nY=2",
        ] {
            let once = login(t, "a", &vars("TKNONE")).unwrap();
            assert!(once.contains("UV_INDEX_A_PASSWORD=TKNONE"));
            assert_eq!(
                login(&once, "a", &vars("TKNTWO"))
                    .unwrap()
                    .replace("TKNTWO", "TKNONE"),
                once
            );
            assert_eq!(logout(&once, "a").unwrap(), t);
        }
    }
}
