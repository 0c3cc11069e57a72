//! What login records of a file it found, so logout gives the file back as it was: its mode
//! before login tightened it to 0600, and that it existed (one that was empty stays, empty).
//!
//! The record is one comment line at the end of the file, written by the login that finds
//! the file without any artoken block (so it sees the user's own mode), and taken out by the
//! logout that removes the last block:
//!
//! ```text
//! # artoken-before-login: mode 0644
//! ```
//!
//! A file without the line is one login created (or an older artoken wrote): logout removes it
//! when nothing is left, and leaves its mode alone.

use super::lines::{Doc, Style};
use super::plan::Change;

const KEY: &str = "artoken-before-login: mode ";

/// Modes logout gives back: never setuid/setgid/sticky, never writable by others, whatever
/// the line says (it is text in a file that may come from a repository).
const RESTORABLE: u32 = 0o775;

fn record_line(style: Style, mode: u32) -> String {
    format!("{} {KEY}{mode:04o}{}", style.open, style.close)
}

/// The line index and mode of the record, if `text` has one.
pub fn find(text: &str, style: Style) -> Option<(usize, u32)> {
    let d = Doc::parse(text, style);
    d.lines.iter().enumerate().find_map(|(i, l)| {
        let t = l.text.trim();
        let t = t.strip_prefix(style.open)?;
        let t = t.strip_suffix(style.close.trim()).unwrap_or(t).trim();
        let digits = t.strip_prefix(KEY)?;
        let mode = u32::from_str_radix(digits, 8).ok()?;
        Some((i, mode & RESTORABLE))
    })
}

/// True when `text` holds an artoken block (or markers too broken to tell).
pub fn has_blocks(text: &str, style: Style) -> bool {
    Doc::parse(text, style)
        .blocks()
        .map_or(true, |b| !b.is_empty())
}

/// `text` without its record line (byte for byte what it was before [`add`]).
pub fn remove(text: &str, style: Style) -> String {
    let Some((i, _)) = find(text, style) else {
        return text.to_string();
    };
    let mut d = Doc::parse(text, style);
    let last_without_eol = d.lines[i].eol.is_empty();
    d.lines.remove(i);
    if last_without_eol && i == d.lines.len() && i > 0 {
        // The record was added after a last line without an ending: it gets none back.
        d.lines[i - 1].eol.clear();
    }
    d.render()
}

/// `text` with the record of `mode` as its last line (a last line without an ending keeps
/// none: the record takes its place at the end).
pub fn add(text: &str, style: Style, mode: u32) -> String {
    let d = Doc::parse(text, style);
    let line = record_line(style, mode & 0o7777);
    match d.lines.last() {
        None => format!("{line}{}", d.eol),
        Some(l) if l.eol.is_empty() => {
            let eol = if l.text.ends_with('\r') {
                "\r\n"
            } else {
                d.eol.as_str()
            };
            format!("{text}{eol}{line}")
        }
        Some(_) => format!("{text}{line}{}", d.eol),
    }
}

/// After login: records what the file was, when login is the first to put a block in a file
/// that existed and either tightens its mode or would leave it empty at logout. A record in a
/// file without blocks (stale, or copied from elsewhere) is replaced by the truth.
pub(super) fn after_login(c: &mut Change, style: Style) {
    let (Some(before), Some(after)) = (&c.before, &c.after) else {
        return;
    };
    if !c.changed() || has_blocks(before, style) {
        return;
    }
    let mode = c.mode_before.unwrap_or(0o644);
    let mut out = remove(after, style);
    if (c.secret && mode & 0o7777 != 0o600) || before.is_empty() {
        out = add(&out, style, mode);
    }
    c.after = Some(out);
}

/// After logout: when the last block went, the record goes too, the file keeps existing
/// (empty, if it was) and gets its mode back, unless the user changed it since login.
pub(super) fn after_logout(c: &mut Change, style: Style) {
    let Some(after) = &c.after else { return };
    if !c.changed() || has_blocks(after, style) {
        return;
    }
    let Some((_, mode)) = find(after, style) else {
        return;
    };
    c.after = Some(remove(after, style));
    c.mode = Some(match c.mode_before {
        Some(now) if c.secret && now != 0o600 => now,
        _ => mode,
    });
}

#[cfg(test)]
mod tests {
    use super::super::lines::{HASH, XML};
    use super::*;

    #[test]
    fn add_then_remove_gives_back_every_byte() {
        for style in [HASH, XML] {
            for t in ["", "a", "a\n", "a\r\nb\r\n", "a\r", "\u{feff}x\n\n"] {
                let with = add(t, style, 0o644);
                assert_eq!(find(&with, style).map(|(_, m)| m), Some(0o644), "{with:?}");
                assert_eq!(remove(&with, style), t, "{with:?}");
                assert!(!has_blocks(&with, style));
            }
        }
        assert_eq!(
            add("a\n", HASH, 0o640),
            "a\n# artoken-before-login: mode 0640\n"
        );
        assert_eq!(
            add("<a/>\r\n", XML, 0o644),
            "<a/>\r\n<!-- artoken-before-login: mode 0644 -->\r\n"
        );
    }

    use super::super::{Options, Target, Tool, plan};
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    /// `artoken login TOOL NAME --file FILE` then its writes, as the CLI does them.
    fn login(tool: Tool, name: &str, file: &Path) {
        let endpoint = format!("https://{name}-1.d.codeartifact.eu-west-1.amazonaws.com/x/{name}/");
        let t = Target {
            name,
            endpoint: &endpoint,
            token: Some("TKNrestore"),
        };
        let ctx = plan::Context {
            env: &|_| None,
            cwd: file.parent().unwrap().to_path_buf(),
        };
        let o = Options {
            file: Some(file.to_path_buf()),
            ..Options::default()
        };
        plan::login(tool, &t, &o, &ctx).unwrap().apply().unwrap();
    }

    fn logout(tool: Tool, name: &str, file: &Path) {
        let ctx = plan::Context {
            env: &|_| None,
            cwd: file.parent().unwrap().to_path_buf(),
        };
        let o = Options {
            file: Some(file.to_path_buf()),
            ..Options::default()
        };
        plan::logout(tool, name, &o, &ctx).unwrap().apply().unwrap();
    }

    #[test]
    fn logout_gives_back_the_mode_and_keeps_a_file_that_was_empty() {
        let dir = tempfile::tempdir().unwrap();
        for (tool, file, text) in [
            (Tool::Npm, ".npmrc", "registry=https://r.example/\n"),
            (Tool::Npm, "empty.npmrc", ""),
            (Tool::Maven, "settings.xml", ""),
            (
                Tool::Nuget,
                "NuGet.Config",
                "<configuration>\n</configuration>",
            ),
            (Tool::Netrc, ".netrc", "machine m login u password p\n"),
        ] {
            let p = dir.path().join(file);
            fs::write(&p, text).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
            login(tool, "a", &p);
            assert_eq!(mode(&p), 0o600, "{file}");
            let during = fs::read_to_string(&p).unwrap();
            assert!(
                during.contains("artoken-before-login: mode 0644"),
                "{during}"
            );
            // npm has one default registry: a second repository only with a scope.
            if tool != Tool::Npm {
                login(tool, "b", &p);
                logout(tool, "a", &p);
                assert_eq!(mode(&p), 0o600, "{file}: b's token is still there");
                logout(tool, "b", &p);
            } else {
                logout(tool, "a", &p);
            }
            assert_eq!(fs::read_to_string(&p).unwrap(), text, "{file}");
            assert_eq!(mode(&p), 0o644, "{file}");
        }
    }

    #[test]
    fn a_file_login_created_goes_and_a_mode_changed_since_login_stays() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".npmrc");
        login(Tool::Npm, "a", &p);
        assert!(
            !fs::read_to_string(&p)
                .unwrap()
                .contains("artoken-before-login")
        );
        logout(Tool::Npm, "a", &p);
        assert!(!p.exists());
        fs::write(&p, "x=1\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        login(Tool::Npm, "a", &p);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o400)).unwrap();
        logout(Tool::Npm, "a", &p);
        assert_eq!(mode(&p), 0o400);
        assert_eq!(fs::read_to_string(&p).unwrap(), "x=1\n");
    }

    #[test]
    fn a_record_in_a_file_without_blocks_is_replaced_by_the_real_mode() {
        // Copied in from a repository: it would otherwise make logout loosen the mode.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".npmrc");
        fs::write(&p, "x=1\n# artoken-before-login: mode 0775\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        login(Tool::Npm, "a", &p);
        assert!(!fs::read_to_string(&p).unwrap().contains("0775"));
        logout(Tool::Npm, "a", &p);
        assert_eq!(mode(&p), 0o600);
        assert_eq!(fs::read_to_string(&p).unwrap(), "x=1\n");
    }

    #[test]
    fn a_recorded_mode_never_grants_more_than_group_write() {
        assert_eq!(
            find("# artoken-before-login: mode 4777\n", HASH).unwrap().1,
            0o775
        );
        assert_eq!(find("# artoken-before-login: mode 9\n", HASH), None);
        assert_eq!(find("# artoken-before-login: mode \n", HASH), None);
    }
}
