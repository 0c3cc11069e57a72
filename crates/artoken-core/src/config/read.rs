//! Reading a config file from disk: regular files only, at most 1 MiB, UTF-8; a discovered
//! file only when it is ours (see [`crate::ownership`]).

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use crate::ownership::{self, Facts, Purpose};

use super::error::ConfigError;

/// The largest config file read; anything bigger is a mistake (or an attack).
pub const MAX_BYTES: u64 = 1024 * 1024;

/// The text of `path` (named by `--config` or `ARTOKEN_CONFIG`: read whoever owns it), without
/// a leading byte-order mark.
pub(crate) fn read_text(path: &Path) -> Result<String, ConfigError> {
    // Without a user to judge for, nothing is refused: the inner result is always `Ok`.
    read_checked(path, None).map(|r| r.unwrap_or_default())
}

/// The text of a discovered file, or why it is not ours to read (`Ok(Err(why))`, a phrase
/// like `it is owned by uid 65534, not by you (uid 1000) or root`): the file, a symlink
/// naming it, or the directory holding it is someone else's, or writable by every user. Only
/// what is ours reaches the errors (a directory, a FIFO, a huge file stop loading; another
/// user's stops nothing).
pub(crate) fn read_discovered(path: &Path, me: u32) -> Result<Result<String, String>, ConfigError> {
    read_checked(path, Some(me))
}

fn read_checked(path: &Path, trust: Option<u32>) -> Result<Result<String, String>, ConfigError> {
    let read_err = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let judge = |facts: Facts, subject: &str| match trust {
        Some(me) => {
            ownership::check(facts, me, Purpose::Read).map_err(|why| format!("{subject} {why}"))
        }
        None => Ok(()),
    };
    if trust.is_some() {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(Ok(meta)) = dir.map(fs::metadata)
            && let Err(why) = judge(Facts::of(&meta), "its directory")
        {
            return Ok(Err(why));
        }
        if let Ok(meta) = fs::symlink_metadata(path)
            && meta.file_type().is_symlink()
            && let Err(why) = judge(Facts::of(&meta), "the symlink")
        {
            return Ok(Err(why));
        }
    }
    let meta = fs::metadata(path).map_err(read_err)?;
    if let Err(why) = judge(Facts::of(&meta), "it") {
        return Ok(Err(why));
    }
    if meta.is_dir() {
        return Err(ConfigError::Directory {
            path: path.to_path_buf(),
        });
    }
    if !meta.is_file() {
        // A FIFO would block the open forever; a device could be endless.
        return Err(ConfigError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    if meta.len() > MAX_BYTES {
        return Err(ConfigError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let file = File::open(path).map_err(read_err)?;
    // The file opened is the one judged, whatever was renamed in meanwhile.
    let opened = file.metadata().map_err(read_err)?;
    if let Err(why) = judge(Facts::of(&opened), "it") {
        return Ok(Err(why));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_BYTES {
        // It grew between the metadata and the read.
        return Err(ConfigError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| ConfigError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    Ok(Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_and_drops_a_bom() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("artoken.yml");
        fs::write(&f, "\u{feff}default: corp\n").unwrap();
        assert_eq!(read_text(&f).unwrap(), "default: corp\n");
    }

    #[test]
    fn refuses_what_is_no_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("artoken.yml");
        fs::create_dir(&d).unwrap();
        assert_eq!(
            read_text(&d).unwrap_err().to_string(),
            format!("{}: is a directory, not a config file", d.display())
        );

        let big = dir.path().join("big.yml");
        fs::write(&big, vec![b'#'; (MAX_BYTES + 1) as usize]).unwrap();
        assert_eq!(
            read_text(&big).unwrap_err().to_string(),
            format!(
                "{}: is larger than 1 MiB; that is no config file",
                big.display()
            )
        );

        let bad = dir.path().join("bad.yml");
        fs::write(&bad, b"a: \xff\xfe\n").unwrap();
        assert_eq!(
            read_text(&bad).unwrap_err().to_string(),
            format!("{}: is not valid UTF-8 (at byte 3)", bad.display())
        );

        let missing = dir.path().join("missing.yml");
        let err = read_text(&missing).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: cannot read: ", missing.display())),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_fifo_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("wev.yml");
        // mkfifo is POSIX (coreutils on Linux, base system on macOS): its absence fails the
        // test rather than skipping it.
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo (coreutils) is needed to test FIFOs");
        assert!(status.success(), "mkfifo {} failed", fifo.display());
        assert_eq!(
            read_text(&fifo).unwrap_err().to_string(),
            format!("{}: is not a regular file", fifo.display())
        );
    }
}
