//! Argv-recording shims: the exact command line of every child a sandboxed command starts by
//! name (through PATH), for the suite's leak check (no token on any command line).
//!
//! [`crate::Sandbox::record_argv`] writes one `/bin/sh` shim per program into a directory that
//! goes first on the PATH of every later sandboxed command. Each exec of a shim writes one
//! record, its full argv (`$0` then every argument, each followed by a NUL byte, so any byte
//! but NUL survives), to its own file `<shim pid>-<n>.argv` in the log directory (created with
//! noclobber, so concurrent execs never share or interleave a file), then execs the first
//! program of that name on PATH that is not the shim itself. The log directory is
//! `$ARTOKEN_LEAK_DIR/argv-<test pid>-<n>/` when `ARTOKEN_LEAK_DIR` is set (`scripts/leak-check`
//! greps every record for every issued token), else under the sandbox; it also holds `test`,
//! the name of the test that set the shims up.

use std::path::{Path, PathBuf};

/// The records of one [`crate::Sandbox::record_argv`] call.
#[derive(Debug, Clone)]
pub struct ArgvLog {
    dir: PathBuf,
}

/// One recorded exec: the shim's path (`$0`) and the arguments, byte for byte (lossy UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgvRecord {
    pub argv: Vec<String>,
}

impl ArgvRecord {
    /// The program's file name (`pip` for `/…/argv-shims/pip`).
    pub fn program(&self) -> &str {
        self.argv
            .first()
            .map(|p| p.rsplit('/').next().unwrap_or(p))
            .unwrap_or("")
    }

    /// The arguments after the program.
    pub fn args(&self) -> &[String] {
        self.argv.get(1..).unwrap_or(&[])
    }
}

impl ArgvLog {
    pub(crate) fn new(dir: PathBuf) -> ArgvLog {
        ArgvLog { dir }
    }

    /// The directory holding the records.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every record so far, oldest first (by file time, then name).
    pub fn records(&self) -> Vec<ArgvRecord> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "argv"))
                    .map(|p| {
                        let t = std::fs::metadata(&p)
                            .and_then(|m| m.modified())
                            .unwrap_or(std::time::UNIX_EPOCH);
                        (t, p)
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| parse_record(&std::fs::read(&p).unwrap_or_default()))
            .collect()
    }

    /// The records of `program` (by file name).
    pub fn of(&self, program: &str) -> Vec<ArgvRecord> {
        self.records()
            .into_iter()
            .filter(|r| r.program() == program)
            .collect()
    }

    /// Asserts that each of `programs` was started at least once, so a leak check over these
    /// records cannot pass for want of records; returns every record.
    #[track_caller]
    pub fn assert_saw(&self, programs: &[&str]) -> Vec<ArgvRecord> {
        let records = self.records();
        for p in programs {
            assert!(
                records.iter().any(|r| r.program() == *p),
                "the argv recorder in {} saw no `{p}`; it saw: {:?}",
                self.dir.display(),
                records.iter().map(|r| &r.argv).collect::<Vec<_>>()
            );
        }
        records
    }
}

/// `arg\0arg\0…` → the arguments (a record always ends with a NUL).
pub fn parse_record(bytes: &[u8]) -> ArgvRecord {
    let bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    ArgvRecord {
        argv: bytes
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    }
}

/// Where the records of a new recorder go: `$ARTOKEN_LEAK_DIR/argv-<pid>-<n>` or `fallback`.
pub(crate) fn new_log_dir(fallback: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "argv-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let dir = match std::env::var_os("ARTOKEN_LEAK_DIR") {
        Some(leaks) => Path::new(&leaks).join(name),
        None => fallback.join(name),
    };
    std::fs::create_dir_all(&dir).expect("create the argv log dir");
    std::fs::write(
        dir.join("test"),
        std::thread::current().name().unwrap_or("?"),
    )
    .expect("write the argv log's test name");
    dir
}

/// Writes the shim for `program` into `shims`, logging into `log`.
pub(crate) fn write_shim(shims: &Path, log: &Path, program: &str) {
    assert!(
        !program.is_empty()
            && program
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b)),
        "not a program name: {program:?}"
    );
    let log = log.to_str().expect("UTF-8 log dir");
    assert!(!log.contains('\''), "a quote in {log}");
    let script = format!(
        r#"#!/bin/sh
# testkit argv-recording shim (Sandbox::record_argv): one record per exec, then the real {program}.
set -Cf
n=0
until printf '%s\0' "$0" "$@" 2>/dev/null >'{log}'/$$-$n.argv; do
  n=$((n + 1))
  if [ "$n" -ge 100 ]; then
    echo "argv shim: cannot write a record in {log}" >&2
    exit 126
  fi
done
set +C
ifs=$IFS
IFS=:
for d in $PATH; do
  p=${{d:-.}}/{program}
  if [ -f "$p" ] && [ -x "$p" ] && ! [ "$p" -ef "$0" ]; then
    IFS=$ifs
    set +f
    exec "$p" "$@"
  fi
done
echo "argv shim: no {program} on PATH after the shim" >&2
exit 127
"#
    );
    let path = shims.join(program);
    std::fs::write(&path, script).expect("write an argv shim");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod an argv shim");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_split_on_nul_and_keep_empty_arguments() {
        let r = parse_record(b"/x/argv-shims/pip\0install\0\0a b\nc\0");
        assert_eq!(r.program(), "pip");
        assert_eq!(r.args(), ["install", "", "a b\nc"]);
    }
}
