//! What `login pip|uv --helper` adds besides the config lines: the `keyring` shim in
//! ~/.local/bin, a script that runs artoken and names the logins that need it, so the logout of
//! the last one removes it (and never a shim the user installed with `artoken keyring install`).
//!
//! It runs artoken with the config files login read (as pnpm's tokenHelper does), so it
//! answers the same wherever the client runs.
//!
//! ```text
//! #!/bin/sh
//! # artoken keyring shim: pip and uv run it as `keyring`
//! exec '/usr/local/bin/artoken' --config '/home/me/proj/artoken.yml' keyring "$@"
//! # artoken-login: pip demo /home/me/.config/pip/pip.conf
//! # artoken-login: uv demo /home/me/.config/uv/uv.toml
//! ```

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::plan::Change;
use crate::keyring::{self, SHIM_NAME, ShimState, USERNAME};

/// Starts each line of the shim that names a login needing it (after `exec`: never run).
const RECORD: &str = "# artoken-login: ";

/// The most a shim may hold (`keyring::shim_state` takes a bigger file for someone else's).
const MAX_LEN: usize = 4000;

/// The shim's mode: run by pip and uv as the user.
const MODE: u32 = 0o755;

/// `url` with the user name `aws` and no password: what pip (before 26.2) and uv need in the
/// index URL before they ask a keyring.
pub fn with_user(url: &str) -> Result<String, String> {
    let mut u = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    u.set_password(None)
        .and_then(|()| u.set_username(USERNAME))
        .map_err(|()| format!("{url:?} cannot carry a user name"))?;
    Ok(u.to_string())
}

/// The directory of the shim login installs: `~/.local/bin`, as `artoken keyring install`.
pub fn shim_dir(home: &Path) -> PathBuf {
    home.join(".local/bin")
}

/// One login's record: `TOOL REPO FILE`.
pub fn record(tool: &str, name: &str, file: &Path) -> Result<String, String> {
    match file.to_str() {
        Some(f) if !f.contains(['\n', '\r']) => Ok(format!("{tool} {name} {f}")),
        _ => Err(format!(
            "{}: artoken records the file a --helper login edits by name, and cannot this one (not UTF-8, or a line break in it)",
            file.display()
        )),
    }
}

/// The logins a shim names.
pub fn records(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix(RECORD))
        .collect()
}

/// The `--config ...` arguments of the shim's `exec` line, as written (empty: none, artoken
/// then finds the config from the directory pip or uv runs in).
fn config_args(text: &str) -> &str {
    let Some(exec) = text.lines().find(|l| l.starts_with("exec ")) else {
        return "";
    };
    match (exec.find(" --config "), exec.rfind(" keyring")) {
        (Some(a), Some(b)) if a < b => &exec[a + 1..b],
        _ => "",
    }
}

/// The `--config ...` arguments the shim's `exec` line gets for `config`.
fn config_args_of(config: &[PathBuf]) -> String {
    config
        .iter()
        .map(|c| format!("--config {}", quote(&c.to_string_lossy())))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `'text'` for sh.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The shim running `exe` with the config files `config` (absolute, one line each), naming
/// `records`.
pub fn script(exe: &Path, config: &[PathBuf], records: &[&str]) -> String {
    let mut s = keyring::script(exe);
    if !config.is_empty() {
        let exec = format!("exec {} keyring", quote(&exe.to_string_lossy()));
        let with = format!(
            "exec {} {} keyring",
            quote(&exe.to_string_lossy()),
            config_args_of(config)
        );
        s = s.replacen(&exec, &with, 1);
    }
    for r in records {
        s.push_str(RECORD);
        s.push_str(r);
        s.push('\n');
    }
    s
}

/// What is at the shim's path.
enum Found {
    Absent,
    /// An artoken shim no login recorded (`artoken keyring install`): the user's.
    Users,
    /// A shim logins installed: its text and mode.
    Recorded(String, u32),
    /// Anything else.
    Foreign,
}

fn found(path: &Path) -> Result<Found, String> {
    match keyring::shim_state(path) {
        ShimState::Absent => return Ok(Found::Absent),
        ShimState::Foreign => return Ok(Found::Foreign),
        ShimState::Ours => {}
    }
    let meta = fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.file_type().is_symlink() {
        return Ok(Found::Users);
    }
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(if records(&text).is_empty() {
        Found::Users
    } else {
        Found::Recorded(text, meta.permissions().mode() & 0o7777)
    })
}

fn change(
    path: PathBuf,
    before: Option<String>,
    after: Option<String>,
    mode: Option<u32>,
) -> Change {
    Change {
        real: path.clone(),
        path,
        before,
        after,
        secret: false,
        mode_before: mode,
        mode: Some(MODE),
    }
}

/// `config` made absolute; a file whose name is not UTF-8 or holds a line break is refused
/// (the shim names it on one line, beside the records).
fn config_paths(config: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    config
        .iter()
        .map(|c| {
            let abs = std::path::absolute(c).map_err(|e| format!("{}: {e}", c.display()))?;
            match abs.to_str() {
                Some(t) if !t.contains(['\n', '\r']) => Ok(abs),
                _ => Err(format!(
                    "{}: the keyring shim names the config files it reads on one line, and cannot this one (not UTF-8, or a line break in it)",
                    c.display()
                )),
            }
        })
        .collect()
}

/// The change that installs the shim in `dir` running `exe` with the config files `config`
/// (or adds login `rec` to the one logins installed there, now running `exe` with `config`);
/// `None` when the user's own artoken shim is there (it stays theirs: logout never removes it).
pub fn login(
    dir: &Path,
    exe: &Path,
    config: &[PathBuf],
    rec: &str,
) -> Result<Option<Change>, String> {
    let config = config_paths(config)?;
    let path = dir.join(SHIM_NAME);
    let (before, mode) = match found(&path)? {
        Found::Absent => (None, None),
        Found::Users => return Ok(None),
        Found::Recorded(text, mode) => (Some(text), Some(mode)),
        Found::Foreign => {
            return Err(format!(
                "{} exists and is not artoken's keyring shim; not touching it (move it, or install artoken's elsewhere with `artoken keyring install --dir DIR` and log in without --helper)",
                path.display()
            ));
        }
    };
    let mut recs = before.as_deref().map(records).unwrap_or_default();
    let wanted = config_args_of(&config);
    // One shim answers every --helper login: a login with other config files would make the
    // others answer from those, where their repositories may not be (pip would get nothing).
    let others: Vec<&str> = recs.iter().copied().filter(|r| *r != rec).collect();
    if let Some(before) = &before
        && !others.is_empty()
        && config_args(before) != wanted
    {
        let shown = |a: &str| {
            if a.is_empty() {
                "the config artoken finds where pip or uv runs".to_string()
            } else {
                a.to_string()
            }
        };
        return Err(format!(
            "{}: the keyring shim the other --helper logins use ({}) runs artoken with {}, this login with {}; log in with the same config files, or log out of those first",
            path.display(),
            others.join("; "),
            shown(config_args(before)),
            shown(&wanted),
        ));
    }
    if !recs.contains(&rec) {
        recs.push(rec);
    }
    let after = script(exe, &config, &recs);
    if after.len() > MAX_LEN {
        return Err(format!(
            "{}: too many --helper logins recorded in it; log out of some first",
            path.display()
        ));
    }
    Ok(Some(change(path, before, Some(after), mode)))
}

/// The change that takes login `rec` out of the shim in `dir`, and the shim itself with the
/// last login; `None` when the shim there does not name `rec`.
pub fn logout(dir: &Path, rec: &str) -> Result<Option<Change>, String> {
    let path = dir.join(SHIM_NAME);
    let Found::Recorded(text, mode) = found(&path)? else {
        return Ok(None);
    };
    if !records(&text).contains(&rec) {
        return Ok(None);
    }
    let line = format!("{RECORD}{rec}");
    let rest: String = text
        .split_inclusive('\n')
        .filter(|l| l.trim_end_matches(['\r', '\n']) != line)
        .collect();
    let after = (!records(&rest).is_empty()).then_some(rest);
    Ok(Some(change(path, Some(text), after, Some(mode))))
}

/// One line each for what would keep pip and uv from running the shim in `dir`, as
/// `artoken keyring install` says it.
pub fn path_notes(dir: &Path, path_var: &str) -> Vec<String> {
    let shim = dir.join(SHIM_NAME);
    if !keyring::on_path(dir, path_var) {
        return vec![format!(
            "{} is not on PATH; add it (export PATH=\"{}:$PATH\") so pip and uv find `keyring`",
            dir.display(),
            dir.display()
        )];
    }
    keyring::shadowing(&shim, path_var)
        .map(|other| {
            format!(
                "{} comes first on PATH and will answer instead of artoken",
                other.display()
            )
        })
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXE: &str = "/opt/artoken/bin/artoken";

    fn apply(c: &Change) {
        super::super::fsio::write_as(&c.real, c.after.as_deref(), c.secret, c.mode).unwrap();
    }

    #[test]
    fn the_url_gets_the_user_name_only() {
        assert_eq!(
            with_user("https://d-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/r/simple/").unwrap(),
            "https://aws@d-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/r/simple/"
        );
        assert_eq!(
            with_user("http://x:secret@127.0.0.1:9/pypi/r/simple/").unwrap(),
            "http://aws@127.0.0.1:9/pypi/r/simple/"
        );
        assert!(with_user("mailto:x").is_err());
    }

    #[test]
    fn the_last_logout_removes_the_shim_logins_installed() {
        let home = tempfile::tempdir().unwrap();
        let dir = shim_dir(home.path());
        let shim = dir.join("keyring");
        let pip = record("pip", "demo", Path::new("/h/.config/pip/pip.conf")).unwrap();
        let uv = record("uv", "demo", Path::new("/h/.config/uv/uv.toml")).unwrap();
        let c = login(&dir, Path::new(EXE), &[], &pip).unwrap().unwrap();
        assert_eq!(c.action(), "created");
        apply(&c);
        assert_eq!(keyring::shim_state(&shim), ShimState::Ours);
        assert_eq!(
            fs::metadata(&shim).unwrap().permissions().mode() & 0o777,
            0o755
        );
        let text = fs::read_to_string(&shim).unwrap();
        assert!(
            text.starts_with(&keyring::script(Path::new(EXE)))
                && text.ends_with("\n# artoken-login: pip demo /h/.config/pip/pip.conf\n"),
            "{text}"
        );
        // Twice is once; a second tool shares it; a moved artoken is followed.
        assert!(
            !login(&dir, Path::new(EXE), &[], &pip)
                .unwrap()
                .unwrap()
                .changed()
        );
        apply(
            &login(&dir, Path::new("/new/artoken"), &[], &uv)
                .unwrap()
                .unwrap(),
        );
        let text = fs::read_to_string(&shim).unwrap();
        assert_eq!(records(&text), [pip.as_str(), uv.as_str()]);
        assert!(text.contains("exec '/new/artoken' keyring"), "{text}");
        // A logout that never installed it changes nothing.
        let other = record("pip", "other", Path::new("/x")).unwrap();
        assert!(logout(&dir, &other).unwrap().is_none());
        let c = logout(&dir, &pip).unwrap().unwrap();
        assert_eq!(c.action(), "updated");
        apply(&c);
        assert_eq!(records(&fs::read_to_string(&shim).unwrap()), [uv.as_str()]);
        let c = logout(&dir, &uv).unwrap().unwrap();
        assert_eq!(c.action(), "removed");
        apply(&c);
        assert!(fs::symlink_metadata(&shim).is_err());
        assert!(logout(&dir, &uv).unwrap().is_none());
    }

    #[test]
    fn a_login_with_other_config_files_than_the_shims_other_logins_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let dir = shim_dir(home.path());
        let a = [PathBuf::from("/proj-a/artoken.yml")];
        let b = [PathBuf::from("/proj-b/artoken.yml")];
        let pip = record("pip", "demo", Path::new("/h/.config/pip/pip.conf")).unwrap();
        let uv = record("uv", "demo", Path::new("/h/.config/uv/uv.toml")).unwrap();
        apply(&login(&dir, Path::new(EXE), &a, &pip).unwrap().unwrap());
        let shim = fs::read_to_string(dir.join("keyring")).unwrap();
        assert_eq!(config_args(&shim), "--config '/proj-a/artoken.yml'");
        let e = login(&dir, Path::new(EXE), &b, &uv).unwrap_err();
        assert!(
            e.contains("runs artoken with --config '/proj-a/artoken.yml', this login with --config '/proj-b/artoken.yml'")
                && e.contains("pip demo"),
            "{e}"
        );
        let e = login(&dir, Path::new(EXE), &[], &uv).unwrap_err();
        assert!(
            e.contains("the config artoken finds where pip or uv runs"),
            "{e}"
        );
        assert_eq!(fs::read_to_string(dir.join("keyring")).unwrap(), shim);
        // The same files, or the only login again with new ones: fine.
        apply(&login(&dir, Path::new(EXE), &a, &uv).unwrap().unwrap());
        apply(&logout(&dir, &uv).unwrap().unwrap());
        apply(&login(&dir, Path::new(EXE), &b, &pip).unwrap().unwrap());
        let shim = fs::read_to_string(dir.join("keyring")).unwrap();
        assert_eq!(config_args(&shim), "--config '/proj-b/artoken.yml'");
        assert_eq!(config_args(&keyring::script(Path::new(EXE))), "");
    }

    #[test]
    fn a_shim_the_user_installed_or_anything_else_is_never_touched() {
        let home = tempfile::tempdir().unwrap();
        let dir = shim_dir(home.path());
        let rec = record("pip", "demo", Path::new("/p")).unwrap();
        for kind in [keyring::ShimKind::Symlink, keyring::ShimKind::Script] {
            keyring::install(&dir, Path::new(EXE), kind).unwrap();
            assert!(login(&dir, Path::new(EXE), &[], &rec).unwrap().is_none());
            assert!(logout(&dir, &rec).unwrap().is_none());
            keyring::uninstall(&dir).unwrap();
        }
        fs::write(dir.join("keyring"), "#!/bin/sh\necho someone else's\n").unwrap();
        let e = login(&dir, Path::new(EXE), &[], &rec).unwrap_err();
        assert!(e.contains("is not artoken's keyring shim"), "{e}");
        assert!(logout(&dir, &rec).unwrap().is_none());
        assert_eq!(
            fs::read_to_string(dir.join("keyring")).unwrap(),
            "#!/bin/sh\necho someone else's\n"
        );
    }

    #[test]
    fn records_need_a_file_name_on_one_line_and_a_bounded_shim() {
        assert!(record("pip", "a", Path::new("/a\nb")).is_err());
        let home = tempfile::tempdir().unwrap();
        let dir = shim_dir(home.path());
        let long = format!("/{}", "d".repeat(200));
        let mut n = 0;
        let e = loop {
            let rec = record("pip", &format!("r{n}"), Path::new(&long)).unwrap();
            match login(&dir, Path::new(EXE), &[], &rec) {
                Ok(c) => apply(&c.unwrap()),
                Err(e) => break e,
            }
            n += 1;
        };
        assert!(e.contains("too many --helper logins"), "{e}");
        assert!(n > 10, "{n}");
        // Still artoken's, and still what it was.
        assert_eq!(keyring::shim_state(&dir.join("keyring")), ShimState::Ours);
    }

    #[test]
    fn path_notes_say_what_keeps_the_clients_from_the_shim() {
        let home = tempfile::tempdir().unwrap();
        let dir = shim_dir(home.path());
        fs::create_dir_all(&dir).unwrap();
        let n = path_notes(&dir, "/usr/bin");
        assert_eq!(n.len(), 1);
        assert!(n[0].contains("is not on PATH"), "{n:?}");
        assert!(path_notes(&dir, &format!("{}:/usr/bin", dir.display())).is_empty());
        let first = home.path().join("first");
        fs::create_dir_all(&first).unwrap();
        fs::write(first.join("keyring"), "").unwrap();
        let n = path_notes(&dir, &format!("{}:{}", first.display(), dir.display()));
        assert!(n[0].contains("comes first on PATH"), "{n:?}");
    }

    #[test]
    fn the_shim_runs_artoken_with_the_config_files_login_read() {
        let home = tempfile::tempdir().unwrap();
        let dir = shim_dir(home.path());
        // A stand-in for artoken that prints its arguments, one a line.
        let exe = home.path().join("it's artoken");
        fs::write(&exe, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n").unwrap();
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        let config = [
            home.path().join("proj/it's a.yml"),
            home.path().join("b $HOME.yml"),
        ];
        let rec = record("pip", "demo", Path::new("/p")).unwrap();
        apply(&login(&dir, &exe, &config, &rec).unwrap().unwrap());
        let shim = dir.join("keyring");
        assert_eq!(keyring::shim_state(&shim), ShimState::Ours);
        let out = std::process::Command::new(&shim)
            .args(["get", "https://x/simple/", "aws"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let c0 = config[0].display().to_string();
        let c1 = config[1].display().to_string();
        assert_eq!(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .collect::<Vec<_>>(),
            [
                "--config",
                c0.as_str(),
                "--config",
                c1.as_str(),
                "keyring",
                "get",
                "https://x/simple/",
                "aws"
            ]
        );
        // Logging in again from elsewhere follows that config; relative paths are made
        // absolute; a name that would break the shim's lines is refused.
        let cwd = std::env::current_dir().unwrap();
        apply(
            &login(&dir, &exe, &[PathBuf::from("rel.yml")], &rec)
                .unwrap()
                .unwrap(),
        );
        let text = fs::read_to_string(&shim).unwrap();
        assert!(
            text.contains(&format!(
                "--config '{}' keyring",
                cwd.join("rel.yml").display()
            )),
            "{text}"
        );
        let e = login(&dir, &exe, &[PathBuf::from("/a\n# artoken-login: x")], &rec).unwrap_err();
        assert!(e.contains("line break"), "{e}");
        assert_eq!(fs::read_to_string(&shim).unwrap(), text);
    }
}
