//! `artoken login TOOL` / `artoken logout TOOL` against the emulator, each in its own sandbox.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn token(env: &Env) -> String {
    let t = env.emu.issued_tokens();
    assert_eq!(t.len(), 1, "one token for the domain");
    t[0].clone()
}

/// Runs artoken, expecting success; returns (stdout, stderr).
fn ok2(env: &Env, args: &[&str]) -> (String, String) {
    let out = testkit::run_ok(env.artoken().args(args));
    env.assert_no_leak_on_stderr(&out);
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

struct Case {
    tool: &'static str,
    repo: &'static str,
    /// Relative to the sandbox root.
    file: &'static str,
    /// Some content already there (comments and unrelated settings).
    before: Option<&'static str>,
    /// Text the file must contain after login (`@T@` stands for the token).
    expect: &'static [&'static str],
    secret: bool,
}

const CASES: &[Case] = &[
    Case {
        tool: "pip",
        repo: "demo",
        file: "config/pip/pip.conf",
        before: Some("# mine\n[global]\ntimeout = 30\n"),
        expect: &[
            "index-url = http://aws:@T@@127.0.0.1:",
            "/pypi/pypi-store/simple/\n",
            "timeout = 30\n",
        ],
        secret: true,
    },
    Case {
        tool: "uv",
        repo: "demo",
        file: "config/uv/uv.toml",
        before: None,
        expect: &[
            "[[index]]\nname = \"demo\"\nurl = \"http://127.0.0.1:",
            "default = true\n",
        ],
        secret: false,
    },
    Case {
        tool: "twine",
        repo: "demo",
        file: "home/.pypirc",
        before: Some("[pypi]\nusername = __token__\n"),
        expect: &[
            "[demo]\nrepository = http://127.0.0.1:",
            "username = aws\npassword = @T@\n",
            "    demo\n",
        ],
        secret: true,
    },
    Case {
        tool: "npm",
        repo: "js",
        file: "home/.npmrc",
        before: Some("; mine\nsave-exact=true\n"),
        expect: &[
            "registry=http://127.0.0.1:",
            "/npm/npm-store/:_authToken=@T@\n",
        ],
        secret: true,
    },
    Case {
        tool: "pnpm",
        repo: "js",
        file: "home/.npmrc",
        before: None,
        expect: &[":_authToken=@T@\n"],
        secret: true,
    },
    Case {
        tool: "yarn",
        repo: "js",
        file: "home/.yarnrc.yml",
        before: Some("nodeLinker: node-modules\n"),
        expect: &[
            "npmRegistries:\n",
            "npmAuthToken: \"@T@\"\n",
            "npmRegistryServer: \"http://127.0.0.1:",
        ],
        secret: true,
    },
    Case {
        tool: "maven",
        repo: "mvn",
        file: "home/.m2/settings.xml",
        before: None,
        expect: &["<id>mvn</id>", "<password>@T@</password>"],
        secret: true,
    },
    Case {
        tool: "gradle",
        repo: "mvn",
        file: "home/.gradle/gradle.properties",
        before: Some("org.gradle.caching=true\n"),
        expect: &[
            "codeartifactToken=@T@\n",
            "codeartifact.mvn.url=http\\://127.0.0.1",
        ],
        secret: true,
    },
    Case {
        tool: "nuget",
        repo: "nu",
        file: "home/.nuget/NuGet/NuGet.Config",
        before: None,
        expect: &[
            "<add key=\"nu\" value=\"http://127.0.0.1:",
            "/nuget/nuget-store/v3/index.json\" />",
            "value=\"@T@\"",
        ],
        secret: true,
    },
    Case {
        tool: "dotnet",
        repo: "nu",
        file: "home/.nuget/NuGet/NuGet.Config",
        before: Some(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<configuration>\r\n  <packageSources>\r\n  </packageSources>\r\n</configuration>\r\n",
        ),
        expect: &[
            "<packageSourceCredentials>\r\n",
            "ClearTextPassword\" value=\"@T@\" />\r\n",
        ],
        secret: true,
    },
    Case {
        tool: "cargo",
        repo: "crates",
        file: "home/.cargo/config.toml",
        before: Some("[net]\ngit-fetch-with-cli = true\n"),
        expect: &[
            "[registries.crates]\nindex = \"sparse+http://127.0.0.1:",
            "credential-provider = [\"artoken\", \"cargo-credential\"]",
        ],
        secret: false,
    },
    Case {
        tool: "netrc",
        repo: "demo",
        file: "home/.netrc",
        before: Some("machine github.com login me password gh\n"),
        expect: &["machine 127.0.0.1 login aws password @T@\n"],
        secret: true,
    },
    Case {
        tool: "swift",
        repo: "sw",
        file: "home/.netrc",
        before: None,
        expect: &["machine 127.0.0.1 login token password @T@\n"],
        secret: true,
    },
    Case {
        tool: "poetry",
        repo: "demo",
        file: "config/pypoetry/auth.toml",
        before: None,
        expect: &["[http-basic.demo]\nusername = \"aws\"\npassword = \"@T@\"\n"],
        secret: true,
    },
    Case {
        tool: "pipenv",
        repo: "demo",
        file: "work/Pipfile",
        before: Some("[packages]\nrequests = \"*\"\n"),
        expect: &["url = \"http://aws:${CODEARTIFACT_AUTH_TOKEN}@127.0.0.1:"],
        secret: false,
    },
];

#[test]
fn each_tool_writes_its_file_and_logout_gives_it_back() {
    for case in CASES {
        let env = setup_all_formats();
        let root = env.sb.root().to_path_buf();
        let path = root.join(case.file);
        if let Some(b) = case.before {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, b).unwrap();
        }
        let pyproject = env.sb.work().join("pyproject.toml");
        let pyproject_before = "[tool.poetry]\nname = \"app\"\n";
        std::fs::write(&pyproject, pyproject_before).unwrap();
        let (out, err) = ok2(&env, &["login", case.tool, case.repo]);
        assert!(
            err.contains(&format!("login {} {}: ", case.tool, case.repo)),
            "{}: {err}",
            case.tool
        );
        assert!(
            err.contains(&path.display().to_string()),
            "{}: {err}",
            case.tool
        );
        assert_eq!(err.lines().count(), 1, "{}: one line: {err}", case.tool);
        let text = read(&path);
        let tok = env.emu.issued_tokens().first().cloned().unwrap_or_default();
        for e in case.expect {
            let e = e.replace("@T@", &tok);
            assert!(
                text.contains(&e),
                "{}: {e:?} not in {}:\n{text}",
                case.tool,
                path.display()
            );
        }
        if case.secret {
            assert_eq!(mode(&path), 0o600, "{}", case.tool);
            assert!(text.contains(&tok), "{}", case.tool);
        } else {
            assert!(
                tok.is_empty() || !text.contains(&tok),
                "{}: no token in {}",
                case.tool,
                path.display()
            );
        }
        if case.tool == "uv" {
            assert!(
                out.contains("export UV_INDEX_DEMO_USERNAME='aws'\n"),
                "{out}"
            );
            assert!(
                out.contains(&format!("export UV_INDEX_DEMO_PASSWORD='{tok}'\n")),
                "{out}"
            );
        } else {
            assert_eq!(out, "", "{}", case.tool);
        }
        if case.tool == "poetry" {
            let p = read(&pyproject);
            assert!(
                p.contains("[[tool.poetry.source]]\nname = \"demo\"\nurl = \"http://127.0.0.1:"),
                "{p}"
            );
            assert!(p.contains("priority = \"primary\""), "{p}");
        }
        // Twice is once (the token is cached).
        ok2(&env, &["login", case.tool, case.repo]);
        assert_eq!(
            read(&path),
            text,
            "{}: a second login changed the file",
            case.tool
        );

        let (_, err) = ok2(&env, &["logout", case.tool, case.repo]);
        assert!(
            err.starts_with(&format!("logout {} {}: ", case.tool, case.repo)),
            "{err}"
        );
        match case.before {
            Some(b) => assert_eq!(read(&path), b, "{}: logout gives the file back", case.tool),
            None => assert!(
                !path.exists(),
                "{}: the file login created is gone",
                case.tool
            ),
        }
        assert_eq!(read(&pyproject), pyproject_before);
        let (_, err) = ok2(&env, &["logout", case.tool, case.repo]);
        assert!(err.contains("nothing from artoken for"), "{err}");
    }
}

#[test]
fn dry_run_shows_a_diff_without_the_token_and_writes_nothing() {
    let env = setup_all_formats();
    let pip_conf = env.sb.config_home().join("pip/pip.conf");
    let (out, err) = ok2(&env, &["login", "pip", "--dry-run"]);
    let tok = token(&env);
    assert!(!out.contains(&tok) && !err.contains(&tok), "{out}{err}");
    assert!(
        out.starts_with(&format!("--- /dev/null\n+++ {}\n@@ ", pip_conf.display())),
        "{out}"
    );
    assert!(
        out.contains("+index-url = http://aws:***@127.0.0.1:"),
        "{out}"
    );
    assert!(
        err.contains("would create") && err.contains("dry run"),
        "{err}"
    );
    assert!(!pip_conf.exists());
    assert!(!env.sb.config_home().join("pip").exists());

    for (tool, repo) in [
        ("npm", "js"),
        ("twine", "demo"),
        ("maven", "mvn"),
        ("yarn", "js"),
        ("nuget", "nu"),
        ("gradle", "mvn"),
        ("netrc", "demo"),
    ] {
        let (out, _) = ok2(&env, &["login", tool, repo, "--dry-run"]);
        assert!(out.contains("***"), "{tool}: {out}");
        assert!(!out.contains(&tok), "{tool}: the token leaked: {out}");
    }
    let (out, _) = ok2(&env, &["login", "uv", "--dry-run"]);
    assert!(out.contains("export UV_INDEX_DEMO_PASSWORD='***'"), "{out}");
    assert!(!out.contains(&tok));
    // nothing was written anywhere
    for dir in [env.sb.home(), env.sb.config_home()] {
        let mut found = Vec::new();
        collect(&dir, &mut found);
        found.retain(|p| !p.starts_with(env.sb.home().join(".aws")));
        assert!(found.is_empty(), "{found:?}");
    }

    // logout --dry-run: the diff of the removal, file untouched
    ok2(&env, &["login", "pip"]);
    let before = read(&pip_conf);
    let (out, _) = ok2(&env, &["logout", "pip", "demo", "--dry-run"]);
    assert!(out.contains("-index-url = http://aws:***@"), "{out}");
    assert!(!out.contains(&tok));
    assert_eq!(read(&pip_conf), before);
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn unknown_tool_is_one_clear_line() {
    let env = setup_all_formats();
    let out = env.run(&["login", "gradlew"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        err.trim(),
        "artoken: error: unknown tool \"gradlew\" (expected one of: pip, uv, poetry, pipenv, twine, npm, pnpm, yarn, bun, maven, gradle, nuget, dotnet, cargo, swift, netrc)"
    );
    assert_eq!(env.tokens_issued(), 0);
    let out = env.run(&["logout", "bower", "demo"]);
    assert!(first_err_line(&out).contains("unknown tool \"bower\""));
}

#[test]
fn errors_name_the_flag_or_the_file() {
    let env = setup_all_formats();
    let cases: &[(&[&str], &str)] = &[
        (
            &["login", "pip", "--scope", "@x"],
            "artoken: error: --scope: only npm, pnpm, yarn and bun have scopes, not pip",
        ),
        (
            &["login", "npm", "js", "--extra"],
            "artoken: error: --extra: only pip, uv and poetry have extra indexes, not npm",
        ),
        (
            &["login", "pip", "--site"],
            "artoken: error: --site: no virtual environment is active",
        ),
        (
            &["login", "npm", "js", "--scope", "Bad Scope"],
            "artoken: error: --scope: \"Bad Scope\" is not an npm scope",
        ),
        (
            &["login", "npm", "demo"],
            "artoken: error: repository demo has format pypi; `artoken login npm` needs format npm",
        ),
        (&["login", "poetry"], "artoken: error: no pyproject.toml in"),
    ];
    for (args, want) in cases {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            first_err_line(&out).starts_with(want),
            "{args:?}: {}",
            first_err_line(&out)
        );
    }
    // A file artoken cannot edit is named, with the flag that chose it.
    let bad = env.sb.work().join("bad-uv.toml");
    std::fs::write(&bad, "index = [\n").unwrap();
    let out = env.run(&["login", "uv", "--file", "bad-uv.toml"]);
    let line = first_err_line(&out);
    assert!(
        line.starts_with(&format!("artoken: error: --file {}: line ", bad.display())),
        "{line}"
    );
    assert_eq!(read(&bad), "index = [\n");
    let conf = env.sb.config_home().join("pip/pip.conf");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(&conf, "# >>> artoken:demo index-url >>>\n").unwrap();
    let out = env.run(&["logout", "pip", "demo"]);
    let line = first_err_line(&out);
    assert!(
        line.starts_with(&format!("artoken: error: {}: line 1: ", conf.display())),
        "{line}"
    );
}

#[test]
fn a_refreshed_token_replaces_only_the_token_and_repositories_sit_side_by_side() {
    let env = setup_all_formats();
    let conf = env.sb.config_home().join("pip/pip.conf");
    let original = "; team settings\n[global]\nindex-url = https://pypi.org/simple\ntimeout = 60\n\n[install]\nno-compile = yes\n";
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(&conf, original).unwrap();
    ok2(&env, &["login", "pip"]);
    ok2(&env, &["login", "pip", "other", "--extra"]);
    let one = read(&conf);
    let t1 = token(&env);
    assert!(
        one.contains("# artoken-was: index-url = https://pypi.org/simple\n"),
        "{one}"
    );
    assert!(one.contains("/pypi/pypi-two/simple/\n"), "{one}");
    ok2(&env, &["login", "pip", "--refresh"]);
    let two = read(&conf);
    let t2 = env.emu.issued_tokens()[1].clone();
    assert_ne!(t1, t2);
    assert_eq!(
        two.matches(&t2).count(),
        1,
        "only demo's line got the new token: {two}"
    );
    assert_eq!(two.replacen(&t2, &t1, 1), one);
    ok2(&env, &["logout", "pip", "demo"]);
    ok2(&env, &["logout", "pip", "other"]);
    assert_eq!(read(&conf), original);
}

#[test]
fn scoped_npm_in_a_project_file_and_uv_with_an_env_file_and_json() {
    let env = setup_all_formats();
    let npmrc = env.sb.work().join("app/.npmrc");
    std::fs::create_dir_all(npmrc.parent().unwrap()).unwrap();
    std::fs::write(&npmrc, "engine-strict=true\n").unwrap();
    ok2(
        &env,
        &[
            "login",
            "npm",
            "js",
            "--scope",
            "corp",
            "--file",
            "app/.npmrc",
        ],
    );
    let text = read(&npmrc);
    assert!(text.contains("@corp:registry=http://127.0.0.1:"), "{text}");
    assert!(!env.sb.home().join(".npmrc").exists());
    ok2(&env, &["logout", "npm", "js", "--file", "app/.npmrc"]);
    assert_eq!(read(&npmrc), "engine-strict=true\n");

    let (out, _) = ok2(&env, &["login", "uv", "--env-file", ".env", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["tool"], "uv");
    assert_eq!(v["files"][0]["action"], "created");
    assert_eq!(
        v["files"][1]["path"],
        env.sb.work().join(".env").display().to_string()
    );
    let tok = token(&env);
    // The token went to the env file, not to the JSON (tests/outputs.rs).
    assert_eq!(v["env"]["UV_INDEX_DEMO_PASSWORD"], "***");
    let dotenv = env.sb.work().join(".env");
    assert_eq!(mode(&dotenv), 0o600);
    assert!(read(&dotenv).contains(&format!("UV_INDEX_DEMO_PASSWORD={tok}\n")));
    ok2(&env, &["logout", "uv", "--env-file", ".env"]);
    assert!(!dotenv.exists());
    assert!(!env.sb.config_home().join("uv/uv.toml").exists());
}

#[test]
fn a_symlink_into_another_users_file_is_refused() {
    let env = setup_all_formats();
    let target = if unsafe_is_root() {
        let t = env.sb.root().join("theirs.npmrc");
        std::fs::write(&t, "x=1\n").unwrap();
        let out = testkit::run(std::process::Command::new("chown").arg("4242").arg(&t));
        assert!(out.status.success());
        t
    } else {
        PathBuf::from("/etc/passwd")
    };
    std::os::unix::fs::symlink(&target, env.sb.home().join(".npmrc")).unwrap();
    let out = env.run(&["login", "npm", "js"]);
    assert!(
        first_err_line(&out).contains("belongs to another user"),
        "{}",
        first_err_line(&out)
    );
}

fn unsafe_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}
