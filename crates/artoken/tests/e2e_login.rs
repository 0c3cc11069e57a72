//! The real clients (pip, uv, twine, npm) using what `artoken login` wrote, each in an isolated
//! HOME against the emulator; afterwards no file but the intended ones holds the token.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use testkit::{on_path, run, run_ok, text, tool};

/// Runs artoken, expecting success; returns stdout.
fn artoken(env: &Env, args: &[&str]) -> String {
    env.ok(args)
}

/// Every file under `dir`, but the artoken cache (which holds the token by design).
fn files(env: &Env, dir: &Path, out: &mut Vec<PathBuf>) {
    let cache = env.sb.cache_home().join("artoken");
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p == cache || p.is_symlink() {
            continue;
        }
        if p.is_dir() {
            files(env, &p, out);
        } else {
            out.push(p);
        }
    }
}

/// No file in the sandbox but `allowed` (and the artoken cache) holds a token.
fn assert_token_only_in(env: &Env, allowed: &[PathBuf]) {
    let tokens = env.emu.issued_tokens();
    assert!(!tokens.is_empty());
    let mut all = Vec::new();
    files(env, env.sb.root(), &mut all);
    for p in all {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let body = String::from_utf8_lossy(&bytes);
        for t in &tokens {
            if body.contains(t.as_str()) {
                assert!(
                    allowed.contains(&p),
                    "the token is in {}, which login did not mean to write",
                    p.display()
                );
            }
        }
    }
    for a in allowed {
        let body = std::fs::read_to_string(a).unwrap_or_default();
        assert!(
            tokens.iter().any(|t| body.contains(t.as_str())),
            "{} holds no token",
            a.display()
        );
    }
}

fn assert_no_token_in_output(env: &Env, out: &Output, what: &str) {
    for t in env.emu.issued_tokens() {
        assert!(!text(out).contains(&t), "{what} printed the token");
    }
}

/// Imports `module` from `target` and returns what `hello()` says.
fn python_hello(env: &Env, target: &Path, module: &str) -> String {
    let out = run_ok(
        env.sb
            .command(tool("python"))
            .env("PYTHONPATH", target)
            .args(["-c", &format!("import {module}; print({module}.hello())")]),
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn pip_installs_through_login_pip() {
    let env = setup();
    artoken(&env, &["login", "pip"]);
    let conf = env.sb.config_home().join("pip/pip.conf");
    assert!(conf.is_file());
    let target = env.sb.root().join("site");
    let out = run(env
        .sb
        .command(tool("pip"))
        .args([
            "install",
            "--no-cache-dir",
            "--retries",
            "0",
            "--timeout",
            "20",
            "--target",
        ])
        .arg(&target)
        .arg("artoken-demo"));
    assert!(out.status.success(), "pip install failed:\n{}", text(&out));
    assert_no_token_in_output(&env, &out, "pip");
    assert_eq!(
        python_hello(&env, &target, "artoken_demo"),
        "hello from artoken-demo 1.0.0"
    );
    assert_token_only_in(&env, std::slice::from_ref(&conf));

    artoken(&env, &["logout", "pip"]);
    assert!(!conf.exists());
    let out = run(env
        .sb
        .command(tool("pip"))
        .args([
            "download",
            "--no-cache-dir",
            "--no-deps",
            "--keyring-provider",
            "disabled",
            "--retries",
            "0",
            "--index-url",
        ])
        .arg(format!("{}simple/", env.endpoint()))
        .arg("-d")
        .arg(env.sb.root().join("dl"))
        .arg("artoken-demo"));
    assert!(!out.status.success(), "after logout pip has no token");
}

#[test]
fn uv_installs_through_login_uv() {
    let env = setup();
    let exports = artoken(&env, &["login", "uv"]);
    let uv_toml = env.sb.config_home().join("uv/uv.toml");
    let config = std::fs::read_to_string(&uv_toml).unwrap();
    assert!(config.contains("[[index]]\nname = \"demo\""), "{config}");
    let vars: Vec<(String, String)> = exports
        .lines()
        .map(|l| {
            let (k, v) = l.strip_prefix("export ").unwrap().split_once('=').unwrap();
            (k.to_string(), v.trim_matches('\'').to_string())
        })
        .collect();
    assert_eq!(vars.len(), 2, "{exports}");
    let target = env.sb.root().join("site");
    let install = |vars: &[(String, String)], target: &Path| {
        let mut cmd = env.sb.command(tool("uv"));
        cmd.env("UV_CACHE_DIR", env.sb.cache_home().join("uv"))
            .env("UV_PYTHON_DOWNLOADS", "never")
            .args(["pip", "install", "--no-cache", "--python"])
            .arg(tool("python"))
            .arg("--target")
            .arg(target)
            .arg("artoken-demo");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        run(&mut cmd)
    };
    let out = install(&vars, &target);
    assert!(
        out.status.success(),
        "uv pip install failed:\n{}",
        text(&out)
    );
    assert_no_token_in_output(&env, &out, "uv");
    assert_eq!(
        python_hello(&env, &target, "artoken_demo"),
        "hello from artoken-demo 1.0.0"
    );
    // uv.toml has no token: nothing on disk holds it.
    assert_token_only_in(&env, &[]);

    // Without the variables the index refuses uv.
    let out = install(&[], &env.sb.root().join("anon"));
    assert!(
        !out.status.success(),
        "uv without credentials:\n{}",
        text(&out)
    );
    artoken(&env, &["logout", "uv"]);
    assert!(!uv_toml.exists());
}

/// Builds a small pure-Python wheel with the test venv's Python (no token involved).
fn wheel(env: &Env, name: &str, version: &str) -> PathBuf {
    let dist = env.sb.work().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    let script = env.sb.root().join("mkwheel.py");
    std::fs::write(
        &script,
        r#"import base64, hashlib, sys, zipfile
name, version, dist = sys.argv[1:4]
mod = name.replace("-", "_")
info = f"{mod}-{version}.dist-info"
files = {
    f"{mod}/__init__.py": f"def hello():\n    return 'hello from {name} {version}'\n",
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: e2e probe\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: artoken-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
path = f"{dist}/{mod}-{version}-py3-none-any.whl"
record = []
with zipfile.ZipFile(path, "w") as z:
    for p, c in files.items():
        b = c.encode()
        z.writestr(p, b)
        h = base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
        record.append(f"{p},sha256={h},{len(b)}")
    record.append(f"{info}/RECORD,,")
    z.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
print(path)
"#,
    )
    .unwrap();
    let out = run_ok(
        env.sb
            .command(tool("python"))
            .arg(&script)
            .args([name, version])
            .arg(&dist),
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn twine_uploads_through_login_twine() {
    let env = setup();
    let pypirc = env.sb.home().join(".pypirc");
    std::fs::write(&pypirc, "# my uploads\n[pypi]\nusername = __token__\n").unwrap();
    artoken(&env, &["login", "twine"]);
    let file = wheel(&env, "twine-probe", "0.3.1");
    let out = run(env
        .sb
        .command(tool("twine"))
        .args([
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "-r",
            "demo",
        ])
        .arg(&file));
    assert!(out.status.success(), "twine upload failed:\n{}", text(&out));
    assert_no_token_in_output(&env, &out, "twine");
    assert_eq!(
        env.emu.stats().requests.get("pypi:upload").copied(),
        Some(1)
    );

    // What was uploaded installs through `login pip`.
    artoken(&env, &["login", "pip"]);
    let target = env.sb.root().join("site");
    run_ok(
        env.sb
            .command(tool("pip"))
            .args(["install", "--no-cache-dir", "--retries", "0", "--target"])
            .arg(&target)
            .arg("twine-probe==0.3.1"),
    );
    assert_eq!(
        python_hello(&env, &target, "twine_probe"),
        "hello from twine-probe 0.3.1"
    );
    let conf = env.sb.config_home().join("pip/pip.conf");
    assert_token_only_in(&env, &[pypirc.clone(), conf]);

    artoken(&env, &["logout", "twine"]);
    assert_eq!(
        std::fs::read_to_string(&pypirc).unwrap(),
        "# my uploads\n[pypi]\nusername = __token__\n"
    );
}

fn npm(env: &Env, dir: &Path) -> std::process::Command {
    let mut cmd = env.sb.command(on_path("npm"));
    cmd.current_dir(dir)
        .env("npm_config_cache", dir.join(".npm-cache"))
        .env("npm_config_fetch_retries", "0")
        .env("npm_config_loglevel", "warn")
        .env("npm_config_progress", "false")
        .env("npm_config_logs_max", "0");
    cmd
}

#[test]
fn npm_installs_and_publishes_through_login_npm() {
    let env = setup();
    let consumer = env.sb.work().join("consumer");
    let publisher = env.sb.work().join("publisher");
    for d in [&consumer, &publisher] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(
        consumer.join("package.json"),
        r#"{"name": "consumer", "version": "1.0.0", "private": true}"#,
    )
    .unwrap();
    artoken(&env, &["login", "npm", "js", "--file", "consumer/.npmrc"]);
    artoken(&env, &["login", "npm", "js", "--file", "publisher/.npmrc"]);
    let out = run(npm(&env, &consumer).args(["install", "artoken-demo"]));
    assert!(out.status.success(), "npm install failed:\n{}", text(&out));
    assert_no_token_in_output(&env, &out, "npm install");
    assert!(
        consumer
            .join("node_modules/artoken-demo/package.json")
            .is_file()
    );

    std::fs::write(
        publisher.join("package.json"),
        r#"{"name": "login-published", "version": "0.1.0", "description": "published through artoken login", "main": "index.js", "license": "MIT"}"#,
    )
    .unwrap();
    std::fs::write(publisher.join("index.js"), "module.exports = 7;\n").unwrap();
    let out = run(npm(&env, &publisher).arg("publish"));
    assert!(out.status.success(), "npm publish failed:\n{}", text(&out));
    assert_no_token_in_output(&env, &out, "npm publish");

    let out = run(npm(&env, &consumer).args(["install", "login-published"]));
    assert!(
        out.status.success(),
        "npm install of the published package failed:\n{}",
        text(&out)
    );
    let out = run_ok(
        env.sb
            .command(on_path("node"))
            .current_dir(&consumer)
            .args([
                "-e",
                "console.log(require('login-published'), require('artoken-demo').hello())",
            ]),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "7 hello from artoken-demo 1.0.0"
    );
    assert!(
        env.emu
            .stats()
            .requests
            .get("npm:publish")
            .copied()
            .unwrap_or(0)
            >= 1
    );
    assert_token_only_in(&env, &[consumer.join(".npmrc"), publisher.join(".npmrc")]);
    assert!(
        !env.sb.home().join(".npmrc").exists(),
        "the user's .npmrc was left alone"
    );

    artoken(&env, &["logout", "npm", "js", "--file", "consumer/.npmrc"]);
    assert!(!consumer.join(".npmrc").exists());
}

#[test]
fn poetry_installs_through_login_poetry() {
    let env = setup();
    let project = env.sb.work().join("app");
    std::fs::create_dir_all(&project).unwrap();
    let pyproject_before = "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"artoken-demo\"]\n\n# no package of our own\n[tool.poetry]\npackage-mode = false\n";
    std::fs::write(project.join("pyproject.toml"), pyproject_before).unwrap();
    let mut cmd = env.artoken();
    cmd.current_dir(&project)
        .args(["--config"])
        .arg(env.sb.work().join("artoken.yml"))
        .args(["login", "poetry"]);
    let out = run_ok(&mut cmd);
    assert_no_token_in_output(&env, &out, "artoken login poetry");
    let auth = env.sb.config_home().join("pypoetry/auth.toml");
    assert!(auth.is_file());

    let poetry = |args: &[&str]| {
        run(env
            .sb
            .command(tool("poetry"))
            .current_dir(&project)
            .env("POETRY_CACHE_DIR", env.sb.cache_home().join("poetry"))
            .env("POETRY_VIRTUALENVS_IN_PROJECT", "true")
            .env("POETRY_NO_INTERACTION", "1")
            // No desktop keyring in a sandbox: poetry reads auth.toml.
            .env("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
            .args(args))
    };
    let out = poetry(&["install", "--no-root"]);
    assert!(
        out.status.success(),
        "poetry install failed:\n{}",
        text(&out)
    );
    assert_no_token_in_output(&env, &out, "poetry");
    let out = run_ok(
        env.sb
            .command(project.join(".venv/bin/python"))
            .args(["-c", "import artoken_demo; print(artoken_demo.hello())"]),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "hello from artoken-demo 1.0.0"
    );
    assert_token_only_in(&env, std::slice::from_ref(&auth));

    let mut cmd = env.artoken();
    cmd.current_dir(&project)
        .args(["--config"])
        .arg(env.sb.work().join("artoken.yml"))
        .args(["logout", "poetry"]);
    run_ok(&mut cmd);
    assert_eq!(
        std::fs::read_to_string(project.join("pyproject.toml")).unwrap(),
        pyproject_before
    );
    assert!(!auth.exists());
}

/// Poetry with no token on disk: `login poetry` adds the source, its auth.toml entry is taken
/// out, and `artoken exec` hands poetry the token on each run in `POETRY_HTTP_BASIC_DEMO_*`
/// (a config `env:` entry), so every run gets a fresh one.
#[test]
fn poetry_installs_under_exec_with_the_token_in_its_environment_only() {
    let env = setup();
    let project = env.sb.work().join("app");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"artoken-demo\"]\n\n[tool.poetry]\npackage-mode = false\n",
    )
    .unwrap();
    let config = env.sb.work().join("artoken.yml");
    // A second config file: its `env:` entries join the project's (maps merge).
    let exec_config = env.sb.work().join("exec.yml");
    std::fs::write(
        &exec_config,
        "env:\n  POETRY_HTTP_BASIC_DEMO_USERNAME: { value: aws }\n  POETRY_HTTP_BASIC_DEMO_PASSWORD: { token: demo }\n",
    )
    .unwrap();
    let mut cmd = env.artoken();
    cmd.current_dir(&project)
        .arg("--config")
        .arg(&config)
        .args(["login", "poetry"]);
    run_ok(&mut cmd);
    // The source stays; the stored password goes: the token comes from the environment.
    let auth = env.sb.config_home().join("pypoetry/auth.toml");
    std::fs::remove_file(&auth).unwrap();
    let mut cmd = env.artoken();
    cmd.current_dir(&project)
        .arg("--config")
        .arg(&config)
        .arg("--config")
        .arg(&exec_config)
        .args(["exec", "--"])
        .arg(tool("poetry"))
        .args(["install", "--no-root"])
        .env("POETRY_CACHE_DIR", env.sb.cache_home().join("poetry"))
        .env("POETRY_VIRTUALENVS_IN_PROJECT", "true")
        .env("POETRY_NO_INTERACTION", "1")
        .env("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring");
    let out = run(&mut cmd);
    assert!(
        out.status.success(),
        "poetry install failed:\n{}",
        text(&out)
    );
    assert_no_token_in_output(&env, &out, "artoken exec -- poetry install");
    let out = run_ok(
        env.sb
            .command(project.join(".venv/bin/python"))
            .args(["-c", "import artoken_demo; print(artoken_demo.hello())"]),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "hello from artoken-demo 1.0.0"
    );
    assert!(!auth.exists(), "poetry stored the password");
    assert_token_only_in(&env, &[]);
}
