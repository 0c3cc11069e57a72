//! gradle.properties: `codeartifactToken=` (the first repository logged in owns it) and
//! `codeartifact.NAME.url` / `codeartifact.NAME.token` per repository.

use super::lines::{Doc, HASH, Tag};

/// The shared property builds read the token from.
pub const SHARED: &str = "codeartifactToken";

/// The key of a properties line (`None` for comments, blanks and continuation lines).
fn keys(d: &Doc) -> Vec<Option<String>> {
    let mut out = Vec::with_capacity(d.len());
    let mut continued = false;
    for l in &d.lines {
        let t = l.text.trim_start();
        let k = if continued || t.is_empty() || t.starts_with(['#', '!']) {
            None
        } else {
            let end = t.find(['=', ':', ' ', '\t']).unwrap_or(t.len());
            Some(t[..end].to_string())
        };
        continued = !t.starts_with(['#', '!'])
            && l.text.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1;
        out.push(k);
    }
    out
}

fn content(name: &str, url: &str, token: &str, shared: bool) -> Vec<String> {
    let mut v = Vec::new();
    if shared {
        v.push(format!("{SHARED}={token}"));
    }
    v.push(format!(
        "codeartifact.{name}.url={}",
        url.replace(':', "\\:")
    ));
    v.push(format!("codeartifact.{name}.token={token}"));
    v
}

/// Adds (or refreshes) repository `name` (`url` is the maven endpoint).
pub fn login(text: &str, name: &str, url: &str, token: &str) -> Result<String, String> {
    let mut d = Doc::parse(text, HASH);
    if let Some(b) = d.find(name, "properties")? {
        let shared = d.text(b.begin + 1).starts_with(&format!("{SHARED}="));
        d.replace_content(&b, &content(name, url, token, shared));
        return Ok(d.render());
    }
    d.remove_named(name)?;
    let tags = d.tags()?;
    let ks = keys(&d);
    let own = [
        format!("codeartifact.{name}.url"),
        format!("codeartifact.{name}.token"),
    ];
    let mut shared = true;
    let mut off = Vec::new();
    for (i, k) in ks.iter().enumerate() {
        let Some(k) = k else { continue };
        let ours = own.contains(k);
        if k != SHARED && !ours {
            continue;
        }
        match tags[i] {
            Tag::User => {
                let mut end = i + 1;
                while end < d.len() && tags[end] == Tag::User && ks[end].is_none() && {
                    let prev = &d.lines[end - 1].text;
                    prev.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
                } {
                    end += 1;
                }
                off.push((i, end));
            }
            _ if k == SHARED => shared = false,
            _ => {}
        }
    }
    for (i, end) in off.into_iter().rev() {
        d.switch_off(i, end, name);
    }
    d.insert(
        d.len(),
        "",
        Some(name),
        "properties",
        &content(name, url, token, shared),
    );
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

    const URL: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/maven/a/";
    const PROPS: &str = "# gradle\norg.gradle.jvmargs=-Xmx2g \\\n  -Dfile.encoding=UTF-8\n! old style comment\ncodeartifactToken=OLD\norg.gradle.caching=true";

    #[test]
    fn roundtrips_and_side_by_side() {
        for t in ["", PROPS, &PROPS.replace('\n', "\r\n")] {
            let once = login(t, "a", URL, "TKNONE").unwrap();
            assert!(once.contains("codeartifactToken=TKNONE"), "{once}");
            assert!(once.contains("codeartifact.a.url=https\\://corp"), "{once}");
            assert_eq!(
                login(&once, "a", URL, "TKNTWO")
                    .unwrap()
                    .replace("TKNTWO", "TKNONE"),
                once
            );
            assert_eq!(logout(&once, "a").unwrap(), t);
            let both = login(&once, "b", URL, "TKNONE").unwrap();
            assert_eq!(both.matches("\ncodeartifactToken=").count(), 1, "{both}");
            assert!(both.contains("codeartifact.b.token=TKNONE"));
            assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), t);
            assert_eq!(logout(&logout(&both, "b").unwrap(), "a").unwrap(), t);
        }
        let once = login(PROPS, "a", URL, "TKNONE").unwrap();
        assert!(
            once.contains("# artoken-was: codeartifactToken=OLD\n"),
            "{once}"
        );
    }
}
