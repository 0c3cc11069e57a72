//! JavaScript clients after `artoken login` against the emulator: pnpm 12.4.2 with artoken as
//! its `tokenHelper`, bun 1.4 with a bunfig.toml that names `$CODEARTIFACT_AUTH_TOKEN` under
//! `artoken exec`, yarn 1 (always-auth) and yarn berry. Short-lived tokens show the pnpm and
//! bun paths keep working across an expiry; the clients through `artoken serve` are in
//! e2e_js_serve.rs.

mod common;
mod js;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use js::*;
use testkit::{run, text, tool};

/// `~/.npmrc`'s tokenHelper line for the registry, split as pnpm splits it.
fn helper_line(env: &Env) -> Vec<String> {
    let npmrc = std::fs::read_to_string(env.sb.home().join(".npmrc")).unwrap();
    let key = format!(
        "{}:tokenHelper=",
        npm_endpoint(env).trim_start_matches("http:")
    );
    let line = npmrc
        .lines()
        .find_map(|l| l.strip_prefix(key.as_str()))
        .unwrap_or_else(|| panic!("no {key} line in ~/.npmrc:\n{npmrc}"));
    line.split_whitespace().map(str::to_string).collect()
}

#[test]
fn login_pnpm_helper_writes_no_token_and_the_helper_answers_from_the_cache_for_trusted_urls_only() {
    let env = setup_js(None);
    let out = env.ok(&["login", "pnpm", "--helper", "js"]);
    assert!(out.is_empty(), "{out}");
    assert_eq!(env.tokens_issued(), 0, "login --helper fetches no token");
    let line = helper_line(&env);
    let exe = std::fs::canonicalize(artoken_bin()).unwrap();
    let config = env.sb.work().join("artoken.yml");
    assert_eq!(
        line,
        [
            exe.to_str().unwrap(),
            "pnpm-token-helper",
            "--config",
            config.to_str().unwrap(),
            &npm_endpoint(&env),
        ]
    );
    // Run as pnpm runs it: from anywhere (the config travels in the line), stdin closed.
    let elsewhere = env.sb.root().join("tmp");
    let ask = |args: &[String]| {
        run(env
            .sb
            .command(&args[0])
            .args(&args[1..])
            .current_dir(&elsewhere)
            .stdin(Stdio::null()))
    };
    let mut printed = Vec::new();
    for _ in 0..5 {
        let out = ask(&line);
        assert_ok(&out, "the token helper");
        env.assert_no_leak_on_stderr(&out);
        printed.push(String::from_utf8(out.stdout).unwrap());
    }
    let token = env.emu.issued_tokens()[0].clone();
    assert!(printed.iter().all(|p| *p == format!("{token}\n")));
    // Five answers, one GetAuthorizationToken: the rest came from the shared cache.
    assert_eq!(env.tokens_issued(), 1);
    // URLs that get nothing: another host, another origin for the emulator's form, a domain
    // not in the config, a bare host, userinfo and query tricks.
    let emu_port: u16 = env.emu.url().rsplit(':').next().unwrap().parse().unwrap();
    let host = "demo-111122223333.d.codeartifact.eu-west-1.amazonaws.com";
    for url in [
        "https://evil.example/npm/npm-store/".to_string(),
        format!("http://127.0.0.1:{}/{host}/npm/npm-store/", emu_port + 1),
        format!("http://localhost:{emu_port}/{host}/npm/npm-store/"),
        format!(
            "{}/other-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/x/",
            env.emu.url()
        ),
        format!("http://{host}/npm/npm-store/"),
        format!("https://{host}.evil.example/npm/npm-store/"),
        format!("https://evil.example@{host}/npm/npm-store/?x=1"),
        host.to_string(),
    ] {
        let mut args = line.clone();
        *args.last_mut().unwrap() = url.clone();
        let out = ask(&args);
        assert_eq!(out.status.code(), Some(1), "{url}: {}", text(&out));
        assert!(out.stdout.is_empty(), "{url}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("artoken pnpm-token-helper: error: ") && err.lines().count() == 1,
            "{url}: {err}"
        );
    }
    assert_eq!(env.tokens_issued(), 1);
    // pnpm itself refuses a tokenHelper in a project's .npmrc (a cloned repository's).
    let dir = env.sb.work().join("cloned");
    Js::Pnpm.project(&dir, Some(&npm_endpoint(&env)));
    let npmrc = std::fs::read_to_string(env.sb.home().join(".npmrc")).unwrap();
    std::fs::remove_file(env.sb.home().join(".npmrc")).unwrap();
    std::fs::write(dir.join(".npmrc"), &npmrc).unwrap();
    let out = Js::Pnpm.add(&env, &dir);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("was found in project")
            || text(&out).contains("TOKEN_HELPER_IN_PROJECT"),
        "{}",
        text(&out)
    );
    assert_eq!(env.tokens_issued(), 1);
    env.assert_no_token_on_disk(&[]);
}

#[test]
fn pnpm_installs_with_the_token_helper_across_a_token_expiry() {
    // 10-second tokens: artoken replaces its cached one with 5 s left (half its life), and
    // pnpm keeps what the helper printed for its whole run, so a run may take 4 s (one takes
    // under a second here).
    let env = setup_js(Some(10));
    env.ok(&["login", "pnpm", "--helper", "js"]);
    let start = Instant::now();
    let mut runs = 0;
    let mut after_expiry = 0;
    // pnpm asks the helper once per run: runs until two began after the first token expired.
    while after_expiry < 2 {
        let began_after_expiry = first_token_expired(&env);
        let dir = env.sb.work().join(format!("run-{runs}"));
        // The registry comes from ~/.npmrc, next to the tokenHelper line.
        Js::Pnpm.project(&dir, None);
        let what = format!("pnpm install #{runs} at {:?}", start.elapsed());
        assert_ok(&Js::Pnpm.add(&env, &dir), &what);
        assert_installed(&dir, &what);
        after_expiry += usize::from(began_after_expiry);
        runs += 1;
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "no expiry in 10 minutes"
        );
    }
    let stats = env.emu.stats();
    assert_eq!(
        stats.requests.get("npm:refused").copied(),
        None,
        "{stats:?}"
    );
    assert_first_token_refused(&env);
    assert!(env.tokens_issued() >= 2, "{}", env.tokens_issued());
    // The helper's line names the same registry at another origin (`localhost`, not the
    // endpoint override's 127.0.0.1): the helper gives no token, pnpm's requests go without one
    // and fail.
    let npmrc = env.sb.home().join(".npmrc");
    let text_now = std::fs::read_to_string(&npmrc).unwrap();
    let endpoint = npm_endpoint(&env);
    let elsewhere = text_now.replace(
        &format!(" {endpoint}"),
        &format!(" {}", endpoint.replace("127.0.0.1", "localhost")),
    );
    assert_ne!(elsewhere, text_now);
    std::fs::write(&npmrc, elsewhere).unwrap();
    let issued = env.tokens_issued();
    let dir = env.sb.work().join("untrusted");
    Js::Pnpm.project(&dir, None);
    let out = Js::Pnpm.add(&env, &dir);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("401"), "{}", text(&out));
    assert_eq!(env.tokens_issued(), issued, "the refusing helper asked AWS");
    env.assert_no_token_on_disk(&[]);
    eprintln!(
        "{runs} pnpm runs in {:?}, {} tokens",
        start.elapsed(),
        env.tokens_issued()
    );
}

/// `login bun ARGS js`: .bunfig.toml's path and text, which must hold `table` with the
/// registry's URL and the token variable (never a token).
fn login_bun(env: &Env, args: &[&str], table: &str) -> (std::path::PathBuf, String) {
    env.ok(&[&["login", "bun"], args, &["js"]].concat());
    let bunfig = env.sb.config_home().join(".bunfig.toml");
    let written = std::fs::read_to_string(&bunfig).unwrap();
    let want = format!(
        "{table}\nurl = \"{}\"\ntoken = \"$CODEARTIFACT_AUTH_TOKEN\"\n",
        npm_endpoint(env)
    );
    assert!(written.contains(&want), "{written}");
    (bunfig, written)
}

#[test]
fn bun_installs_under_artoken_exec_with_the_token_from_the_environment_across_an_expiry() {
    // 10-second tokens: `artoken exec` hands bun one with more than 4 s left.
    let env = setup_js(Some(10));
    let (bunfig, _) = login_bun(&env, &[], "[install.registry]");
    assert_eq!(env.tokens_issued(), 0, "login bun fetches no token");
    // Without artoken exec there is no token: the registry refuses bun.
    let dir = env.sb.work().join("plain");
    Js::Bun.project(&dir, None);
    let out = Js::Bun.add(&env, &dir);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("401"), "{}", text(&out));
    let refused = |env: &Env| env.emu.stats().requests.get("npm:refused").copied();
    let refused_without_exec = refused(&env);
    assert!(refused_without_exec.is_some());
    let start = Instant::now();
    let mut runs = 0;
    let mut after_expiry = 0;
    while after_expiry < 2 {
        let began_after_expiry = first_token_expired(&env);
        let dir = env.sb.work().join(format!("run-{runs}"));
        Js::Bun.project(&dir, None);
        let mut exec = env.artoken();
        exec.args(["exec", "--"]).arg(tool("bun"));
        let what = format!("artoken exec -- bun add #{runs} at {:?}", start.elapsed());
        let out = Js::Bun.add_with(exec, &dir);
        assert_ok(&out, &what);
        env.assert_no_leak_on_stderr(&out);
        assert_installed(&dir, &what);
        after_expiry += usize::from(began_after_expiry);
        runs += 1;
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "no expiry in 10 minutes"
        );
    }
    assert_eq!(
        refused(&env),
        refused_without_exec,
        "only the run without artoken exec was refused"
    );
    assert_first_token_refused(&env);
    assert!(env.tokens_issued() >= 2);
    env.assert_no_token_on_disk(&[]);
    env.ok(&["logout", "bun", "js"]);
    assert!(!bunfig.exists(), "logout takes the file login created");
}

#[test]
fn yarn_classic_needs_always_auth_and_yarn_berry_works_after_login_yarn() {
    let env = setup_js(None);
    let npmrc = env.sb.home().join(".npmrc");
    // What `login npm` writes (the token, no always-auth): yarn 1 sends it for scoped
    // packages only, and the registry refuses the plain one.
    env.ok(&["login", "npm", "js"]);
    let dir = env.sb.work().join("yarn1-npm-login");
    Js::Yarn.project(&dir, None);
    let out = Js::Yarn.add(&env, &dir);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("artoken-demo: authorization token missing"),
        "{}",
        text(&out)
    );
    env.ok(&["logout", "npm", "js"]);
    assert!(!npmrc.exists());
    // `login yarn --classic`: the same lines and `always-auth=true` for that registry.
    env.ok(&["login", "yarn", "--classic", "js"]);
    let written = std::fs::read_to_string(&npmrc).unwrap();
    let nerf = npm_endpoint(&env).trim_start_matches("http:").to_string();
    assert!(
        written.contains(&format!("{nerf}:always-auth=true\n")),
        "{written}"
    );
    let dir = env.sb.work().join("yarn1");
    Js::Yarn.project(&dir, None);
    let out = Js::Yarn.add(&env, &dir);
    assert_ok(&out, "yarn 1 add after login yarn --classic");
    assert_installed(&dir, "yarn 1");
    // npm 11 still installs with that file (it warns that always-auth is unknown to it).
    let dir = env.sb.work().join("npm");
    Js::Npm.project(&dir, None);
    let out = Js::Npm.add(&env, &dir);
    assert_ok(&out, "npm install with always-auth in ~/.npmrc");
    assert_installed(&dir, "npm");
    env.ok(&["logout", "yarn", "--classic", "js"]);
    assert!(!npmrc.exists());
    // yarn berry after `login yarn` (~/.yarnrc.yml: the registry and its token).
    env.ok(&["login", "yarn", "js"]);
    let dir = env.sb.work().join("berry");
    Js::YarnBerry.project(&dir, None);
    let out = Js::YarnBerry.add(&env, &dir);
    assert_ok(&out, "yarn berry add after login yarn");
    assert_installed(&dir, "yarn berry");
    let yarnrc = env.sb.home().join(".yarnrc.yml");
    env.assert_no_token_on_disk(&[yarnrc.as_path()]);
    env.ok(&["logout", "yarn", "js"]);
    assert!(!yarnrc.exists());
}

#[test]
fn login_bun_scope_routes_only_the_scope_to_the_repository_and_bun_installs_from_it() {
    let env = setup_js(None);
    let (bunfig, written) = login_bun(
        &env,
        &["--scope", "@artoken"],
        "[install.scopes.\"@artoken\"]",
    );
    assert!(!written.contains("[install.registry]"), "{written}");
    // bun adds the scoped package from the repository, with the token artoken exec hands it.
    let add_scoped = |mut cmd: std::process::Command, dir: &std::path::Path| {
        Js::Bun.project(dir, None);
        cmd.current_dir(dir)
            .args(["add", "--no-progress", "@artoken/scoped-demo"])
            .env("BUN_INSTALL_CACHE_DIR", dir.join(".cache"));
        run(&mut cmd)
    };
    let dir = env.sb.work().join("scoped");
    let mut exec = env.artoken();
    exec.args(["exec", "--"]).arg(tool("bun"));
    let out = add_scoped(exec, &dir);
    assert_ok(&out, "artoken exec -- bun add @artoken/scoped-demo");
    env.assert_no_leak_on_stderr(&out);
    let manifest = dir.join("node_modules/@artoken/scoped-demo/package.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(v["version"], "2.0.0");
    // Without artoken exec the variable is unset: the repository refuses bun.
    let out = add_scoped(env.sb.command(tool("bun")), &env.sb.work().join("plain"));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(env.emu.stats().requests.contains_key("npm:refused"));
    env.assert_no_token_on_disk(&[]);
    env.ok(&["logout", "bun", "js"]);
    assert!(!bunfig.exists(), "logout takes the file login created");
}
