//! JavaScript clients through `artoken serve` against the emulator (token-free URLs): npm 11,
//! pnpm 12.4.2, yarn 1.22, yarn berry 4 and bun 1.4 installing across a token expiry, `npm
//! publish` of a scoped package through the proxy, and `npm ci` from a lock file whose URLs
//! are the proxy's.

mod common;
mod js;

use std::time::{Duration, Instant};

use common::*;
use js::*;
use testkit::{on_path, run};

#[test]
fn npm_pnpm_yarn_yarn_berry_and_bun_install_through_serve_across_a_token_expiry() {
    // 5-second tokens: the proxy puts one with about 2 s left or more on each request (one
    // request takes milliseconds).
    let env = setup_js(Some(5));
    let serve = Serve::start(&env, "js", "npm");
    let start = Instant::now();
    // Round after round of every client, each from a new project with new caches, until the
    // first token has expired and every client has installed since (no sleeping: the clients'
    // own work spreads the installs over the token's life).
    let mut after_expiry = [false; 5];
    let mut runs = 0;
    while !after_expiry.iter().all(|d| *d) {
        for (i, js) in Js::ALL.into_iter().enumerate() {
            let began_after_expiry = first_token_expired(&env);
            let dir = env.sb.work().join(format!("{js:?}-{runs}"));
            js.project(&dir, Some(&serve.url));
            let what = format!("{js:?} install #{runs} at {:?}", start.elapsed());
            assert_ok(&js.add(&env, &dir), &what);
            assert_installed(&dir, &what);
            after_expiry[i] |= began_after_expiry;
            runs += 1;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "no expiry seen in 10 minutes"
        );
    }
    // No request reached the registry with an expired token (counted before this test's own
    // request with one).
    let stats = env.emu.stats();
    assert_eq!(
        stats.requests.get("npm:refused").copied(),
        None,
        "{stats:?}"
    );
    assert!(stats.requests.get("npm:tarball").copied().unwrap_or(0) >= 2 * runs as u64);
    assert_first_token_refused(&env);
    assert!(env.tokens_issued() >= 2, "{}", env.tokens_issued());
    // The lock files that keep URLs name the proxy (npm ci and yarn install use them as is).
    let npm_lock = std::fs::read_to_string(env.sb.work().join("Npm-0/package-lock.json")).unwrap();
    assert!(
        npm_lock.contains(&format!(
            "\"resolved\": \"{}@artoken/scoped-demo/-/scoped-demo-2.0.0.tgz\"",
            serve.url
        )),
        "{npm_lock}"
    );
    let yarn_lock = std::fs::read_to_string(env.sb.work().join("Yarn-2/yarn.lock")).unwrap();
    assert!(
        yarn_lock.contains(&format!(
            "resolved \"{}artoken-demo/-/artoken-demo-1.0.0.tgz#",
            serve.url
        )),
        "{yarn_lock}"
    );
    assert_no_token(&env, &serve.stderr());
    env.assert_no_token_on_disk(&[]);
    eprintln!(
        "{runs} installs in {:?}, {} tokens",
        start.elapsed(),
        env.tokens_issued()
    );
}

#[test]
fn npm_publishes_a_scoped_package_through_serve_and_npm_ci_installs_from_the_lock_file() {
    let env = setup_js(None);
    let serve = Serve::start(&env, "js", "npm");
    let port = serve
        .url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // The package to publish. npm publish insists on a token for the registry: any placeholder
    // does, the proxy puts the real one in its place.
    let pkg = env.sb.work().join("published");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("package.json"),
        "{\"name\": \"@artoken/published\", \"version\": \"0.1.0\", \"main\": \"index.js\", \"license\": \"MIT\"}\n",
    )
    .unwrap();
    std::fs::write(pkg.join("index.js"), "module.exports = 'published';\n").unwrap();
    std::fs::write(
        pkg.join(".npmrc"),
        format!(
            "registry={}\n//{port}/js/:_authToken=placeholder-not-a-token\n",
            serve.url
        ),
    )
    .unwrap();
    let out = run(env
        .sb
        .command(on_path("npm"))
        .current_dir(&pkg)
        .env("npm_config_cache", pkg.join(".cache"))
        .args(["publish", "--loglevel", "warn"]));
    assert_ok(&out, "npm publish");
    assert_eq!(
        env.emu.stats().requests.get("npm:publish").copied(),
        Some(1)
    );
    // The packument names the proxy for the new version's tarball.
    let (status, _, body) = http("GET", &format!("{}@artoken%2fpublished", serve.url), &[]);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!(
            "{}@artoken/published/-/published-0.1.0.tgz",
            serve.url
        )),
        "{body}"
    );
    // npm install writes a lock file whose `resolved` URLs are the proxy's...
    let first = env.sb.work().join("first");
    Js::Npm.project(&first, Some(&serve.url));
    let out = run(env
        .sb
        .command(on_path("npm"))
        .current_dir(&first)
        .env("npm_config_cache", first.join(".cache"))
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "@artoken/published@0.1.0",
            "artoken-demo",
        ]));
    assert_ok(&out, "npm install");
    let lock = std::fs::read_to_string(first.join("package-lock.json")).unwrap();
    assert!(
        lock.contains(&format!(
            "\"resolved\": \"{}@artoken/published/-/published-0.1.0.tgz\"",
            serve.url
        )),
        "{lock}"
    );
    // ...and npm ci installs exactly that in a new place with an empty cache: every tarball
    // comes from the lock file's URLs, through the proxy.
    let second = env.sb.work().join("second");
    std::fs::create_dir_all(&second).unwrap();
    for f in ["package.json", "package-lock.json", ".npmrc"] {
        std::fs::copy(first.join(f), second.join(f)).unwrap();
    }
    let tarballs = |env: &Env| {
        env.emu
            .stats()
            .requests
            .get("npm:tarball")
            .copied()
            .unwrap_or(0)
    };
    let before = tarballs(&env);
    let out = run(env
        .sb
        .command(on_path("npm"))
        .current_dir(&second)
        .env("npm_config_cache", second.join(".cache"))
        .args(["ci", "--no-audit", "--no-fund"]));
    assert_ok(&out, "npm ci");
    assert_eq!(tarballs(&env) - before, 2);
    let installed =
        std::fs::read_to_string(second.join("node_modules/@artoken/published/index.js")).unwrap();
    assert!(installed.contains("published"));
    assert_no_token(&env, &serve.stderr());
    env.assert_no_token_on_disk(&[]);
}
