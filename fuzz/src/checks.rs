//! The properties the fuzz targets check, one function per target, shared by `cargo fuzz`
//! (fuzz/fuzz_targets) and the corpus replay test that runs on stable in `cargo test`
//! (crates/artoken-tools/tests/fuzz_corpus.rs).
//!
//! Each function takes the fuzzer's bytes and panics when a property fails: never a panic
//! inside artoken, errors are one line, and an edit changes only what it should.

use std::path::PathBuf;

use artoken_core::Token;
use artoken_core::config;
use artoken_tools::cargo_credential::{self, Decision, Reply};
use artoken_tools::index_url::RepoUrl;
use artoken_tools::keyring::{self, Invocation, Output};
use artoken_tools::requirements;
use artoken_tools::writers::lines::{Doc, HASH, Style, XML};
use artoken_tools::writers::{
    cargo, maven, netrc, npmrc, nuget, pip, pipfile, poetry, properties, pypirc, uv, yarnrc,
};

/// The names of the targets, as directories of fuzz/corpus.
pub const TARGETS: &[&str] = &[
    "config",
    "pip_conf",
    "pypirc",
    "npmrc",
    "other_writers",
    "edited_blocks",
    "keyring_args",
    "cargo_protocol",
    "requirements",
];

/// Runs target `name` on `data`; false for an unknown name.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "config" => config_files(data),
        "pip_conf" => pip_conf(data),
        "pypirc" => pypirc_file(data),
        "npmrc" => npmrc_file(data),
        "other_writers" => other_writers(data),
        "edited_blocks" => edited_blocks(data),
        "keyring_args" => keyring_args(data),
        "cargo_protocol" => cargo_protocol(data),
        "requirements" => requirements_file(data),
        _ => return false,
    }
    true
}

const T1: &str = "TKNONEfz";
const T2: &str = "TKNTWOfz";
const PIP1: &str =
    "https://aws:TKNONEfz@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/simple/";
const PIP2: &str =
    "https://aws:TKNTWOfz@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/simple/";
const PIPB: &str =
    "https://aws:TKNONEfz@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/b/simple/";
const ENDPOINT: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/a/";
const NPM_A: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/a/";
const NPM_B: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/b/";

fn one_line(what: &str, msg: &str) {
    assert!(
        !msg.contains('\n') && !msg.contains('\r'),
        "{what} error is not one line: {msg:?}"
    );
}

/// Config loader: the input is one or two files (split at the first NUL), named by its first
/// byte (artoken.yml, wev.yml, their user files, or an unknown name). Loading never panics;
/// an error is one line naming the file.
pub fn config_files(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let names = [
        ["artoken.yml", "artoken.user.yml"],
        ["wev.yml", "wev.user.yml"],
        ["wev.yml", "artoken.yml"],
        ["config.yaml", "artoken.user.yaml"],
    ];
    let [first, second] = names[usize::from(pick) % names.len()];
    let dir = PathBuf::from("/fuzz/project");
    let files: Vec<(PathBuf, String)> = match text.split_once('\0') {
        Some((a, b)) => vec![
            (dir.join(first), a.to_string()),
            (dir.join(second), b.to_string()),
        ],
        None => vec![(dir.join(first), text.to_string())],
    };
    let no_env = |_: &str| None;
    if let Err(e) = config::from_texts(&files, &no_env) {
        let msg = e.to_string();
        one_line("config", &msg);
        assert!(
            msg.contains("/fuzz/project/"),
            "config error names no file: {msg:?}"
        );
    }
}

/// A text editor pair's round trip: `login` then `logout` gives the bytes back, a second
/// login changes nothing, a new token changes only the token, two repositories come off in
/// either order. Only for inputs without an entry of ours already (logout takes those out).
/// A marker writer's logout changes only a file with artoken's markers in it.
fn roundtrip(
    text: &str,
    login: impl Fn(&str, &str, bool) -> Result<String, String>,
    logout: impl Fn(&str, &str) -> Result<String, String>,
) {
    roundtrip_with(text, true, login, logout);
}

/// [`roundtrip`]; `marked: false` for the writers that find their entry by name and shape
/// (uv, poetry, pipenv: no markers), whose logout may rightly change a file without any.
fn roundtrip_with(
    text: &str,
    marked: bool,
    login: impl Fn(&str, &str, bool) -> Result<String, String>,
    logout: impl Fn(&str, &str) -> Result<String, String>,
) {
    if text.contains("TKN") {
        return;
    }
    match (logout(text, "a"), logout(text, "b")) {
        (Ok(a), Ok(b)) if a == text && b == text => {}
        (Err(e), _) | (_, Err(e)) => return one_line("logout", &e),
        _ => {
            assert!(
                !marked || text.contains("artoken"),
                "logout changed a file without an artoken marker: {text:?}"
            );
            return;
        }
    }
    let once = match login(text, "a", false) {
        Ok(t) => t,
        Err(e) => return one_line("login", &e),
    };
    assert_eq!(logout(&once, "a").unwrap(), text, "logout undoes login");
    assert_eq!(
        login(&once, "a", false).unwrap(),
        once,
        "login twice == once"
    );
    let renewed = login(&once, "a", true).unwrap();
    assert_eq!(
        renewed.replace(T2, T1),
        once,
        "a new token changes only the token"
    );
    assert_eq!(logout(&renewed, "a").unwrap(), text);
    if let Ok(both) = login(&once, "b", false) {
        assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), text);
        assert_eq!(logout(&logout(&both, "b").unwrap(), "a").unwrap(), text);
    }
}

/// pip.conf (INI): the first byte picks `index-url` or `extra-index-url`.
pub fn pip_conf(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let extra = pick & 1 == 1;
    roundtrip(
        text,
        |t, name, renew| {
            let url = match (name, renew) {
                ("b", _) => PIPB,
                (_, true) => PIP2,
                _ => PIP1,
            };
            pip::login(t, name, url, extra)
        },
        pip::logout,
    );
}

/// .pypirc (twine).
pub fn pypirc_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    roundtrip(
        text,
        |t, name, renew| pypirc::login(t, name, ENDPOINT, if renew { T2 } else { T1 }),
        pypirc::logout,
    );
}

/// .npmrc: the first byte picks a scope or the default registry.
pub fn npmrc_file(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let scope = (pick & 1 == 1).then_some("@corp");
    roundtrip(
        text,
        |t, name, renew| {
            let (registry, scope) = if name == "b" {
                (NPM_B, Some("@other"))
            } else {
                (NPM_A, scope)
            };
            npmrc::login(t, name, registry, if renew { T2 } else { T1 }, scope)
        },
        npmrc::logout,
    );
}

/// Every other writer `login` has, the first byte picking which (and its options): the same
/// round trip as pip.conf's.
pub fn other_writers(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let tok = |renew: bool| if renew { T2 } else { T1 };
    let simple = |name: &str| {
        format!(
            "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/{name}/simple/"
        )
    };
    let flag = pick & 0x10 != 0;
    match pick % 10 {
        0 => roundtrip_with(
            text,
            false,
            |t, n, _| uv::login(t, n, &simple(n), flag && n == "a", pick & 0x20 != 0),
            uv::logout,
        ),
        1 => roundtrip_with(
            text,
            false,
            |t, n, _| poetry::login_source(t, n, &simple(n), flag),
            poetry::logout,
        ),
        2 => roundtrip_with(
            text,
            false,
            |t, n, r| poetry::login_auth(t, n, tok(r)),
            poetry::logout,
        ),
        3 => roundtrip_with(
            text,
            false,
            |t, n, _| pipfile::login(t, n, &simple(n)),
            pipfile::logout,
        ),
        4 => roundtrip(
            text,
            |t, n, r| netrc::login(t, n, &format!("{n}.example.com"), "aws", tok(r)),
            netrc::logout,
        ),
        5 => roundtrip(
            text,
            |t, n, r| {
                let scope = (flag || n == "b").then(|| format!("@{n}"));
                yarnrc::login(
                    t,
                    n,
                    if n == "a" { NPM_A } else { NPM_B },
                    tok(r),
                    scope.as_deref(),
                )
            },
            yarnrc::logout,
        ),
        6 => roundtrip(
            text,
            |t, n, r| properties::login(t, n, &simple(n), tok(r)),
            properties::logout,
        ),
        7 => roundtrip(text, |t, n, r| maven::login(t, n, tok(r)), maven::logout),
        8 => roundtrip(
            text,
            |t, n, r| {
                nuget::login(
                    t,
                    n,
                    &format!("https://x.example/nuget/{n}/v3/index.json"),
                    tok(r),
                )
            },
            nuget::logout,
        ),
        _ => roundtrip(
            text,
            |t, n, _| cargo::login(t, n, &format!("sparse+https://x.example/cargo/{n}/")),
            cargo::logout,
        ),
    }
}

/// A writer's login, as the edited-block check calls it: (text, token) -> new text.
type LoginFn<'a> = dyn Fn(&str, &str) -> Result<String, String> + 'a;
/// A writer's logout: (text, repository) -> new text.
type LogoutFn = fn(&str, &str) -> Result<String, String>;

/// The writers another tool also edits (yarn's .yarnrc.yml, maven's settings.xml,
/// NuGet.Config), on files whose artoken blocks were edited after login: the first byte picks
/// the writer, the input up to the first NUL is the file before login, and the bytes after it
/// are edits to the file login wrote (two bytes each: delete, copy, re-indent, CRLF, move a
/// line, add a BOM, empty or copy a block). Then login and logout again: never a panic, an
/// error is one line, a login that succeeds holds the new token and its logout takes every
/// copy of it out, and logout removes nothing outside artoken's blocks.
pub fn edited_blocks(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (base, script) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(base) = std::str::from_utf8(base) else {
        return;
    };
    if base.contains("TKN") {
        return;
    }
    let feed = "https://x.example/nuget/a/v3/index.json";
    let scope = (pick & 0x10 != 0).then_some("@corp");
    let (style, login, logout): (Style, &LoginFn, LogoutFn) = match pick % 3 {
        0 => (XML, &|t, tok| maven::login(t, "a", tok), maven::logout),
        1 => (
            XML,
            &|t, tok| nuget::login(t, "a", feed, tok),
            nuget::logout,
        ),
        _ => (
            HASH,
            &move |t, tok| yarnrc::login(t, "a", NPM_A, tok, scope),
            yarnrc::logout,
        ),
    };
    let once = match login(base, T1) {
        Ok(t) => t,
        Err(e) => return one_line("login", &e),
    };
    let edited = edit_lines(&once, script);
    match login(&edited, T2) {
        Err(e) => one_line("login after a hand edit", &e),
        Ok(again) => {
            assert!(again.contains(T2), "login wrote no token: {again:?}");
            let out = logout(&again, "a").unwrap_or_else(|e| {
                panic!("logout fails after a login that worked ({e}): {again:?}")
            });
            assert!(
                !out.contains(T2),
                "logout left the token login wrote: {out:?}"
            );
        }
    }
    match logout(&edited, "a") {
        Err(e) => one_line("logout after a hand edit", &e),
        Ok(out) => {
            let kept = outside_blocks(&edited, style);
            assert!(
                is_subsequence(&kept, &body_lines(&out)),
                "logout removed lines outside artoken's blocks:\n{edited:?}\n->\n{out:?}"
            );
            let left = Doc::parse(&out, style)
                .blocks()
                .map(|b| b.iter().any(|b| b.name.as_deref() == Some("a")));
            assert_eq!(left, Ok(false), "logout left a block of a: {out:?}");
            assert_eq!(
                logout(&out, "a").as_deref(),
                Ok(out.as_str()),
                "logout twice"
            );
        }
    }
}

/// The lines of `text` without their endings (and without a byte-order mark, which logout
/// keeps at the start of whatever line comes first, wherever it was).
fn body_lines(text: &str) -> Vec<&str> {
    // Carriage returns at a line's end are line endings here: a last line login gave an
    // ending may end in a lone `\r` that reads back as part of it.
    text.split('\n')
        .map(|l| l.trim_start_matches('\u{feff}').trim_end_matches('\r'))
        .collect()
}

fn is_subsequence(small: &[&str], big: &[&str]) -> bool {
    let mut it = big.iter();
    small.iter().all(|s| it.any(|b| b == s))
}

/// The lines of `text` that are no part of a block of `a`, nor of a scaffold outside any
/// other named block: what logout of `a` must keep.
fn outside_blocks(text: &str, style: Style) -> Vec<&str> {
    let Ok(blocks) = Doc::parse(text, style).blocks() else {
        // Markers too broken to tell: logout must then have failed, so nothing to compare.
        panic!("logout succeeded on markers it cannot read: {text:?}");
    };
    // Doc keeps a BOM on the first line; the block line numbers are the same either way.
    let lines = body_lines(text);
    let named_other = |i: usize| {
        blocks
            .iter()
            .any(|b| b.name.as_deref().is_some_and(|n| n != "a") && b.contains(i))
    };
    (0..lines.len())
        .filter(|&i| {
            !blocks.iter().any(|b| {
                b.contains(i)
                    && (b.name.as_deref() == Some("a") || (b.name.is_none() && !named_other(i)))
            })
        })
        .map(|i| lines[i])
        .collect()
}

/// Applies the edit script to `text`, two bytes an edit.
fn edit_lines(text: &str, script: &[u8]) -> String {
    let mut ls: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    for op in script.chunks(2) {
        let (&kind, arg) = (&op[0], op.get(1).copied().unwrap_or(0) as usize);
        if ls.is_empty() {
            break;
        }
        let i = arg % ls.len();
        let (body, eol) = {
            let l = &ls[i];
            let b = l.trim_end_matches(['\r', '\n']).to_string();
            let e = l[b.len()..].to_string();
            (b, e)
        };
        match kind % 8 {
            0 => {
                ls.remove(i);
            }
            1 => ls.insert(i, ls[i].clone()),
            2 => {
                let indent = ["", "  ", "\t", "\u{3000}", "      "][arg / 7 % 5];
                ls[i] = format!("{indent}{}{eol}", body.trim_start());
            }
            3 => {
                let eol = if eol == "\r\n" { "\n" } else { "\r\n" };
                ls[i] = format!("{body}{eol}");
            }
            4 => ls[0].insert(0, '\u{feff}'),
            5 => {
                let l = ls.remove(i);
                let to = (i + 1 + arg / 7).min(ls.len());
                ls.insert(to, l);
            }
            6 | 7 => {
                // Empty (6) or copy (7) the block whose begin marker is at or after line i.
                let Some(b) = (i..ls.len()).find(|&j| ls[j].contains(">>> artoken:a ")) else {
                    continue;
                };
                let Some(e) = (b + 1..ls.len()).find(|&j| ls[j].contains("<<< artoken:a ")) else {
                    continue;
                };
                if kind % 8 == 6 {
                    ls.drain(b + 1..e);
                } else {
                    let copy: Vec<String> = ls[b..=e].to_vec();
                    ls.splice(e + 1..e + 1, copy);
                }
            }
            _ => unreachable!(),
        }
    }
    ls.concat()
}

/// keyring's command line (arguments split at NUL): parsing never panics, a usage error is
/// one line, and a `get`'s reply has the shape its mode and output ask for.
pub fn keyring_args(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let args: Vec<&str> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\0').collect()
    };
    let _ = keyring::parse_admin(&args);
    match keyring::parse_args(&args) {
        Err(e) => one_line("keyring usage", &e.to_string()),
        Ok(Invocation::Get(req)) => {
            let _ = artoken_tools::realm::ClientUrl::keyring(&req.service);
            let _ = req.username_fits();
            let reply = req.reply(T1);
            assert!(reply.contains(T1), "the reply carries the token");
            if req.output == Output::Json {
                let v: serde_json::Value = serde_json::from_str(reply.trim_end())
                    .unwrap_or_else(|e| panic!("JSON reply does not parse ({e}): {reply:?}"));
                assert!(v.is_object(), "JSON reply is an object: {reply:?}");
            }
        }
        Ok(_) => {}
    }
}

/// cargo's credential protocol: the whole conversation over the input. One reply line per
/// request line, each valid JSON; a token only where a fetch was decided.
pub fn cargo_protocol(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.contains("TKN") {
        return;
    }
    let (extra, input) = match text.split_once('\0') {
        Some((args, rest)) => (args.split(' ').map(str::to_string).collect(), rest),
        None => (Vec::new(), text),
    };
    for line in input.lines() {
        if let Decision::Reply(r) = cargo_credential::decide(line, &extra) {
            let l = r.to_line();
            assert!(!l.contains('\n'), "reply spans lines: {l:?}");
            serde_json::from_str::<serde_json::Value>(&l)
                .unwrap_or_else(|e| panic!("reply is not JSON ({e}): {l:?}"));
        }
    }
    let mut out = Vec::new();
    let mut fetches = 0;
    cargo_credential::serve(input.as_bytes(), &mut out, &extra, |f| {
        fetches += 1;
        Reply::token(T1, 1_700_000_000, f.bearer)
    })
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    let requests = input.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(
        lines.len(),
        1 + requests,
        "hello plus one reply per request"
    );
    for l in &lines {
        serde_json::from_str::<serde_json::Value>(l)
            .unwrap_or_else(|e| panic!("output line is not JSON ({e}): {l:?}"));
    }
    let with_token = lines.iter().filter(|l| l.contains(T1)).count();
    assert!(
        with_token <= fetches,
        "a token went out without a fetch: {out:?}"
    );
}

/// The requirements-file rewriter: any bytes in; only index lines for the repository
/// change, only in their token; a second rewrite with the same token changes nothing; a
/// rewrite with another token and back gives the same bytes.
/// `line` with the user info of every URL on `host` taken out (`https://u:p@host` -> `https://host`).
fn without_userinfo(line: &str, host: &str) -> String {
    let mut out = line.to_string();
    let at_host = format!("@{host}");
    while let Some(i) = out.find(&at_host) {
        let Some(j) = out[..i].rfind("://") else {
            break;
        };
        out.replace_range(j + 3..=i, "");
    }
    out
}

pub fn requirements_file(data: &[u8]) {
    if data.windows(3).any(|w| w == b"TKN") {
        return;
    }
    let repo = RepoUrl::new(ENDPOINT).unwrap();
    let one = requirements::rewrite(data, &repo, &Token::new(T1));
    assert_eq!(
        one.bytes.split(|&b| b == b'\n').count(),
        data.split(|&b| b == b'\n').count(),
        "the line count stays"
    );
    let changed: Vec<usize> = one.changes.iter().map(|c| c.line).collect();
    for (n, (before, after)) in data
        .split(|&b| b == b'\n')
        .zip(one.bytes.split(|&b| b == b'\n'))
        .enumerate()
    {
        if !changed.contains(&(n + 1)) {
            assert_eq!(
                before,
                after,
                "line {} changed without a change record",
                n + 1
            );
        }
    }
    for c in &one.changes {
        assert!(
            !c.before.contains(T1) && !c.after.contains(T1),
            "a change record shows the token: {c:?}"
        );
    }
    // Each changed line, judged from the bytes and not from the rewriter's own records: it was
    // an index line of this repository (host and path), and only its URL's user info changed,
    // to `aws:T1`.
    let (host, path) = (
        "corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com",
        "/pypi/a/",
    );
    let lines = |b: &[u8]| -> Vec<String> {
        b.split(|&b| b == b'\n')
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect()
    };
    let (before_lines, after_lines) = (lines(data), lines(&one.bytes));
    for n in &changed {
        let (before, after) = (&before_lines[n - 1], &after_lines[n - 1]);
        assert!(
            before.contains("-i") || before.contains("index-url"),
            "line {n} changed but has no index option: {before:?}"
        );
        // The token as the URL's password (the user name the line had stays; `aws` if none).
        assert!(
            after.contains(&format!(":{T1}@")),
            "line {n} does not hold the token"
        );
        // Host names are case-insensitive (the line keeps the user's spelling): compare lowered.
        let (before, after) = (before.to_ascii_lowercase(), after.to_ascii_lowercase());
        let user = format!(":{}@", T1.to_ascii_lowercase());
        // The repository's path, or its root without the last slash (`/pypi/a?…`): not another
        // repository whose name starts the same (`/pypi/ab/`).
        let at = format!("{user}{host}{}", path.trim_end_matches('/'));
        assert!(
            after.match_indices(&at).any(|(i, m)| {
                !after[i + m.len()..]
                    .starts_with(|c: char| c.is_ascii_alphanumeric() || "-_.~%".contains(c))
            }),
            "line {n} does not point at the repository with the token"
        );
        assert_eq!(
            without_userinfo(&after, host),
            without_userinfo(&before, host),
            "line {n} changed beyond its URL's user info"
        );
    }
    let again = requirements::rewrite(&one.bytes, &repo, &Token::new(T1));
    assert!(!again.changed(), "a second rewrite changes nothing");
    assert_eq!(again.bytes, one.bytes);
    let two = requirements::rewrite(&one.bytes, &repo, &Token::new(T2));
    assert_eq!(two.index_lines, one.index_lines);
    let back = requirements::rewrite(&two.bytes, &repo, &Token::new(T1));
    assert_eq!(
        back.bytes, one.bytes,
        "another token and back is the same file"
    );
    let swapped = String::from_utf8_lossy(&two.bytes).replace(T2, T1);
    assert_eq!(
        swapped,
        String::from_utf8_lossy(&one.bytes),
        "another token changes only the token"
    );
}
