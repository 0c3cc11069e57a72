//! The real binary on files whose artoken blocks were edited by hand after `login` (emptied,
//! re-indented, tabs, CRLF, a BOM, the end marker deleted, the block duplicated): `login` and
//! `logout` again never crash (they once panicked on string slicing, and with panic=abort the
//! core held the token), and either fix the file or say what is wrong in one line. And
//! `logout` gives back the file's mode and keeps a file that was empty before login.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The hand edits of the block of `marker` (e.g. `artoken:mvn server`), each as the file after it.
fn edits(text: &str, marker: &str) -> Vec<(&'static str, String)> {
    let ls: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let b = ls
        .iter()
        .position(|l| l.contains(&format!(">>> {marker} >>>")))
        .unwrap_or_else(|| panic!("no {marker} block in {text}"));
    let e = ls
        .iter()
        .position(|l| l.contains(&format!("<<< {marker} <<<")))
        .unwrap();
    let inside = |f: &dyn Fn(&str) -> String| {
        let mut v = ls.clone();
        for l in &mut v[b + 1..e] {
            let body = l.trim_end_matches(['\r', '\n']).to_string();
            let eol = l[body.len()..].to_string();
            *l = format!("{}{eol}", f(&body));
        }
        v.concat()
    };
    let mut emptied = ls.clone();
    emptied.drain(b + 1..e);
    let mut no_end = ls.clone();
    no_end.remove(e);
    let mut duplicated = ls.clone();
    duplicated.splice(e + 1..e + 1, ls[b..=e].iter().cloned());
    vec![
        ("emptied", emptied.concat()),
        ("re-indented", inside(&|l| format!("     {l}"))),
        ("flattened", inside(&|l| l.trim_start().to_string())),
        ("tabs", inside(&|l| format!("\t{}", l.trim_start()))),
        ("CRLF", inside(&|l| format!("{l}\r"))),
        ("BOM", format!("\u{feff}{text}")),
        ("end marker deleted", no_end.concat()),
        ("duplicated", duplicated.concat()),
    ]
}

/// Not a crash: success, or exit 1 with one line on stderr.
fn no_crash(what: &str, out: &Output) -> bool {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{what}: {err}");
    match out.status.code() {
        Some(0) => true,
        Some(1) => {
            assert_eq!(err.lines().count(), 1, "{what}: {err}");
            assert!(err.contains("line "), "{what}: names the line: {err}");
            false
        }
        other => panic!("{what}: exit {other:?} (a crash): {err}"),
    }
}

#[test]
fn hand_edited_blocks_never_crash_login_or_logout() {
    let env = setup_all_formats();
    let home = env.sb.home();
    let cases: [(&str, &str, PathBuf, &[&str]); 3] = [
        (
            "maven",
            "mvn",
            home.join(".m2/settings.xml"),
            &["artoken:mvn server"],
        ),
        (
            "nuget",
            "nu",
            home.join(".nuget/NuGet/NuGet.Config"),
            &["artoken:nu source", "artoken:nu credentials"],
        ),
        (
            "yarn",
            "js",
            home.join(".yarnrc.yml"),
            &["artoken:js npmRegistries", "artoken:js npmRegistryServer"],
        ),
    ];
    let mut fixed = 0;
    let mut refused = 0;
    for (tool, repo, file, markers) in cases {
        env.ok(&["login", tool, repo]);
        let once = read(&file);
        let token = env.emu.issued_tokens()[0].clone();
        assert!(once.contains(&token));
        for marker in markers {
            for (what, edited) in edits(&once, marker) {
                let ctx = format!("{tool} {marker} {what}");
                std::fs::write(&file, &edited).unwrap();
                if no_crash(&ctx, &env.run(&["login", tool, repo])) {
                    let again = read(&file);
                    assert!(again.contains(&token), "{ctx}: {again}");
                    fixed += 1;
                } else {
                    assert_eq!(read(&file), edited, "{ctx}: a refused login writes nothing");
                    refused += 1;
                }
                std::fs::write(&file, &edited).unwrap();
                if no_crash(&ctx, &env.run(&["logout", tool, repo])) && file.exists() {
                    let out = read(&file);
                    assert!(!out.contains(&token), "{ctx}: logout left the token: {out}");
                    assert!(!out.contains(&format!("{repo} ")), "{ctx}: {out}");
                }
            }
        }
        std::fs::write(&file, &once).unwrap();
        env.ok(&["logout", tool, repo]);
        assert!(
            !file.exists(),
            "{tool}: login created it, logout removes it"
        );
    }
    // The broken markers (deleted, duplicated) are refused; the rest come out right.
    assert_eq!(refused, 2 * 5, "fixed {fixed}, refused {refused}");
    assert_eq!(fixed, 6 * 5);
}

#[test]
fn logout_gives_back_the_mode_and_keeps_a_file_that_was_empty() {
    let env = setup_all_formats();
    let home = env.sb.home();
    let settings = home.join(".m2/settings.xml");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(&settings, "").unwrap();
    std::fs::set_permissions(&settings, std::fs::Permissions::from_mode(0o644)).unwrap();
    let yarnrc = home.join(".yarnrc.yml");
    let yarn_before = "nodeLinker: node-modules\n";
    std::fs::write(&yarnrc, yarn_before).unwrap();
    std::fs::set_permissions(&yarnrc, std::fs::Permissions::from_mode(0o640)).unwrap();

    env.ok(&["login", "maven", "mvn"]);
    env.ok(&["login", "yarn", "js"]);
    env.ok(&["login", "nuget", "nu"]);
    for f in [&settings, &yarnrc] {
        assert_eq!(mode(f), 0o600, "{}: a token in it", f.display());
    }
    let nuget = home.join(".nuget/NuGet/NuGet.Config");
    assert!(read(&nuget).contains("ClearTextPassword"));

    env.ok(&["logout", "maven", "mvn"]);
    env.ok(&["logout", "yarn", "js"]);
    env.ok(&["logout", "nuget", "nu"]);
    assert!(settings.exists(), "an empty file from before login stays");
    assert_eq!(read(&settings), "");
    assert_eq!(mode(&settings), 0o644);
    assert_eq!(read(&yarnrc), yarn_before);
    assert_eq!(mode(&yarnrc), 0o640);
    assert!(!nuget.exists(), "a file login created goes");
}
