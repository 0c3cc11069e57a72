//! The real poetry and uv rewriting the files `artoken login` wrote (issue #17): after `poetry
//! add`, `poetry source add`, `poetry config` and `uv add`, `artoken logout` takes out
//! artoken's source and credentials and nothing the tool or the user added.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use testkit::{run, run_ok, text, tool};

/// A project directory under the sandbox with `pyproject` as its pyproject.toml.
fn project(env: &Env, pyproject: &str) -> PathBuf {
    let dir = env.sb.work().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pyproject.toml"), pyproject).unwrap();
    dir
}

/// `artoken ARGS` run in `dir` with the sandbox's artoken.yml; expects success.
fn artoken_in(env: &Env, dir: &Path, args: &[&str]) -> Output {
    let out = run_ok(
        env.artoken()
            .current_dir(dir)
            .arg("--config")
            .arg(env.sb.work().join("artoken.yml"))
            .args(args),
    );
    assert_no_token_in_output(env, &out, &format!("artoken {args:?}"));
    out
}

/// poetry in `dir`, its cache and virtualenv inside the sandbox, no desktop keyring (so it
/// reads auth.toml), never a question.
fn poetry(env: &Env, dir: &Path, args: &[&str]) -> Output {
    let out = run(env
        .sb
        .command(tool("poetry"))
        .current_dir(dir)
        .env("POETRY_CACHE_DIR", env.sb.cache_home().join("poetry"))
        .env("POETRY_VIRTUALENVS_IN_PROJECT", "true")
        .env("POETRY_NO_INTERACTION", "1")
        .env("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
        .args(args));
    assert!(
        out.status.success(),
        "poetry {args:?} failed:\n{}",
        text(&out)
    );
    assert_no_token_in_output(env, &out, &format!("poetry {args:?}"));
    out
}

fn assert_no_token_in_output(env: &Env, out: &Output, what: &str) {
    for t in env.emu.issued_tokens() {
        assert!(!text(out).contains(&t), "{what} printed the token");
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The lines of `before` that are not in `after`, when `after` is `before` with some lines
/// taken out (panics otherwise: logout only ever removes).
fn removed_lines(before: &str, after: &str) -> Vec<String> {
    let mut rest = after.split_inclusive('\n').peekable();
    let mut removed = Vec::new();
    for l in before.split_inclusive('\n') {
        if rest.peek() == Some(&l) {
            rest.next();
        } else {
            removed.push(l.to_string());
        }
    }
    assert_eq!(
        rest.next(),
        None,
        "logout changed lines rather than only removing some:\n--- before\n{before}--- after\n{after}"
    );
    removed
}

/// Our source's four lines (and blank lines): what logout may take out of pyproject.toml.
fn assert_only_our_source_went(env: &Env, before: &str, after: &str, priority: &str) {
    let removed: Vec<String> = removed_lines(before, after)
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let url = format!("{}simple/", env.endpoint());
    assert_eq!(
        removed,
        [
            "[[tool.poetry.source]]\n".to_string(),
            "name = \"demo\"\n".to_string(),
            format!("url = \"{url}\"\n"),
            format!("priority = \"{priority}\"\n"),
        ],
        "logout took out more or less than artoken's source"
    );
}

fn no_token_on_disk(env: &Env, files: &[&Path]) {
    for f in files {
        let body = std::fs::read_to_string(f).unwrap_or_default();
        for t in env.emu.issued_tokens() {
            assert!(!body.contains(&t), "{} holds a token", f.display());
        }
    }
}

/// Issue #17's file: `[tool.poetry.dependencies]` last, with the user's comments and spacing.
const PYPROJECT: &str = "# the app: comments and odd spacing stay\n[tool.poetry]\npackage-mode   =   false   # no package of our own\n\n[tool.poetry.dependencies]\npython = \">=3.9\"  # the test venv's\n";

#[test]
fn poetry_add_and_source_add_then_logout_takes_only_artokens_source() {
    let env = setup();
    let dir = project(&env, PYPROJECT);
    let pyproject = dir.join("pyproject.toml");
    let auth = env.sb.config_home().join("pypoetry/auth.toml");

    // Untouched: logout gives back the original bytes.
    artoken_in(&env, &dir, &["login", "poetry"]);
    assert_ne!(read(&pyproject), PYPROJECT);
    artoken_in(&env, &dir, &["logout", "poetry"]);
    assert_eq!(read(&pyproject), PYPROJECT);
    assert!(!auth.exists());

    artoken_in(&env, &dir, &["login", "poetry"]);
    poetry(&env, &dir, &["add", "artoken-demo"]);
    let after_add = read(&pyproject);
    // The dependency went into the dependencies table, not after artoken's source.
    let deps = after_add.find("[tool.poetry.dependencies]").unwrap();
    let ours = after_add.find("[[tool.poetry.source]]").unwrap();
    let dep = after_add.find("artoken-demo").unwrap();
    assert!(deps < dep && dep < ours, "{after_add}");
    let out = run_ok(
        env.sb
            .command(dir.join(".venv/bin/python"))
            .args(["-c", "import artoken_demo; print(artoken_demo.hello())"]),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "hello from artoken-demo 1.0.0"
    );
    poetry(
        &env,
        &dir,
        &[
            "source",
            "add",
            "other",
            "https://example.invalid/simple/",
            "--priority=supplemental",
        ],
    );
    poetry(&env, &dir, &["lock"]);
    let lock = dir.join("poetry.lock");
    let (before, lock_before) = (read(&pyproject), read(&lock));
    assert!(lock_before.contains("artoken-demo"), "{lock_before}");

    let out = artoken_in(&env, &dir, &["logout", "poetry"]);
    let after = read(&pyproject);
    assert_only_our_source_went(&env, &before, &after, "primary");
    assert!(after.contains("artoken-demo = \""), "{after}");
    assert!(after.contains("name = \"other\""), "{after}");
    assert!(after.starts_with("# the app: comments and odd spacing stay\n"));
    assert!(after.contains("package-mode   =   false   # no package of our own\n"));
    assert_eq!(read(&lock), lock_before, "logout leaves poetry.lock alone");
    assert!(!auth.exists(), "auth.toml held only artoken's credentials");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("left as is"),
        "{}",
        text(&out)
    );
    // poetry reads what is left: the other source, not artoken's.
    let shown = text(&poetry(&env, &dir, &["source", "show"]));
    assert!(
        shown.contains("other") && !shown.contains("demo"),
        "{shown}"
    );
    no_token_on_disk(&env, &[&pyproject, &lock]);
}

#[test]
fn poetry_config_and_source_commands_then_login_and_logout_again() {
    let env = setup();
    let dir = project(&env, PYPROJECT);
    let pyproject = dir.join("pyproject.toml");
    let auth = env.sb.config_home().join("pypoetry/auth.toml");

    artoken_in(&env, &dir, &["login", "poetry", "--extra"]);
    // The user's own credentials, added by poetry after artoken's.
    poetry(
        &env,
        &dir,
        &["config", "http-basic.mine", "me", "my-password"],
    );
    // poetry's `source remove` leaves `source = []` in [tool.poetry]; login goes in there.
    poetry(&env, &dir, &["source", "remove", "demo"]);
    let emptied = read(&pyproject);
    assert!(emptied.contains("source = []"), "{emptied}");
    artoken_in(&env, &dir, &["login", "poetry", "--extra"]);
    let shown = text(&poetry(&env, &dir, &["source", "show", "demo"]));
    assert!(shown.contains("supplemental"), "{shown}");
    artoken_in(&env, &dir, &["logout", "poetry"]);
    assert_eq!(read(&pyproject), emptied);
    let creds = read(&auth);
    assert!(
        creds.contains("[http-basic.mine]") && !creds.contains("http-basic.demo"),
        "{creds}"
    );

    // The user points artoken's source elsewhere with poetry: logout leaves it and says so,
    // and still takes the credentials.
    artoken_in(&env, &dir, &["login", "poetry"]);
    poetry(
        &env,
        &dir,
        &["source", "add", "demo", "https://mirror.example/simple/"],
    );
    let repointed = read(&pyproject);
    let out = artoken_in(&env, &dir, &["logout", "poetry"]);
    assert_eq!(read(&pyproject), repointed);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("source \"demo\" points at \"https://mirror.example/simple/\"")
            && err.contains("left as is"),
        "{err}"
    );
    assert!(!read(&auth).contains("http-basic.demo"));
    no_token_on_disk(&env, &[&pyproject, &auth]);
}

/// uv rewrites pyproject.toml (`uv add`), never uv.toml: the same for `login uv --file
/// pyproject.toml`.
#[test]
fn uv_add_then_logout_uv_takes_only_artokens_index() {
    let env = setup();
    let original = "# the app\n[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = []\n\n[tool.uv]\npackage = false   # no build\n";
    let dir = project(&env, original);
    let pyproject = dir.join("pyproject.toml");
    let file = ["--file", "pyproject.toml"];
    // The exports on stdout carry the token by design; stderr never does.
    let out = run_ok(
        env.artoken()
            .current_dir(&dir)
            .arg("--config")
            .arg(env.sb.work().join("artoken.yml"))
            .args(["login", "uv"])
            .args(file),
    );
    env.assert_no_leak_on_stderr(&out);
    let exports = out.stdout;
    let vars: Vec<(String, String)> = String::from_utf8(exports)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.strip_prefix("export ").unwrap().split_once('=').unwrap();
            (k.to_string(), v.trim_matches('\'').to_string())
        })
        .collect();
    assert_eq!(vars.len(), 2, "{vars:?}");
    let uv = |args: &[&str]| {
        let mut cmd: Command = env.sb.command(tool("uv"));
        cmd.current_dir(&dir)
            .env("UV_CACHE_DIR", env.sb.cache_home().join("uv"))
            .env("UV_PYTHON_DOWNLOADS", "never")
            .env("UV_PYTHON", tool("python"))
            .env("UV_KEYRING_PROVIDER", "disabled")
            .args(args);
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        let out = run(&mut cmd);
        assert!(out.status.success(), "uv {args:?} failed:\n{}", text(&out));
        assert_no_token_in_output(&env, &out, &format!("uv {args:?}"));
    };
    uv(&["add", "artoken-demo"]);
    uv(&[
        "add",
        "--frozen",
        "--index",
        "other=https://example.invalid/simple/",
        "six",
    ]);
    let lock = dir.join("uv.lock");
    let (before, lock_before) = (read(&pyproject), read(&lock));
    assert!(lock_before.contains("artoken-demo"), "{lock_before}");
    artoken_in(&env, &dir, &[&["logout", "uv"][..], &file].concat());
    let after = read(&pyproject);
    let removed: Vec<String> = removed_lines(&before, &after)
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        removed,
        [
            "[[tool.uv.index]]\n".to_string(),
            "name = \"demo\"\n".to_string(),
            format!("url = \"{}simple/\"\n", env.endpoint()),
            "default = true\n".to_string(),
        ]
    );
    for kept in [
        "\"artoken-demo",
        "\"six",
        "name = \"other\"",
        "package = false   # no build",
    ] {
        assert!(after.contains(kept), "{kept} went:\n{after}");
    }
    assert_eq!(read(&lock), lock_before);
    no_token_on_disk(&env, &[&pyproject, &lock]);
}
