//! Tests: artoken's blocks in .yarnrc.yml, settings.xml and NuGet.Config edited by hand (or by
//! the tool) after login, then login and logout again: never a panic, one clear line or a
//! correct file, and logout takes out artoken's entry and nothing else.

use super::{maven, nuget, yarnrc};

const T1: &str = "TKNONEhand";
const T2: &str = "TKNTWOhand";
const NPM: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/a/";
const FEED: &str = "https://x.example/nuget/a/v3/index.json";

/// The lines of `text` with their endings.
fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

/// The line numbers of the markers of block `artoken:a KIND` (begin, end).
fn block(ls: &[String], kind: &str) -> (usize, usize) {
    let b = ls
        .iter()
        .position(|l| l.contains(&format!(">>> artoken:a {kind} >>>")))
        .unwrap_or_else(|| panic!("no {kind} block in {ls:?}"));
    let e = ls
        .iter()
        .position(|l| l.contains(&format!("<<< artoken:a {kind} <<<")))
        .unwrap();
    (b, e)
}

fn split_eol(l: &str) -> (&str, &str) {
    let body = l.trim_end_matches(['\r', '\n']);
    (body, &l[body.len()..])
}

/// Each line strictly inside the block, changed by `f` (the text without its ending).
fn map_inside(text: &str, kind: &str, f: impl Fn(&str) -> String) -> String {
    let mut ls = lines(text);
    let (b, e) = block(&ls, kind);
    for l in &mut ls[b + 1..e] {
        let (body, eol) = split_eol(l);
        *l = format!("{}{eol}", f(body));
    }
    ls.concat()
}

/// The hand edits, each with the file after it.
fn edits(once: &str, kind: &str) -> Vec<(&'static str, String)> {
    let ls = lines(once);
    let (b, e) = block(&ls, kind);
    let mut emptied = ls.clone();
    emptied.drain(b + 1..e);
    let mut no_end = ls.clone();
    no_end.remove(e);
    let mut duplicated = ls.clone();
    duplicated.splice(e + 1..e + 1, ls[b..=e].iter().cloned());
    vec![
        ("emptied", emptied.concat()),
        (
            "re-indented deeper",
            map_inside(once, kind, |l| format!("   {l}")),
        ),
        (
            "re-indented shallower",
            map_inside(once, kind, |l| l.trim_start().to_string()),
        ),
        (
            "tabs",
            map_inside(once, kind, |l| {
                let t = l.trim_start();
                format!("{}{t}", "\t".repeat((l.len() - t.len()).div_ceil(2)))
            }),
        ),
        (
            "unicode spaces",
            map_inside(once, kind, |l| format!("\u{3000}{}", l.trim_start())),
        ),
        ("CRLF", {
            let mut ls = lines(once);
            for l in &mut ls[b..=e] {
                let (body, _) = split_eol(l);
                *l = format!("{body}\r\n");
            }
            ls.concat()
        }),
        ("BOM", format!("\u{feff}{once}")),
        ("end marker deleted", no_end.concat()),
        ("duplicated", duplicated.concat()),
    ]
}

fn one_line(what: &str, e: &str) {
    assert!(!e.contains('\n') && !e.contains('\r'), "{what}: {e:?}");
}

/// Runs every hand edit on `once` (login of "a" with T1 on `original`), then login (T2) and
/// logout: what each must give.
fn check(
    original: &str,
    once: &str,
    kinds: &[&str],
    login: &dyn Fn(&str) -> Result<String, String>,
    logout: &dyn Fn(&str) -> Result<String, String>,
    // Edits after which the entry no longer parses as one (yarn's YAML: indentation is
    // structure), so only "no panic, a token" holds.
    loose: &[&str],
) {
    for kind in kinds {
        for (what, edited) in edits(once, kind) {
            let ctx = format!("{kind} {what}:\n{edited}");
            let again = login(&edited);
            let out = logout(&edited);
            match what {
                "end marker deleted" => {
                    let e = again.expect_err(&ctx);
                    one_line(&ctx, &e);
                    assert!(e.starts_with("line "), "{ctx}: {e}");
                    one_line(&ctx, &out.expect_err(&ctx));
                }
                "duplicated" => {
                    let e = again.expect_err(&ctx);
                    one_line(&ctx, &e);
                    assert!(e.contains("second artoken:a"), "{ctx}: {e}");
                }
                "emptied" => {
                    let again = again.expect(&ctx);
                    assert!(again.contains(T2) && !again.contains(T1), "{ctx}\n{again}");
                    assert_eq!(logout(&again).unwrap(), original, "{ctx}");
                    assert_eq!(out.unwrap(), original, "{ctx}");
                }
                _ if loose.contains(&what) => {
                    let again = again.unwrap_or_else(|e| panic!("{ctx}: {e}"));
                    assert!(again.contains(T2) && !again.contains(T1), "{ctx}\n{again}");
                    let bom = if what == "BOM" { "\u{feff}" } else { "" };
                    assert_eq!(out.unwrap(), format!("{bom}{original}"), "{ctx}");
                }
                _ => {
                    // Refreshed by structure: only the token changes, the formatting stays.
                    let again = again.unwrap_or_else(|e| panic!("{ctx}: {e}"));
                    assert_eq!(again, edited.replace(T1, T2), "{ctx}");
                    let bom = if what == "BOM" { "\u{feff}" } else { "" };
                    let out = out.unwrap();
                    if what == "CRLF" {
                        assert_eq!(out.replace("\r\n", "\n"), original, "{ctx}");
                    } else {
                        assert_eq!(out, format!("{bom}{original}"), "{ctx}");
                    }
                }
            }
        }
    }
}

const SETTINGS: &str = "<?xml version=\"1.0\"?>\n<settings>\n  <servers>\n    <server>\n      <id>other</id>\n    </server>\n  </servers>\n</settings>\n";

#[test]
fn maven_survives_every_hand_edit() {
    for original in ["", SETTINGS] {
        let once = maven::login(original, "a", T1).unwrap();
        check(
            original,
            &once,
            &["server"],
            &|t| maven::login(t, "a", T2),
            &|t| maven::logout(t, "a"),
            &[],
        );
    }
}

const CONFIG: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <packageSources>\n    <add key=\"nuget.org\" value=\"https://api.nuget.org/v3/index.json\" />\n  </packageSources>\n</configuration>\n";

#[test]
fn nuget_survives_every_hand_edit() {
    for original in ["", CONFIG] {
        let once = nuget::login(original, "a", FEED, T1).unwrap();
        check(
            original,
            &once,
            &["source", "credentials"],
            &|t| nuget::login(t, "a", FEED, T2),
            &|t| nuget::logout(t, "a"),
            &[],
        );
    }
}

const YARNRC: &str =
    "nodeLinker: node-modules\nnpmScopes:\n  other:\n    npmRegistryServer: \"https://other/\"\n";

#[test]
fn yarn_survives_every_hand_edit() {
    for original in ["", YARNRC] {
        for scope in [None, Some("@corp")] {
            let once = yarnrc::login(original, "a", NPM, T1, scope).unwrap();
            let kinds: &[&str] = if scope.is_some() {
                &["npmScopes"]
            } else {
                &["npmRegistries", "npmRegistryServer"]
            };
            check(
                original,
                &once,
                kinds,
                &|t| yarnrc::login(t, "a", NPM, T2, scope),
                &|t| yarnrc::logout(t, "a"),
                // Indentation is YAML structure: a flattened entry is no entry any more.
                &["re-indented shallower", "tabs", "unicode spaces"],
            );
        }
    }
}

#[test]
fn nuget_entries_removed_by_dotnet_come_back_in_their_blocks() {
    // `dotnet nuget remove source a` takes out the <add> and the credentials element, and
    // leaves the comments (artoken's markers) where they were.
    let once = nuget::login(CONFIG, "a", FEED, T1).unwrap();
    let removed: String = lines(&once)
        .into_iter()
        .filter(|l| {
            !l.contains("key=\"a\"")
                && !l.contains("<a>")
                && !l.contains("</a>")
                && !l.contains("Username")
                && !l.contains("ClearTextPassword")
        })
        .collect();
    let again = nuget::login(&removed, "a", FEED, T2).unwrap();
    assert_eq!(again, once.replace(T1, T2));
    // An entry dotnet added by the same name outside artoken's blocks is the user's: login
    // says so in one line and logout leaves it.
    let theirs = removed.replace(
        "  </packageSources>",
        "    <add key=\"A\" value=\"https://mine/\" />\n  </packageSources>",
    );
    let e = nuget::login(&theirs, "a", FEED, T2).unwrap_err();
    assert!(e.contains("that artoken did not write"), "{e}");
    let out = nuget::logout(&theirs, "a").unwrap();
    assert!(
        out.contains("<add key=\"A\" value=\"https://mine/\" />"),
        "{out}"
    );
    assert!(!out.contains("artoken"), "{out}");
}

#[test]
fn yarn_entries_rewritten_by_yarn_config_set_are_refreshed_in_place_and_removed_by_logout() {
    // What `yarn config set` leaves of artoken's entries: no comments, its own quoting,
    // keys sorted, a blank line between top-level keys.
    let rewritten = "enableTelemetry: false\n\nnpmRegistries:\n  //corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/a:\n    npmAlwaysAuth: true\n    npmAuthToken: TKNONEhand\n\nnpmRegistryServer: \"https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/a/\"\n";
    let again = yarnrc::login(rewritten, "a", NPM, T2, None).unwrap();
    assert!(!again.contains(T1), "{again}");
    assert!(
        !again.contains("artoken-was"),
        "nothing switched off: {again}"
    );
    // Only the token changed, in yarn's own formatting; markers around the entries again.
    let unmarked: String = lines(&again)
        .into_iter()
        .filter(|l| !l.contains("artoken:a"))
        .collect();
    assert_eq!(unmarked, rewritten.replace("TKNONEhand", "\"TKNTWOhand\""));
    assert_eq!(yarnrc::login(&again, "a", NPM, T2, None).unwrap(), again);
    let out = yarnrc::logout(&again, "a").unwrap();
    assert_eq!(out, "enableTelemetry: false\n\nnpmRegistries:\n\n");
    // A scope pointing elsewhere is the user's: switched off, and back after logout.
    let theirs = "npmScopes:\n  corp:\n    npmRegistryServer: \"https://elsewhere/\"\n    npmAuthToken: mine\n";
    let once = yarnrc::login(theirs, "a", NPM, T1, Some("@corp")).unwrap();
    assert!(once.contains("# artoken-was:   corp:"), "{once}");
    assert_eq!(yarnrc::logout(&once, "a").unwrap(), theirs);
}
