//! The artoken commands against the emulator, each in its own sandbox.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn token_prints_a_token_the_emulator_issued_and_caches_it() {
    let env = setup();
    let t1 = env.ok(&["token"]);
    assert!(env.emu.issued_tokens().contains(&t1.trim().to_string()));
    let t2 = env.ok(&["token", "demo"]);
    assert_eq!(t1, t2, "the second call comes from the cache");
    assert_eq!(env.tokens_issued(), 1);
    let t3 = env.ok(&["token", "--refresh"]);
    assert_ne!(t1, t3);
    assert_eq!(env.tokens_issued(), 2);
    // after --refresh the cache holds the new token
    assert_eq!(env.ok(&["token"]), t3);
}

#[test]
fn tokens_are_per_domain_so_two_repositories_share_one() {
    let env = setup();
    let a = env.ok(&["token", "demo"]);
    let b = env.ok(&["token", "js"]);
    assert_eq!(a, b);
    assert_eq!(env.tokens_issued(), 1);
}

#[test]
fn token_json_has_the_expiration() {
    let env = setup();
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["token", "--json"])).unwrap();
    let left = v["expires_in_seconds"].as_i64().unwrap();
    assert!((43_000..=43_200).contains(&left), "{v}");
    assert!(v["expiration"].as_str().unwrap().ends_with('Z'));
    assert!(
        env.emu
            .issued_tokens()
            .contains(&v["token"].as_str().unwrap().to_string())
    );
}

#[test]
fn url_gives_each_tool_its_url() {
    let env = setup();
    let endpoint = env.endpoint();
    let pip = env.ok(&["url"]);
    let token = env.emu.issued_tokens()[0].clone();
    let expected = endpoint.replacen("http://", &format!("http://aws:{token}@"), 1) + "simple/";
    assert_eq!(pip.trim(), expected);
    assert_eq!(env.ok(&["url", "--tool", "endpoint"]).trim(), endpoint);
    let npm = env.ok(&["url", "js", "--tool", "npm"]);
    assert!(npm.trim().ends_with("/npm/npm-store/"), "{npm}");
    let npmrc = env.ok(&["url", "js", "--tool", "npmrc"]);
    assert!(
        npmrc.trim().starts_with("//127.0.0.1:")
            && npmrc.trim().ends_with(&format!(":_authToken={token}"))
    );
    let out = env.run(&["url", "--tool", "gradle"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        first_err_line(&out).contains("--tool: unknown tool \"gradle\""),
        "{}",
        first_err_line(&out)
    );
}

#[test]
fn exec_runs_the_command_with_the_variables_and_its_exit_code() {
    let env = setup();
    let out = env.ok(&[
        "exec",
        "--",
        "sh",
        "-c",
        "printf '%s\\n%s' \"$CODEARTIFACT_AUTH_TOKEN\" \"$PIP_INDEX_URL\"",
    ]);
    let mut lines = out.lines();
    let token = lines.next().unwrap();
    assert!(env.emu.issued_tokens().contains(&token.to_string()));
    assert!(lines.next().unwrap().ends_with("/pypi/pypi-store/simple/"));
    // exit codes are the command's own
    let out = env.run(&["exec", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    // existing variables are kept
    let mut cmd = env.artoken();
    cmd.env("KEEP_ME", "kept")
        .args(["exec", "--", "sh", "-c", "echo $KEEP_ME"]);
    assert_eq!(
        String::from_utf8(testkit::run_ok(&mut cmd).stdout)
            .unwrap()
            .trim(),
        "kept"
    );
    // options after the command belong to the command
    let out = env.ok(&["exec", "echo", "--refresh", "-v"]);
    assert_eq!(out.trim(), "--refresh -v");
}

#[test]
fn exec_of_a_missing_command_exits_127() {
    let env = setup();
    let out = env.run(&["exec", "--", "no-such-command-artoken"]);
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        first_err_line(&out),
        "artoken: error: command not found: no-such-command-artoken"
    );
}

#[test]
fn env_prints_every_format() {
    let env = setup();
    let sh = env.ok(&["env"]);
    assert!(sh.contains("export CODEARTIFACT_AUTH_TOKEN='eyJ"), "{sh}");
    let script = format!("{sh}\nprintf %s \"$PIP_INDEX_URL\"");
    let out = testkit::run_ok(env.sb.command("sh").args(["-c", &script]));
    assert!(String::from_utf8(out.stdout).unwrap().ends_with("/simple/"));
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["env", "--format", "json"])).unwrap();
    assert!(
        json["CODEARTIFACT_AUTH_TOKEN"]
            .as_str()
            .unwrap()
            .starts_with("eyJ")
    );
    let sam: serde_json::Value = serde_json::from_str(&env.ok(&["env", "-f", "sam"])).unwrap();
    assert!(sam["Parameters"]["PIP_INDEX_URL"].as_str().is_some());
    for f in ["fish", "powershell", "dotenv", "github"] {
        let out = env.ok(&["env", "--format", f]);
        assert!(out.contains("PIP_INDEX_URL"), "{f}: {out}");
    }
    assert_eq!(
        env.tokens_issued(),
        1,
        "every format came from one cached token"
    );
}

#[test]
fn status_shows_where_config_came_from_and_expiry() {
    let env = setup();
    let before = env.ok(&["status"]);
    assert!(before.contains("no cached token"), "{before}");
    env.ok(&["token"]);
    let after = env.ok(&["status"]);
    assert!(
        after.contains("expires in 11h 59m") || after.contains("expires in 12h"),
        "{after}"
    );
    assert!(after.contains("artoken.yml"), "{after}");
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    let repos = v["repositories"].as_array().unwrap();
    assert_eq!(repos.len(), 2);
    let demo = repos.iter().find(|r| r["name"] == "demo").unwrap();
    assert_eq!(demo["default"], true);
    assert!(demo["token"]["expires_in_seconds"].as_i64().unwrap() > 43_000);
    assert!(demo["config"].as_str().unwrap().contains("artoken.yml"));
    assert_eq!(env.tokens_issued(), 1, "status makes no AWS call");
}

#[test]
fn cache_clear_forgets_tokens() {
    let env = setup();
    env.ok(&["token"]);
    let out = testkit::run_ok(env.artoken().args(["cache", "clear"]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("removed 2 cache file(s)"));
    env.ok(&["token"]);
    assert_eq!(env.tokens_issued(), 2);
}

#[test]
fn cache_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = setup();
    env.ok(&["token"]);
    let dir = env.sb.cache_home().join("artoken");
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let mut files = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        assert_eq!(
            e.metadata().unwrap().permissions().mode() & 0o777,
            0o600,
            "{:?}",
            e.path()
        );
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(".lock") {
            assert_eq!(e.metadata().unwrap().len(), 0, "a lock file holds nothing");
        }
        files += 1;
    }
    assert!(files >= 2);
}

#[test]
fn an_expired_cached_token_is_replaced() {
    let env = setup();
    let mut f = env.emu.faults();
    f.token_lifetime_secs = Some(2);
    env.emu.set_faults(f);
    let t1 = env.ok(&["token"]);
    std::thread::sleep(Duration::from_millis(2_100));
    let t2 = env.ok(&["token"]);
    assert_ne!(t1, t2);
    assert_eq!(env.tokens_issued(), 2);
}

#[test]
fn a_corrupt_cache_file_is_refetched() {
    let env = setup();
    env.ok(&["token"]);
    let dir = env.sb.cache_home().join("artoken");
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".json") {
            std::fs::write(&p, b"\x00garbage{").unwrap();
        }
    }
    let t = env.ok(&["token"]);
    assert!(env.emu.issued_tokens().contains(&t.trim().to_string()));
    assert_eq!(env.tokens_issued(), 2);
}

#[test]
fn an_unusable_cache_dir_works_uncached_with_a_warning() {
    let env = setup();
    // Tests may run as root, for whom permission bits do not stop writes: put a file where
    // the cache dir would be.
    let blocker = env.sb.root().join("not-a-dir");
    std::fs::write(&blocker, b"").unwrap();
    let mut cmd = env.artoken();
    cmd.env("ARTOKEN_CACHE_DIR", blocker.join("artoken"))
        .arg("token");
    let out = testkit::run_ok(&mut cmd);
    let t = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(env.emu.issued_tokens().contains(&t.trim().to_string()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("working without a cache"), "{err}");
    env.assert_no_leak_on_stderr(&out);
}

#[test]
fn twenty_processes_on_an_empty_cache_make_one_fetch() {
    let env = setup();
    let mut f = env.emu.faults();
    f.latency_ms = 150; // widen the race
    env.emu.set_faults(f);
    let children: Vec<_> = (0..20)
        .map(|_| {
            let mut cmd = env.artoken();
            cmd.env("AWS_MAX_ATTEMPTS", "1")
                .arg("token")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let child = cmd.spawn().unwrap();
            (cmd, child)
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|(cmd, c)| {
            let out = c.wait_with_output().unwrap();
            testkit::record_output(&cmd, &out);
            out
        })
        .collect();
    for o in &outs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(env.tokens_issued(), 1, "exactly one GetAuthorizationToken");
    let first = &outs[0].stdout;
    assert!(outs.iter().all(|o| &o.stdout == first));
}

#[test]
fn a_profile_from_the_user_file_is_used() {
    let env = setup();
    std::fs::write(
        env.sb.work().join("artoken.user.yml"),
        "repositories:\n  demo:\n    profile: blocked\n",
    )
    .unwrap();
    let out = env.run(&["token"]);
    assert_eq!(out.status.code(), Some(1));
    let line = first_err_line(&out);
    assert!(
        line.contains("codeartifact:GetAuthorizationToken"),
        "{line}"
    );
    std::fs::write(
        env.sb.work().join("artoken.user.yml"),
        "repositories:\n  demo:\n    profile: work\n",
    )
    .unwrap();
    env.ok(&["token"]);
    assert_eq!(env.tokens_issued(), 1);
}

#[test]
fn errors_are_one_clear_line() {
    let env = setup();
    // unknown repository
    let out = env.run(&["token", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(
        l.starts_with("artoken: error:") && l.contains("nope") && l.contains("demo"),
        "{l}"
    );
    // denied sts:GetServiceBearerToken
    std::fs::write(
        env.sb.work().join("artoken.user.yml"),
        "repositories:\n  demo:\n    profile: nobearer\n",
    )
    .unwrap();
    let out = env.run(&["token"]);
    let l = first_err_line(&out);
    assert!(l.contains("sts:GetServiceBearerToken"), "{l}");
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!e.contains("panicked") && !e.contains("backtrace"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn missing_domain_names_the_key_and_file() {
    let env = setup();
    std::fs::write(
        env.sb.work().join("artoken.yml"),
        "repositories:\n  demo:\n    repository: xy\n",
    )
    .unwrap();
    let out = env.run(&["token"]);
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(
        l.contains("repositories.demo") && l.contains("domain") && l.contains("artoken.yml"),
        "{l}"
    );
}

#[test]
fn no_credentials_is_a_clear_error() {
    let env = setup();
    let mut cmd = env.artoken();
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .arg("token");
    let start = Instant::now();
    let out = testkit::run(&mut cmd);
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(l.contains("no AWS credentials"), "{l}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_unreachable_endpoint_fails_fast() {
    let env = setup();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let start = Instant::now();
    let out = testkit::run(env.artoken().args([
        "token",
        "--endpoint-url",
        &format!("http://127.0.0.1:{port}"),
    ]));
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(
        l.contains(&format!("cannot reach http://127.0.0.1:{port}")),
        "{l}"
    );
    // Well under the 30 s call bound: a refused connection is not waited out (the SDK's
    // retries back off for at most 1 + 2 s; the rest is start-up, four times slower here).
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn doctor_checks_everything_and_names_the_missing_permission() {
    let env = setup();
    let out = env.ok(&["doctor"]);
    assert!(
        out.contains("ok   demo: credentials: arn:aws:iam::"),
        "{out}"
    );
    assert!(out.contains("ok   demo: endpoint:"), "{out}");
    assert!(out.contains("ok   cache:"), "{out}");
    std::fs::write(
        env.sb.work().join("artoken.user.yml"),
        "repositories:\n  demo:\n    profile: nobearer\n",
    )
    .unwrap();
    let out = env.run(&["doctor", "demo"]);
    assert_eq!(out.status.code(), Some(1));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("FAIL demo: token") && s.contains("fix: grant sts:GetServiceBearerToken"),
        "{s}"
    );
}

#[test]
fn help_and_version_and_completions() {
    let env = setup();
    let help = env.ok(&["--help"]);
    for word in ["Tokens:", "Inspect:", "Setup:", "token", "exec", "doctor"] {
        assert!(help.contains(word), "{help}");
    }
    assert!(help.lines().count() < 50, "help fits a screen");
    for cmd in [
        "token",
        "url",
        "exec",
        "env",
        "status",
        "doctor",
        "cache",
        "completions",
        "man",
    ] {
        env.ok(&[cmd, "--help"]);
    }
    assert!(env.ok(&["--version"]).contains("(git "));
    assert!(env.ok(&["completions", "bash"]).contains("artoken"));
    assert!(env.ok(&["man"]).contains(".TH"));
}
