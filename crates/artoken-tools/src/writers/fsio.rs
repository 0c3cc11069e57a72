//! Reading and writing config files: symlinks followed only to files of the same user,
//! atomic replacement, 0600 for anything holding a token, new directories 0700.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The file to really write for `path`: `path` itself, or the target of a symlink owned by
/// this user (a link into a dotfiles repository keeps working); see
/// [`artoken_core::ownership::write_through`], the one ownership check.
pub fn resolve(path: &Path) -> Result<PathBuf, String> {
    artoken_core::ownership::write_through(path, artoken_core::ownership::euid())
}

/// The file's text, `None` when it does not exist.
pub fn read(path: &Path) -> Result<Option<String>, String> {
    match fs::read(path) {
        Ok(b) => String::from_utf8(b)
            .map(Some)
            .map_err(|_| "is not UTF-8 text; artoken edits only text files".to_string()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::IsADirectory => Err("is a directory".into()),
        Err(e) => Err(format!("cannot read it: {e}")),
    }
}

/// Writes `text` to `path` atomically (`None`: removes the file). `secret` files get 0600;
/// others keep their mode (new ones 0644). Either way, temp files of `path` left by a killed
/// artoken (they may hold a token) are removed.
pub fn write(path: &Path, text: Option<&str>, secret: bool) -> Result<(), String> {
    write_as(path, text, secret, None)
}

/// [`write`] with the mode given (`None`: as `write` picks it).
pub fn write_as(
    path: &Path,
    text: Option<&str>,
    secret: bool,
    mode: Option<u32>,
) -> Result<(), String> {
    let Some(text) = text else {
        artoken_core::atomic::sweep_stale_temp_files(path);
        return match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("cannot remove it: {e}")),
        };
    };
    if let Some(dir) = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty() && !p.exists())
    {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mode = if let Some(m) = mode {
        m
    } else if secret {
        0o600
    } else {
        fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644)
    };
    artoken_core::atomic::write_atomic(path, text.as_bytes(), mode)
        .map_err(|e| format!("cannot write it: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn writes_private_files_and_follows_own_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/npmrc");
        write(&real, Some("a=1\n"), true).unwrap();
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(real.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        let link = dir.path().join(".npmrc");
        symlink(&real, &link).unwrap();
        assert_eq!(resolve(&link).unwrap(), real);
        assert_eq!(read(&link).unwrap().as_deref(), Some("a=1\n"));
        write(&link, None, true).unwrap();
        assert!(fs::symlink_metadata(&link).is_err());
        assert_eq!(read(&dir.path().join("missing")).unwrap(), None);
    }

    #[test]
    fn writing_or_removing_sweeps_temp_files_left_by_a_killed_writer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".npmrc");
        // The temp files of `.npmrc` are `..npmrc.tmp.PID.N`.
        let stale = dir.path().join("..npmrc.tmp.4242.7");
        fs::write(&stale, "//x/:_authToken=TOKEN\n").unwrap();
        write(&p, Some("a=1\n"), true).unwrap();
        assert!(!stale.exists());
        fs::write(&stale, "//x/:_authToken=TOKEN\n").unwrap();
        write(&p, None, true).unwrap();
        assert!(!stale.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_symlink_to_another_users_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("theirs");
        fs::write(&target, "x").unwrap();
        let me = unsafe { libc::geteuid() };
        let target = if me == 0 {
            let c = std::ffi::CString::new(target.to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::chown(c.as_ptr(), 4242, 4242) }, 0);
            target
        } else {
            PathBuf::from("/etc/passwd")
        };
        let link = dir.path().join(".pypirc");
        symlink(&target, &link).unwrap();
        let e = resolve(&link).unwrap_err();
        assert!(e.contains("belongs to another user"), "{e}");
    }
}
