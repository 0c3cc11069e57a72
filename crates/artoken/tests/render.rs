//! `artoken render WHAT`: the file `login` would write, on stdout only; `--dry-run` with the
//! token masked; no terminal; the Kubernetes Secret and Renovate rules that work; and
//! `env --format docker`.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;

/// Runs `cmd` with `input` on its stdin (recorded for the leak check like any run).
fn piped(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    testkit::record_output(cmd, &out);
    out
}

/// `text` with every issued token as `***`, for failure messages.
fn masked(env: &Env, text: &str) -> String {
    let mut t = text.to_string();
    for token in env.emu.issued_tokens() {
        t = t.replace(&token, "***");
    }
    t
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Every file render prints is, byte for byte, what `login` writes into a file that did not
/// exist (the same repository, the same cached token).
#[test]
fn render_prints_what_login_writes_into_a_new_file() {
    let mut env = setup_all_formats();
    let poetry_dir = env.sb.root().join("poetry");
    env.sb.set_env("POETRY_CONFIG_DIR", &poetry_dir);
    env.ok(&["token"]);
    let cases: &[(&[&str], &[&str], Option<&str>)] = &[
        // (render args, login args, the login file when it is not --file's)
        (&["pip.conf"], &["pip"], None),
        (&["pip.conf", "--extra"], &["pip", "--extra"], None),
        (&["pypirc"], &["twine"], None),
        (&["npmrc", "js"], &["npm", "js"], None),
        (
            &["npmrc", "js", "--scope", "@corp"],
            &["npm", "js", "--scope", "@corp"],
            None,
        ),
        (&["yarnrc.yml", "js"], &["yarn", "js"], None),
        (&["netrc"], &["netrc"], None),
        (&["netrc", "sw"], &["swift", "sw"], None),
        (&["settings.xml", "mvn"], &["maven", "mvn"], None),
        (&["gradle.properties", "mvn"], &["gradle", "mvn"], None),
        (&["nuget.config", "nu"], &["nuget", "nu"], None),
        (&["poetry-auth.toml"], &["poetry"], Some("poetry/auth.toml")),
    ];
    for (i, (render, login, other)) in cases.iter().enumerate() {
        let rendered = env.ok(&[&["render"], *render].concat());
        let file = env.sb.root().join(format!("login-{i}"));
        let f = file.to_str().unwrap();
        env.ok(&[&["login"], *login, &["--file", f]].concat());
        let written = match other {
            Some(rel) => env.sb.root().join(rel),
            None => file,
        };
        let written = std::fs::read_to_string(&written).unwrap();
        assert!(
            rendered == written,
            "render {render:?} vs login {login:?}:\n{}\n---\n{}",
            masked(&env, &rendered),
            masked(&env, &written)
        );
        let token = &env.emu.issued_tokens()[0];
        assert!(
            rendered.contains(token.as_str()),
            "render {render:?}: no token"
        );
    }
    assert_eq!(env.tokens_issued(), 1, "every render used the cached token");
}

/// `--dry-run` shows the same file with every token as `***` (its stdout is recorded for the
/// suite's leak check, as every --dry-run is): line for line the real file, each line either
/// the same with the tokens masked, or cut at a `***` that hides a whole value holding one (the
/// variables of k8s-secret, which the redaction layer knows as secrets whole).
#[test]
fn render_dry_run_masks_the_token() {
    let env = setup_all_formats();
    for what in [
        &["pip.conf"][..],
        &["uv.toml"],
        &["npmrc", "js"],
        &["netrc"],
        &["poetry-auth.toml"],
        &["k8s-secret"],
        &["renovate"],
    ] {
        let real = env.ok(&[&["render"], what].concat());
        let shown = env.ok(&[&["render"], what, &["--dry-run"]].concat());
        let tokens = env.emu.issued_tokens();
        assert!(!tokens.is_empty());
        for t in &tokens {
            assert!(
                !shown.contains(t.as_str()),
                "render {what:?} --dry-run shows a token"
            );
        }
        assert!(shown.contains("***"), "render {what:?} --dry-run: {shown}");
        let masked = masked(&env, &real);
        assert_eq!(shown.lines().count(), masked.lines().count(), "{what:?}");
        for (s, m) in shown.lines().zip(masked.lines()) {
            let cut = s
                .find("***")
                .is_some_and(|i| m.starts_with(&s[..i]) && m[i..].contains("***"));
            assert!(
                s == m || cut,
                "render {what:?}: --dry-run shows {s:?} for {m:?}"
            );
        }
    }
}

/// The file goes to stdout only: with `-vv` (artoken's and the AWS SDK's debug logs) and a
/// fresh token fetched, stderr has plenty to say and never the token.
#[test]
fn render_verbose_keeps_the_token_off_stderr() {
    let env = setup();
    for what in ["pip.conf", "k8s-secret", "renovate"] {
        let before = env.tokens_issued();
        // Its stdout is the file, token included, by design: the leak check reads its stderr.
        let out = testkit::run_ok(env.artoken().env(testkit::STDOUT_HOLDS_TOKEN, "1").args([
            "-vv",
            "--refresh",
            "render",
            what,
        ]));
        assert!(
            env.tokens_issued() > before,
            "render {what} --refresh fetched no token"
        );
        env.assert_no_leak_on_stderr(&out);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.lines().count() >= 5, "render {what} -vv logged nothing");
        let tokens = env.emu.issued_tokens();
        let token = tokens.last().unwrap();
        assert!(
            stdout(&out).contains(token.as_str()),
            "render {what}: no token"
        );
    }
}

/// With stdout on a terminal (a pty from `script`), render refuses before any AWS call and says
/// what to do; --dry-run and --force print.
#[test]
fn render_refuses_a_terminal() {
    let env = setup();
    let exe = artoken_bin().display().to_string();
    let in_pty = |args: &str| {
        let script = testkit::on_path("script");
        testkit::run(
            env.sb
                .command(script)
                .args(["-qec", &format!("{exe} {args}"), "/dev/null"])
                .stdin(Stdio::null()),
        )
    };
    let out = in_pty("render pip.conf");
    let text = testkit::text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("render pip.conf: stdout is a terminal and the file holds a token; send it where it goes"),
        "{text}"
    );
    assert!(
        text.contains("--dry-run") && text.contains("--force"),
        "{text}"
    );
    assert_eq!(
        env.tokens_issued(),
        0,
        "no token fetched for a refused render"
    );
    assert_eq!(
        env.emu.stats().requests.get("GetAuthorizationToken"),
        None,
        "no AWS call"
    );

    let out = in_pty("render pip.conf --dry-run");
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert!(
        stdout(&out).contains("index-url = http"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("aws:***@"), "{}", stdout(&out));

    let out = in_pty("render pip.conf --force");
    assert!(out.status.success(), "render --force in a pty failed");
    let token = &env.emu.issued_tokens()[0];
    assert!(stdout(&out).contains(&format!("aws:{token}@")));
}

/// The manifest is YAML that a YAML reader (PyYAML) parses into an Opaque Secret whose
/// `stringData` is exactly what `env --format json` prints.
#[test]
fn render_k8s_secret_holds_the_env_variables() {
    let env = setup();
    let manifest = env.ok(&["render", "k8s-secret", "--namespace", "ci"]);
    let python = testkit::tool("python");
    let out = piped(
        env.sb.command(python).args([
            "-c",
            "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
        ]),
        manifest.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["apiVersion"], "v1");
    assert_eq!(v["kind"], "Secret");
    assert_eq!(v["type"], "Opaque");
    assert_eq!(v["metadata"]["name"], "codeartifact");
    assert_eq!(v["metadata"]["namespace"], "ci");
    assert_eq!(
        v["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "artoken"
    );
    let vars: serde_json::Value =
        serde_json::from_str(&env.ok(&["env", "--format", "json"])).unwrap();
    assert!(
        v["stringData"] == vars,
        "stringData is not what `env` prints: {}",
        masked(&env, &v["stringData"].to_string())
    );
    let token = &env.emu.issued_tokens()[0];
    assert!(v["stringData"]["CODEARTIFACT_AUTH_TOKEN"] == token.as_str());

    let named = env.ok(&["render", "k8s-secret", "--name", "ca.tokens"]);
    assert!(named.contains("  name: \"ca.tokens\"\n") && !named.contains("namespace"));
    // A name YAML would read as a number or a boolean stays a string.
    for name in ["1234", "true", "null"] {
        let manifest = env.ok(&["render", "k8s-secret", "--name", name, "--namespace", "0"]);
        let out = piped(
            env.sb.command(testkit::tool("python")).args([
                "-c",
                "import sys, json, yaml; m = yaml.safe_load(sys.stdin)['metadata']; print(json.dumps([m['name'], m['namespace']]))",
            ]),
            manifest.as_bytes(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got, serde_json::json!([name, "0"]));
    }
}

/// Sends a GET with `auth` (an Authorization header value) to the emulator's `url`; the status.
fn get_status(url: &str, auth: Option<&str>) -> u16 {
    let headers: Vec<String> = auth
        .map(|a| format!("Authorization: {a}"))
        .into_iter()
        .collect();
    http_get_with(url, &headers).0
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One rule per repository, and each rule's credentials, sent the way Renovate sends them
/// (`username`/`password` as Basic, `token` as Bearer), open that repository on the emulator;
/// without them it answers 401.
#[test]
fn render_renovate_rules_open_each_repository() {
    let env = setup();
    let rules: serde_json::Value = serde_json::from_str(&env.ok(&["render", "renovate"])).unwrap();
    let rules = rules["hostRules"].as_array().unwrap();
    assert_eq!(rules.len(), 2, "{rules:?}");
    let token = env.emu.issued_tokens()[0].clone();
    let by_type = |t: &str| {
        rules
            .iter()
            .find(|r| r["hostType"] == t)
            .unwrap_or_else(|| panic!("no {t} rule"))
    };
    let pypi = by_type("pypi");
    let host = pypi["matchHost"].as_str().unwrap();
    assert!(host.ends_with("/pypi/pypi-store/"), "{host}");
    assert_eq!(pypi["username"], "aws");
    assert!(
        pypi["password"] == token.as_str(),
        "the pypi rule holds the token"
    );
    let page = format!("{host}simple/artoken-demo/");
    let basic = format!("Basic {}", base64(format!("aws:{token}").as_bytes()));
    assert_eq!(get_status(&page, None), 401);
    assert_eq!(get_status(&page, Some(&basic)), 200);

    let npm = by_type("npm");
    let host = npm["matchHost"].as_str().unwrap();
    assert!(host.ends_with("/npm/npm-store/"), "{host}");
    assert!(
        npm["token"] == token.as_str(),
        "the npm rule holds the token"
    );
    assert!(npm.get("password").is_none());
    let packument = format!("{host}artoken-demo");
    assert_eq!(get_status(&packument, None), 401);
    assert_eq!(
        get_status(&packument, Some(&format!("Bearer {token}"))),
        200
    );

    let one: serde_json::Value =
        serde_json::from_str(&env.ok(&["render", "renovate", "js"])).unwrap();
    assert_eq!(one["hostRules"].as_array().unwrap().len(), 1);
    assert_eq!(one["hostRules"][0]["hostType"], "npm");
}

/// Mistakes are one line, before any AWS call.
#[test]
fn render_mistakes_are_one_line() {
    let env = setup();
    for (args, msg) in [
        (
            &["render", "npmrc"][..],
            "render npmrc: repository demo has format pypi; npmrc needs format npm (see `format:` in artoken.yml)",
        ),
        (
            &["render", "pip.conf", "--scope", "@corp"],
            "--scope: only npm, pnpm, yarn and bun have scopes, not pip.conf",
        ),
        (
            &["render", "npmrc", "js", "--extra"],
            "--extra: only pip.conf and uv.toml have extra indexes, not npmrc",
        ),
        (
            &["render", "k8s-secret", "demo"],
            "render k8s-secret takes the variables of `artoken env`",
        ),
        (
            &["render", "k8s-secret", "--name", "Corp"],
            "--name: \"Corp\" is not a Kubernetes name",
        ),
        (
            &["render", "pip.conf", "--namespace", "ci"],
            "--name, --namespace: only k8s-secret has them, not pip.conf",
        ),
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
    }
    // Only the format check needed the endpoint; nothing asked for a token.
    assert_eq!(env.tokens_issued(), 0);
}

/// What `docker run --env-file` makes of `text`, as docker/cli's `pkg/kvfile` parses it: lines
/// split at `\n` (a `\r` before it dropped), a BOM dropped from the first, leading blanks
/// trimmed, empty and `#` lines skipped, `KEY=VALUE` cut at the first `=`, the value kept as it
/// is, but for the releases that strip one pair of matching outer quotes (`strip_quotes`).
fn docker_reads(text: &str, strip_quotes: bool) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for raw in text.split_terminator('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("docker would look {line:?} up in its own environment"));
        assert!(
            !key.is_empty() && !key.contains([' ', '\t']),
            "docker refuses the key {key:?}"
        );
        let b = value.as_bytes();
        let quoted = b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[0] == b[b.len() - 1];
        let value = if strip_quotes && quoted {
            &value[1..value.len() - 1]
        } else {
            value
        };
        vars.push((key.to_string(), value.to_string()));
    }
    vars
}

/// `env --format docker`: `NAME=value`, no quotes, every byte of the value as it is: what
/// `docker run --env-file` reads back, on the releases that keep outer quotes and on those that
/// strip them, is exactly what `env --format json` holds. A value it cannot carry is a one-line
/// error naming the variable, without the value.
#[test]
fn env_docker_is_what_docker_reads() {
    let env = setup();
    let cfg = env.sb.work().join("docker.yml");
    std::fs::write(
        &cfg,
        format!("{CONFIG}  ODD: {{ value: \"a\\\"b$c \\\\d 'e' #f=g \" }}\n"),
    )
    .unwrap();
    let out = env.ok(&[
        "--config",
        cfg.to_str().unwrap(),
        "env",
        "--format",
        "docker",
    ]);
    let json: serde_json::Value = serde_json::from_str(&env.ok(&[
        "--config",
        cfg.to_str().unwrap(),
        "env",
        "--format",
        "json",
    ]))
    .unwrap();
    assert!(
        out.contains("ODD=a\"b$c \\d 'e' #f=g \n"),
        "{}",
        masked(&env, &out)
    );
    let mut want: Vec<(String, String)> = json
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    want.sort();
    assert!(
        want.len() >= 3,
        "{:?}",
        want.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    for strip_quotes in [false, true] {
        let mut read = docker_reads(&out, strip_quotes);
        read.sort();
        assert!(
            read == want,
            "docker (strip_quotes: {strip_quotes}) reads other values: {}",
            masked(&env, &format!("{read:?}"))
        );
    }
    // The dotenv flavour is for other readers: Docker would keep its quotes in every value.
    let dotenv = env.ok(&[
        "--config",
        cfg.to_str().unwrap(),
        "env",
        "--format",
        "dotenv",
    ]);
    let kept = docker_reads(&dotenv, false);
    assert!(!kept.is_empty());
    assert!(
        kept.iter()
            .all(|(_, v)| v.starts_with('"') && v.ends_with('"')),
        "docker run --env-file keeps dotenv's quotes"
    );

    std::fs::write(
        &cfg,
        format!("{CONFIG}  TWO: {{ value: \"line\\nbreak\" }}\n"),
    )
    .unwrap();
    let out = env.run(&[
        "--config",
        cfg.to_str().unwrap(),
        "env",
        "--format",
        "docker",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.ends_with(
            "--format docker: TWO holds a line break, which `docker run --env-file` cannot carry; use --format dotenv (docker compose) or json\n"
        ),
        "{err}"
    );
    let token = &env.emu.issued_tokens()[0];
    assert!(!err.contains(token.as_str()));
}
