//! The recipes of docs/containers.md, run as written without Docker or a CI runner: the blocks
//! marked `recipe=NAME` are read out of the doc, and their commands run in a sandbox against the
//! emulator with the real pip, uv, npm and Poetry (see "What the tests check" there).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use codeartifact_emulator::EmulatorConfig;
use common::*;
use testkit::{run, text, tool};

/// The repositories of common.rs's CONFIG without its `env:` section (the recipes use the
/// default variables), and which one is the default.
fn config(default: &str) -> String {
    format!(
        "default: {default}\nrepositories:\n  demo: {{ domain: demo, owner: \"{OWNER}\", repository: pypi-store, format: pypi }}\n  js: {{ domain: demo, owner: \"{OWNER}\", repository: npm-store, format: npm }}\n"
    )
}

/// The fenced block of `docs/containers.md` whose info string is `LANG recipe=NAME`.
fn recipe(lang: &str, name: &str) -> String {
    let doc =
        std::fs::read_to_string(testkit::workspace_root().join("docs/containers.md")).unwrap();
    let info = format!("```{lang} recipe={name}");
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match &mut current {
            None if line.trim_end() == info => current = Some(String::new()),
            Some(b) if line.starts_with("```") => {
                found.push(std::mem::take(b));
                current = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    assert_eq!(
        found.len(),
        1,
        "docs/containers.md needs exactly one `{info}` block"
    );
    found.remove(0)
}

/// The Dockerfile of a recipe: its `ENV` settings and its one `RUN --mount=type=secret`.
struct Dockerfile {
    env: Vec<(String, String)>,
    /// What is copied from the build context before the install.
    manifests: Vec<String>,
    secret_id: String,
    target: String,
    command: String,
}

/// The Dockerfile of a recipe, checked for what docs/containers.md promises of it: no `ARG`
/// (build arguments stay in the image history), no `ENV` naming the secret (the tool is pointed
/// at it on the `RUN` line only), and only named files (the dependency manifests) `COPY`ed before
/// the install, so that the install layer's cache key is those files and nothing else.
fn dockerfile(text: &str) -> Dockerfile {
    // Instructions, continuation lines joined.
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if current.is_empty() && (line.starts_with('#') || line.trim().is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                instructions.push(std::mem::take(&mut current));
            }
        }
    }
    let mut env = Vec::new();
    let mut secret = Vec::new();
    let mut manifests = Vec::new();
    for i in &instructions {
        let (op, rest) = i.split_once(' ').unwrap_or((i, ""));
        match op {
            "ARG" => panic!("a build argument is kept in the image history: {i}"),
            "ENV" => {
                for pair in rest.split_whitespace() {
                    let (k, v) = pair.split_once('=').expect("ENV K=V");
                    assert!(!v.contains(['"', '\'']), "unquoted ENV values only: {i}");
                    assert!(!v.contains("/run/secrets"), "ENV names the secret: {i}");
                    env.push((k.to_string(), v.to_string()));
                }
            }
            "COPY" if secret.is_empty() && !rest.starts_with("--from=") => {
                let words: Vec<&str> = rest.split_whitespace().collect();
                let (sources, _dest) = words.split_at(words.len() - 1);
                for src in sources {
                    assert!(
                        !src.starts_with("--") && *src != "." && !src.contains(['*', '?']),
                        "only the dependency manifests are copied before the install: {i}"
                    );
                    manifests.push(src.to_string());
                }
            }
            "RUN" if rest.starts_with("--mount=type=secret,") => {
                let (mount, command) = rest.split_once(char::is_whitespace).unwrap();
                let opts: BTreeMap<&str, &str> = mount
                    .trim_start_matches("--mount=")
                    .split(',')
                    .filter_map(|o| o.split_once('='))
                    .collect();
                secret.push(Dockerfile {
                    env: Vec::new(),
                    manifests: Vec::new(),
                    secret_id: opts["id"].to_string(),
                    target: opts["target"].to_string(),
                    command: command.trim().to_string(),
                });
            }
            _ => {}
        }
    }
    assert_eq!(secret.len(), 1, "one RUN with a secret mount:\n{text}");
    assert!(
        !manifests.is_empty(),
        "the install layer's cache key is the manifests COPYed before it:\n{text}"
    );
    let mut d = secret.remove(0);
    d.env = env;
    d.manifests = manifests;
    d
}

/// The `artoken ...` command inside `<(...)` on the `docker build` (or `sam build`) line, and
/// the secret id it is given to (`--secret id=ID,src=<(...)`; empty for sam).
fn build_line(text: &str) -> (String, Vec<String>) {
    let line = text
        .lines()
        .find(|l| l.contains("<(artoken "))
        .expect("a build line with <(artoken ...)");
    let start = line.find("<(").unwrap();
    let inner = &line[start + 2..start + line[start..].find(')').unwrap()];
    let id = line[..start]
        .rsplit("--secret id=")
        .next()
        .filter(|_| line.contains("--secret id="))
        .and_then(|s| s.split(',').next())
        .unwrap_or("")
        .to_string();
    let words: Vec<String> = inner.split_whitespace().map(str::to_string).collect();
    assert_eq!(words[0], "artoken", "{line}");
    (id, words[1..].to_vec())
}

/// PATH for the recipes: artoken, then the test venv (pip, uv, poetry, python), then the
/// machine's (npm, node, sh).
fn recipe_path() -> std::ffi::OsString {
    let exe_dir = artoken_bin().parent().unwrap().to_path_buf();
    let venv_bin = tool("pip").parent().unwrap().to_path_buf();
    std::env::join_paths(
        [exe_dir, venv_bin]
            .into_iter()
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap()
}

/// Asserts success, showing stderr otherwise (never stdout: it may hold the token).
fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a Docker recipe: the secret from the doc's build line, then the doc's RUN command with
/// the secret where the mount puts it (`/run/secrets` becomes a directory of the sandbox) and the
/// Dockerfile's ENV, plus `harness` (what stands for the image's own interpreter). Returns the
/// secret file.
fn run_docker_recipe(env: &Env, name: &str, harness: &[(&str, &Path)]) -> PathBuf {
    let d = dockerfile(&recipe("dockerfile", name));
    let (id, args) = build_line(&recipe("sh", name));
    assert_eq!(
        id, d.secret_id,
        "the build line gives the secret the RUN mounts"
    );
    assert!(d.target.starts_with("/run/secrets/"), "{}", d.target);
    assert!(
        d.command.contains("/run/secrets"),
        "the RUN command points its tool at the secret: {}",
        d.command
    );
    for m in &d.manifests {
        assert!(
            env.sb.work().join(m).is_file(),
            "the {name} recipe copies {m}, which the test did not make"
        );
    }
    let secrets = env.sb.root().join("run/secrets");
    let file = env.sb.root().join(d.target.trim_start_matches('/'));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let out = run(env.artoken().args(&args));
    assert_ok(&out, &format!("artoken {args:?}"));
    env.assert_no_leak_on_stderr(&out);
    std::fs::write(&file, &out.stdout).unwrap();

    let command = d.command.replace("/run/secrets", secrets.to_str().unwrap());
    let mut cmd = env.sb.command("sh");
    cmd.args(["-c", &command]).env("PATH", recipe_path());
    for (k, v) in &d.env {
        cmd.env(k, v);
    }
    for (k, v) in harness {
        cmd.env(k, v);
    }
    let out = run(cmd.stdin(Stdio::null()));
    assert_ok(&out, &format!("the {name} recipe's RUN `{}`", d.command));
    for t in env.emu.issued_tokens() {
        assert!(
            !text(&out).contains(&t),
            "the {name} recipe printed the token"
        );
    }
    file
}

fn site_packages(venv: &Path) -> PathBuf {
    let lib = venv.join("lib");
    let py = std::fs::read_dir(&lib)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("python"))
        .expect("lib/pythonX.Y");
    py.path().join("site-packages")
}

#[test]
fn pip_recipe_installs_with_the_secret_only() {
    let env = setup();
    std::fs::write(env.sb.work().join("artoken.yml"), config("demo")).unwrap();
    std::fs::write(env.sb.work().join("requirements.txt"), "artoken-demo\n").unwrap();
    // The image's python: pip installs into a directory of the sandbox.
    let site = env.sb.root().join("site");
    let secret = run_docker_recipe(&env, "pip", &[("PIP_TARGET", &site)]);
    assert!(site.join("artoken_demo/__init__.py").is_file());
    // pip.conf with the index (never shown: it holds the token).
    let conf = std::fs::read_to_string(&secret).unwrap();
    assert!(conf.contains("[global]\n") && conf.contains("\nindex-url = http://aws:"));
    env.assert_no_token_on_disk(&[&secret]);
}

#[test]
fn uv_recipe_installs_with_the_secret_only() {
    let env = setup();
    std::fs::write(env.sb.work().join("artoken.yml"), config("demo")).unwrap();
    std::fs::write(env.sb.work().join("requirements.txt"), "artoken-demo\n").unwrap();
    // The image's python: a fresh virtualenv, which `--system` finds as UV_PYTHON.
    let venv = env.sb.root().join("venv");
    let out = run(env
        .sb
        .command(tool("uv"))
        .args(["venv", "--quiet", "--python"])
        .arg(tool("python"))
        .arg(&venv)
        .env("UV_PYTHON_DOWNLOADS", "never"));
    assert_ok(&out, "uv venv");
    let python = venv.join("bin/python");
    let cache = env.sb.cache_home().join("uv");
    let never = Path::new("never");
    let secret = run_docker_recipe(
        &env,
        "uv",
        &[
            ("UV_PYTHON", &python),
            ("UV_PYTHON_DOWNLOADS", never),
            ("UV_CACHE_DIR", &cache),
        ],
    );
    assert!(
        site_packages(&venv)
            .join("artoken_demo/__init__.py")
            .is_file()
    );
    env.assert_no_token_on_disk(&[&secret]);
}

#[test]
fn npm_recipe_installs_with_the_secret_only() {
    let env = setup();
    std::fs::write(env.sb.work().join("artoken.yml"), config("js")).unwrap();
    let work = env.sb.work();
    std::fs::write(
        work.join("package.json"),
        r#"{"name": "app", "version": "1.0.0", "dependencies": {"artoken-demo": "*"}}"#,
    )
    .unwrap();
    // The developer's lock file, made once with the same registry (npm ci needs one).
    let npmrc = env.sb.root().join("dev.npmrc");
    let out = run(env.artoken().args(["render", "npmrc"]));
    assert_ok(&out, "render npmrc");
    std::fs::write(&npmrc, &out.stdout).unwrap();
    let out = run(env
        .sb
        .command(testkit::on_path("npm"))
        .args(["install", "--package-lock-only", "--no-audit", "--no-fund"])
        .env("NPM_CONFIG_USERCONFIG", &npmrc));
    assert_ok(&out, "npm install --package-lock-only");
    std::fs::remove_file(&npmrc).unwrap();

    let secret = run_docker_recipe(&env, "npm", &[]);
    assert!(
        work.join("node_modules/artoken-demo/package.json")
            .is_file()
    );
    env.assert_no_token_on_disk(&[&secret]);
}

#[test]
fn poetry_recipe_installs_with_the_secret_only() {
    let env = setup();
    std::fs::write(env.sb.work().join("artoken.yml"), config("demo")).unwrap();
    let work = env.sb.work();
    std::fs::write(
        work.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"artoken-demo\"]\n\n[tool.poetry]\npackage-mode = false\n",
    )
    .unwrap();
    let endpoint = env.ok(&["url", "--tool", "endpoint"]);
    let index = format!("{}simple/", endpoint.trim());
    let dev_cache = env.sb.root().join("dev-poetry-cache");
    let poetry = |config_dir: &Path, args: &[&str]| {
        let out = run(env
            .sb
            .command(tool("poetry"))
            .args(args)
            .env("POETRY_CONFIG_DIR", config_dir)
            .env("POETRY_CACHE_DIR", &dev_cache)
            .env("POETRY_NO_INTERACTION", "1")
            .env("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
            .env("POETRY_VIRTUALENVS_OPTIONS_NO_PIP", "true"));
        assert_ok(&out, &format!("poetry {args:?}"));
    };
    // The committed source (no token), then the developer's lock with the same credentials,
    // on the developer's machine (its own Poetry cache and virtualenvs, not the image's).
    let dev = env.sb.root().join("dev-poetry");
    poetry(
        &dev,
        &["source", "add", "--priority=primary", "demo", &index],
    );
    std::fs::create_dir_all(&dev).unwrap();
    let auth = dev.join("auth.toml");
    let out = run(env.artoken().args(["render", "poetry-auth.toml"]));
    assert_ok(&out, "render poetry-auth.toml");
    std::fs::write(&auth, &out.stdout).unwrap();
    poetry(&dev, &["lock"]);
    std::fs::remove_file(&auth).unwrap();
    std::fs::remove_dir_all(&dev_cache).unwrap();
    assert!(work.join("poetry.lock").is_file());

    let cache = env.sb.cache_home().join("poetry");
    let null = Path::new("keyring.backends.null.Keyring");
    let secret = run_docker_recipe(
        &env,
        "poetry",
        &[
            ("POETRY_CACHE_DIR", &cache),
            ("PYTHON_KEYRING_BACKEND", null),
            // Poetry installs with its own installer: a virtualenv without pip is quicker.
            ("POETRY_VIRTUALENVS_OPTIONS_NO_PIP", Path::new("true")),
        ],
    );
    assert!(
        site_packages(&work.join(".venv"))
            .join("artoken_demo/__init__.py")
            .is_file()
    );
    env.assert_no_token_on_disk(&[&secret]);
}

/// `sam build --use-container --container-env-var-file <(artoken env --format sam)`: the
/// doc's artoken command, then pip's install with the `Parameters` as its environment, as
/// SAM's build container runs it.
#[test]
fn sam_recipe_hands_pip_its_index() {
    let env = setup();
    std::fs::write(env.sb.work().join("artoken.yml"), config("demo")).unwrap();
    std::fs::write(env.sb.work().join("requirements.txt"), "artoken-demo\n").unwrap();
    let block = recipe("sh", "sam");
    assert!(block.contains("sam build --use-container --container-env-var-file <("));
    let (_, args) = build_line(&block);
    let out = run(env.artoken().args(&args));
    assert_ok(&out, &format!("artoken {args:?}"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let params = v["Parameters"]
        .as_object()
        .expect("{\"Parameters\": {...}}");
    assert!(params.contains_key("PIP_INDEX_URL"), "{:?}", params.keys());
    assert!(params.contains_key("CODEARTIFACT_AUTH_TOKEN"));
    let site = env.sb.root().join("site");
    let mut cmd = env.sb.command(tool("python"));
    cmd.args([
        "-m",
        "pip",
        "install",
        "--no-cache-dir",
        "-r",
        "requirements.txt",
        "--target",
    ])
    .arg(&site);
    for (k, val) in params {
        cmd.env(k, val.as_str().unwrap());
    }
    let out = run(&mut cmd);
    assert_ok(&out, "pip install with the SAM parameters");
    assert!(site.join("artoken_demo/__init__.py").is_file());
    env.assert_no_token_on_disk(&[]);
}

// ----- CI -----

/// YAML to JSON with PyYAML (from the test tools), so the test reads the doc's YAML as a YAML
/// reader does.
fn yaml(sb: &testkit::Sandbox, text: &str) -> serde_json::Value {
    let mut child = sb
        .command(tool("python"))
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ok(&out, "PyYAML");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// An OIDC token as a CI system issues it (the emulator checks its shape and `exp`, not its
/// signature), expiring `exp_in` seconds from now (negative: already expired).
fn jwt(issuer: &str, audience: &str, exp_in: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "test"});
    let claims = serde_json::json!({
        "iss": issuer, "aud": audience, "sub": "project_path:corp/app:ref_type:branch:ref:main",
        "iat": now, "exp": now + exp_in,
    });
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes()),
        b64url(b"not checked")
    )
}

/// The emulator with the demo repositories in a domain named `corp`, as the CI recipes name it.
fn setup_corp() -> Env {
    let mut cfg: EmulatorConfig = emulator_config();
    cfg.domains[0].name = "corp".into();
    let env = setup_with(cfg);
    std::fs::remove_file(env.sb.work().join("artoken.yml")).unwrap();
    std::fs::write(env.sb.work().join("requirements.txt"), "artoken-demo\n").unwrap();
    env
}

/// A command for a CI job's shell: the sandbox's environment without its static AWS keys (the
/// job has none: only what OIDC gives it), artoken and the tools on PATH, pip installing into
/// the sandbox.
fn ci_shell(env: &Env, script: &str) -> Command {
    let mut cmd = env.sb.command("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("PATH", recipe_path())
        .env("PIP_TARGET", env.sb.root().join("site"))
        .stdin(Stdio::null());
    cmd
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|l| l.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// `pip install ... artoken`: the job's line that installs artoken (already on PATH here).
fn installs_artoken(line: &str) -> bool {
    let w: Vec<&str> = line.split_whitespace().collect();
    w.first() == Some(&"pip") && w.get(1) == Some(&"install") && w.last() == Some(&"artoken")
}

/// The job's lines as one script, without the one that installs artoken.
fn job_script(lines: &[String]) -> String {
    let kept: Vec<&String> = lines.iter().filter(|l| !installs_artoken(l)).collect();
    assert_eq!(
        kept.len() + 1,
        lines.len(),
        "one line installs artoken: {lines:?}"
    );
    kept.iter().map(|l| format!("{l}\n")).collect()
}

/// Runs a job's script with its variables and the OIDC token in `token_var`; checks what a
/// good and an expired token each lead to.
fn run_web_identity_job(
    env: &Env,
    script: &str,
    vars: &serde_json::Map<String, serde_json::Value>,
    token_var: &str,
    audience: &str,
) {
    let job = |token: &str| {
        let mut cmd = ci_shell(env, script);
        for (k, v) in vars {
            cmd.env(k, v.as_str().unwrap());
        }
        run(cmd.env(token_var, token))
    };
    let out = job(&jwt("https://ci.example.com", audience, 600));
    assert_ok(&out, "the job");
    let stats = env.emu.stats();
    assert_eq!(stats.requests.get("AssumeRoleWithWebIdentity"), Some(&1));
    assert_eq!(
        stats.tokens_issued, 1,
        "a token, fetched with the role's session"
    );
    assert!(
        env.sb
            .root()
            .join("site/artoken_demo/__init__.py")
            .is_file()
    );
    for t in env.emu.issued_tokens() {
        assert!(!text(&out).contains(&t), "the job printed the token");
    }

    // An expired OIDC token: STS refuses it, the job fails, no CodeArtifact token.
    let _ = std::fs::remove_dir_all(env.sb.cache_home().join("artoken"));
    let out = job(&jwt("https://ci.example.com", audience, -60));
    assert!(
        !out.status.success(),
        "the job passed with an expired OIDC token"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("artoken:"), "{err}");
    let stats = env.emu.stats();
    assert_eq!(stats.requests.get("AssumeRoleWithWebIdentity"), Some(&2));
    assert_eq!(stats.tokens_issued, 1);
}

#[test]
fn gitlab_recipe_runs_on_web_identity() {
    let env = setup_corp();
    let doc = yaml(&env.sb, &recipe("yaml", "gitlab"));
    let job = doc.as_object().unwrap().values().next().unwrap();
    let audience = job["id_tokens"]["AWS_ID_TOKEN"]["aud"].as_str().unwrap();
    let lines: Vec<String> = [strings(&job["before_script"]), strings(&job["script"])].concat();
    let script = job_script(&lines);
    let vars = job["variables"].as_object().unwrap();
    assert!(vars.contains_key("AWS_ROLE_ARN"));
    run_web_identity_job(&env, &script, vars, "AWS_ID_TOKEN", audience);
}

#[test]
fn bitbucket_recipe_runs_on_web_identity() {
    let env = setup_corp();
    let doc = yaml(&env.sb, &recipe("yaml", "bitbucket"));
    let step = &doc["pipelines"]["default"][0]["step"];
    assert_eq!(step["oidc"], true);
    let script = job_script(&strings(&step["script"]));
    run_web_identity_job(
        &env,
        &script,
        &serde_json::Map::new(),
        "BITBUCKET_STEP_OIDC_TOKEN",
        "ari:cloud:bitbucket::workspace/corp",
    );
}

/// POSTs a form to the emulator's STS; the answer's body.
fn sts_post(emulator: &str, form: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    let body = body.join("&");
    let host = emulator.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    answer
}

fn xml_value<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{tag}>")) + open.len();
    &xml[start..start + xml[start..].find('<').unwrap()]
}

/// Reads a `$GITHUB_ENV` file as the runner does: `NAME=value` lines and `NAME<<DELIM` blocks.
fn read_github_env(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.push((name.to_string(), value.join("\n")));
        } else if let Some((k, v)) = line.split_once('=') {
            out.push((k.to_string(), v.to_string()));
        }
    }
    out
}

/// The workflow's steps run as the runner runs them: `configure-aws-credentials` by asking the
/// emulator's STS for a web identity session and exporting it as that action does, each `run:`
/// with bash, `$GITHUB_ENV` read after each step into the next ones' environment.
#[test]
fn github_recipe_masks_then_exports() {
    let env = setup_corp();
    let doc = yaml(&env.sb, &recipe("yaml", "github"));
    assert_eq!(doc["permissions"]["id-token"], "write");
    let job = &doc["jobs"]["build"];
    let mut vars: Vec<(String, String)> = job["env"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let github_env = env.sb.root().join("github_env");
    let mut stdouts = Vec::new();
    let mut configured = false;
    for step in job["steps"].as_array().unwrap() {
        if let Some(action) = step["uses"].as_str() {
            if action.starts_with("aws-actions/configure-aws-credentials@") {
                let with = &step["with"];
                let answer = sts_post(
                    &env.emu.url(),
                    &[
                        ("Action", "AssumeRoleWithWebIdentity"),
                        ("Version", "2011-06-15"),
                        ("RoleArn", with["role-to-assume"].as_str().unwrap()),
                        ("RoleSessionName", "GitHubActions"),
                        ("DurationSeconds", "3600"),
                        (
                            "WebIdentityToken",
                            &jwt(
                                "https://token.actions.githubusercontent.com",
                                "sts.amazonaws.com",
                                300,
                            ),
                        ),
                    ],
                );
                let region = with["aws-region"].as_str().unwrap();
                for (k, v) in [
                    ("AWS_ACCESS_KEY_ID", xml_value(&answer, "AccessKeyId")),
                    (
                        "AWS_SECRET_ACCESS_KEY",
                        xml_value(&answer, "SecretAccessKey"),
                    ),
                    ("AWS_SESSION_TOKEN", xml_value(&answer, "SessionToken")),
                    ("AWS_REGION", region),
                    ("AWS_DEFAULT_REGION", region),
                ] {
                    vars.push((k.into(), v.into()));
                }
                configured = true;
            }
            continue;
        }
        let script = step["run"].as_str().expect("a step has uses: or run:");
        std::fs::write(&github_env, "").unwrap();
        let mut cmd = ci_shell(&env, script);
        cmd.env("GITHUB_ENV", &github_env);
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        let out = run(&mut cmd);
        assert_ok(&out, &format!("the step `{script}`"));
        vars.extend(read_github_env(
            &std::fs::read_to_string(&github_env).unwrap(),
        ));
        stdouts.push(String::from_utf8(out.stdout).unwrap());
    }
    assert!(configured, "the workflow configures AWS credentials");
    let tokens = env.emu.issued_tokens();
    assert_eq!(
        tokens.len(),
        1,
        "one token, fetched with the session's credentials"
    );
    let token = &tokens[0];
    // The token is masked before anything else is printed, and printed nowhere else.
    let first = &stdouts[0];
    assert_eq!(
        first.lines().next(),
        Some(format!("::add-mask::{token}").as_str())
    );
    assert_eq!(first.matches(token.as_str()).count(), 1);
    assert!(stdouts[1..].iter().all(|s| !s.contains(token.as_str())));
    let index = vars
        .iter()
        .rev()
        .find(|(k, _)| k == "PIP_INDEX_URL")
        .expect("PIP_INDEX_URL exported");
    assert!(index.1.contains(&format!("aws:{token}@")));
    assert!(
        env.sb
            .root()
            .join("site/artoken_demo/__init__.py")
            .is_file()
    );
    assert!(env.emu.stats().requests.get("AssumeRoleWithWebIdentity") == Some(&1));
}

// ----- the docs name what runs -----

/// Every `fn NAME(` in the files of crates/artoken/tests, as `FILE::NAME` and `NAME`.
fn test_functions() -> BTreeSet<String> {
    let dir = testkit::workspace_root().join("crates/artoken/tests");
    let mut names = BTreeSet::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = e.path();
        let Some(file) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".rs"))
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        for rest in text.split("fn ").skip(1) {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if rest[name.len()..].starts_with('(') && !name.is_empty() {
                names.insert(format!("{file}::{name}"));
                names.insert(name);
            }
        }
    }
    names
}

/// The backquoted words of `text` that look like test names (`a_b_c_d`, or `file::a_b_c_d`).
fn named_tests(text: &str) -> BTreeSet<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| {
            w.matches('_').count() >= 3
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_:".contains(&b))
        })
        .map(str::to_string)
        .collect()
}

/// Every `recipe=NAME` block of docs/containers.md is one this file runs, and every test that
/// doc and the README's "Containers and CI" section name exists, so a renamed test or a new
/// recipe cannot leave the docs claiming a proof that is not there.
#[test]
fn docs_name_only_recipes_and_tests_that_exist() {
    let root = testkit::workspace_root();
    let doc = std::fs::read_to_string(root.join("docs/containers.md")).unwrap();
    let in_doc: BTreeSet<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("```"))
        .flat_map(str::split_whitespace)
        .filter_map(|w| w.strip_prefix("recipe="))
        .collect();
    // The names this file hands to run_docker_recipe() and recipe() (blanks dropped, as
    // rustfmt may break a call over lines).
    let me: String = include_str!("recipes.rs")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut run = BTreeSet::new();
    for call in [
        "run_docker_recipe(&env,\"",
        "recipe(\"yaml\",\"",
        "recipe(\"sh\",\"",
    ] {
        for rest in me.split(call).skip(1) {
            run.insert(&rest[..rest.find('"').unwrap()]);
        }
    }
    assert_eq!(
        in_doc, run,
        "recipe blocks in docs/containers.md vs the ones run here"
    );
    assert!(in_doc.len() >= 8, "{in_doc:?}");

    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme
        .find("\n## Containers and CI\n")
        .expect("README has a Containers and CI section");
    let section = &readme[start + 1..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |i| i + 1)];
    let fns = test_functions();
    let named: BTreeSet<String> = named_tests(section)
        .into_iter()
        .chain(named_tests(&doc))
        .collect();
    assert!(named.len() >= 10, "{named:?}");
    for name in &named {
        assert!(
            fns.contains(name),
            "the docs name a test that does not exist: {name}"
        );
    }
}
