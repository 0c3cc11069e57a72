//! Crash-safe file writes: a temp file beside the target, fsync, rename, 0600 by default.
//!
//! A writer killed between creating its temp file and the rename leaves the temp file behind,
//! and it may hold a token. Each writer holds an exclusive lock on its temp file until the
//! rename, and the lock dies with the process, so a temp file whose lock can be taken belongs to
//! a writer that is gone: the next write (or removal, see [`sweep_stale_temp_files`]) of the same
//! target deletes it.
//!
//! A read-modify-write of a target takes [`lock_target`] first and re-reads under it, so two
//! writers that both take it never lose each other's edits.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

/// Writes `bytes` to `path` so that readers see either the old or the new content, never a
/// torn file. The new file gets `mode` (use 0o600 for anything holding a token). Temp files of
/// `path` left by killed writers are removed first.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let (dir, name) = split(path)?;
    sweep_stale_temp_files(path);
    // A sweeper in another process may take a brand-new temp file in the instant before its
    // writer locks it; the writer then sees its file gone and starts over with a new one.
    for _ in 0..5 {
        let mut tmp_name = temp_prefix(name);
        tmp_name.push(format!("{}.{}", std::process::id(), unique()));
        let tmp = dir.join(tmp_name);
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot create a temporary file in {}: {e}", dir.display()),
                )
            })?;
        // No lock support (some network file systems): then nothing is ever swept.
        let _ = f.lock();
        if !is_same_file(&f, &tmp) {
            continue;
        }
        let result = replace(f, &tmp, path, dir, bytes, mode);
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        return result;
    }
    Err(io::Error::other(format!(
        "cannot create a temporary file in {}: it was removed each time by another process",
        dir.display()
    )))
}

/// Fills the locked temp file and renames it over `path`; the lock is held until the rename is
/// done, so no sweeper takes the file meanwhile.
fn replace(
    mut f: File,
    tmp: &Path,
    path: &Path,
    dir: &Path,
    bytes: &[u8],
    mode: u32,
) -> io::Result<()> {
    // create_new + mode is subject to the umask; set it exactly.
    f.set_permissions(fs::Permissions::from_mode(mode))?;
    let crash = crash_point(path);
    if crash == Some(CrashPoint::PartialWrite) {
        f.write_all(&bytes[..bytes.len() / 2])?;
        f.sync_all()?;
        std::process::abort();
    }
    f.write_all(bytes)?;
    f.sync_all()?;
    if crash == Some(CrashPoint::BeforeRename) {
        std::process::abort();
    }
    fs::rename(tmp, path)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    drop(f);
    Ok(())
}

/// Where `ARTOKEN_CRASH_AT` makes a writer die, so tests can kill it mid-write at a known point
/// instead of at a time drawn from a measured run (see `crates/artoken/tests/crash.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CrashPoint {
    /// `partial-write`: half the bytes are in the temp file (synced), then abort.
    PartialWrite,
    /// `before-rename`: the whole temp file is written and synced, then abort.
    BeforeRename,
}

/// The crash point named by `ARTOKEN_CRASH_AT=POINT[:FILE_NAME]` for a write of `path` (only
/// of a file so named, when one is given). A test hook: aborting leaves exactly what a SIGKILL
/// at that point leaves; unknown values are ignored.
fn crash_point(path: &Path) -> Option<CrashPoint> {
    let value = std::env::var_os("ARTOKEN_CRASH_AT")?;
    let value = value.as_bytes();
    let (point, name) = match value.iter().position(|&b| b == b':') {
        Some(i) => (&value[..i], Some(&value[i + 1..])),
        None => (value, None),
    };
    if name.is_some_and(|n| path.file_name().map(OsStrExt::as_bytes) != Some(n)) {
        return None;
    }
    match point {
        b"partial-write" => Some(CrashPoint::PartialWrite),
        b"before-rename" => Some(CrashPoint::BeforeRename),
        _ => None,
    }
}

/// Removes the temp files of `path` (`.NAME.tmp.PID.N` beside it) whose writers are gone: their
/// lock is free. Files of live writers, other names and anything that is not a regular file are
/// left alone; errors are ignored (this is housekeeping).
pub fn sweep_stale_temp_files(path: &Path) {
    let Ok((dir, name)) = split(path) else {
        return;
    };
    let prefix = temp_prefix(name);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file_name = e.file_name();
        let Some(rest) = file_name.as_bytes().strip_prefix(prefix.as_bytes()) else {
            continue;
        };
        if !is_pid_and_counter(rest) || !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let p = e.path();
        let Ok(f) = File::open(&p) else {
            continue;
        };
        if f.metadata().is_ok_and(|m| m.is_file()) && f.try_lock().is_ok() && is_same_file(&f, &p) {
            let _ = fs::remove_file(&p);
        }
    }
}

/// Holds a target's lock (see [`lock_target`]) until dropped.
#[derive(Debug)]
pub struct TargetLock {
    _file: File,
}

/// Takes the exclusive lock on the existing file at `path` (a lock on the file itself: no lock
/// file beside it), waiting up to `timeout` for another writer. A writer replaces the file by
/// renaming a new one over it, so the lock taken is re-checked to be on the file now at
/// `path`, and taken again on the new one if not. Where locks are not supported (some network
/// file systems) it holds nothing, as for temp files.
pub fn lock_target(path: &Path, timeout: Duration) -> io::Result<TargetLock> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(2);
    let mut told = false;
    loop {
        let file = File::open(path)?;
        match file.try_lock() {
            Ok(()) if is_same_file(&file, path) => return Ok(TargetLock { _file: file }),
            // Replaced while we waited: lock the new file.
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                if !told {
                    tracing::debug!("{}: waiting for another writer's lock", path.display());
                    told = true;
                }
                if start.elapsed() >= timeout {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "another process has held its lock for {} s",
                            timeout.as_secs()
                        ),
                    ));
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(fs::TryLockError::Error(e)) => {
                tracing::debug!("{}: cannot be locked ({e}); going on", path.display());
                return Ok(TargetLock { _file: file });
            }
        }
    }
}

fn split(path: &Path) -> io::Result<(&Path, &OsStr)> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    Ok((dir, name))
}

/// `.NAME.tmp.`
fn temp_prefix(name: &OsStr) -> OsString {
    let mut p = OsString::from(".");
    p.push(name);
    p.push(".tmp.");
    p
}

/// `PID.N`: what follows the prefix in a temp file's name.
fn is_pid_and_counter(s: &[u8]) -> bool {
    let mut parts = s.split(|&b| b == b'.');
    let digits =
        |p: Option<&[u8]>| p.is_some_and(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit));
    digits(parts.next()) && digits(parts.next()) && parts.next().is_none()
}

/// `f` is still the file at `path` (not removed or replaced meanwhile).
fn is_same_file(f: &File, path: &Path) -> bool {
    match (f.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    t ^ (N.fetch_add(1, Ordering::Relaxed) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_with_exact_mode_and_no_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        write_atomic(&p, b"one", 0o600).unwrap();
        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_leaves_the_original() {
        // A name of 255 bytes (the longest a file system takes) leaves no room for the temp
        // file's: the write fails for root too, before anything is written.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f".repeat(255));
        fs::write(&p, b"old").unwrap();
        let e = write_atomic(&p, b"new", 0o600).unwrap_err();
        assert!(
            e.to_string().contains("cannot create a temporary file in"),
            "{e}"
        );
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "nothing left");
    }

    #[test]
    fn the_next_write_sweeps_temp_files_of_dead_writers_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pip.conf");
        write_atomic(&p, b"one", 0o600).unwrap();
        // Left by a killed writer: nobody holds its lock.
        let stale = dir.path().join(".pip.conf.tmp.4242.17");
        fs::write(&stale, "index-url = https://aws:TOKEN@x/").unwrap();
        // A live writer's: locked.
        let live = dir.path().join(".pip.conf.tmp.4243.18");
        let held = File::create(&live).unwrap();
        held.lock().unwrap();
        // Not temp files of this target, or not files.
        let others = [
            ".pip.conf.tmp.x",
            ".pip.conf.tmp.1.2.3",
            ".pip.conf.tmp.1.",
            ".other.tmp.1.2",
            "pip.conf.tmp.1.2",
        ];
        for o in others {
            fs::write(dir.path().join(o), "").unwrap();
        }
        fs::create_dir(dir.path().join(".pip.conf.tmp.5.6")).unwrap();

        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert!(!stale.exists(), "the dead writer's temp file is gone");
        assert!(live.exists(), "a live writer's temp file is kept");
        for o in others {
            assert!(dir.path().join(o).exists(), "{o} is kept");
        }
        assert!(dir.path().join(".pip.conf.tmp.5.6").is_dir());

        // Once its writer is gone, a sweep on its own (logout removing the file) takes it.
        drop(held);
        sweep_stale_temp_files(&p);
        assert!(!live.exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1 + others.len() + 1
        );
    }

    #[test]
    fn a_failure_to_create_the_temp_file_names_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone");
        let e = write_atomic(&missing.join("f"), b"x", 0o600).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!(
                "cannot create a temporary file in {}: ",
                missing.display()
            )),
            "{msg}"
        );
        assert!(!msg.contains(".tmp."), "{msg}");
    }

    #[test]
    fn the_target_lock_excludes_follows_replacements_and_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("requirements.txt");
        write_atomic(&p, b"one", 0o600).unwrap();
        let held = lock_target(&p, Duration::from_secs(1)).unwrap();
        let e = lock_target(&p, Duration::from_millis(30)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(
            e.to_string()
                .starts_with("another process has held its lock"),
            "{e}"
        );
        // A writer holding the lock replaces the file: a waiter gets the lock on the new file,
        // not on the old one it opened first.
        let waiter = std::thread::spawn({
            let p = p.clone();
            move || {
                let lock = lock_target(&p, Duration::from_secs(60)).unwrap();
                (lock, fs::read(&p).unwrap())
            }
        });
        write_atomic(&p, b"two", 0o600).unwrap();
        drop(held);
        let (lock, seen) = waiter.join().unwrap();
        assert_eq!(seen, b"two");
        assert!(matches!(
            File::open(&p).unwrap().try_lock(),
            Err(fs::TryLockError::WouldBlock)
        ));
        drop(lock);
        lock_target(&p, Duration::from_millis(30)).unwrap();
        assert_eq!(
            lock_target(&dir.path().join("missing"), Duration::from_secs(1))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
    }
}
