//! Which outputs may carry a token: only those whose point is the value (`token`, `url`, `env`,
//! the exports `login uv` prints for `eval`). Every `--json`, `--dry-run` and `-v`/`-vv` output
//! of every other command, stdout and stderr, is checked for every issued token.

mod common;

use std::process::Output;

use common::*;

/// Runs artoken, expecting success; panics naming the command if any issued token is in what it
/// printed (both streams, or stderr alone when `stdout_may_hold_it`).
fn no_token(env: &Env, args: &[&str], stdout_may_hold_it: bool) -> Output {
    let mut cmd = env.artoken();
    cmd.args(args);
    if stdout_may_hold_it {
        cmd.env(testkit::STDOUT_HOLDS_TOKEN, "1");
    }
    let out = testkit::run_ok(&mut cmd);
    let tokens = env.emu.issued_tokens();
    assert!(
        !tokens.is_empty(),
        "no token issued before `{}`",
        args.join(" ")
    );
    for t in &tokens {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains(t.as_str()),
            "a token on the stderr of `artoken {}`",
            args.join(" ")
        );
        if !stdout_may_hold_it {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                !stdout.contains(t.as_str()),
                "a token on the stdout of `artoken {}`",
                args.join(" ")
            );
        }
    }
    out
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// `login uv --env-file F --json` wrote the token to F and printed it in its JSON: the JSON now
/// names the variables with the password as `***`, with or without --env-file, dry run or not.
#[test]
fn login_uv_json_names_the_variables_without_the_token() {
    let env = setup_all_formats();
    env.ok(&["token"]); // the token every later command uses

    let out = no_token(
        &env,
        &["login", "uv", "--env-file", ".env", "--json"],
        false,
    );
    let v = json(&out);
    assert_eq!(v["env"]["UV_INDEX_DEMO_USERNAME"], "aws");
    assert_eq!(v["env"]["UV_INDEX_DEMO_PASSWORD"], "***");
    let token = &env.emu.issued_tokens()[0];
    let dotenv = std::fs::read_to_string(env.sb.work().join(".env")).unwrap();
    assert!(
        dotenv.contains(&format!("UV_INDEX_DEMO_PASSWORD={token}\n")),
        "the env file holds the token"
    );

    // Without --env-file: no token anywhere, and stderr says where to get it.
    let out = no_token(&env, &["login", "uv", "--json"], false);
    assert_eq!(json(&out)["env"]["UV_INDEX_DEMO_PASSWORD"], "***");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("login uv: --json shows no token"), "{err}");

    let out = no_token(&env, &["login", "uv", "--dry-run", "--json"], false);
    assert_eq!(json(&out)["env"]["UV_INDEX_DEMO_PASSWORD"], "***");

    // By design: the exports for `eval "$(artoken login uv)"` carry it.
    let out = no_token(&env, &["login", "uv"], true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("export UV_INDEX_DEMO_PASSWORD='{token}'")),
        "{stdout}"
    );
}

/// Every tool's login and logout with `--json`, `--dry-run`, both, and `-v`/`-vv`; `status` and
/// `doctor` with `--json`; `token`, `url` and `env` under `-vv` (their stderr): no token.
#[test]
fn no_json_dry_run_or_verbose_output_carries_a_token() {
    let env = setup_all_formats();
    env.ok(&["token"]);
    const TOOLS: &[(&str, &str)] = &[
        ("pip", "demo"),
        ("uv", "demo"),
        ("poetry", "demo"),
        ("pipenv", "demo"),
        ("twine", "demo"),
        ("netrc", "demo"),
        ("npm", "js"),
        ("pnpm", "js"),
        ("yarn", "js"),
        ("maven", "mvn"),
        ("gradle", "mvn"),
        ("nuget", "nu"),
        ("dotnet", "nu"),
        ("cargo", "crates"),
        ("swift", "sw"),
    ];
    // poetry and pipenv edit a project's file.
    std::fs::write(
        env.sb.work().join("pyproject.toml"),
        "[tool.poetry]\nname = \"app\"\n",
    )
    .unwrap();
    std::fs::write(env.sb.work().join("Pipfile"), "[packages]\n").unwrap();
    let mut runs = 0;
    for (tool, repo) in TOOLS {
        for flags in [
            &["--dry-run"][..],
            &["--dry-run", "--json"],
            &["--json"],
            &["-v", "--json"],
            &["-vv"],
        ] {
            let mut args = vec!["login", tool, repo];
            args.extend_from_slice(flags);
            // uv's plain login prints its exports by design (tested above).
            let exports =
                *tool == "uv" && !flags.contains(&"--json") && !flags.contains(&"--dry-run");
            no_token(&env, &args, exports);
            runs += 1;
        }
        for flags in [&["--dry-run", "--json"][..], &["-vv", "--json"]] {
            let mut args = vec!["logout", tool, repo];
            args.extend_from_slice(flags);
            no_token(&env, &args, false);
            runs += 1;
        }
    }
    let v = json(&no_token(&env, &["status", "--json"], false));
    assert!(
        v["repositories"][0]["token"]["expiration"].is_string(),
        "{v}"
    );
    let v = json(&no_token(&env, &["-vv", "doctor", "--json"], false));
    assert_eq!(v["ok"], true, "{v}");
    for args in [
        &["-vv", "token"][..],
        &["-vv", "token", "--json"],
        &["-vv", "url", "--tool", "pip", "--json"],
        &["-vv", "env"],
    ] {
        // Their stdout is the token (or holds it) by design; their logs never do.
        no_token(&env, args, true);
        runs += 1;
    }
    assert_eq!(runs, TOOLS.len() * 7 + 4);
}
