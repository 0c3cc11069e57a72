//! No core dump and no same-user reader of a process that holds a token: `artoken` hardens
//! itself first thing (artoken_core::process::harden), on the CLI path and on the cargo and
//! keyring paths that start before it. Each process starts with core dumps allowed (the soft
//! limit raised to the hard one) and, when the tests run as root, as nobody: a non-dumpable
//! process's /proc/PID/environ belongs to root, which shows only under another uid.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use testkit::procfs;

/// A 0755 dir nobody can reach, with a copy of artoken nobody can run (when root).
fn reachable() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = procfs::runnable_by_nobody(&common::artoken_bin(), dir.path());
    (dir, exe)
}

/// artoken (`args`) through the core-limit-raising shell, with an empty environment but `envs`,
/// in `dir`, as nobody when root.
fn command(exe: &Path, dir: &Path, args: &[&str], envs: &[(&str, String)]) -> Command {
    let mut cmd = procfs::with_core_dumps_allowed(exe);
    cmd.args(args).env_clear().current_dir(dir);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    procfs::as_nobody_if_root(&mut cmd);
    cmd
}

/// The process is artoken, with RLIMIT_CORE 0 and not dumpable.
fn assert_hardened(pid: u32, exe: &Path) {
    assert_eq!(
        procfs::exe_of(pid).as_deref(),
        Some(exe),
        "pid {pid} runs artoken"
    );
    let (soft, hard) = procfs::core_limit(pid);
    assert_eq!(soft, "0", "artoken's soft core limit (hard {hard})");
    assert_eq!(procfs::dumpable(pid), Some(false), "artoken is dumpable");
}

/// Kills `child` and records what it wrote on stderr for the leak check.
fn finish(mut child: Child, cmd: &Command, stderr: &Path) {
    let _ = child.kill();
    let status = child.wait().unwrap();
    let out = Output {
        status,
        stdout: Vec::new(),
        stderr: std::fs::read(stderr).unwrap_or_default(),
    };
    testkit::record_output(cmd, &out);
}

/// `artoken token` in the middle of its GetAuthorizationToken call (the endpoint accepts and
/// never answers): about to hold a token, it already can leave no core and no readable memory.
#[test]
fn artoken_fetching_a_token_cannot_dump_core_or_be_read_by_its_user() {
    let (dir, exe) = reachable();
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    if procfs::is_root() {
        std::os::unix::fs::chown(&cache, Some(procfs::NOBODY), Some(procfs::NOBODY)).unwrap();
    }
    let endpoint = TcpListener::bind("127.0.0.1:0").unwrap();
    endpoint.set_nonblocking(true).unwrap();
    let home = dir.path().to_string_lossy().into_owned();
    let stderr = dir.path().join("stderr");
    let mut cmd = command(
        &exe,
        dir.path(),
        &["token"],
        &[
            ("HOME", home.clone()),
            ("AWS_ACCESS_KEY_ID", testkit::ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY", testkit::SECRET_ACCESS_KEY.into()),
            ("AWS_REGION", testkit::REGION.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", format!("{home}/no-config")),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                format!("{home}/no-credentials"),
            ),
            (
                "AWS_ENDPOINT_URL",
                format!("http://{}", endpoint.local_addr().unwrap()),
            ),
            ("ARTOKEN_DOMAIN", "demo".into()),
            ("ARTOKEN_DOMAIN_OWNER", common::OWNER.into()),
            ("ARTOKEN_CACHE_DIR", cache.to_string_lossy().into_owned()),
            ("ARTOKEN_TIMEOUT", "300".into()),
        ],
    );
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap());
    let mut child = procfs::spawn(&mut cmd);
    let deadline = Instant::now() + Duration::from_secs(60);
    let _call = loop {
        match endpoint.accept() {
            Ok((conn, _)) => break conn,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = child.try_wait().unwrap() {
                    panic!(
                        "artoken token exited ({status}) before calling AWS:\n{}",
                        std::fs::read_to_string(&stderr).unwrap_or_default()
                    );
                }
                assert!(Instant::now() < deadline, "artoken token never called AWS");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    assert_hardened(child.id(), &exe);
    finish(child, &cmd, &stderr);
}

/// `artoken --cargo-plugin`, the path cargo starts before any CLI parsing, once it has said
/// hello.
#[test]
fn the_cargo_credential_provider_cannot_dump_core_or_be_read_by_its_user() {
    let (dir, exe) = reachable();
    let home = dir.path().to_string_lossy().into_owned();
    let stderr = dir.path().join("stderr");
    let mut cmd = command(&exe, dir.path(), &["--cargo-plugin"], &[("HOME", home)]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap());
    let mut child = procfs::spawn(&mut cmd);
    let mut hello = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut hello)
        .unwrap();
    assert!(hello.contains("\"v\""), "cargo's hello: {hello:?}");
    assert_hardened(child.id(), &exe);
    // It is still there, waiting for a request: end it as cargo would.
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.flush();
    drop(stdin);
    finish(child, &cmd, &stderr);
}

/// `artoken exec` replaces itself with the program, whose environment holds the token: the
/// program inherits the soft core limit 0 (the hard limit is left: it may raise it on purpose).
/// Dumpable is reset by exec (the program is not artoken), by design.
#[test]
fn a_program_artoken_exec_starts_inherits_no_core_dumps() {
    let env = common::setup();
    let mut cmd = procfs::with_core_dumps_allowed(&common::artoken_bin());
    cmd.args(["exec", "--", "/bin/sleep", "60"])
        .env_clear()
        .envs(env.sb.envs())
        .current_dir(env.sb.work())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let stderr = env.sb.root().join("tmp/exec.err");
    cmd.stderr(std::fs::File::create(&stderr).unwrap());
    let child = procfs::spawn(&mut cmd);
    let pid = child.id();
    // The kernel points /proc/PID/exe at the new program before it has laid out the new
    // program's environment (an empty `environ` in between): wait for both.
    let environ_of = || std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    procfs::wait_until(60, "artoken exec to start sleep", || {
        procfs::exe_of(pid).is_some_and(|p| p.ends_with("sleep")) && !environ_of().is_empty()
    });
    let environ = environ_of();
    let token = env.emu.issued_tokens()[0].clone();
    assert!(
        environ
            .split(|b| *b == 0)
            .any(|kv| kv == format!("CODEARTIFACT_AUTH_TOKEN={token}").as_bytes()),
        "the program's environment holds the token"
    );
    let (soft, hard) = procfs::core_limit(pid);
    assert_eq!(soft, "0");
    let (_, ours) = procfs::core_limit(std::process::id());
    assert_eq!(hard, ours, "the hard limit is left as it was");
    finish(child, &cmd, &stderr);
}
