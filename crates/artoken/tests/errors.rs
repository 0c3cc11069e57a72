//! Errors read like advice: each error a user can cause, its exact first line, exit 1, no
//! backtrace, naming the file, key, flag or IAM action involved.

mod common;

use common::*;

fn err(env: &Env, cmd: &mut std::process::Command) -> String {
    let out = testkit::run(cmd);
    assert_eq!(out.status.code(), Some(1), "{}", testkit::text(&out));
    let e = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !e.contains("panicked") && !e.contains("RUST_BACKTRACE"),
        "{e}"
    );
    env.assert_no_leak_on_stderr(&out);
    first_err_line(&out)
}

fn write(env: &Env, name: &str, text: &str) -> String {
    let p = env.sb.work().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn config_errors_name_the_file_line_and_key() {
    let env = setup();
    let f = write(
        &env,
        "artoken.yml",
        "repositories:\n  demo:\n    domian: demo\n",
    );
    assert_eq!(
        err(&env, env.artoken().arg("token")),
        format!(
            "artoken: error: {f}:3: repositories.demo: unknown field `domian`, expected one of `domain`, `owner`, `region`, `repository`, `format`, `profile`, `role_arn`, `duration`, `token_file`, `endpoint`, `repository_endpoint`"
        )
    );
    write(
        &env,
        "artoken.yml",
        "repositories:\n  demo:\n    domain: demo\n    duration: 13h\n",
    );
    assert_eq!(
        err(&env, env.artoken().arg("token")),
        format!(
            "artoken: error: {f}:4: repositories.demo.duration: 13h is outside what AWS accepts (15m to 12h, or session)"
        )
    );
    write(
        &env,
        "artoken.yml",
        "repositories:\n  demo:\n    repository: pypi-store\n",
    );
    assert_eq!(
        err(&env, env.artoken().arg("token")),
        format!("artoken: error: repositories.demo: missing domain (defined in {f})")
    );
}

#[test]
fn an_unknown_repository_lists_the_configured_ones() {
    let env = setup();
    let f = env.sb.work().join("artoken.yml").display().to_string();
    assert_eq!(
        err(&env, env.artoken().args(["token", "nope"])),
        format!("artoken: error: no repository named `nope`; configured: demo, js (read {f})")
    );
}

#[test]
fn flags_are_named() {
    let env = setup();
    assert_eq!(
        err(&env, env.artoken().args(["url", "--tool", "gradle"])),
        "artoken: error: --tool: unknown tool \"gradle\" (expected one of: endpoint, pip, uv, poetry, pipenv, twine, npm, npmrc, cargo)"
    );
    assert_eq!(
        err(
            &env,
            env.artoken().env("ARTOKEN_TIMEOUT", "soon").arg("token")
        ),
        "artoken: error: ARTOKEN_TIMEOUT: invalid duration \"soon\" (use e.g. 12h, 90m, 3600)"
    );
}

#[test]
fn aws_errors_say_what_to_do() {
    let env = setup();
    assert_eq!(
        err(
            &env,
            env.artoken()
                .env_remove("AWS_ACCESS_KEY_ID")
                .env_remove("AWS_SECRET_ACCESS_KEY")
                .arg("token")
        ),
        "artoken: error: cannot get a token for repository demo: no AWS credentials: none found in the environment, the shared config and credentials files, SSO, web identity or instance metadata (set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
    );
    assert_eq!(
        err(
            &env,
            env.artoken()
                .env_remove("AWS_REGION")
                .env_remove("AWS_DEFAULT_REGION")
                .arg("token")
        ),
        "artoken: error: cannot get a token for repository demo: no AWS region for repository demo: set `region:` for it in the config, AWS_REGION, or a region in the AWS profile"
    );
    write(
        &env,
        "artoken.user.yml",
        "repositories:\n  demo:\n    domain: nope\n",
    );
    assert_eq!(
        err(&env, env.artoken().arg("token")),
        "artoken: error: cannot get a token for repository demo: domain nope not found: Domain 'nope' owned by account '111122223333' does not exist."
    );
    write(
        &env,
        "artoken.user.yml",
        "repositories:\n  demo:\n    profile: blocked\n",
    );
    let l = err(&env, env.artoken().arg("token"));
    assert!(
        l.starts_with(
            "artoken: error: cannot get a token for repository demo: access denied by AWS: the caller lacks IAM permission codeartifact:GetAuthorizationToken ("
        ),
        "{l}"
    );
    write(
        &env,
        "artoken.user.yml",
        "repositories:\n  demo:\n    profile: nobearer\n",
    );
    let l = err(&env, env.artoken().arg("token"));
    assert!(
        l.starts_with(
            "artoken: error: cannot get a token for repository demo: access denied by AWS: the caller lacks IAM permission sts:GetServiceBearerToken ("
        ),
        "{l}"
    );
    std::fs::remove_file(env.sb.work().join("artoken.user.yml")).unwrap();
    assert_eq!(
        err(
            &env,
            env.artoken()
                .args(["token", "--endpoint-url", "http://127.0.0.1:9"])
        ),
        "artoken: error: cannot get a token for repository demo: cannot reach http://127.0.0.1:9: Connection refused (os error 111)"
    );
}

#[test]
fn hostile_config_files_are_one_line_naming_the_file() {
    let env = setup();
    let f = env.sb.work().join("artoken.yml");
    // 100 MB (sparse): refused from its size, never read in. The proof is the access time:
    // set before the modification time, the file system (relatime) moves it on the next read.
    let sparse = |p: &std::path::Path| {
        let file = std::fs::File::create(p).unwrap();
        file.set_len(100 * 1024 * 1024).unwrap();
        let day = std::time::Duration::from_secs(86_400);
        let t = std::time::SystemTime::UNIX_EPOCH + 11_000 * day;
        file.set_times(
            std::fs::FileTimes::new()
                .set_accessed(t)
                .set_modified(t + day),
        )
        .unwrap();
        t
    };
    let atime = |p: &std::path::Path| std::fs::metadata(p).unwrap().accessed().unwrap();
    // First, that a read shows here at all (a control file, read by hand).
    let control = env.sb.root().join("control.yml");
    let set = sparse(&control);
    assert_eq!(atime(&control), set);
    std::io::Read::read(&mut std::fs::File::open(&control).unwrap(), &mut [0u8; 1]).unwrap();
    assert_ne!(
        atime(&control),
        set,
        "this file system does not record reads (noatime): the check below would prove nothing"
    );
    let set = sparse(&f);
    let line = err(&env, env.artoken().arg("token"));
    assert!(
        line.starts_with(&format!("artoken: error: {}: ", f.display())) && line.contains("1 MiB"),
        "{line}"
    );
    assert_eq!(atime(&f), set, "artoken read the 100 MB file");
    // Invalid UTF-8.
    std::fs::write(&f, b"repositories:\n  demo: { domain: \xff\xfe }\n").unwrap();
    let line = err(&env, env.artoken().arg("token"));
    assert!(
        line.starts_with(&format!("artoken: error: {}: ", f.display())) && line.contains("UTF-8"),
        "{line}"
    );
    // A billion laughs.
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for (i, c) in "bcdefghi".chars().enumerate() {
        let prev = (b'a' + i as u8) as char;
        bomb.push_str(&format!(
            "{c}: &{c} [{}]\n",
            vec![format!("*{prev}"); 9].join(", ")
        ));
    }
    std::fs::write(&f, bomb).unwrap();
    let started = std::time::Instant::now();
    let line = err(&env, env.artoken().arg("token"));
    assert!(
        line.starts_with(&format!("artoken: error: {}", f.display())),
        "{line}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
