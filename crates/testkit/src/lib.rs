//! Test support: isolated sandboxes (HOME, XDG dirs, cache, static fake AWS credentials, IMDS
//! off) and the location of the test tools (`pip`, `uv`, `twine`, `aws`, `moto_server`) that
//! `scripts/test` installs into `.test-tools/`.
//!
//! Every command a test runs through [`Sandbox::command`] starts from an empty environment plus
//! the sandbox's, so no test reads or writes the real `~/.aws`, `~/.config/pip` or `~/.npmrc`.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod argv;
pub mod clients;
pub mod connect_proxy;
pub mod maven;
mod moto;
pub mod procfs;

pub use argv::{ArgvLog, ArgvRecord, parse_record};
pub use moto::Moto;

/// The AWS documentation example key pair: the emulator accepts it by default.
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// Region of every sandbox.
pub const REGION: &str = "eu-west-1";

/// A throwaway HOME with its own XDG dirs and AWS settings.
pub struct Sandbox {
    dir: tempfile::TempDir,
    extra: Vec<(OsString, OsString)>,
    /// The argv-recording shims, first on PATH (see [`Sandbox::record_argv`]).
    shims: Option<PathBuf>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("artoken-test-")
            .tempdir()
            .expect("create sandbox dir");
        for sub in [
            "home",
            "home/.aws",
            "config",
            "cache",
            "data",
            "state",
            "tmp",
            "work",
        ] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("create sandbox subdir");
        }
        // An empty AWS config, as on a fresh machine (the SDK warns when the file is missing).
        std::fs::write(dir.path().join("home/.aws/config"), "").expect("write aws config");
        Sandbox {
            dir,
            extra: Vec::new(),
            shims: None,
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    /// A project directory (not HOME) to run commands in.
    pub fn work(&self) -> PathBuf {
        self.root().join("work")
    }

    /// `$XDG_CACHE_HOME`.
    pub fn cache_home(&self) -> PathBuf {
        self.root().join("cache")
    }

    /// `$XDG_CONFIG_HOME`.
    pub fn config_home(&self) -> PathBuf {
        self.root().join("config")
    }

    /// Adds (or replaces) a variable for every later command.
    pub fn set_env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        let key = key.as_ref().to_os_string();
        self.extra.retain(|(k, _)| *k != key);
        self.extra.push((key, value.as_ref().to_os_string()));
        self
    }

    /// Points the AWS SDK/CLI (all services) at `url`.
    pub fn use_endpoint(&mut self, url: &str) -> &mut Self {
        self.set_env("AWS_ENDPOINT_URL", url)
    }

    /// Puts argv-recording shims for `programs` first on the PATH of every later command
    /// (whatever PATH is set before or after): each exec of one records its full argv, then
    /// runs the first program of that name further down PATH. With `ARTOKEN_LEAK_DIR` set the
    /// records go there, for `scripts/leak-check`. Only children started by name through PATH
    /// are seen: assert on the returned log ([`ArgvLog::assert_saw`]) so the leak check cannot
    /// pass for want of records. Call it once per sandbox.
    pub fn record_argv(&mut self, programs: &[&str]) -> ArgvLog {
        assert!(self.shims.is_none(), "record_argv: once per sandbox");
        let shims = self.root().join("argv-shims");
        std::fs::create_dir_all(&shims).expect("create the shim dir");
        let log = argv::new_log_dir(self.root());
        for p in programs {
            argv::write_shim(&shims, &log, p);
        }
        self.shims = Some(shims);
        ArgvLog::new(log)
    }

    /// The full environment of a sandboxed command.
    pub fn envs(&self) -> Vec<(OsString, OsString)> {
        let r = self.root();
        let mut v: Vec<(OsString, OsString)> = vec![
            ("HOME".into(), self.home().into()),
            ("USER".into(), "tester".into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("TMPDIR".into(), r.join("tmp").into()),
            ("XDG_CONFIG_HOME".into(), self.config_home().into()),
            ("XDG_CACHE_HOME".into(), self.cache_home().into()),
            ("XDG_DATA_HOME".into(), r.join("data").into()),
            ("XDG_STATE_HOME".into(), r.join("state").into()),
            ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), SECRET_ACCESS_KEY.into()),
            ("AWS_REGION".into(), REGION.into()),
            // the AWS CLI v1 reads only this one
            ("AWS_DEFAULT_REGION".into(), REGION.into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            (
                "AWS_CONFIG_FILE".into(),
                self.home().join(".aws/config").into(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                self.home().join(".aws/credentials").into(),
            ),
            ("NO_COLOR".into(), "1".into()),
            ("PIP_DISABLE_PIP_VERSION_CHECK".into(), "1".into()),
            ("PIP_NO_INPUT".into(), "1".into()),
            ("npm_config_cache".into(), r.join("cache/npm").into()),
            ("npm_config_update_notifier".into(), "false".into()),
            ("npm_config_fund".into(), "false".into()),
            ("npm_config_audit".into(), "false".into()),
        ];
        if let Some(path) = std::env::var_os("PATH") {
            v.push(("PATH".into(), path));
        }
        // The suite's token log: `artoken demo` runs an emulator of its own.
        if let Some(dir) = std::env::var_os("EMULATOR_TOKEN_LOG_DIR") {
            v.push(("EMULATOR_TOKEN_LOG_DIR".into(), dir));
        }
        for (k, val) in &self.extra {
            v.retain(|(key, _)| key != k);
            v.push((k.clone(), val.clone()));
        }
        if let Some(shims) = &self.shims {
            let rest = v
                .iter()
                .position(|(k, _)| k == "PATH")
                .map(|i| v.remove(i).1)
                .unwrap_or_default();
            let path = if rest.is_empty() {
                shims.clone().into_os_string()
            } else {
                std::env::join_paths(
                    std::iter::once(shims.clone()).chain(std::env::split_paths(&rest)),
                )
                .expect("PATH")
            };
            v.push(("PATH".into(), path));
        }
        v
    }

    /// A command with an empty environment plus the sandbox's, run in [`Sandbox::work`].
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear().envs(self.envs()).current_dir(self.work());
        cmd
    }
}

/// Where `scripts/test` installed the test tools: `$ARTOKEN_TEST_TOOLS`, else `<workspace>/.test-tools`.
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ARTOKEN_TEST_TOOLS") {
        return PathBuf::from(dir);
    }
    workspace_root().join(".test-tools")
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

/// The JavaScript package managers `scripts/install-test-tools` puts in `node/bin`.
pub const NODE_TOOLS: [&str; 4] = ["pnpm", "yarn", "yarn-berry", "bun"];

/// A program from the test venv (`pip`, `uv`, `twine`, `aws`, `moto_server`, `python`), or one
/// of [`NODE_TOOLS`] (pnpm 12.4.2, yarn 1, yarn berry as `yarn-berry`, bun).
/// Panics with the fix when it is missing: tests never skip silently.
pub fn tool(name: &str) -> PathBuf {
    let dir = if NODE_TOOLS.contains(&name) {
        "node/bin"
    } else {
        "venv/bin"
    };
    let path = tools_dir().join(dir).join(name);
    assert!(
        path.exists(),
        "test tool {} is missing: run `scripts/test` (it installs the test tools) or set ARTOKEN_TEST_TOOLS",
        path.display()
    );
    path
}

/// A program from a named venv under the tools dir (e.g. `pip-old`).
pub fn venv_tool(venv: &str, name: &str) -> PathBuf {
    let path = tools_dir().join(venv).join("bin").join(name);
    assert!(
        path.exists(),
        "test tool {} is missing: run `scripts/test` (it installs the test tools)",
        path.display()
    );
    path
}

/// A program on PATH (e.g. `npm`, `node`); panics with a clear message when absent.
pub fn on_path(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("{name} is not on PATH; the tests need it (see README: running the tests)")
}

/// Runs `cmd`, returning its output; panics if it cannot start. The output is recorded for
/// the suite's leak check (see [`record_output`]).
pub fn run(cmd: &mut Command) -> Output {
    let out = output_retrying_busy(cmd)
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()));
    record_output(cmd, &out);
    out
}

/// `cmd.output()`, tried again while exec says "Text file busy" (ETXTBSY): a test that has just
/// copied an executable races every other test thread's fork, whose child holds the copy's
/// write descriptor until its own exec closes it.
pub fn output_retrying_busy(cmd: &mut Command) -> std::io::Result<Output> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match cmd.output() {
            Err(e) if e.raw_os_error() == Some(26) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// With `ARTOKEN_LEAK_DIR` set (scripts/test sets it), writes what a command printed where no
/// token may ever appear: its stderr always, and its stdout too when it ran with `--dry-run`,
/// `-v`/`--verbose`. `scripts/leak-check` then greps these files for every token the emulators
/// issued (they log them to the same dir, see `EMULATOR_TOKEN_LOG_DIR`).
/// Set on a command whose stdout holds the token by design, so the suite's leak check reads
/// only its stderr (see [`record_output`]).
pub const STDOUT_HOLDS_TOKEN: &str = "ARTOKEN_TEST_STDOUT_HOLDS_TOKEN";

/// Kills a background process a test started with `cmd`, and records what it wrote to the
/// file `stderr` (its warnings, logs) for the suite-wide leak check.
pub fn kill_and_record(child: &mut std::process::Child, cmd: &Command, stderr: &std::path::Path) {
    let _ = child.kill();
    if let Ok(status) = child.wait() {
        let out = Output {
            status,
            stdout: Vec::new(),
            stderr: std::fs::read(stderr).unwrap_or_default(),
        };
        record_output(cmd, &out);
    }
}

pub fn record_output(cmd: &Command, out: &Output) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let Some(dir) = std::env::var_os("ARTOKEN_LEAK_DIR") else {
        return;
    };
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let program = Path::new(cmd.get_program())
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let verbose = args
        .iter()
        .any(|a| a == "--dry-run" || a == "-v" || a == "-vv" || a == "--verbose");
    // Which test ran it, and which command (first word after the program), never its arguments:
    // a test could pass a secret in an argument (it would show in the report).
    let what = format!(
        "{} {program} {}",
        std::thread::current().name().unwrap_or("?"),
        args.iter()
            .find(|a| !a.starts_with('-'))
            .filter(|a| a.len() <= 30 && a.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
            .map(String::as_str)
            .unwrap_or("")
    );
    let mut text = format!(
        "{what}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A command whose stdout is the token by design (`-vv token`, `-vv env`, `-vv render`)
    // says so with STDOUT_HOLDS_TOKEN: its logs are still checked, its stdout is not.
    let stdout_holds_token = cmd
        .get_envs()
        .any(|(k, v)| k == STDOUT_HOLDS_TOKEN && v.is_some());
    if verbose && !stdout_holds_token {
        text.push_str("\n--- stdout (--dry-run/--verbose)\n");
        text.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    let n = N.fetch_add(1, Ordering::Relaxed);
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        Path::new(&dir).join(format!("out-{}-{n}.txt", std::process::id())),
        text,
    );
}

/// Runs `cmd` and asserts it succeeded, showing its output otherwise.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{:?} {:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        cmd.get_program(),
        cmd.get_args().collect::<Vec<_>>(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Output as text (stdout + stderr), for assertions and leak checks.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_commands_see_only_the_sandbox() {
        let mut sb = Sandbox::new();
        sb.set_env("EXTRA", "1");
        let out = run_ok(
            sb.command("sh")
                .args(["-c", "echo $HOME:$EXTRA:$AWS_REGION:$AWS_PROFILE"]),
        );
        let s = String::from_utf8(out.stdout).unwrap();
        assert_eq!(s.trim(), format!("{}:1:{REGION}:", sb.home().display()));
    }

    #[test]
    fn argv_shims_record_every_exec_exactly_then_run_the_real_program() {
        let mut sb = Sandbox::new();
        let log = sb.record_argv(&["sh", "printf"]);
        // PATH set after the shims still has them first
        sb.set_env("PATH", std::env::var_os("PATH").unwrap());
        // sh starts printf by name 21 times, 20 at once (through env: printf is a builtin too);
        // arguments with spaces, a newline, a quote, an empty one
        let out = run_ok(sb.command("sh").args([
            "-c",
            "for i in $(seq 20); do env printf '%s|' \"$@\" > /dev/null & done; wait; env printf '%s|' \"$@\"",
            "sh",
            "a b",
            "line\nnext",
            "",
            "it's $HOME",
        ]));
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "a b|line\nnext||it's $HOME|"
        );
        let records = log.assert_saw(&["sh", "printf"]);
        assert_eq!(records.len(), 22, "{records:?}");
        assert_eq!(records[0].program(), "sh");
        for r in log.of("printf") {
            assert_eq!(r.args(), ["%s|", "a b", "line\nnext", "", "it's $HOME"]);
        }
        // a program missing after the shim is exit 127, like a shell's
        let mut sb = Sandbox::new();
        let log = sb.record_argv(&["no-such-program-here"]);
        let out = run(sb.command("no-such-program-here").arg("x"));
        assert_eq!(out.status.code(), Some(127));
        assert_eq!(log.records()[0].args(), ["x"]);
    }
}
