//! What `/proc` shows of a running process's core dumps (RLIMIT_CORE, dumpable), and starting a
//! binary as `nobody` when the tests run as root: a non-dumpable process's `/proc/PID/environ`
//! belongs to root, which is only visible when the process runs as someone else.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The uid and gid of `nobody`.
pub const NOBODY: u32 = 65534;

/// Whether the tests run as root (the owner of `/proc/self` is the effective uid).
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(1)
        == 0
}

/// The soft and hard `Max core file size` of `pid` (`0`, `unlimited`, ...).
pub fn core_limit(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/limits: {e}"));
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a Max core file size line");
    let mut f = line["Max core file size".len()..].split_whitespace();
    (
        f.next().unwrap_or_default().to_string(),
        f.next().unwrap_or_default().to_string(),
    )
}

/// Whether `pid` is dumpable (`PR_GET_DUMPABLE` 1): the files in its `/proc/PID` (`environ`,
/// `mem`) then belong to its effective uid, else to root. `None` when it runs as root (both
/// look the same).
pub fn dumpable(pid: u32) -> Option<bool> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
    let euid: u32 = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("a Uid line");
    if euid == 0 {
        return None;
    }
    let owner = std::fs::metadata(format!("/proc/{pid}/environ"))
        .unwrap_or_else(|e| panic!("stat /proc/{pid}/environ: {e}"))
        .uid();
    Some(owner == euid)
}

/// `exe`, or when the tests run as root a copy of it in `dir/bin-for-nobody` that `nobody` can
/// run (the checkout may sit in a 0700 dir); `dir` must be reachable by nobody.
pub fn runnable_by_nobody(exe: &Path, dir: &Path) -> PathBuf {
    if !is_root() {
        return exe.to_path_buf();
    }
    let bin = dir.join("bin-for-nobody");
    std::fs::create_dir_all(&bin).expect("create bin-for-nobody");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = bin.join(exe.file_name().expect("a file name"));
    std::fs::copy(exe, &copy).expect("copy the binary");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    copy
}

/// A command that runs `exe` (with the arguments added to it) through `sh`, which first raises
/// the soft core limit to the hard one: the environment's own soft limit (often 0 already) must
/// not make a test of what a process sets itself pass.
pub fn with_core_dumps_allowed(exe: &Path) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(r#"ulimit -S -c "$(ulimit -H -c)" && exec "$0" "$@""#)
        .arg(exe);
    cmd
}

/// The path of the program `pid` runs (`/proc/PID/exe`), once it has exec'd.
pub fn exe_of(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

/// Makes `cmd` run as nobody when the tests run as root.
pub fn as_nobody_if_root(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    if is_root() {
        cmd.uid(NOBODY).gid(NOBODY);
    }
    cmd
}

/// Spawns `cmd`, again while exec fails with ETXTBSY (a freshly copied binary races other test
/// threads' forks, which hold its write fd until they exec).
pub fn spawn(cmd: &mut Command) -> Child {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match cmd.spawn() {
            Ok(c) => return c,
            Err(e) if e.raw_os_error() == Some(26) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("cannot start {:?}: {e}", cmd.get_program()),
        }
    }
}

/// Polls `cond` every 20 ms until it holds; panics naming `what` after `secs` seconds.
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
