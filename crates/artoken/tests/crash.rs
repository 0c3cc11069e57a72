//! Crash safety and clean failure of every file writer.
//!
//! artoken killed with SIGKILL at random points never leaves a torn or world-readable file: the
//! cache, the files `login`/`logout` edit, the refresher's local files and S3 objects are always
//! one whole version, and the temp file a killed writer leaves (it may hold a token) is removed
//! by the next write of the same target. A read-only or full target directory is one clear error
//! line naming the file, with the original intact and no temp file left.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use testkit::Moto;

const ITERATIONS: u32 = 200;
/// `login`/`logout` runs take about 10 ms: more of them.
const LOGIN_ITERATIONS: u32 = 500;

#[test]
fn sigkill_mid_write_never_tears_the_cache() {
    let env = setup();
    let dir = env.sb.cache_home().join("artoken");
    env.ok(&["token"]);
    let args = ["--refresh", "token"];
    // Kill points within the measured run time (a fixed window is too short when the other
    // loops of this file share the 2 cores).
    let took = median((0..5).map(|_| timed_ok(&env, &args)).collect());
    // Killed at known points while writing the cache entry: the entry stays the previous whole
    // token, and the next fetch sweeps the temp file.
    let entry = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".token.json"))
        .expect("a cache entry");
    for point in ["partial-write", "before-rename"] {
        let before = std::fs::read(&entry).unwrap();
        let issued_before = env.tokens_issued();
        let name = entry.file_name().unwrap().to_str().unwrap();
        let out = testkit::run(
            env.artoken()
                .env("ARTOKEN_CRASH_AT", format!("{point}:{name}"))
                .args(args),
        );
        assert_eq!(
            out.status.code(),
            None,
            "not killed at {point}: {}",
            testkit::text(&out)
        );
        assert_eq!(
            env.tokens_issued(),
            issued_before + 1,
            "killed after the fetch"
        );
        assert_eq!(
            std::fs::read(&entry).unwrap(),
            before,
            "entry changed at {point}"
        );
        let left = temp_files(&entry);
        assert_eq!(left.len(), 1, "one temp file at {point}");
        let left = left.into_iter().next().unwrap();
        assert_eq!(mode(&left), 0o600);
        let newest = env.emu.issued_tokens().last().cloned().unwrap();
        let text = String::from_utf8(std::fs::read(&left).unwrap()).unwrap();
        match point {
            "partial-write" => assert!(serde_json::from_str::<serde_json::Value>(&text).is_err()),
            _ => assert!(text.contains(&newest), "the new token is in the temp file"),
        }
        let t = env.ok(&args);
        assert_eq!(
            temp_files(&entry),
            BTreeSet::new(),
            "swept by the next write"
        );
        assert_eq!(t.trim(), env.emu.issued_tokens().last().unwrap());
    }
    let mut rng = Lcg(0x9e37_79b9_7f4a_7c15);
    let mut killed = 0;
    let fetched_before = env.tokens_issued();
    let cached_token = |entry: &Path| -> String {
        let bytes = std::fs::read(entry)
            .unwrap_or_else(|e| panic!("the cache entry is gone after a kill: {e}"));
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|err| panic!("torn cache entry {}: {err}", entry.display()));
        v["token"]
            .as_str()
            .expect("a token in the entry")
            .to_string()
    };
    let mut cached = cached_token(&entry);
    for _ in 0..ITERATIONS {
        let issued_before = env.emu.issued_tokens().len();
        // In the second half of the run and a little beyond: where the token has come back
        // and the cache file is written (earlier kills only stop the fetch).
        if kill_after(&env, &args, took / 2 + rng.below(took * 7 / 10)) {
            killed += 1;
        }
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let mode = e.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name} has mode {mode:o}");
        }
        // The entry is whole and holds either the token it held before this run or the one
        // this run fetched: nothing older, nothing torn, never missing.
        let issued = env.emu.issued_tokens();
        let now = cached_token(&entry);
        // (A killed run's request may still be answered after it died: its token shows up
        // here too, but nobody is left to cache it.)
        let fetched_now = issued.get(issued_before..).unwrap_or_default();
        assert!(
            now == cached || fetched_now.contains(&now),
            "the cache entry holds neither the previous token nor this run's"
        );
        cached = now;
    }
    // How many random kills landed where depends on the machine's speed: reported, not
    // asserted (the crash points above are the deterministic proof).
    let fetched = env.tokens_issued() - fetched_before;
    // and the cache still serves
    let t = env.ok(&["token"]);
    assert!(env.emu.issued_tokens().contains(&t.trim().to_string()));
    eprintln!(
        "crash test: {ITERATIONS} runs ({took:?} when whole), {killed} killed mid-flight, {fetched} fetched a token, no torn file"
    );
}

/// The LCG of the cache test: the same kill points on every run.
struct Lcg(u64);

impl Lcg {
    /// Uniform in `[0, max)`.
    fn below(&mut self, max: Duration) -> Duration {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        Duration::from_micros((self.0 >> 33) % (max.as_micros() as u64).max(1))
    }
}

/// Runs artoken to the end (it must succeed) and says how long it took.
fn timed_ok(env: &Env, args: &[&str]) -> Duration {
    let t = Instant::now();
    env.ok(args);
    t.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Starts artoken with `args` and SIGKILLs it after `delay`: true when it was still running.
fn kill_after(env: &Env, args: &[&str], delay: Duration) -> bool {
    let mut cmd = env.artoken();
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::thread::sleep(delay);
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    // What it wrote to stderr before it died joins the suite's leak check.
    if let Ok(out) = child.wait_with_output() {
        testkit::record_output(&cmd, &out);
    }
    running
}

/// Runs artoken with `args` and `ARTOKEN_CRASH_AT=point` (the writer aborts mid-write at a known
/// point: half the bytes in its temp file, or all of them before the rename) and checks what a
/// kill there leaves: the process died by a signal, `target` still holds `before` whole, and
/// exactly one new temp file of `target` holds a prefix of `after` when it is known (all of it
/// before the rename), 0600 when it holds a token. Returns that temp file.
fn crash_at(
    env: &Env,
    args: &[&str],
    point: &str,
    target: &Path,
    before: &[u8],
    after: Option<&[u8]>,
    tokens: &[String],
) -> PathBuf {
    let temps_before = temp_files(target);
    let name = target.file_name().unwrap().to_str().unwrap();
    let out = testkit::run(
        env.artoken()
            .env("ARTOKEN_CRASH_AT", format!("{point}:{name}"))
            .args(args),
    );
    assert_eq!(
        out.status.code(),
        None,
        "{args:?} at {point} was not killed: {}",
        testkit::text(&out)
    );
    assert_eq!(
        std::fs::read(target).unwrap(),
        before,
        "{} changed by a writer killed at {point}",
        target.display()
    );
    let new: Vec<PathBuf> = temp_files(target)
        .difference(&temps_before)
        .cloned()
        .collect();
    assert_eq!(new.len(), 1, "one temp file left at {point}: {new:?}");
    let left = std::fs::read(&new[0]).unwrap();
    match (point, after) {
        (_, None) => {}
        ("partial-write", Some(after)) => {
            assert_eq!(left.len(), after.len() / 2, "half written at {point}");
            assert!(
                after.starts_with(&left),
                "the temp file is a prefix of the new version"
            );
        }
        (_, Some(after)) => assert_eq!(
            left, after,
            "the whole new version is in the temp file at {point}"
        ),
    }
    let text = String::from_utf8_lossy(&left);
    if tokens.iter().any(|t| text.contains(t.as_str())) {
        assert_eq!(mode(&new[0]), 0o600, "a temp file holding a token");
    }
    new[0].clone()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The temp files of `target` beside it (`.NAME.tmp.PID.N`, see `artoken_core::atomic`).
fn temp_files(target: &Path) -> BTreeSet<PathBuf> {
    let prefix = format!(".{}.tmp.", target.file_name().unwrap().to_str().unwrap());
    std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

/// Every name in `dir` but the temp files of `target`.
fn entries_but_temp(dir: &Path, target: &Path) -> BTreeSet<PathBuf> {
    let temps = temp_files(target);
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !temps.contains(p))
        .collect()
}

/// What a SIGKILL loop saw.
#[derive(Default)]
struct Tally {
    /// Children still running when killed.
    killed: u32,
    /// Runs after which the target held the other version.
    changed: u32,
    /// Temp files left behind by killed writers (each counted once).
    temp_left: BTreeSet<PathBuf>,
    /// ... of which held a token.
    temp_with_token: u32,
}

impl Tally {
    /// Records the temp files of `target` now there; those holding a token must be 0600.
    fn see_temp_files(&mut self, target: &Path, tokens: &[String]) {
        for t in temp_files(target) {
            if self.temp_left.contains(&t) {
                continue;
            }
            // A temp file may vanish under us (swept): only what could be read counts.
            let Ok(bytes) = std::fs::read(&t) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            if tokens.iter().any(|tok| text.contains(tok.as_str())) {
                self.temp_with_token += 1;
                assert_eq!(mode(&t), 0o600, "{} holds a token", t.display());
            }
            self.temp_left.insert(t);
        }
    }
}

/// Alternates `login TOOL REPO` and `logout TOOL REPO` on a file with the user's own content,
/// killing each run at a random point; the file is always the original or the logged-in bytes.
fn sigkill_loop_for_login(tool: &str, repo: &str, rel: &str, original: &str, seed: u64) {
    let env = setup();
    let w = Writer {
        tool,
        repo,
        rel,
        original,
        secret: true,
    };
    sigkill_loop_for_login_in(&env, &w, seed, LOGIN_ITERATIONS);
}

/// A file `login TOOL REPO` edits: at `rel` in the sandbox, with the user's `original` content;
/// `secret` when the logged-in file holds the token.
struct Writer<'a> {
    tool: &'a str,
    repo: &'a str,
    rel: &'a str,
    original: &'a str,
    secret: bool,
}

fn sigkill_loop_for_login_in(env: &Env, w: &Writer, seed: u64, iterations: u32) {
    let Writer {
        tool,
        repo,
        rel,
        original,
        secret,
    } = *w;
    let target = env.sb.root().join(rel);
    let dir = target.parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(&target, original).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (login, logout) = (["login", tool, repo], ["logout", tool, repo]);
    // One cached token (no --refresh): every login writes the same bytes.
    env.ok(&["token", repo]);
    let tokens = env.emu.issued_tokens();
    assert_eq!(tokens.len(), 1);
    let (mut t_login, mut t_logout, mut logged_in) = (Vec::new(), Vec::new(), None);
    for _ in 0..5 {
        t_login.push(timed_ok(env, &login));
        let now = std::fs::read(&target).unwrap();
        assert_eq!(
            logged_in.get_or_insert_with(|| now.clone()),
            &now,
            "every login writes the same bytes"
        );
        t_logout.push(timed_ok(env, &logout));
        assert_eq!(std::fs::read(&target).unwrap(), original.as_bytes());
    }
    let logged_in = logged_in.unwrap();
    // Some writers reference the token (uv, pipenv) or a helper (cargo) instead.
    let holds_token = String::from_utf8_lossy(&logged_in).contains(&tokens[0]);
    assert_eq!(holds_token, secret, "{tool}: the token in {rel}");
    let (t_login, t_logout) = (median(t_login), median(t_logout));
    let others = entries_but_temp(&dir, &target);
    // Killed at known points mid-write: login and logout each leave the file as it was, and
    // the next clean write sweeps what they left.
    for point in ["partial-write", "before-rename"] {
        crash_at(
            env,
            &login,
            point,
            &target,
            original.as_bytes(),
            Some(&logged_in),
            &tokens,
        );
        env.ok(&login);
        assert_eq!(std::fs::read(&target).unwrap(), logged_in);
        assert_eq!(
            temp_files(&target),
            BTreeSet::new(),
            "swept by a clean login"
        );
        crash_at(
            env,
            &logout,
            point,
            &target,
            &logged_in,
            Some(original.as_bytes()),
            &tokens,
        );
        env.ok(&logout);
        assert_eq!(std::fs::read(&target).unwrap(), original.as_bytes());
        assert_eq!(
            temp_files(&target),
            BTreeSet::new(),
            "swept by a clean logout"
        );
    }

    let mut rng = Lcg(seed);
    let mut tally = Tally::default();
    for _ in 0..iterations {
        let before = std::fs::read(&target).unwrap();
        let (args, took) = if before == original.as_bytes() {
            (&login, t_login)
        } else {
            (&logout, t_logout)
        };
        // Within the run time and a little beyond, so some runs finish.
        if kill_after(env, args, rng.below(took * 6 / 5)) {
            tally.killed += 1;
        }
        let now = std::fs::read(&target)
            .unwrap_or_else(|e| panic!("{rel} is gone after a killed {}: {e}", args[0]));
        if now == logged_in {
            if holds_token {
                assert_eq!(mode(&target), 0o600, "{rel} holds a token");
            }
        } else if now != original.as_bytes() {
            panic!(
                "{rel} is torn after a killed {}:\n{}",
                args[0],
                String::from_utf8_lossy(&now)
            );
        }
        tally.changed += u32::from(now != before);
        tally.see_temp_files(&target, &tokens);
        assert_eq!(
            entries_but_temp(&dir, &target),
            others,
            "no other file appears"
        );
    }
    let left_at_end = temp_files(&target).len();
    // A clean write of the target sweeps what killed writers left.
    let now = std::fs::read(&target).unwrap();
    env.ok(if now == original.as_bytes() {
        &login
    } else {
        &logout
    });
    assert_eq!(
        temp_files(&target),
        BTreeSet::new(),
        "temp files left after a clean {tool} write"
    );
    if now == original.as_bytes() {
        env.ok(&logout);
    }
    assert_eq!(std::fs::read(&target).unwrap(), original.as_bytes());
    assert_eq!(entries_but_temp(&dir, &target), others);
    // How many random kills landed mid-flight depends on the machine's speed: reported, not
    // asserted (the crash points above are the deterministic proof).
    eprintln!(
        "crash test, login/logout {tool} ({rel}): {iterations} runs (login {t_login:?}, logout {t_logout:?} when whole), {} killed mid-flight, {} changed the file, 0 torn; {} temp files left by killed writers ({} with a token, {} there before the last clean run), 0 after it",
        tally.killed,
        tally.changed,
        tally.temp_left.len(),
        tally.temp_with_token,
        left_at_end
    );
}

#[test]
fn sigkill_mid_login_pip_never_tears_pip_conf() {
    sigkill_loop_for_login(
        "pip",
        "demo",
        "config/pip/pip.conf",
        "# my pip settings\n[global]\ntimeout = 30\n\n[install]\n; no bytecode\nno-compile = yes\n",
        0x2545_f491_4f6c_dd1d,
    );
}

#[test]
fn sigkill_mid_login_npm_never_tears_npmrc() {
    sigkill_loop_for_login(
        "npm",
        "js",
        "home/.npmrc",
        "; my npm settings\nsave-exact=true\n# a scope of my own\n@mine:registry=https://npm.example.com/\n",
        0x9e37_79b9_7f4a_7c16,
    );
}

#[test]
fn sigkill_mid_login_twine_never_tears_pypirc() {
    sigkill_loop_for_login(
        "twine",
        "demo",
        "home/.pypirc",
        "# my index servers\n[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\n",
        0xd1b5_4a32_d192_ed03,
    );
}

/// Every other writer `login` has: fewer runs each (they share the write path of the three
/// above), each in a fresh sandbox with a repository of every format.
#[test]
fn sigkill_mid_login_never_tears_any_other_writers_file() {
    const CASES: &[(&str, &str, &str, &str, bool)] = &[
        (
            "uv",
            "demo",
            "config/uv/uv.toml",
            "# mine\nnative-tls = true\n",
            false,
        ),
        ("pnpm", "js", "home/.npmrc", "save-exact=true\n", true),
        (
            "yarn",
            "js",
            "home/.yarnrc.yml",
            "# mine\nenableTelemetry: false\n",
            true,
        ),
        (
            "maven",
            "mvn",
            "home/.m2/settings.xml",
            "<settings>\n  <!-- mine -->\n  <offline>false</offline>\n</settings>\n",
            true,
        ),
        (
            "gradle",
            "mvn",
            "home/.gradle/gradle.properties",
            "# mine\norg.gradle.daemon=false\n",
            true,
        ),
        (
            "nuget",
            "nu",
            "home/.nuget/NuGet/NuGet.Config",
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <!-- mine -->\n</configuration>\n",
            true,
        ),
        (
            "cargo",
            "crates",
            "home/.cargo/config.toml",
            "# mine\n[net]\nretry = 3\n",
            false,
        ),
        (
            "netrc",
            "demo",
            "home/.netrc",
            "machine github.com login me password gh\n",
            true,
        ),
        (
            "swift",
            "sw",
            "home/.netrc",
            "machine example.com login me password x\n",
            true,
        ),
        (
            "poetry",
            "demo",
            "config/pypoetry/auth.toml",
            "# mine\n",
            true,
        ),
        // Issue #17: the project file poetry login edits too, `[tool.poetry.dependencies]` last.
        (
            "poetry",
            "demo",
            "work/pyproject.toml",
            "# mine\n[tool.poetry]\nname = \"app\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\n",
            false,
        ),
        (
            "pipenv",
            "demo",
            "work/Pipfile",
            "[packages]\nrequests = \"*\"\n",
            false,
        ),
    ];
    for (i, &(tool, repo, rel, original, secret)) in CASES.iter().enumerate() {
        let env = setup_all_formats();
        if tool == "poetry" {
            std::fs::write(
                env.sb.work().join("pyproject.toml"),
                "[tool.poetry]\nname = \"app\"\n",
            )
            .unwrap();
        }
        let seed = 0x5851_f42d_4c95_7f2d_u64.wrapping_add(i as u64);
        let w = Writer {
            tool,
            repo,
            rel,
            original,
            secret,
        };
        sigkill_loop_for_login_in(&env, &w, seed, 100);
    }
}

/// A requirements file for the refresher: our repository twice (a stale token, a placeholder)
/// and another index.
fn requirements(env: &Env) -> String {
    let hp = env.endpoint().trim_start_matches("http://").to_string();
    [
        "# requirements for MWAA (codeartifact.txt)",
        &format!("--extra-index-url http://aws:stale-token@{hp}simple/"),
        "--index-url https://pypi.org/simple/",
        "apache-airflow-providers-amazon==9.0.0  # pinned",
        &format!("-i http://aws:${{AUTH_TOKEN}}@{hp}simple/"),
        "",
    ]
    .join("\n")
}

fn with_token(text: &str, token: &str) -> String {
    text.replace("stale-token", token)
        .replace("${AUTH_TOKEN}", token)
}

/// Which whole version `body` is: `Some(token)` for the requirements with that issued token,
/// `None` for the original; panics on anything else (a torn write).
fn version_of(env: &Env, text: &str, body: &[u8], what: &str) -> Option<String> {
    if body == text.as_bytes() {
        return None;
    }
    let found = env
        .emu
        .issued_tokens()
        .into_iter()
        .find(|t| body == with_token(text, t).as_bytes());
    assert!(
        found.is_some(),
        "{what} is torn or holds a token the emulator never issued:\n{}",
        String::from_utf8_lossy(body)
    );
    found
}

#[test]
fn sigkill_mid_refresh_never_tears_a_local_target() {
    let env = setup();
    let text = requirements(&env);
    let file = env.sb.work().join("requirements.txt");
    std::fs::write(&file, &text).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(
        env.sb.work().join("artoken.user.yml"),
        "targets:\n  - file: requirements.txt\n",
    )
    .unwrap();
    // --refresh: a new token each run, so each write changes the file.
    let args = ["--refresh", "refresh", "--once"];
    let took = median((0..5).map(|_| timed_ok(&env, &args)).collect());
    let mut last = version_of(&env, &text, &std::fs::read(&file).unwrap(), "the file");
    assert!(last.is_some());
    let others = entries_but_temp(&env.sb.work(), &file);

    // Killed at known points while writing the file: it keeps its previous whole version.
    for point in ["partial-write", "before-rename"] {
        let before = std::fs::read(&file).unwrap();
        let tmp = crash_at(&env, &args, point, &file, &before, None, &[]);
        let newest = env.emu.issued_tokens().last().cloned().unwrap();
        let left = std::fs::read(&tmp).unwrap();
        let whole = with_token(&text, &newest);
        match point {
            "partial-write" => {
                assert!(whole.as_bytes().starts_with(&left) && left.len() < whole.len())
            }
            _ => assert_eq!(left, whole.as_bytes()),
        }
        assert_eq!(mode(&tmp), 0o600, "a temp file holding a token");
        env.ok(&args);
        assert_eq!(
            temp_files(&file),
            BTreeSet::new(),
            "swept by the next refresh"
        );
        last = version_of(&env, &text, &std::fs::read(&file).unwrap(), "the file");
    }
    let mut rng = Lcg(0x5851_f42d_4c95_7f2d);
    let mut tally = Tally::default();
    for _ in 0..ITERATIONS {
        if kill_after(&env, &args, rng.below(took * 6 / 5)) {
            tally.killed += 1;
        }
        let now = version_of(&env, &text, &std::fs::read(&file).unwrap(), "the file");
        assert!(now.is_some(), "the file went back to the original");
        assert_eq!(mode(&file), 0o600, "the file holds a token");
        tally.changed += u32::from(now != last);
        last = now;
        tally.see_temp_files(&file, &env.emu.issued_tokens());
        assert_eq!(entries_but_temp(&env.sb.work(), &file), others);
    }
    let left_at_end = temp_files(&file).len();
    env.ok(&args);
    assert_eq!(
        temp_files(&file),
        BTreeSet::new(),
        "temp files left after a clean refresh"
    );
    let issued = env.emu.issued_tokens();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        with_token(&text, issued.last().unwrap())
    );
    eprintln!(
        "crash test, refresh --once (local file): {ITERATIONS} runs ({took:?} when whole), {} killed mid-flight, {} wrote a new token, 0 torn; {} temp files left by killed writers ({} with a token, {} there before the last clean run), 0 after it; {} tokens issued",
        tally.killed,
        tally.changed,
        tally.temp_left.len(),
        tally.temp_with_token,
        left_at_end,
        issued.len()
    );
}

/// One request to moto with a dummy signature: status and body.
fn moto_http(moto: &Moto, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let url = moto.url();
    let host = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // moto does not check signatures, but it treats a request without one as anonymous.
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: {}\r\nAuthorization: AWS4-HMAC-SHA256 Credential={}/20260101/{}/s3/aws4_request, SignedHeaders=host, Signature=0\r\n\r\n",
        body.len(),
        testkit::ACCESS_KEY_ID,
        testkit::REGION
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let status = String::from_utf8_lossy(&resp[..split])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, resp[split + 4..].to_vec())
}

#[test]
fn sigkill_mid_s3_refresh_never_tears_the_object() {
    let mut env = setup();
    let moto = Moto::start();
    env.sb.set_env("AWS_ENDPOINT_URL_S3", moto.url());
    let text = requirements(&env);
    let bucket = format!(
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
        testkit::REGION
    );
    let (status, body) = moto_http(&moto, "PUT", "/mwaa-env", bucket.as_bytes());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let key = "/mwaa-env/dags/codeartifact.txt";
    let (status, _) = moto_http(&moto, "PUT", key, text.as_bytes());
    assert_eq!(status, 200);
    let url = "s3://mwaa-env/dags/codeartifact.txt";
    std::fs::write(
        env.sb.work().join("artoken.user.yml"),
        format!("targets:\n  - s3: {url}\n"),
    )
    .unwrap();
    let get = || {
        let (status, body) = moto_http(&moto, "GET", key, b"");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        version_of(&env, &text, &body, "the object")
    };
    // Both ways to refresh an object, taking turns; --refresh: a new token each run.
    let runs: [&[&str]; 2] = [
        &["--refresh", "s3", "refresh", url],
        &["--refresh", "refresh", "--once"],
    ];
    let took: Vec<Duration> = runs
        .iter()
        .map(|args| median((0..3).map(|_| timed_ok(&env, args)).collect()))
        .collect();
    let mut last = get();
    assert!(last.is_some());

    let mut rng = Lcg(0x2127_599b_f432_5c37);
    let mut killed = 0;
    let mut changed = 0;
    for i in 0..ITERATIONS as usize {
        if kill_after(&env, runs[i % 2], rng.below(took[i % 2] * 6 / 5)) {
            killed += 1;
        }
        let now = get();
        assert!(now.is_some(), "the object went back to the original");
        changed += u32::from(now != last);
        last = now;
    }
    env.ok(runs[0]);
    let issued = env.emu.issued_tokens();
    assert_eq!(get().as_ref(), issued.last());
    assert!(
        killed > ITERATIONS / 4,
        "only {killed} of {ITERATIONS} runs were killed mid-flight"
    );
    eprintln!(
        "crash test, S3 refresh: {ITERATIONS} runs (s3 refresh {:?}, refresh --once {:?} when whole), {killed} killed mid-flight, {changed} wrote a new token, 0 torn; {} tokens issued",
        took[0],
        took[1],
        issued.len()
    );
}

/// Why a write fails.
#[derive(Clone, Copy, Debug)]
enum Blocked {
    /// The target's directory cannot be written (the file itself can be read).
    ReadOnly,
    /// Every write past a few bytes fails with EFBIG, as on a full disk.
    Full,
}

/// The uid (and gid) of `nobody`, for running artoken unprivileged when the tests run as root.
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn chown_tree(p: &Path, uid: u32) {
    std::os::unix::fs::chown(p, Some(uid), Some(uid)).unwrap();
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap().flatten() {
            chown_tree(&e.path(), uid);
        }
    }
}

/// Runs artoken with `args` so that writing in `dir` fails as `how` says. The cache must already
/// hold the token (and endpoint) the command needs: nothing but the target is written.
fn run_blocked(env: &Env, args: &[&str], dir: &Path, how: Blocked) -> Output {
    let mut cmd = env.artoken();
    cmd.args(args);
    let set_mode = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    let mut restore = None;
    match how {
        // Permission bits do not stop root: run as nobody, who can read the sandbox (the config,
        // the credentials) and use its own cache and TMPDIR, but not write the root-owned `dir`.
        Blocked::ReadOnly if is_root() => {
            set_mode(env.sb.root(), 0o755);
            for f in [".aws/config", ".aws/credentials"] {
                set_mode(&env.sb.home().join(f), 0o644);
            }
            chown_tree(&env.sb.cache_home(), NOBODY);
            chown_tree(&env.sb.root().join("tmp"), NOBODY);
            assert_eq!(
                std::fs::metadata(dir).unwrap().permissions().mode() & 0o777,
                0o755
            );
            // A copy of the binary nobody can reach: the checkout may sit in a 0700 dir
            // (/root, a mktemp -d clone).
            let exe = env.sb.root().join("bin-for-nobody/artoken");
            if !exe.exists() {
                std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
                set_mode(exe.parent().unwrap(), 0o755);
                std::fs::copy(artoken_bin(), &exe).unwrap();
                set_mode(&exe, 0o755);
            }
            cmd = env.sb.command(&exe);
            cmd.args(args);
            cmd.uid(NOBODY).gid(NOBODY);
        }
        Blocked::ReadOnly => {
            let was = std::fs::metadata(dir).unwrap().permissions().mode() & 0o7777;
            set_mode(dir, 0o555);
            restore = Some(was);
        }
        Blocked::Full => unsafe {
            cmd.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: 16,
                    rlim_max: 16,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // EFBIG instead of death by SIGXFSZ.
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                Ok(())
            });
        },
    }
    let out = testkit::run(&mut cmd);
    if let Some(was) = restore {
        set_mode(dir, was);
    }
    if is_root() {
        chown_tree(&env.sb.cache_home(), 0);
    }
    out
}

/// A failed write: exit 1, no panic, the target's bytes and mode as they were, no temp file.
fn assert_clean_failure(out: &Output, target: &Path, original: &[u8], mode_before: u32) {
    let all = testkit::text(out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(!all.contains("panicked"), "{all}");
    assert_eq!(
        std::fs::read(target).unwrap(),
        original,
        "the original is intact"
    );
    assert_eq!(mode(target), mode_before);
    assert_eq!(temp_files(target), BTreeSet::new(), "no temp file is left");
}

/// What the error says after the target's path, for each way of failing.
fn why(how: Blocked, dir: &Path) -> String {
    match how {
        Blocked::ReadOnly => format!(
            "cannot create a temporary file in {}: Permission denied (os error 13)",
            dir.display()
        ),
        Blocked::Full => "File too large (os error 27)".to_string(),
    }
}

/// `login TOOL REPO` with the target's directory read-only or the disk full.
fn login_into_a_blocked_dir(tool: &str, repo: &str, rel: &str, original: &str) {
    for how in [Blocked::ReadOnly, Blocked::Full] {
        let env = setup();
        let target = env.sb.root().join(rel);
        let dir = target.parent().unwrap().to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        // The token and the endpoint in the cache, the file as the user left it.
        env.ok(&["login", tool, repo]);
        env.ok(&["logout", tool, repo]);
        std::fs::write(&target, original).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let others = entries_but_temp(&dir, &target);
        let out = run_blocked(&env, &["login", tool, repo], &dir, how);
        env.assert_no_leak_on_stderr(&out);
        assert_clean_failure(&out, &target, original.as_bytes(), 0o644);
        assert_eq!(entries_but_temp(&dir, &target), others);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr,
            format!(
                "artoken: error: {}: cannot write it: {}\n",
                target.display(),
                why(how, &dir)
            ),
            "{how:?}"
        );
        // Unblocked, the same command works.
        env.ok(&["login", tool, repo]);
        assert_eq!(mode(&target), 0o600);
    }
}

#[test]
fn login_pip_into_a_read_only_or_full_dir_fails_cleanly() {
    login_into_a_blocked_dir(
        "pip",
        "demo",
        "config/pip/pip.conf",
        "# my pip settings\n[global]\ntimeout = 30\n",
    );
}

#[test]
fn login_npm_into_a_read_only_or_full_dir_fails_cleanly() {
    login_into_a_blocked_dir(
        "npm",
        "js",
        "home/.npmrc",
        "; my npm settings\nsave-exact=true\n",
    );
}

#[test]
fn refresh_of_a_local_file_in_a_read_only_or_full_dir_fails_cleanly() {
    for how in [Blocked::ReadOnly, Blocked::Full] {
        let env = setup();
        let text = requirements(&env);
        let dir = env.sb.work().join("dags");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("requirements.txt");
        std::fs::write(&file, &text).unwrap();
        std::fs::write(
            env.sb.work().join("artoken.user.yml"),
            "targets:\n  - file: dags/requirements.txt\n",
        )
        .unwrap();
        // The token in the cache; then the file with a stale token again.
        env.ok(&["refresh", "--once"]);
        std::fs::write(&file, &text).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = run_blocked(&env, &["refresh", "--once"], &dir, how);
        env.assert_no_leak_on_stderr(&out);
        assert_clean_failure(&out, &file, text.as_bytes(), 0o644);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "nothing but the file"
        );
        // Each target's outcome is a line on stdout; stderr sums up and names the failure.
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!(
                "{}: FAILED: cannot write: {}\n",
                file.display(),
                why(how, &dir)
            ),
            "{how:?}"
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "artoken: error: 1 of 1 targets failed: {}: cannot write: {}\n",
                file.display(),
                why(how, &dir)
            ),
            "{how:?}"
        );
        env.ok(&["refresh", "--once"]);
        assert_eq!(mode(&file), 0o600);
    }
}
