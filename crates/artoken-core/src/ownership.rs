//! Whether a file or directory is ours to read or write: the one ownership check (git's
//! `safe.directory`, ssh's `StrictModes`).
//!
//! - **Read** (a config file found by discovery, the directory holding it, a symlink on the
//!   way): owned by the current user or root, and not writable by every user. A directory
//!   writable by every user passes only with the sticky bit (`/tmp`): there nobody else can
//!   replace a file we own. Group-writable passes, as in git: user-private groups (umask 002)
//!   make it the default on many systems, and a group is an administrator's choice of whom to
//!   trust.
//! - **Write** (the cache dir, a symlink's target written through): owned by the current user;
//!   root-owned is not ours either.
//!
//! [`check`] is the rule, a pure function of the owner, the mode and the current user; the
//! rest applies it to paths.

use std::fmt;
use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

unsafe extern "C" {
    /// POSIX `geteuid(2)`: cannot fail. Declared here rather than pulling in `libc` for one call
    /// (`uid_t` is a 32-bit unsigned integer on every Unix Rust targets).
    safe fn geteuid() -> u32;
}

/// The user this process acts as (the effective uid).
pub fn euid() -> u32 {
    geteuid()
}

/// `S_IFMT`, `S_IFDIR`, `S_ISVTX` (POSIX values, the same on every Unix).
const TYPE_MASK: u32 = 0o170000;
const DIRECTORY: u32 = 0o040000;
const STICKY: u32 = 0o1000;
const WORLD_WRITABLE: u32 = 0o002;

/// What the rule looks at: the owner and the mode (type and permission bits, `st_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub uid: u32,
    pub mode: u32,
}

impl Facts {
    /// A symlink's own permission bits mean nothing (the kernel ignores them): only its type
    /// and owner are kept.
    pub fn of(meta: &Metadata) -> Facts {
        let mode = if meta.file_type().is_symlink() {
            meta.mode() & TYPE_MASK
        } else {
            meta.mode()
        };
        Facts {
            uid: meta.uid(),
            mode,
        }
    }

    fn is_dir(self) -> bool {
        self.mode & TYPE_MASK == DIRECTORY
    }
}

/// What the file or directory is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Reading what it says (a config file) or a file in it (a directory).
    Read,
    /// Writing into it or through it.
    Write,
}

/// Why a file or directory is not ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Distrust {
    /// Owned by `owner`, neither the current user `me` nor (for reading) root.
    Owner { owner: u32, me: u32, root_ok: bool },
    /// Writable by every user (a directory without the sticky bit).
    WorldWritable,
}

impl fmt::Display for Distrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Distrust::Owner { owner, me, root_ok } => {
                let root = if *root_ok && *me != 0 { " or root" } else { "" };
                write!(f, "is owned by uid {owner}, not by you (uid {me}){root}")
            }
            Distrust::WorldWritable => write!(f, "is writable by every user"),
        }
    }
}

/// The rule: may the current user `me` use a file or directory with these `facts` for `purpose`?
pub fn check(facts: Facts, me: u32, purpose: Purpose) -> Result<(), Distrust> {
    let root_ok = purpose == Purpose::Read;
    if facts.uid != me && !(root_ok && facts.uid == 0) {
        return Err(Distrust::Owner {
            owner: facts.uid,
            me,
            root_ok,
        });
    }
    let sticky_dir = facts.is_dir() && facts.mode & STICKY != 0;
    if purpose == Purpose::Read && facts.mode & WORLD_WRITABLE != 0 && !sticky_dir {
        return Err(Distrust::WorldWritable);
    }
    Ok(())
}

/// The file to really write for `path`: `path` itself, or the end of its symlink chain when
/// that file (or, for a dangling link, the directory it would be created in) is ours to write.
/// A link into a dotfiles repository keeps working; one into another user's file is refused.
pub fn write_through(path: &Path, me: u32) -> Result<PathBuf, String> {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return Ok(path.to_path_buf());
    };
    if !meta.file_type().is_symlink() {
        return Ok(path.to_path_buf());
    }
    let mut target = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&target) {
            Ok(m) if m.file_type().is_symlink() => {
                let link =
                    fs::read_link(&target).map_err(|e| format!("cannot read the symlink: {e}"))?;
                target = match target.parent() {
                    Some(p) if link.is_relative() => p.join(link),
                    _ => link,
                };
            }
            _ => break,
        }
    }
    // The file, or for a dangling link the directory it would be created in.
    let owner_of = if target.exists() {
        target.clone()
    } else {
        target.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let facts = fs::metadata(&owner_of)
        .map(|m| Facts::of(&m))
        .map_err(|e| {
            format!(
                "is a symlink to {} that cannot be read: {e}",
                target.display()
            )
        })?;
    if let Err(Distrust::Owner { owner, .. }) = check(facts, me, Purpose::Write) {
        return Err(format!(
            "is a symlink to {}, which belongs to another user (uid {owner}); refusing to write through it",
            owner_of.display()
        ));
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u32 = 1000;
    const NOBODY: u32 = 65534;

    fn file(uid: u32, perm: u32) -> Facts {
        Facts {
            uid,
            mode: 0o100000 | perm,
        }
    }

    fn dir(uid: u32, perm: u32) -> Facts {
        Facts {
            uid,
            mode: DIRECTORY | perm,
        }
    }

    #[test]
    fn reading_trusts_the_user_and_root_only() {
        assert_eq!(check(file(ME, 0o644), ME, Purpose::Read), Ok(()));
        assert_eq!(check(file(0, 0o644), ME, Purpose::Read), Ok(()));
        assert_eq!(
            check(file(NOBODY, 0o644), ME, Purpose::Read),
            Err(Distrust::Owner {
                owner: NOBODY,
                me: ME,
                root_ok: true
            })
        );
        // Root trusts root's files only (git's rule too).
        assert_eq!(check(file(0, 0o600), 0, Purpose::Read), Ok(()));
        assert!(check(file(ME, 0o644), 0, Purpose::Read).is_err());
    }

    #[test]
    fn reading_refuses_what_every_user_can_write() {
        assert_eq!(
            check(file(ME, 0o666), ME, Purpose::Read),
            Err(Distrust::WorldWritable)
        );
        assert_eq!(
            check(dir(0, 0o777), ME, Purpose::Read),
            Err(Distrust::WorldWritable)
        );
        // /tmp: nobody else can replace a file of ours there.
        assert_eq!(check(dir(0, 0o1777), ME, Purpose::Read), Ok(()));
        // The sticky bit means nothing on a file.
        assert_eq!(
            check(file(ME, 0o1666), ME, Purpose::Read),
            Err(Distrust::WorldWritable)
        );
        // Group-writable passes (user-private groups).
        assert_eq!(check(file(ME, 0o664), ME, Purpose::Read), Ok(()));
        assert_eq!(check(dir(ME, 0o775), ME, Purpose::Read), Ok(()));
    }

    #[test]
    fn writing_trusts_the_user_only() {
        assert_eq!(check(dir(ME, 0o755), ME, Purpose::Write), Ok(()));
        assert_eq!(
            check(dir(0, 0o755), ME, Purpose::Write),
            Err(Distrust::Owner {
                owner: 0,
                me: ME,
                root_ok: false
            })
        );
        assert!(check(dir(NOBODY, 0o700), ME, Purpose::Write).is_err());
        // What it does with the mode is the caller's business (the cache makes it 0700).
        assert_eq!(check(dir(ME, 0o777), ME, Purpose::Write), Ok(()));
    }

    #[test]
    fn reasons_read_as_one_line() {
        let owner = |me, root_ok| {
            Distrust::Owner {
                owner: NOBODY,
                me,
                root_ok,
            }
            .to_string()
        };
        assert_eq!(
            owner(ME, true),
            "is owned by uid 65534, not by you (uid 1000) or root"
        );
        assert_eq!(owner(0, true), "is owned by uid 65534, not by you (uid 0)");
        assert_eq!(
            owner(ME, false),
            "is owned by uid 65534, not by you (uid 1000)"
        );
        assert_eq!(
            Distrust::WorldWritable.to_string(),
            "is writable by every user"
        );
    }

    #[test]
    fn the_real_metadata_reads_as_facts() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        fs::write(&f, "").unwrap();
        let me = euid();
        let facts = Facts::of(&fs::metadata(&f).unwrap());
        assert_eq!(facts.uid, me);
        assert!(!facts.is_dir());
        assert!(Facts::of(&fs::metadata(d.path()).unwrap()).is_dir());
        assert_eq!(check(facts, me, Purpose::Write), Ok(()));
        // A symlink is 0777 but judged by its owner alone.
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        let facts = Facts::of(&fs::symlink_metadata(&link).unwrap());
        assert_eq!(facts.mode & 0o7777, 0);
        assert_eq!(check(facts, me, Purpose::Read), Ok(()));
    }

    #[test]
    fn writing_follows_own_symlinks_only() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real");
        fs::write(&real, "x").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let me = euid();
        assert_eq!(write_through(&link, me).unwrap(), real);
        assert_eq!(write_through(&real, me).unwrap(), real);
        let missing = d.path().join("missing");
        assert_eq!(write_through(&missing, me).unwrap(), missing);
        // The same link, judged for another user: the target is not theirs.
        let e = write_through(&link, me + 1).unwrap_err();
        assert!(e.contains("belongs to another user"), "{e}");
        assert!(
            e.starts_with(&format!("is a symlink to {}", real.display())),
            "{e}"
        );
    }
}
