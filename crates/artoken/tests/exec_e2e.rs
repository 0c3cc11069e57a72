//! `artoken exec` with real tools, wev.yml files read unchanged, and config merge order.

mod common;

use common::*;

/// The test venv (pip, python) first on PATH, so `exec` finds `pip` by name.
fn venv_on_path(env: &mut Env) {
    let venv_bin = testkit::tool("pip").parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(venv_bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    env.sb.set_env("PATH", path);
}

/// The arguments of every recorded exec of `program` (see `Sandbox::record_argv`).
fn args_of(log: &testkit::ArgvLog, program: &str) -> Vec<Vec<String>> {
    log.of(program)
        .into_iter()
        .map(|r| r.args().to_vec())
        .collect()
}

/// pip ran once, with exactly the arguments the user gave (the token went by environment).
fn assert_pip_got_the_users_argv(log: &testkit::ArgvLog, target: &std::path::Path) {
    assert_eq!(
        args_of(log, "pip"),
        [[
            "install",
            "--no-cache-dir",
            "--target",
            target.to_str().unwrap(),
            "artoken-demo"
        ]]
    );
}

#[test]
fn exec_pip_install_uses_pip_index_url_from_the_config() {
    let mut env = setup();
    venv_on_path(&mut env);
    // every child's argv, for the suite's leak check (argv-recording shims first on PATH)
    let argv = env.sb.record_argv(&["pip", "python", "python3", "sh"]);
    let target = env.sb.root().join("site");
    let out = testkit::run_ok(
        env.artoken()
            .args(["exec", "--", "pip", "install", "--no-cache-dir", "--target"])
            .arg(&target)
            .arg("artoken-demo"),
    );
    assert!(target.join("artoken_demo/__init__.py").exists());
    // the command line pip got is the user's, byte for byte: the token went by PIP_INDEX_URL
    argv.assert_saw(&["pip"]);
    assert_pip_got_the_users_argv(&argv, &target);
    let text = testkit::text(&out);
    for t in env.emu.issued_tokens() {
        assert!(!text.contains(&t), "pip printed the token");
    }
    let stats = env.emu.stats();
    assert_eq!(stats.tokens_issued, 1);
    assert!(
        stats.requests.get("pypi:download").copied().unwrap_or(0) >= 1,
        "{stats:?}"
    );
    env.assert_no_token_on_disk(&[]);
}

const WEV_YML: &str = r#"# wev.yml of a project that installs with pipenv (read unchanged by artoken)
[CODEARTIFACT_AUTH_TOKEN]:
  plugin:
    id: wev-awscodeartifact
    account: "111122223333"
    domain: demo
    region: eu-west-1
    duration: 3600
[GREETING, SALUTATION]:
  plugin:
    id: wev-echo
    value:
      - hello
      - world
    separator: ", "
"#;

#[test]
fn a_wev_project_runs_unchanged_under_artoken_exec() {
    let mut env = setup();
    venv_on_path(&mut env);
    let argv = env.sb.record_argv(&["sh", "pip"]);
    std::fs::remove_file(env.sb.work().join("artoken.yml")).unwrap();
    std::fs::write(env.sb.work().join("wev.yml"), WEV_YML).unwrap();
    // the personal file picks the profile, as wev users do
    std::fs::write(
        env.sb.work().join("wev.user.yml"),
        "CODEARTIFACT_AUTH_TOKEN:\n  plugin:\n    profile: work\n",
    )
    .unwrap();
    let out = env.ok(&[
        "exec",
        "--",
        "sh",
        "-c",
        "printf '%s\\n%s\\n%s\\n' \"$CODEARTIFACT_AUTH_TOKEN\" \"$GREETING\" \"$SALUTATION\"",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        env.emu.issued_tokens().contains(&lines[0].to_string()),
        "{out}"
    );
    assert_eq!(lines[1], "hello, world");
    assert_eq!(lines[2], "hello, world");
    // the duration is sent to AWS: the token lives an hour
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    let repo = &v["repositories"][0];
    assert_eq!(repo["profile"], "work", "{v}");
    let left = repo["token"]["expires_in_seconds"].as_i64().unwrap();
    assert!((3_500..=3_600).contains(&left), "{left}");
    // and pip installs with an index URL built from the variable, as a Pipfile source would;
    // in pip's environment, not on its command line (a process list shows every argv)
    let target = env.sb.root().join("site");
    let script = format!(
        "PIP_INDEX_URL=\"http://aws:${{CODEARTIFACT_AUTH_TOKEN}}@{}/simple/\" exec pip install --no-cache-dir --target {} artoken-demo",
        env.endpoint()
            .trim_start_matches("http://")
            .trim_end_matches('/'),
        target.display(),
    );
    testkit::run_ok(env.artoken().args(["exec", "--", "sh", "-c", &script]));
    assert!(target.join("artoken_demo").exists());
    assert_eq!(env.tokens_issued(), 1);
    // the recorded command lines: the two `sh -c` artoken ran, then the pip the script ran
    argv.assert_saw(&["sh", "pip"]);
    let sh = args_of(&argv, "sh");
    assert_eq!(sh.len(), 2, "{sh:?}");
    assert_eq!(sh[1], ["-c", script.as_str()]);
    assert_pip_got_the_users_argv(&argv, &target);
}

#[test]
fn an_unknown_wev_plugin_is_a_clear_error() {
    let env = setup();
    std::fs::write(
        env.sb.work().join("wev.yml"),
        "[AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY]:\n  plugin:\n    id: wev-awsmfa\n",
    )
    .unwrap();
    let out = env.run(&["exec", "--", "true"]);
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(
        l.contains("wev.yml:") && l.contains("wev-awsmfa") && l.contains("not supported"),
        "{l}"
    );
}

#[test]
fn config_merges_home_then_root_down_to_the_cwd() {
    let mut env = setup();
    let argv = env.sb.record_argv(&["sh"]);
    // HOME defines a repository and a variable; the project overrides the variable;
    // the personal file in the project sets the profile.
    std::fs::write(
        env.sb.home().join("artoken.yml"),
        "repositories:\n  mine:\n    domain: demo\n    owner: \"111122223333\"\n    repository: npm-store\n    format: npm\nenv:\n  WHO: { value: home }\n  ONLY_HOME: { value: yes-home }\n",
    )
    .unwrap();
    std::fs::write(
        env.sb.work().join("artoken.yml"),
        format!("{CONFIG}  WHO: {{ value: project }}\n"),
    )
    .unwrap();
    std::fs::write(
        env.sb.work().join("artoken.user.yml"),
        "repositories:\n  mine:\n    profile: work\n",
    )
    .unwrap();
    let out = env.ok(&["exec", "--", "sh", "-c", "echo $WHO $ONLY_HOME"]);
    assert_eq!(out.trim(), "project yes-home");
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    let files: Vec<String> = v["config_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    let pos = |needle: &str| files.iter().position(|f| f.ends_with(needle)).unwrap();
    assert!(pos("home/artoken.yml") < pos("work/artoken.yml"));
    assert!(pos("work/artoken.yml") < pos("work/artoken.user.yml"));
    let mine = v["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "mine")
        .unwrap();
    assert_eq!(mine["profile"], "work");
    assert_eq!(mine["repository"], "npm-store");
    // --config replaces discovery
    let only = env.sb.root().join("only.yml");
    std::fs::write(&only, "env:\n  WHO: { value: explicit }\n").unwrap();
    let out = env.ok(&[
        "--config",
        only.to_str().unwrap(),
        "exec",
        "--",
        "sh",
        "-c",
        "echo $WHO $ONLY_HOME",
    ]);
    assert_eq!(out.trim(), "explicit");
    argv.assert_saw(&["sh"]);
    assert_eq!(
        args_of(&argv, "sh"),
        [
            ["-c", "echo $WHO $ONLY_HOME"],
            ["-c", "echo $WHO $ONLY_HOME"]
        ]
    );
}

#[test]
fn ci_can_configure_through_the_environment_alone() {
    let env = setup();
    std::fs::remove_file(env.sb.work().join("artoken.yml")).unwrap();
    let mut cmd = env.artoken();
    cmd.env("ARTOKEN_DOMAIN", "demo")
        .env("ARTOKEN_DOMAIN_OWNER", OWNER)
        .env("ARTOKEN_REPOSITORY", "pypi-store")
        .args(["url", "--tool", "pip"]);
    let out = testkit::run_ok(&mut cmd);
    let url = String::from_utf8(out.stdout).unwrap();
    assert!(url.trim().ends_with("/pypi/pypi-store/simple/"), "{url}");
    assert!(url.contains("aws:eyJ"));
}

/// A config with repositories but no `env:` section (the migration line
/// `eval "$(artoken env)"`, the pipenv row, CI with ARTOKEN_* only): the default repository's
/// token and index URLs, and pip installs from the repository, not PyPI.
#[test]
fn with_no_env_section_exec_and_env_set_the_default_repositorys_variables() {
    let mut env = setup();
    venv_on_path(&mut env);
    std::fs::write(
        env.sb.work().join("artoken.yml"),
        "default: demo\nrepositories:\n  demo: { domain: demo, owner: \"111122223333\", repository: pypi-store }\n  js: { domain: demo, owner: \"111122223333\", repository: npm-store, format: npm }\n",
    )
    .unwrap();
    let out = env.ok(&["env", "--format", "json"]);
    let vars: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = vars
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "CODEARTIFACT_AUTH_TOKEN",
            "PIP_INDEX_URL",
            "UV_DEFAULT_INDEX"
        ]
    );
    let token = vars["CODEARTIFACT_AUTH_TOKEN"].as_str().unwrap();
    assert!(env.emu.issued_tokens().contains(&token.to_string()));
    assert!(
        vars["PIP_INDEX_URL"]
            .as_str()
            .unwrap()
            .ends_with("/pypi/pypi-store/simple/")
    );
    // pip gets the repository from the default, with no option of the user's.
    let target = env.sb.root().join("site");
    testkit::run_ok(
        env.artoken()
            .args(["exec", "--", "pip", "install", "--no-cache-dir", "--target"])
            .arg(&target)
            .arg("artoken-demo"),
    );
    assert!(target.join("artoken_demo/__init__.py").exists());
    // The same from ARTOKEN_* variables alone (CI without a file).
    std::fs::remove_file(env.sb.work().join("artoken.yml")).unwrap();
    let out = testkit::run_ok(
        env.artoken()
            .env("ARTOKEN_DOMAIN", "demo")
            .env("ARTOKEN_DOMAIN_OWNER", OWNER)
            .env("ARTOKEN_REPOSITORY", "pypi-store")
            .args(["env", "--format", "dotenv"]),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "CODEARTIFACT_AUTH_TOKEN=",
        "PIP_INDEX_URL=",
        "UV_DEFAULT_INDEX=",
    ] {
        assert!(
            text.contains(name),
            "{name} missing:\n{}",
            text.lines()
                .map(|l| l.split('=').next().unwrap())
                .collect::<Vec<_>>()
                .join(",")
        );
    }
}

/// Two repositories, no default and no `env:`: one line saying what to add, exit 1, and no
/// command run.
#[test]
fn with_no_env_section_and_no_default_exec_fails_and_says_what_to_add() {
    let env = setup();
    std::fs::write(
        env.sb.work().join("artoken.yml"),
        "repositories:\n  a: { domain: demo, owner: \"111122223333\", repository: pypi-store }\n  b: { domain: demo, owner: \"111122223333\", repository: npm-store, format: npm }\n",
    )
    .unwrap();
    let marker = env.sb.root().join("ran");
    for args in [
        vec!["env".to_string()],
        vec![
            "exec".into(),
            "--".into(),
            "touch".into(),
            marker.display().to_string(),
        ],
    ] {
        let out = env.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(1), "{}", testkit::text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("no `env:` entries")
                && err.contains("add `default: NAME` or an `env:` section"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    assert!(!marker.exists(), "the command ran");
    assert_eq!(env.tokens_issued(), 0);
}

/// `--refresh` fetches one new token per repository, not one per variable: every variable of a
/// repository holds the same token (they once held as many different tokens as variables).
#[test]
fn refresh_fetches_one_token_per_repository_for_all_its_variables() {
    let env = setup();
    std::fs::write(
        env.sb.work().join("artoken.yml"),
        "default: demo\nrepositories:\n  demo: { domain: demo, owner: \"111122223333\", repository: pypi-store }\n",
    )
    .unwrap();
    env.ok(&["token"]);
    let before = env.emu.issued_tokens().len();
    let out = env.ok(&["--refresh", "env", "--format", "json"]);
    let vars: serde_json::Value = serde_json::from_str(&out).unwrap();
    let issued = env.emu.issued_tokens();
    assert_eq!(issued.len(), before + 1, "one fetch for three variables");
    let token = issued.last().unwrap();
    assert_eq!(
        vars["CODEARTIFACT_AUTH_TOKEN"].as_str(),
        Some(token.as_str())
    );
    for name in ["PIP_INDEX_URL", "UV_DEFAULT_INDEX"] {
        let url = vars[name].as_str().unwrap();
        assert!(
            url.contains(&format!(":{token}@")),
            "{name} holds another token"
        );
    }
}
