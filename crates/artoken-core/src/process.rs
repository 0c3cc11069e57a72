//! Process hardening for every process that holds a token: no core dump, no same-user
//! debugger or `/proc/PID/mem`/`environ` reader, panics redacted. [`harden`] runs first thing.

/// Makes this process unable to leave its memory (its tokens) behind: RLIMIT_CORE's soft limit
/// to 0 (no core file; the hard limit is kept, so a program `artoken exec` starts inherits the
/// 0 but may raise it on purpose), and on Linux `PR_SET_DUMPABLE` 0, which also stops a core
/// piped to a handler (systemd-coredump, apport), ptrace and `/proc/PID/mem`/`environ` by the
/// same user, and makes `/proc/PID` root's. `execve` resets dumpable for the program it starts.
/// Best effort: what the system refuses is left as it was.
pub fn harden() {
    #[cfg(unix)]
    // SAFETY: plain syscalls on this process with valid arguments.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_CORE, &mut lim) == 0 {
            lim.rlim_cur = 0;
            libc::setrlimit(libc::RLIMIT_CORE, &lim);
        }
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: as above.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    crate::redact::install_panic_hook();
}
