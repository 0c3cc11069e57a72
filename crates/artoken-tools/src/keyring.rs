//! The keyring CLI protocol pip and uv speak to a `keyring` executable, and the shim that puts artoken there.
//!
//! Forms in use today (all parsed by [`parse_args`], options in any order, `--opt value` or
//! `--opt=value`):
//!
//! - pip >= 26.2: `keyring --mode=creds --output=json get SERVICE [USERNAME]`, reply
//!   `{"username": ..., "password": ...}`; a non-zero exit means "no credentials";
//! - pip 23.1..26.1 and uv: `keyring get SERVICE USERNAME`, reply the bare password;
//! - uv with `authenticate = "always"`: `keyring get SERVICE --mode creds`, reply two lines,
//!   username then password.
//!
//! SERVICE is an index URL or pip's `host[:port]` fallback (see [`crate::realm`]).

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

/// The only username CodeArtifact tokens go with.
pub const USERNAME: &str = "aws";

/// The shim's file name.
pub const SHIM_NAME: &str = "keyring";

/// Marks a script shim as artoken's.
const SCRIPT_MARKER: &str = "# artoken keyring shim";

/// Usage, for `--help`.
pub const USAGE: &str = "\
usage: keyring [-h] [--mode {password,creds}] [--output {plain,json}] [-b BACKEND] [-p PATH]
               [--list-backends] {get,set,del,diagnose} [service] [username]

artoken answering as `keyring`: `get` prints a fresh AWS CodeArtifact token for the https index
URL (or host) of a configured repository, with the username `aws`. Nothing is stored: `set` and
`del` are refused.

  --mode password   print the password only (default)
  --mode creds      print the username, then the password
  --output plain    one value per line (default)
  --output json     {\"username\": \"aws\", \"password\": \"...\"}
  -b, -p            accepted and ignored

Exit 1 (and nothing printed) for any other URL.
Install: `artoken keyring install`; pip: --keyring-provider subprocess; uv: UV_KEYRING_PROVIDER=subprocess.
";

/// `--mode`: what `get` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The password only.
    #[default]
    Password,
    /// Username and password.
    Creds,
}

/// `--output`: how `get` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    #[default]
    Plain,
    Json,
}

/// A `get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRequest {
    pub service: String,
    pub username: Option<String>,
    pub mode: Mode,
    pub output: Output,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    Get(GetRequest),
    /// `set` or `del`: refused (nothing is stored).
    Store {
        operation: String,
    },
    Diagnose,
    Help,
    ListBackends,
    Disable,
    PrintCompletion,
}

/// A command line keyring would reject (exit 2, as argparse does).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    // Arguments are shown escaped: a newline in one must not make the message two lines.
    #[error("unrecognized arguments: {}", .0.escape_debug())]
    Unrecognized(String),
    #[error("argument {}: expected one argument", .option.escape_debug())]
    MissingValue { option: String },
    #[error("argument {option}: invalid choice: {value:?} (choose from {choices})")]
    InvalidChoice {
        option: &'static str,
        value: String,
        choices: &'static str,
    },
    #[error("no operation given (get, set, del, diagnose)")]
    NoOperation,
    #[error("invalid operation {0:?} (choose from get, set, del, diagnose)")]
    UnknownOperation(String),
    #[error("{} needs a service", .0.escape_debug())]
    NoService(String),
}

/// Parses keyring's command line (without argv[0]).
pub fn parse_args<S: AsRef<str>>(args: &[S]) -> Result<Invocation, UsageError> {
    let mut mode = Mode::default();
    let mut output = Output::default();
    let mut positional: Vec<String> = Vec::new();
    let mut help = false;
    let mut list = false;
    let mut disable = false;
    let mut completion = false;
    let mut it = args.iter().map(AsRef::as_ref);
    let mut only_positional = false;
    while let Some(arg) = it.next() {
        if only_positional || arg == "-" || !arg.starts_with('-') {
            positional.push(arg.to_string());
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (arg, None),
        };
        // Short options may carry their value attached: `-bfoo`.
        let (name, inline) = match (name, inline) {
            (n, None)
                if n.len() > 2
                    && !n.starts_with("--")
                    && (n.starts_with("-b") || n.starts_with("-p")) =>
            {
                (&n[..2], Some(&n[2..]))
            }
            other => other,
        };
        let mut value = |option: &str| -> Result<String, UsageError> {
            match inline {
                Some(v) => Ok(v.to_string()),
                None => it
                    .next()
                    .map(str::to_string)
                    .ok_or_else(|| UsageError::MissingValue {
                        option: option.to_string(),
                    }),
            }
        };
        match name {
            "-h" | "--help" => help = true,
            "--list-backends" => list = true,
            "--disable" => disable = true,
            "--mode" => {
                mode = match value("--mode")?.as_str() {
                    "password" => Mode::Password,
                    "creds" => Mode::Creds,
                    other => {
                        return Err(UsageError::InvalidChoice {
                            option: "--mode",
                            value: other.to_string(),
                            choices: "password, creds",
                        });
                    }
                }
            }
            "--output" => {
                output = match value("--output")?.as_str() {
                    "plain" => Output::Plain,
                    "json" => Output::Json,
                    other => {
                        return Err(UsageError::InvalidChoice {
                            option: "--output",
                            value: other.to_string(),
                            choices: "plain, json",
                        });
                    }
                }
            }
            "-b" | "--keyring-backend" | "-p" | "--keyring-path" => {
                value(name)?;
            }
            "--print-completion" => {
                value(name)?;
                completion = true;
            }
            _ => return Err(UsageError::Unrecognized(arg.to_string())),
        }
    }
    if help {
        return Ok(Invocation::Help);
    }
    if list {
        return Ok(Invocation::ListBackends);
    }
    if disable {
        return Ok(Invocation::Disable);
    }
    if completion {
        return Ok(Invocation::PrintCompletion);
    }
    let mut pos = positional.into_iter();
    let operation = pos.next().ok_or(UsageError::NoOperation)?;
    let service = pos.next();
    let username = pos.next();
    if let Some(extra) = pos.next() {
        return Err(UsageError::Unrecognized(extra));
    }
    match operation.as_str() {
        "get" => Ok(Invocation::Get(GetRequest {
            service: service.ok_or_else(|| UsageError::NoService(operation.clone()))?,
            username,
            mode,
            output,
        })),
        "set" | "del" => Ok(Invocation::Store { operation }),
        "diagnose" => Ok(Invocation::Diagnose),
        _ => Err(UsageError::UnknownOperation(operation)),
    }
}

impl GetRequest {
    /// True when the caller asks for a username CodeArtifact tokens go with (`aws`, or none).
    pub fn username_fits(&self) -> bool {
        self.username.as_deref().is_none_or(|u| u == USERNAME)
    }

    /// What to print on stdout for `token` (ends with a newline).
    pub fn reply(&self, token: &str) -> String {
        let user = self.username.as_deref().unwrap_or(USERNAME);
        match (self.output, self.mode) {
            (Output::Json, _) => {
                let v = serde_json::json!({ "username": user, "password": token });
                format!("{v}\n")
            }
            (Output::Plain, Mode::Creds) => format!("{user}\n{token}\n"),
            (Output::Plain, Mode::Password) => format!("{token}\n"),
        }
    }
}

/// `artoken keyring install|uninstall [--dir DIR] [--script]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admin {
    Install {
        dir: Option<PathBuf>,
        kind: ShimKind,
    },
    Uninstall {
        dir: Option<PathBuf>,
    },
}

/// `None` when `args` is not an install/uninstall command line (a keyring one, then).
pub fn parse_admin<S: AsRef<str>>(args: &[S]) -> Option<Result<Admin, UsageError>> {
    let mut it = args.iter().map(AsRef::as_ref);
    let install = match it.next()? {
        "install" => true,
        "uninstall" => false,
        _ => return None,
    };
    let mut dir = None;
    let mut kind = ShimKind::Symlink;
    while let Some(arg) = it.next() {
        match arg.split_once('=') {
            Some(("--dir", v)) => dir = Some(PathBuf::from(v)),
            _ if arg == "--dir" => match it.next() {
                Some(v) => dir = Some(PathBuf::from(v)),
                None => {
                    return Some(Err(UsageError::MissingValue {
                        option: "--dir".into(),
                    }));
                }
            },
            _ if arg == "--script" && install => kind = ShimKind::Script,
            _ => return Some(Err(UsageError::Unrecognized(arg.to_string()))),
        }
    }
    Some(Ok(if install {
        Admin::Install { dir, kind }
    } else {
        Admin::Uninstall { dir }
    }))
}

/// How the shim runs artoken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShimKind {
    /// A symlink to the artoken binary (artoken sees argv[0] `keyring`).
    Symlink,
    /// `exec /abs/artoken keyring "$@"` in a small sh script.
    Script,
}

/// What is at the shim's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShimState {
    Absent,
    /// An artoken shim (a symlink to an `artoken` binary, or our script).
    Ours,
    /// Anything else: never touched.
    Foreign,
}

/// Why the shim could not be (un)installed.
#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    #[error("{} exists and is not artoken's keyring shim; not touching it (remove it yourself, or pick another --dir)", path.display())]
    Foreign { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What [`install`] or [`uninstall`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created(PathBuf),
    Replaced(PathBuf),
    Unchanged(PathBuf),
    Removed(PathBuf),
    NothingToRemove(PathBuf),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Created(p) => write!(f, "installed {}", p.display()),
            Outcome::Replaced(p) => write!(f, "updated {}", p.display()),
            Outcome::Unchanged(p) => write!(f, "{} is already installed", p.display()),
            Outcome::Removed(p) => write!(f, "removed {}", p.display()),
            Outcome::NothingToRemove(p) => write!(f, "no keyring shim at {}", p.display()),
        }
    }
}

/// What is at `path`: nothing, an artoken shim, or something else.
pub fn shim_state(path: &Path) -> ShimState {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return ShimState::Absent;
    };
    if meta.file_type().is_symlink() {
        let target = fs::read_link(path).unwrap_or_default();
        return if target.file_name().is_some_and(|n| n == "artoken") {
            ShimState::Ours
        } else {
            ShimState::Foreign
        };
    }
    if meta.is_file()
        && meta.len() < 4096
        && fs::read_to_string(path).is_ok_and(|t| t.lines().any(|l| l.starts_with(SCRIPT_MARKER)))
    {
        return ShimState::Ours;
    }
    ShimState::Foreign
}

/// The script shim for `exe`.
pub fn script(exe: &Path) -> String {
    let quoted = exe.to_string_lossy().replace('\'', r"'\''");
    format!(
        "#!/bin/sh\n{SCRIPT_MARKER}: pip and uv run it as `keyring`\nexec '{quoted}' keyring \"$@\"\n"
    )
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ShimError + '_ {
    move |source| ShimError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `dir/keyring` running `exe` (absolute); refuses to replace anything not artoken's.
pub fn install(dir: &Path, exe: &Path, kind: ShimKind) -> Result<Outcome, ShimError> {
    let path = dir.join(SHIM_NAME);
    let state = shim_state(&path);
    if state == ShimState::Foreign {
        return Err(ShimError::Foreign { path });
    }
    let unchanged = match kind {
        ShimKind::Symlink => fs::read_link(&path).is_ok_and(|t| t == exe),
        ShimKind::Script => fs::read_to_string(&path).is_ok_and(|t| t == script(exe)),
    };
    if unchanged {
        return Ok(Outcome::Unchanged(path));
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let tmp = create_shim_temp(dir, exe, kind).map_err(io_err(dir))?;
    if let Err(e) = fs::rename(&tmp, &path) {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(&path)(e));
    }
    Ok(match state {
        ShimState::Absent => Outcome::Created(path),
        _ => Outcome::Replaced(path),
    })
}

/// The shim, made under a new random name beside its place (`.keyring.artoken-tmp.HEX`) and
/// created exclusively (`O_EXCL`; a symlink is too): whatever someone planted under a temp name
/// is never followed, truncated or removed; a name that exists is skipped for another.
fn create_shim_temp(dir: &Path, exe: &Path, kind: ShimKind) -> io::Result<PathBuf> {
    use std::hash::{BuildHasher, RandomState};
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    for attempt in 0..16u32 {
        // RandomState is seeded from the OS's random source.
        let n = RandomState::new().hash_one((std::process::id(), attempt));
        let tmp = dir.join(format!(".{SHIM_NAME}.artoken-tmp.{n:016x}"));
        let made = match kind {
            ShimKind::Symlink => symlink(exe, &tmp),
            ShimKind::Script => {
                let created = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o700)
                    .open(&tmp);
                created.and_then(|mut f| {
                    // Filled through the handle of the file just created; then the exact mode
                    // (the one given at creation is cut by the umask).
                    let filled = f
                        .write_all(script(exe).as_bytes())
                        .and_then(|()| f.set_permissions(fs::Permissions::from_mode(0o755)));
                    if filled.is_err() {
                        let _ = fs::remove_file(&tmp);
                    }
                    filled
                })
            }
        };
        match made {
            Ok(()) => return Ok(tmp),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "cannot create a temporary file: every name tried exists",
    ))
}

/// Removes `dir/keyring` if it is artoken's.
pub fn uninstall(dir: &Path) -> Result<Outcome, ShimError> {
    let path = dir.join(SHIM_NAME);
    match shim_state(&path) {
        ShimState::Absent => Ok(Outcome::NothingToRemove(path)),
        ShimState::Foreign => Err(ShimError::Foreign { path }),
        ShimState::Ours => {
            fs::remove_file(&path).map_err(io_err(&path))?;
            Ok(Outcome::Removed(path))
        }
    }
}

/// True when `dir` is one of the directories of a `PATH` value.
pub fn on_path(dir: &Path, path_var: &str) -> bool {
    let same = |p: &Path| {
        p == dir
            || (fs::canonicalize(p).ok().zip(fs::canonicalize(dir).ok()))
                .is_some_and(|(a, b)| a == b)
    };
    std::env::split_paths(path_var).any(|p| same(&p))
}

/// True when `dir` is a virtualenv's `bin` (pip never runs a `keyring` from its own venv's bin).
pub fn in_venv(dir: &Path) -> bool {
    dir.parent().is_some_and(|p| p.join("pyvenv.cfg").is_file())
}

/// The first `keyring` on `PATH` other than `ours`, when it comes before `ours` (it would
/// answer instead of artoken).
pub fn shadowing(ours: &Path, path_var: &str) -> Option<PathBuf> {
    for dir in std::env::split_paths(path_var) {
        let candidate = dir.join(SHIM_NAME);
        if candidate == ours
            || fs::canonicalize(&dir).ok() == ours.parent().and_then(|p| fs::canonicalize(p).ok())
        {
            return None;
        }
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(args: &[&str]) -> GetRequest {
        match parse_args(args).unwrap() {
            Invocation::Get(g) => g,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    const URL: &str =
        "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/r/simple/";

    #[test]
    fn every_form_clients_use_parses() {
        // pip >= 26.2
        let g = get(&["--mode=creds", "--output=json", "get", URL]);
        assert_eq!(
            (g.mode, g.output, g.username.as_deref()),
            (Mode::Creds, Output::Json, None)
        );
        assert_eq!(g.service, URL);
        let g = get(&["--mode=creds", "--output=json", "get", URL, "aws"]);
        assert_eq!(g.username.as_deref(), Some("aws"));
        // older pip, uv
        let g = get(&["get", URL, "aws"]);
        assert_eq!(
            (g.mode, g.output, g.username.as_deref()),
            (Mode::Password, Output::Plain, Some("aws"))
        );
        // uv, authenticate = always
        let g = get(&["get", URL, "--mode", "creds"]);
        assert_eq!((g.mode, g.username), (Mode::Creds, None));
    }

    #[test]
    fn options_come_in_any_order_and_either_spelling() {
        let want = GetRequest {
            service: URL.into(),
            username: Some("aws".into()),
            mode: Mode::Creds,
            output: Output::Json,
        };
        for args in [
            vec!["--mode", "creds", "--output", "json", "get", URL, "aws"],
            vec!["get", URL, "aws", "--output=json", "--mode=creds"],
            vec!["get", "--output", "json", URL, "--mode=creds", "aws"],
            vec![
                "-b",
                "keyring.backends.null.Keyring",
                "--mode=creds",
                "get",
                URL,
                "aws",
                "--output=json",
            ],
            vec![
                "--keyring-backend=x",
                "-p",
                "/tmp",
                "--mode=creds",
                "--output=json",
                "get",
                URL,
                "aws",
            ],
            vec![
                "-bx",
                "--mode=creds",
                "--output=json",
                "get",
                "--",
                URL,
                "aws",
            ],
        ] {
            assert_eq!(get(&args), want, "{args:?}");
        }
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        assert_eq!(
            parse_args(&["--frobnicate", "get", URL]),
            Err(UsageError::Unrecognized("--frobnicate".into()))
        );
        assert!(matches!(
            parse_args(&["--mode=secret", "get", URL]),
            Err(UsageError::InvalidChoice { .. })
        ));
        assert!(matches!(
            parse_args(&["--output", "xml", "get", URL]),
            Err(UsageError::InvalidChoice { .. })
        ));
        assert!(matches!(
            parse_args(&["get", URL, "--mode"]),
            Err(UsageError::MissingValue { .. })
        ));
        assert_eq!(parse_args::<&str>(&[]), Err(UsageError::NoOperation));
        assert_eq!(
            parse_args(&["get"]),
            Err(UsageError::NoService("get".into()))
        );
        assert_eq!(
            parse_args(&["fetch", URL]),
            Err(UsageError::UnknownOperation("fetch".into()))
        );
        assert_eq!(
            parse_args(&["get", URL, "aws", "extra"]),
            Err(UsageError::Unrecognized("extra".into()))
        );
        // pip reads "keyring too old" into an exit 2 that mentions --mode=creds: never say it
        for e in [
            parse_args(&["--frobnicate", "get", URL]).unwrap_err(),
            parse_args(&["--mode=x", "get", URL]).unwrap_err(),
        ] {
            assert!(!e.to_string().contains("--mode=creds"), "{e}");
        }
        // One line, whatever the arguments hold (found by the keyring_args fuzz target).
        for e in [
            parse_args(&["--", "\u{12}", "", "", "\n", "y"]).unwrap_err(),
            parse_args(&["--x\ny", "get", URL]).unwrap_err(),
        ] {
            assert!(!e.to_string().contains('\n'), "{e}");
        }
    }

    #[test]
    fn the_other_operations_parse() {
        assert_eq!(parse_args(&["--help"]), Ok(Invocation::Help));
        assert_eq!(parse_args(&["get", URL, "-h"]), Ok(Invocation::Help));
        assert_eq!(
            parse_args(&["--list-backends"]),
            Ok(Invocation::ListBackends)
        );
        assert_eq!(parse_args(&["--disable"]), Ok(Invocation::Disable));
        assert_eq!(
            parse_args(&["--print-completion", "bash"]),
            Ok(Invocation::PrintCompletion)
        );
        assert_eq!(
            parse_args(&["set", URL, "aws"]),
            Ok(Invocation::Store {
                operation: "set".into()
            })
        );
        assert_eq!(
            parse_args(&["del", URL, "aws"]),
            Ok(Invocation::Store {
                operation: "del".into()
            })
        );
        assert_eq!(parse_args(&["diagnose"]), Ok(Invocation::Diagnose));
    }

    #[test]
    fn replies_have_the_shape_each_client_reads() {
        let mut g = get(&["--mode=creds", "--output=json", "get", URL]);
        let v: serde_json::Value = serde_json::from_str(&g.reply("eyJ\"tok")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"username": "aws", "password": "eyJ\"tok"})
        );
        assert_eq!(g.reply("t").lines().count(), 1);
        g.output = Output::Plain;
        assert_eq!(g.reply("tok"), "aws\ntok\n");
        g.mode = Mode::Password;
        assert_eq!(g.reply("tok"), "tok\n");
    }

    #[test]
    fn only_the_aws_username_fits() {
        assert!(get(&["get", URL]).username_fits());
        assert!(get(&["get", URL, "aws"]).username_fits());
        assert!(!get(&["get", URL, "__token__"]).username_fits());
        assert!(!get(&["get", URL, "AWS"]).username_fits());
    }

    #[test]
    fn admin_command_lines() {
        assert_eq!(parse_admin(&["get", URL]), None);
        assert_eq!(
            parse_admin(&["install"]),
            Some(Ok(Admin::Install {
                dir: None,
                kind: ShimKind::Symlink
            }))
        );
        assert_eq!(
            parse_admin(&["install", "--dir", "/x", "--script"]),
            Some(Ok(Admin::Install {
                dir: Some("/x".into()),
                kind: ShimKind::Script
            }))
        );
        assert_eq!(
            parse_admin(&["uninstall", "--dir=/y"]),
            Some(Ok(Admin::Uninstall {
                dir: Some("/y".into())
            }))
        );
        assert!(matches!(parse_admin(&["install", "--dir"]), Some(Err(_))));
        assert!(matches!(
            parse_admin(&["uninstall", "--script"]),
            Some(Err(_))
        ));
    }

    #[test]
    fn install_writes_a_shim_and_never_touches_foreign_files() {
        let tmp = tempfile::tempdir().unwrap();
        let exe = tmp.path().join("opt/artoken");
        fs::create_dir_all(exe.parent().unwrap()).unwrap();
        fs::write(&exe, "#!/bin/sh\n").unwrap();
        let dir = tmp.path().join("bin");
        let shim = dir.join("keyring");

        assert_eq!(
            install(&dir, &exe, ShimKind::Symlink).unwrap(),
            Outcome::Created(shim.clone())
        );
        assert_eq!(fs::read_link(&shim).unwrap(), exe);
        assert_eq!(shim_state(&shim), ShimState::Ours);
        assert_eq!(
            install(&dir, &exe, ShimKind::Symlink).unwrap(),
            Outcome::Unchanged(shim.clone())
        );
        assert_eq!(
            install(&dir, &exe, ShimKind::Script).unwrap(),
            Outcome::Replaced(shim.clone())
        );
        let text = fs::read_to_string(&shim).unwrap();
        assert!(text.starts_with("#!/bin/sh\n"), "{text}");
        assert!(
            text.contains(&format!("exec '{}' keyring \"$@\"", exe.display())),
            "{text}"
        );
        assert_eq!(
            fs::metadata(&shim).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert_eq!(shim_state(&shim), ShimState::Ours);
        assert_eq!(uninstall(&dir).unwrap(), Outcome::Removed(shim.clone()));
        assert_eq!(
            uninstall(&dir).unwrap(),
            Outcome::NothingToRemove(shim.clone())
        );

        // someone else's keyring stays
        fs::write(&shim, "#!/usr/bin/python3\nfrom keyring.cli import main\n").unwrap();
        assert!(matches!(
            install(&dir, &exe, ShimKind::Symlink),
            Err(ShimError::Foreign { .. })
        ));
        assert!(matches!(uninstall(&dir), Err(ShimError::Foreign { .. })));
        assert!(fs::read_to_string(&shim).unwrap().contains("keyring.cli"));
        fs::remove_file(&shim).unwrap();
        symlink("/usr/bin/python3", &shim).unwrap();
        assert_eq!(shim_state(&shim), ShimState::Foreign);
        assert!(
            fs::read_dir(&dir).unwrap().count() == 1,
            "no temporary file left behind"
        );
    }

    #[test]
    fn a_path_with_quotes_is_quoted_in_the_script() {
        let s = script(Path::new("/o'dd/artoken"));
        assert!(s.contains(r"exec '/o'\''dd/artoken' keyring"), "{s}");
    }

    #[test]
    fn path_checks() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        fs::create_dir_all(&a).unwrap();
        fs::create_dir_all(&b).unwrap();
        let path = std::env::join_paths([&a, &b])
            .unwrap()
            .into_string()
            .unwrap();
        assert!(on_path(&b, &path));
        assert!(!on_path(&tmp.path().join("c"), &path));
        fs::write(a.join("keyring"), "x").unwrap();
        assert_eq!(
            shadowing(&b.join("keyring"), &path),
            Some(a.join("keyring"))
        );
        assert_eq!(shadowing(&a.join("keyring"), &path), None);
        let venv = tmp.path().join("venv");
        fs::create_dir_all(venv.join("bin")).unwrap();
        fs::write(venv.join("pyvenv.cfg"), "home = /usr\n").unwrap();
        assert!(in_venv(&venv.join("bin")));
        assert!(!in_venv(&a));
    }
}
