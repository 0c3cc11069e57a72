//! Properties of the token decision (`realm::Trust`): URLs built from pieces around one
//! configured domain get a spec exactly when they are the repository host's https origin or
//! the emulator's path form at the endpoint override; no one-character change to a trusted URL
//! makes a URL reader of another kind (RFC 3986, as Python's) see another host; and every
//! exact form always gets one.

use std::collections::BTreeMap;

use artoken_core::{Format, RepositorySpec};
use artoken_tools::realm::{ClientUrl, Trust};
use proptest::prelude::*;

const HOST: &str = "corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com";
/// The endpoint override: the emulator.
const EMU: &str = "http://127.0.0.1:41234";

fn trust() -> Trust {
    let mut spec = RepositorySpec::new("corp", "corp");
    spec.owner = Some("111122223333".into());
    spec.region = Some("eu-west-1".into());
    spec.repository = Some("pypi-store".into());
    spec.format = Format::Pypi;
    Trust::new(
        BTreeMap::from([("corp".to_string(), spec)]),
        None,
        Some(EMU),
    )
}

fn keyring(t: &Trust, s: &str) -> bool {
    ClientUrl::keyring(s).and_then(|u| t.spec_for(&u)).is_some()
}

fn cargo(t: &Trust, s: &str) -> bool {
    ClientUrl::cargo(s).and_then(|u| t.spec_for(&u)).is_some()
}

fn pick(items: Vec<String>) -> impl Strategy<Value = String> {
    proptest::sample::select(items)
}

fn schemes() -> impl Strategy<Value = String> {
    pick(
        [
            "https",
            "HTTPS",
            "Https",
            "http",
            "HTTP",
            "ftp",
            "sparse+https",
            "sparse+http",
            "",
        ]
        .map(String::from)
        .to_vec(),
    )
}

fn userinfos() -> impl Strategy<Value = String> {
    pick(vec![
        String::new(),
        "aws@".into(),
        "aws:pw@".into(),
        format!("{HOST}@"),
        "127.0.0.1:41234@".into(),
        "u%40x@".into(),
        "a@b@".into(),
    ])
}

fn hosts() -> impl Strategy<Value = String> {
    pick(vec![
        HOST.into(),
        HOST.to_uppercase(),
        format!("{HOST}."),
        format!("{HOST}.evil.example"),
        format!("x{HOST}"),
        HOST.replace("corp-", "other-"),
        HOST.replace("111122223333", "999999999999"),
        HOST.replace("corp", "%63orp"),
        HOST.replace(".d.", "\u{FF0E}d."),
        "evil.example".into(),
        "127.0.0.1".into(),
        "127.1".into(),
        "2130706433".into(),
        "127.evil.example.com".into(),
        "127.0.0.1.nip.io".into(),
        "localhost".into(),
        "localhost.evil".into(),
        "[::1]".into(),
        "10.0.0.1".into(),
    ])
}

fn ports() -> impl Strategy<Value = String> {
    pick(
        ["", ":", ":443", ":0443", ":80", ":8443", ":41234", ":41235"]
            .map(String::from)
            .to_vec(),
    )
}

fn paths() -> impl Strategy<Value = String> {
    prop_oneof![
        pick(vec![
            String::new(),
            "/".into(),
            "/pypi/pypi-store/simple/".into(),
            format!("/{HOST}/pypi/pypi-store/simple/"),
            format!("/{HOST}/"),
            format!("/{HOST}"),
            format!("/x/{HOST}/pypi/"),
            format!("/{HOST}./pypi/"),
            format!("//{HOST}/pypi/"),
            format!("/{}/pypi/", HOST.to_uppercase()),
            format!("\\@evil.example/{HOST}/pypi/"),
        ]),
        "/[a-z0-9./_-]{0,16}",
    ]
}

fn suffixes() -> impl Strategy<Value = String> {
    pick(
        ["", "?", "?x=1", "#", "#f", "?x#f"]
            .map(String::from)
            .to_vec(),
    )
}

/// What the rule says, from the pieces (never from a URL parser).
fn expected(
    cargo: bool,
    scheme: &str,
    user: &str,
    host: &str,
    port: &str,
    path: &str,
    suffix: &str,
) -> bool {
    let bare = scheme.is_empty();
    let scheme = scheme.to_ascii_lowercase();
    let scheme = match scheme.strip_prefix("sparse+") {
        Some(s) if cargo => s.to_string(),
        Some(_) => return false,
        None => scheme,
    };
    if bare && (cargo || !user.is_empty() || !path.is_empty()) {
        return false;
    }
    if !suffix.is_empty() || path.starts_with('\\') {
        return false;
    }
    let host_is = |h: &str| host.eq_ignore_ascii_case(h);
    let direct =
        (scheme == "https" || bare) && host_is(HOST) && ["", ":", ":443", ":0443"].contains(&port);
    let first_segment = path
        .strip_prefix('/')
        .map(|p| p.split('/').next().unwrap_or(""));
    let emulated =
        scheme == "http" && host == "127.0.0.1" && port == ":41234" && first_segment == Some(HOST);
    direct || emulated
}

/// How an RFC 3986 reader (Python's `urllib.parse`, as pip uses it) splits `text`: scheme,
/// host (lowercased), port text and path.
fn rfc3986(text: &str) -> Option<(String, String, String, String)> {
    let (scheme, rest) = text.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(end);
    let hostport = authority.rpartition_at();
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => {
            let (h, p) = v6.split_once(']')?;
            (
                format!("[{h}]"),
                p.strip_prefix(':').unwrap_or(p).to_string(),
            )
        }
        None => match hostport.split_once(':') {
            Some((h, p)) => (h.to_string(), p.to_string()),
            None => (hostport.to_string(), String::new()),
        },
    };
    let path = after[..after.find(['?', '#']).unwrap_or(after.len())].to_string();
    Some((
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase(),
        port,
        path,
    ))
}

trait Rpartition {
    fn rpartition_at(&self) -> &str;
}

impl Rpartition for str {
    /// What follows the last `@` (all of it when there is none).
    fn rpartition_at(&self) -> &str {
        self.rsplit_once('@').map_or(self, |(_, h)| h)
    }
}

/// True when an RFC 3986 reader would also send the request to the repository host over
/// https, or to the emulator's origin with the host as the first path segment.
fn rfc3986_agrees(text: &str) -> bool {
    let text = text.strip_prefix("sparse+").unwrap_or(text);
    let Some((scheme, host, port, path)) = rfc3986(text) else {
        return false;
    };
    let port: Option<u16> = if port.is_empty() {
        None
    } else {
        match port.parse() {
            Ok(p) => Some(p),
            Err(_) => return false,
        }
    };
    let direct = scheme == "https" && host == HOST && port.unwrap_or(443) == 443;
    let emulated = scheme == "http"
        && host == "127.0.0.1"
        && port == Some(41234)
        && path.strip_prefix('/').and_then(|p| p.split('/').next()) == Some(HOST);
    direct || emulated
}

/// One edit of `text` at `at` (a char boundary is found): insert, replace or delete.
fn mutate(text: &str, at: usize, op: u8, c: char) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let i = at % (chars.len() + 1);
    match op % 3 {
        0 => chars.insert(i, c),
        1 if i < chars.len() => chars[i] = c,
        _ if i < chars.len() => {
            chars.remove(i);
        }
        _ => chars.push(c),
    }
    chars.into_iter().collect()
}

fn interesting_chars() -> impl Strategy<Value = char> {
    prop_oneof![
        proptest::sample::select(vec![
            '@', ':', '/', '\\', '%', '.', '#', '?', ' ', '\t', '[', ']', '0', '1', 'a', 'A', '-',
            '+', '\u{FF0E}', '\u{00E4}', '\u{0130}',
        ]),
        any::<char>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn a_spec_exactly_for_the_exact_origins(
        scheme in schemes(),
        user in userinfos(),
        host in hosts(),
        port in ports(),
        path in paths(),
        suffix in suffixes(),
    ) {
        let t = trust();
        let text = if scheme.is_empty() {
            format!("{user}{host}{port}{path}{suffix}")
        } else {
            format!("{scheme}://{user}{host}{port}{path}{suffix}")
        };
        prop_assert_eq!(
            keyring(&t, &text),
            expected(false, &scheme, &user, &host, &port, &path, &suffix),
            "keyring {}", text
        );
        prop_assert_eq!(
            cargo(&t, &text),
            expected(true, &scheme, &user, &host, &port, &path, &suffix),
            "cargo {}", text
        );
    }

    #[test]
    fn no_one_character_edit_makes_another_reader_see_another_host(
        base in pick(vec![
            format!("https://{HOST}/pypi/pypi-store/simple/"),
            format!("https://aws@{HOST}/pypi/pypi-store/simple/"),
            format!("{EMU}/{HOST}/pypi/pypi-store/simple/"),
            format!("sparse+https://{HOST}/cargo/crates/"),
            format!("sparse+{EMU}/{HOST}/cargo/crates/"),
        ]),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), interesting_chars()), 1..3),
    ) {
        let t = trust();
        let mut text = base;
        for (at, op, c) in edits {
            text = mutate(&text, at, op, c);
        }
        if keyring(&t, &text) || cargo(&t, &text) {
            prop_assert!(rfc3986_agrees(&text), "a token for {:?}", text);
        }
    }

    #[test]
    fn every_exact_form_gets_a_spec(
        user in prop_oneof![Just(String::new()), "[a-z]{1,5}@", "[a-z]{1,5}:[A-Za-z0-9]{1,8}@"],
        upper in proptest::collection::vec(any::<bool>(), HOST.len()),
        explicit_port in any::<bool>(),
        rest in "[a-z0-9/_-]{0,30}",
    ) {
        let t = trust();
        let host: String = HOST
            .chars()
            .zip(&upper)
            .map(|(c, u)| if *u { c.to_ascii_uppercase() } else { c })
            .collect();
        let port = if explicit_port { ":443" } else { "" };
        let url = format!("https://{user}{host}{port}/{rest}");
        prop_assert!(keyring(&t, &url), "{}", url);
        let sparse = format!("sparse+{url}");
        prop_assert!(cargo(&t, &sparse), "{}", sparse);
        let bare = format!("{host}{port}");
        prop_assert!(keyring(&t, &bare), "{}", bare);
        let emulated = format!("http://{user}127.0.0.1:41234/{HOST}/{rest}");
        prop_assert!(keyring(&t, &emulated), "{}", emulated);
        let emulated_sparse = format!("sparse+{emulated}");
        prop_assert!(cargo(&t, &emulated_sparse), "{}", emulated_sparse);
    }
}
