//! .netrc (curl, git, Python, and SwiftPM on Linux): `machine HOST login USER password TOKEN`;
//! the user's own entry for the host is switched off meanwhile.

use super::lines::{Doc, HASH, Tag};

/// Adds (or refreshes) the entry of repository `name` for `host`.
pub fn login(
    text: &str,
    name: &str,
    host: &str,
    user: &str,
    token: &str,
) -> Result<String, String> {
    let content = [format!("machine {host} login {user} password {token}")];
    let mut d = Doc::parse(text, HASH);
    if let Some(b) = d.find(name, "machine")? {
        d.replace_content(&b, &content);
        return Ok(d.render());
    }
    d.remove_named(name)?;
    let tags = d.tags()?;
    let mut starts = Vec::new();
    let mut default = None;
    let mut in_macro = false;
    for i in 0..d.len() {
        let t = d.text(i);
        if in_macro {
            in_macro = !t.trim().is_empty();
            continue;
        }
        if tags[i] != Tag::User || t.trim_start().starts_with('#') {
            continue;
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        match words.first() {
            Some(&"machine") | Some(&"default") | Some(&"macdef") => starts.push(i),
            _ => {}
        }
        if words.first() == Some(&"default") && default.is_none() {
            default = Some(i);
        }
        if words.first() == Some(&"macdef") {
            in_macro = true;
        }
        for (w, pair) in words.windows(2).enumerate() {
            if pair[0] == "machine" && pair[1] == host && (w > 0 || words[2..].contains(&"machine"))
            {
                return Err(format!(
                    "line {}: the entry for {host} shares its line with another; put each machine on a line of its own",
                    i + 1
                ));
            }
        }
    }
    let mut off = Vec::new();
    for (n, &s) in starts.iter().enumerate() {
        let words: Vec<&str> = d.text(s).split_whitespace().collect();
        if words.len() < 2 || words[0] != "machine" || words[1] != host {
            continue;
        }
        let next = starts.get(n + 1).copied().unwrap_or(d.len());
        // Never past a line of artoken's.
        let next = (s + 1..next)
            .find(|&i| tags[i] != Tag::User)
            .unwrap_or(next);
        let end = (s + 1..next)
            .rev()
            .find(|&i| !d.text(i).trim().is_empty() && !d.text(i).trim_start().starts_with('#'))
            .map(|i| i + 1)
            .unwrap_or(s + 1);
        off.push((s, end));
    }
    for &(s, end) in off.iter().rev() {
        d.switch_off(s, end, name);
    }
    let at = match default {
        Some(_) => {
            let tags = d.tags()?;
            (0..d.len())
                .find(|&i| {
                    tags[i] == Tag::User && d.text(i).split_whitespace().next() == Some("default")
                })
                .unwrap_or(d.len())
        }
        None => d.len(),
    };
    d.insert(at, "", Some(name), "machine", &content);
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

    const H: &str = "corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com";
    const NETRC: &str = "# mine\nmachine github.com login me password gh\n\nmachine corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com\n  login aws\n  password OLD\n\nmacdef init\nmachine x\n\ndefault login anonymous password me@x\n";

    #[test]
    fn roundtrips_and_switches_off_the_old_entry() {
        for t in [
            "",
            "machine a login b password c",
            NETRC,
            &NETRC.replace('\n', "\r\n"),
        ] {
            let once = login(t, "a", H, "aws", "TKNONE").unwrap();
            assert_eq!(
                login(&once, "a", H, "aws", "TKNTWO")
                    .unwrap()
                    .replace("TKNTWO", "TKNONE"),
                once
            );
            assert_eq!(logout(&once, "a").unwrap(), t);
            let both = login(&once, "b", "other.example", "token", "TKNONE").unwrap();
            assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), t);
        }
        let once = login(NETRC, "a", H, "aws", "TKNONE").unwrap();
        assert!(once.contains(&format!("# artoken-was: machine {H}\n# artoken-was:   login aws\n# artoken-was:   password OLD\n")), "{once}");
        assert!(
            once.contains(&format!(
                "machine {H} login aws password TKNONE\n# <<< artoken:a machine <<<\ndefault "
            )),
            "{once}"
        );
        assert!(
            login(
                &format!("machine x login y machine {H} login z\n"),
                "a",
                H,
                "aws",
                "t"
            )
            .is_err()
        );
        // Another repository's entry right after the user's own one stays whole.
        let t = format!("machine {H}\n  password OLD\ndefault login x\n");
        let b = login(&t, "b", "other.example", "aws", "TKNONE").unwrap();
        let both = login(&b, "a", H, "aws", "TKNONE").unwrap();
        assert!(
            both.contains("machine other.example login aws password TKNONE\n"),
            "{both}"
        );
        assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), t);
        assert_eq!(logout(&logout(&both, "b").unwrap(), "a").unwrap(), t);
    }
}
