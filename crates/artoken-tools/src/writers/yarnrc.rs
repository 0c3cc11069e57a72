//! .yarnrc.yml (yarn berry), edited line by line: an `npmRegistries` entry for the registry
//! (plus `npmRegistryServer`), or an `npmScopes` entry with `--scope`.

use super::lines::{Block, Doc, HASH, Tag, indent_of, step_between};

const SERVER: &str = "npmRegistryServer";
const REGISTRIES: &str = "npmRegistries";
const SCOPES: &str = "npmScopes";

fn is_blank_or_comment(t: &str) -> bool {
    let t = t.trim_start();
    t.is_empty() || t.starts_with('#')
}

/// `key: rest` at column 0 (key quoted or not): `(key, rest)`.
fn top_key(text: &str) -> Option<(String, &str)> {
    if text.starts_with([' ', '\t', '#', '-']) || text.starts_with("...") {
        return None;
    }
    map_key(text)
}

/// `key: rest` after any indentation.
fn map_key(text: &str) -> Option<(String, &str)> {
    let t = text.trim_start();
    if t.starts_with('#') {
        return None;
    }
    let (k, rest) = if let Some(q) = t.strip_prefix(['"', '\'']) {
        let quote = t.as_bytes()[0] as char;
        let end = q.find(quote)?;
        (q[..end].to_string(), q[end + 1..].strip_prefix(':')?)
    } else {
        let i = t
            .find(": ")
            .or_else(|| t.ends_with(':').then(|| t.len() - 1))?;
        (t[..i].trim().to_string(), &t[i + 1..])
    };
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some((k, rest.trim()))
}

/// The last line that belongs to the mapping started at line `k` (indented lines below it).
fn extent(d: &Doc, tags: &[Tag], k: usize) -> usize {
    let mut last = k;
    for i in k + 1..d.len() {
        let t = d.text(i);
        if tags[i] == Tag::Marker || is_blank_or_comment(t) {
            continue;
        }
        if t.starts_with([' ', '\t']) {
            last = i;
        } else {
            break;
        }
    }
    last
}

/// The user's own lines that belong to the entry on line `k` (more indented than it), for
/// switching them off: never past a line of artoken's.
fn user_extent(d: &Doc, tags: &[Tag], k: usize) -> usize {
    let base = indent_of(d.text(k)).len();
    let mut last = k;
    for i in k + 1..d.len() {
        let t = d.text(i);
        if tags[i] != Tag::User {
            break;
        }
        if is_blank_or_comment(t) {
            continue;
        }
        if indent_of(t).len() > base {
            last = i;
        } else {
            break;
        }
    }
    last
}

/// The top-level line for `key`, if any (the tool's view: the user's and artoken's lines).
fn find_top(d: &Doc, tags: &[Tag], key: &str) -> Option<usize> {
    (0..d.len())
        .find(|&i| tags[i] != Tag::Marker && top_key(d.text(i)).is_some_and(|(k, _)| k == key))
}

fn q(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// The entry lines: `key:` then its settings, at `indent` and `indent + step`.
fn entry(indent: &str, step: &str, key: &str, server: Option<&str>, token: &str) -> Vec<String> {
    let inner = format!("{indent}{step}");
    let mut v = vec![format!("{indent}{}:", q(key))];
    if let Some(s) = server {
        v.push(format!("{inner}{SERVER}: {}", q(s)));
    }
    v.push(format!("{inner}npmAlwaysAuth: true"));
    v.push(format!("{inner}npmAuthToken: {}", q(token)));
    v
}

/// A YAML scalar without its quotes.
fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// Sets the value of the `key: value` line `i` to `value`, keeping the key as written.
fn set_value(d: &mut Doc, i: usize, value: &str) {
    let text = &d.lines[i].text;
    let Some((_, rest)) = map_key(text) else {
        return;
    };
    // `rest` is a slice of `text`: its offset is where the value starts.
    let at = (rest.as_ptr() as usize - text.as_ptr() as usize).min(text.len());
    let head = &text[..at];
    let sep = if head.ends_with([' ', '\t']) { "" } else { " " };
    d.lines[i].text = format!("{head}{sep}{value}");
}

/// The entry for `key` among lines `range`: its key line, and its `npmAuthToken` and
/// `npmRegistryServer` lines if it has them.
fn find_entry(
    d: &Doc,
    range: std::ops::Range<usize>,
    key: &str,
) -> Option<(usize, Option<usize>, Option<usize>)> {
    let k = range
        .clone()
        .find(|&i| map_key(d.text(i)).is_some_and(|(ck, rest)| ck == key && rest.is_empty()))?;
    let base = indent_of(d.text(k)).len();
    let (mut tok, mut srv) = (None, None);
    for i in k + 1..range.end {
        let t = d.text(i);
        if is_blank_or_comment(t) {
            continue;
        }
        if indent_of(t).len() <= base {
            break;
        }
        match map_key(t) {
            Some((ck, _)) if ck == "npmAuthToken" => tok = tok.or(Some(i)),
            Some((ck, _)) if ck == SERVER => srv = srv.or(Some(i)),
            _ => {}
        }
    }
    Some((k, tok, srv))
}

/// True for an entry that is what artoken writes for `key`, without its markers (`yarn
/// config set` keeps no comments): a map with a token, for a scope pointing at `server`.
fn looks_ours(d: &Doc, range: std::ops::Range<usize>, key: &str, server: Option<&str>) -> bool {
    let Some((_, Some(_), srv)) = find_entry(d, range, key) else {
        return false;
    };
    let value =
        |i: usize| map_key(d.text(i)).map(|(_, v)| unquote(v).trim_end_matches('/').to_string());
    match (server, srv) {
        (None, _) => true,
        (Some(s), Some(i)) => value(i).as_deref() == Some(s.trim_end_matches('/')),
        (Some(_), None) => false,
    }
}

/// Refreshes the entry for `key` among lines `range` by structure: only the values of its
/// `npmAuthToken` (and with a scope its `npmRegistryServer`) change, so whatever formatting
/// the entry has now (re-indented, re-quoted by yarn, CRLF) stays. False when there is no
/// such entry with those settings (emptied or broken by hand).
fn refresh(
    d: &mut Doc,
    range: std::ops::Range<usize>,
    key: &str,
    server: Option<&str>,
    token: &str,
) -> bool {
    let Some((_, Some(tok), srv)) = find_entry(d, range, key) else {
        return false;
    };
    if server.is_some() && srv.is_none() {
        return false;
    }
    set_value(d, tok, &q(token));
    if let (Some(i), Some(s)) = (srv, server) {
        set_value(d, i, &q(s));
    }
    true
}

/// Adds (or refreshes) repository `name`. `registry` ends with `/`; `scope` like `@corp`.
pub fn login(
    text: &str,
    name: &str,
    registry: &str,
    token: &str,
    scope: Option<&str>,
) -> Result<String, String> {
    let out = add(text, name, registry, token, scope)?;
    // Markers a hand edit moved could make the new ones nest: refused rather than written.
    Doc::parse(&out, HASH).blocks().map_err(|e| {
        format!(
            "{e} (after adding the artoken:{name} block: the markers around it were edited by hand)"
        )
    })?;
    Ok(out)
}

fn add(
    text: &str,
    name: &str,
    registry: &str,
    token: &str,
    scope: Option<&str>,
) -> Result<String, String> {
    let (map, key, server) = match scope {
        Some(s) => (
            SCOPES,
            s.trim_start_matches('@').to_string(),
            Some(registry),
        ),
        None => {
            let k = artoken_core::urls::npmrc_key(registry);
            (REGISTRIES, k.trim_end_matches('/').to_string(), None)
        }
    };
    let mut d = Doc::parse(text, HASH);
    if let Some(b) = d.find(name, map)? {
        if !refresh(&mut d, b.begin + 1..b.end, &key, server, token) {
            // Emptied or broken by hand: a whole new entry between the markers.
            let indent = indent_of(d.text(b.begin)).to_string();
            let step = (b.begin + 1..b.end)
                .find_map(|i| step_between(&indent, indent_of(d.text(i))))
                .unwrap_or_else(|| "  ".into());
            d.replace_content(&b, &entry(&indent, &step, &key, server, token));
        }
        if scope.is_none()
            && let Some(s) = d.find(name, SERVER)?
        {
            match (s.begin + 1..s.end)
                .find(|&i| map_key(d.text(i)).is_some_and(|(k, _)| k == SERVER))
            {
                Some(i) => set_value(&mut d, i, &q(registry)),
                None => d.replace_content(&s, &[format!("{SERVER}: {}", q(registry))]),
            }
        }
        return Ok(d.render());
    }
    d.remove_named(name)?;
    let mut server_done = false;
    if scope.is_none() {
        let tags = d.tags()?;
        if let Some(k) = find_top(&d, &tags, SERVER) {
            if tags[k] != Tag::User {
                let owner = d.block_at(k)?.and_then(|b| b.name).unwrap_or_default();
                return Err(format!(
                    "line {}: {SERVER} comes from `artoken login yarn {owner}`; use --scope @SCOPE, or `artoken logout yarn {owner}` first",
                    k + 1
                ));
            }
            let last = user_extent(&d, &tags, k);
            let value =
                top_key(d.text(k)).map(|(_, v)| unquote(v).trim_end_matches('/').to_string());
            if last == k && value.as_deref() == Some(registry.trim_end_matches('/')) {
                // Ours already, its markers dropped by `yarn config set` (yarn keeps no
                // comments): marked again as it is, so logout removes it.
                d.wrap(k, k, "", name, SERVER);
                server_done = true;
            } else {
                d.switch_off(k, last + 1, name);
            }
        }
    }
    let tags = d.tags()?;
    let (at, indent, step) = match find_top(&d, &tags, map) {
        Some(k) => {
            let (_, rest) = top_key(d.text(k)).expect("a key line");
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err(format!(
                    "line {}: {map} is written inline; write it as an indented block so artoken can add to it",
                    k + 1
                ));
            }
            let last = extent(&d, &tags, k);
            let children: Vec<usize> = (k + 1..=last)
                .filter(|&i| tags[i] != Tag::Marker && !is_blank_or_comment(d.text(i)))
                .collect();
            let indent = children
                .first()
                .map(|&i| indent_of(d.text(i)).to_string())
                .unwrap_or_else(|| "  ".into());
            let step = children
                .iter()
                .find_map(|&i| step_between(&indent, indent_of(d.text(i))))
                .unwrap_or_else(|| "  ".into());
            let mut off = Vec::new();
            for &c in &children {
                if indent_of(d.text(c)) == indent
                    && map_key(d.text(c)).is_some_and(|(ck, _)| ck == key)
                {
                    if tags[c] != Tag::User {
                        let owner = d.block_at(c)?.and_then(|b| b.name).unwrap_or_default();
                        return Err(format!(
                            "line {}: {map} entry {key:?} comes from `artoken login yarn {owner}`; run `artoken logout yarn {owner}` first",
                            c + 1
                        ));
                    }
                    off.push((c, user_extent(&d, &tags, c)));
                }
            }
            // The entry for this very registry or scope is taken over as it is (its markers
            // dropped by `yarn config set`, or written by hand): the token goes into it in
            // place and markers go around it, so logout removes it. Any further copy is
            // switched off (the later ones first: the earlier lines keep their numbers).
            let ours =
                |d: &Doc, &(c, end): &(usize, usize)| looks_ours(d, c..end + 1, &key, server);
            if let Some(n) = off.iter().position(|e| ours(&d, e)) {
                let (c, end) = off[n];
                for &(c, end) in off[n + 1..].iter().rev() {
                    d.switch_off(c, end + 1, name);
                }
                refresh(&mut d, c..end + 1, &key, server, token);
                d.wrap(c, end, &indent, name, map);
                for &(c, end) in off[..n].iter().rev() {
                    d.switch_off(c, end + 1, name);
                }
                if scope.is_none() && !server_done {
                    d.insert(
                        d.len(),
                        "",
                        Some(name),
                        SERVER,
                        &[format!("{SERVER}: {}", q(registry))],
                    );
                }
                return Ok(d.render());
            }
            for &(c, end) in off.iter().rev() {
                d.switch_off(c, end + 1, name);
            }
            let tags = d.tags()?;
            (d.after(extent(&d, &tags, k))?, indent, step)
        }
        None => {
            let s = d.insert(d.len(), "", None, "", &[format!("{map}:")]);
            (s.end + 1, "  ".to_string(), "  ".to_string())
        }
    };
    let lines = entry(&indent, &step, &key, server, token);
    d.insert(at, &indent, Some(name), map, &lines);
    if scope.is_none() && !server_done {
        d.insert(
            d.len(),
            "",
            Some(name),
            SERVER,
            &[format!("{SERVER}: {}", q(registry))],
        );
    }
    Ok(d.render())
}

/// Removes what login added for `name`.
pub fn logout(text: &str, name: &str) -> Result<String, String> {
    let mut d = Doc::parse(text, HASH);
    d.remove_named(name)?;
    d.remove_unneeded_scaffolds(&needed)?;
    Ok(d.render())
}

/// A scaffold `npmScopes:` line stays while entries sit under it.
fn needed(d: &Doc, b: &Block) -> bool {
    let Ok(tags) = d.tags() else { return true };
    extent(d, &tags, b.begin + 1) > b.end
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const R1: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/a/";
    const R2: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/b/";

    const BUSY: &str = "# yarn settings\nnodeLinker: node-modules   # no pnp\n\nnpmScopes:\n    # ours\n    other:\n        npmRegistryServer: \"https://other/\"\n\nnpmRegistryServer: \"https://registry.yarnpkg.com\"\nplugins:\n  - path: .yarn/plugins/x.cjs\n";

    #[test]
    fn roundtrips_refreshes_and_side_by_side() {
        for t in ["", "a: 1", BUSY, &BUSY.replace('\n', "\r\n")] {
            for scope in [None, Some("@corp")] {
                let once = login(t, "a", R1, "TKNONE", scope).unwrap();
                assert_eq!(login(&once, "a", R1, "TKNONE", scope).unwrap(), once);
                assert_eq!(
                    login(&once, "a", R1, "TKNTWO", scope)
                        .unwrap()
                        .replace("TKNTWO", "TKNONE"),
                    once
                );
                assert_eq!(logout(&once, "a").unwrap(), t);
                let both = login(&once, "b", R2, "TKNONE", Some("@b")).unwrap();
                assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), t);
                assert_eq!(logout(&logout(&both, "b").unwrap(), "a").unwrap(), t);
            }
        }
    }

    #[test]
    fn entries_follow_the_files_indentation() {
        let out = login(BUSY, "a", R1, "TKNONE", Some("@corp")).unwrap();
        assert!(out.contains("        npmRegistryServer: \"https://other/\"\n    # >>> artoken:a npmScopes >>>\n    \"corp\":\n        npmRegistryServer: \"https://corp"), "{out}");
        let out = login(BUSY, "a", R1, "TKNONE", None).unwrap();
        assert!(
            out.contains("# artoken-was: npmRegistryServer: \"https://registry.yarnpkg.com\"\n"),
            "{out}"
        );
        assert!(out.contains("npmRegistries:\n# <<< artoken <<<\n  # >>> artoken:a npmRegistries >>>\n  \"//corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/a\":\n    npmAlwaysAuth: true\n    npmAuthToken: \"TKNONE\"\n"), "{out}");
    }

    #[test]
    fn inline_maps_are_refused() {
        let e = login("npmScopes: {}\n", "a", R1, "t", Some("@x")).unwrap_err();
        assert!(e.contains("inline"), "{e}");
    }

    fn arb_file() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            Just(String::new()),
            "#[ a-z:]{0,10}",
            "[a-z]{1,8}: [a-z0-9]{1,6}",
            "  [a-z]{1,8}: [a-z0-9]{1,6}",
            Just("npmScopes:".to_string()),
            Just("  other:".to_string()),
            Just("    npmAlwaysAuth: true".to_string()),
            Just("unsafeHttpWhitelist:".to_string()),
            Just("  - localhost".to_string()),
        ];
        (prop::collection::vec(line, 0..12), prop::bool::ANY)
            .prop_map(|(l, crlf)| l.join(if crlf { "\r\n" } else { "\n" }))
            .prop_filter("one npmScopes", |s| s.matches("npmScopes").count() <= 1)
    }

    proptest! {
        #[test]
        fn logout_undoes_login(text in arb_file(), scoped in prop::bool::ANY) {
            let scope = scoped.then_some("@corp");
            let once = login(&text, "a", R1, "TKNONE", scope).unwrap();
            prop_assert_eq!(logout(&once, "a").unwrap(), text.clone());
            prop_assert_eq!(login(&once, "a", R1, "TKNTWO", scope).unwrap().replace("TKNTWO", "TKNONE"), once.clone());
            let both = login(&once, "b", R2, "TKNONE", Some("@b")).unwrap();
            prop_assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), text);
        }
    }
}
