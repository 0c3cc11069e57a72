//! The JVM paths without a token on disk: the real `mvn` (Debian's, plugins from
//! /usr/share/maven-repo) resolving and deploying through `artoken serve`, given its token-free
//! URL or the `<mirror>` `login maven --serve` writes, each across a token expiry; and the
//! Gradle init script `login gradle --init-script` writes, checked by its text and by running
//! the `artoken token` command it runs (the only Gradle here, Debian's 4.4.1, predates
//! `providers.exec` and the configuration cache, so no Gradle runs the script).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};

use codeartifact_emulator::{EmulatorConfig, Faults, Format};
use common::*;
use testkit::maven::{DEBIAN_REPO, debian_plugin, mvn};
use testkit::{run, text};

const MVN_CONFIG: &str = r#"default: mvn
repositories:
  mvn: { domain: demo, owner: "111122223333", repository: maven-store, format: maven }
"#;

/// The demo artifact the emulator's `maven-store` holds.
const DEMO: (&str, &str, &str) = ("com.example", "artoken-demo", "1.0.0");

/// The emulator with tokens that live `lifetime` seconds, and artoken.yml naming `mvn`.
fn setup_mvn(lifetime: u64) -> Env {
    let env = setup_with(EmulatorConfig {
        faults: Faults {
            token_lifetime_secs: Some(lifetime),
            ..Faults::default()
        },
        ..emulator_config()
    });
    std::fs::write(env.sb.work().join("artoken.yml"), MVN_CONFIG).unwrap();
    env
}

/// The emulator's own URL of `maven-store` (what the proxy forwards to).
fn maven_endpoint(env: &Env) -> String {
    codeartifact_emulator::endpoint_url(
        &env.emu.url(),
        "demo",
        OWNER,
        testkit::REGION,
        Format::Maven,
        "maven-store",
    )
}

/// A user's settings.xml with no credential: `central` (plugins, and what poms name) from
/// Debian's packaged repository (a mirror of `central` by its exact id, which Maven prefers to
/// any `*` mirror), and a profile repository `codeartifact` at `url`, whose checksums must
/// match.
fn user_settings(url: &str) -> String {
    let debian = format!("file://{DEBIAN_REPO}");
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<settings>
  <interactiveMode>false</interactiveMode>
  <mirrors>
    <mirror>
      <id>debian</id>
      <mirrorOf>central</mirrorOf>
      <url>{debian}</url>
    </mirror>
  </mirrors>
  <profiles>
    <profile>
      <id>codeartifact</id>
      <repositories>
        <repository>
          <id>codeartifact</id>
          <url>{url}</url>
          <releases><checksumPolicy>fail</checksumPolicy></releases>
          <snapshots><enabled>false</enabled></snapshots>
        </repository>
      </repositories>
    </profile>
  </profiles>
  <activeProfiles>
    <activeProfile>codeartifact</activeProfile>
  </activeProfiles>
</settings>
"#
    )
}

/// `mvn -B -ntp -s SETTINGS` with a local repository of its own (emptied first, so it
/// downloads again) and no token anywhere in its environment.
fn mvn_cmd(env: &Env, settings: &Path, local: &Path) -> Command {
    if local.exists() {
        std::fs::remove_dir_all(local).unwrap();
    }
    let mut cmd = env.sb.command(mvn());
    cmd.args(["-B", "-ntp"])
        .arg(format!("-Dmaven.repo.local={}", local.display()))
        .env_remove("CODEARTIFACT_AUTH_TOKEN")
        // Quicker JVM start-up on a loaded machine.
        .env("MAVEN_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
    cmd.arg("-s").arg(settings);
    cmd
}

fn local_file(local: &Path, coords: (&str, &str, &str), ext: &str) -> PathBuf {
    let (g, a, v) = coords;
    local
        .join(g.replace('.', "/"))
        .join(a)
        .join(v)
        .join(format!("{a}-{v}.{ext}"))
}

/// `dependency:get` of `coords`: the jar mvn stored (after checking it against the `.sha1`
/// it kept).
fn resolve(
    env: &Env,
    settings: &Path,
    local: &Path,
    coords: (&str, &str, &str),
    what: &str,
) -> Vec<u8> {
    let (g, a, v) = coords;
    let out = run(mvn_cmd(env, settings, local)
        .arg(format!("{}:get", debian_plugin("maven-dependency-plugin")))
        .arg(format!("-Dartifact={g}:{a}:{v}")));
    assert_ok(env, &out, what);
    let jar = local_file(local, coords, "jar");
    assert!(
        jar.with_extension("jar.sha1").is_file(),
        "{what}: mvn kept no checksum"
    );
    let bytes = std::fs::read(&jar).unwrap();
    assert!(bytes.starts_with(b"PK"), "{what}: not a jar");
    bytes
}

fn assert_ok(env: &Env, out: &Output, what: &str) {
    assert!(out.status.success(), "{what} failed:\n{}", text(out));
    for t in env.emu.issued_tokens() {
        assert!(!text(out).contains(&t), "{what} printed a token");
    }
}

/// True once the first token the emulator issued has expired.
fn first_token_expired(env: &Env) -> bool {
    env.emu
        .issued()
        .first()
        .is_some_and(|t| SystemTime::now() > t.expires_at)
}

/// Polls the clock until the first issued token has expired (its life is a few seconds).
fn wait_for_first_expiry(env: &Env) {
    let start = Instant::now();
    while !first_token_expired(env) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the first token never expired"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// GET `url` with Basic `aws:TOKEN`: the status and the body.
fn get_with_token(url: &str, token: &str) -> (u16, Vec<u8>) {
    let auth = base64(format!("aws:{token}").as_bytes());
    http_get_with(url, &[format!("Authorization: Basic {auth}")])
}

/// A file of `coords` on the emulator itself.
fn upstream_file(env: &Env, coords: (&str, &str, &str), ext: &str) -> String {
    let (g, a, v) = coords;
    format!(
        "{}{}/{a}/{v}/{a}-{v}.{ext}",
        maven_endpoint(env),
        g.replace('.', "/")
    )
}

/// The jar of `coords` as the emulator serves it (with a token of the test's own, asked for
/// once the test has counted the tokens artoken got).
fn upstream_jar(env: &Env, coords: (&str, &str, &str)) -> Vec<u8> {
    let token = env.emu.issue_token("demo", OWNER, 600);
    let (status, body) = get_with_token(&upstream_file(env, coords, "jar"), &token);
    assert_eq!(status, 200);
    body
}

fn demo_pom(env: &Env) -> String {
    upstream_file(env, DEMO, "pom")
}

/// The first token the emulator issued is refused now: what ran after it used a fresh one.
fn assert_first_token_refused(env: &Env) {
    let first = env.emu.issued()[0].token.clone();
    assert_eq!(get_with_token(&demo_pom(env), &first).0, 401);
}

#[test]
fn mvn_resolves_and_deploys_through_serve_with_a_token_free_url_across_a_token_expiry() {
    let env = setup_mvn(12);
    let serve = Serve::start(&env, "mvn", "maven");
    let settings = env.sb.root().join("settings.xml");
    std::fs::write(&settings, user_settings(&serve.url)).unwrap();
    let local = env.sb.root().join("m2-repository");

    // The demo jar through the proxy, without credentials (the proxy's first token), ...
    let (status, demo) = http_get_with(
        &format!(
            "{}com/example/artoken-demo/1.0.0/artoken-demo-1.0.0.jar",
            serve.url
        ),
        &[],
    );
    assert_eq!(status, 200);
    assert!(demo.starts_with(b"PK"));

    // ... deployed again as org.acme:deployed:3.1.0 by mvn through the proxy (a GET of the
    // metadata, PUTs of the jar, the pom, their checksums and the metadata), on that token.
    let file = env.sb.work().join("deployed.jar");
    std::fs::write(&file, &demo).unwrap();
    assert!(
        !first_token_expired(&env),
        "the first token expired too soon"
    );
    let out = run(mvn_cmd(&env, &settings, &local)
        .arg(format!(
            "{}:deploy-file",
            debian_plugin("maven-deploy-plugin")
        ))
        .arg(format!("-Dfile={}", file.display()))
        .args([
            "-DgroupId=org.acme",
            "-DartifactId=deployed",
            "-Dversion=3.1.0",
            "-Dpackaging=jar",
            "-DrepositoryId=codeartifact",
        ])
        .arg(format!("-Durl={}", serve.url)));
    assert_ok(&env, &out, "mvn deploy-file through serve");
    let puts = env.emu.stats().requests.get("maven:put").copied();
    assert_eq!(puts, Some(2), "jar and pom stored");
    let stats = env.emu.stats();
    assert_eq!(stats.requests.get("maven:put-metadata").copied(), Some(1));
    assert!(
        stats
            .requests
            .get("maven:put-checksum")
            .copied()
            .unwrap_or(0)
            >= 4
    );

    // After the first token expired, another machine (an empty local repository) resolves what
    // was deployed, through the same token-free URL.
    wait_for_first_expiry(&env);
    let deployed = resolve(
        &env,
        &settings,
        &local,
        ("org.acme", "deployed", "3.1.0"),
        "mvn through serve after the first token expired",
    );
    assert_eq!(deployed, demo);
    assert_first_token_refused(&env);
    assert!(env.emu.issued().len() >= 2, "{:?}", env.emu.issued().len());
    env.assert_no_token_on_disk(&[]);
    assert_eq!(upstream_jar(&env, DEMO), demo);
    let log = serve.stderr();
    assert!(log.contains("PUT"), "no PUT in the access log:\n{log}");
}

#[test]
fn login_maven_serve_writes_a_token_free_mirror_that_mvn_resolves_through_across_a_token_expiry() {
    let env = setup_mvn(12);
    // The user's own settings, whose repository points at CodeArtifact's URL (never reached:
    // artoken's mirror takes every repository but Debian's `central`).
    let settings = env.sb.home().join(".m2/settings.xml");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    let mine = user_settings("https://demo-111122223333.d.codeartifact.invalid/maven/maven-store/");
    std::fs::write(&settings, &mine).unwrap();

    // Before serve runs: the default address, and no token asked for.
    env.ok(&["login", "maven", "--serve", "http://127.0.0.1:7353"]);
    let written = std::fs::read_to_string(&settings).unwrap();
    assert!(
        written.contains("<url>http://127.0.0.1:7353/mvn/</url>")
            && written.contains("<mirrorOf>*</mirrorOf>"),
        "{written}"
    );
    assert!(!written.contains("<password>"), "{written}");
    assert_eq!(env.tokens_issued(), 0, "login --serve needs no token");

    // Then serve's own address (its first line): only the mirror's <url> changes.
    let serve = Serve::start(&env, "mvn", "maven");
    env.ok(&["login", "maven", "--serve", &serve.base]);
    let moved = std::fs::read_to_string(&settings).unwrap();
    assert_eq!(
        moved.replace(&serve.url, "http://127.0.0.1:7353/mvn/"),
        written
    );

    // (Java takes the home directory from the password database, not $HOME: mvn is given
    // the sandbox's ~/.m2/settings.xml with -s.)
    let local = env.sb.root().join("m2-repository");
    let before = resolve(
        &env,
        &settings,
        &local,
        DEMO,
        "mvn through login --serve's mirror",
    );
    wait_for_first_expiry(&env);
    let after = resolve(
        &env,
        &settings,
        &local,
        DEMO,
        "mvn through the mirror after the first token expired",
    );
    assert_first_token_refused(&env);
    assert!(env.emu.issued().len() >= 2);
    env.assert_no_token_on_disk(&[]);
    assert_eq!(before, after);
    assert_eq!(upstream_jar(&env, DEMO), after);
    let log = serve.stderr();
    assert!(
        log.contains("/mvn/com/example/artoken-demo/1.0.0/artoken-demo-1.0.0.jar"),
        "{log}"
    );

    // logout gives the user's file back byte for byte.
    env.ok(&["logout", "maven"]);
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), mine);
}

#[test]
fn login_gradle_init_script_runs_artoken_token_which_the_repository_accepts_across_a_token_expiry()
{
    let env = setup_mvn(4);
    env.ok(&["login", "gradle", "--init-script"]);
    assert_eq!(env.tokens_issued(), 0, "writing the script needs no token");
    let script_path = env.sb.home().join(".gradle/init.d/artoken-mvn.gradle");
    let script = std::fs::read_to_string(&script_path).unwrap();
    assert!(!env.sb.home().join(".gradle/gradle.properties").exists());
    let endpoint = maven_endpoint(&env);
    assert!(
        script.contains(&format!(
            "def artokenEndpoint = '{}'\n",
            endpoint.trim_end_matches('/')
        )),
        "{script}"
    );
    assert!(
        script.contains("providers.exec { commandLine(artokenCommand) }.standardOutput.asText"),
        "{script}"
    );
    let command = artoken_tools::writers::gradle_init::command_of(&script).expect("the command");
    assert_eq!(
        &command[command.len() - 2..],
        ["token", "mvn"],
        "{command:?}"
    );
    assert!(Path::new(&command[0]).is_absolute());

    // What Gradle would run, the way it runs it (argv, no shell), from another directory:
    // the token it prints is one the repository accepts, and a fresh one after it expired.
    let elsewhere = env.sb.root().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let ask = || {
        let out = testkit::run_ok(
            env.sb
                .command(&command[0])
                .args(&command[1..])
                .current_dir(&elsewhere),
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let first = ask();
    assert_eq!(get_with_token(&demo_pom(&env), &first).0, 200);
    wait_for_first_expiry(&env);
    assert_eq!(get_with_token(&demo_pom(&env), &first).0, 401);
    let second = ask();
    assert_ne!(second, first);
    assert_eq!(get_with_token(&demo_pom(&env), &second).0, 200);
    // The token is never in the script (nor anywhere else on disk but artoken's cache).
    env.assert_no_token_on_disk(&[]);

    // A second login writes the same file; logout removes it.
    env.ok(&["login", "gradle", "--init-script"]);
    assert_eq!(std::fs::read_to_string(&script_path).unwrap(), script);
    env.ok(&["logout", "gradle", "mvn", "--init-script"]);
    assert!(!script_path.exists());
}

#[test]
fn serve_and_init_script_flags_belong_to_their_tools() {
    let env = setup_all_formats();
    for (args, want) in [
        (
            &["login", "npm", "js", "--serve", "http://127.0.0.1:7353"][..],
            "--serve: only maven",
        ),
        (
            &["login", "maven", "mvn", "--init-script"][..],
            "--init-script: only gradle",
        ),
        (
            &[
                "login",
                "maven",
                "mvn",
                "--serve",
                "http://aws:secret@127.0.0.1:7353",
            ][..],
            "user or password",
        ),
    ] {
        let out = env.run(args);
        assert!(!out.status.success(), "{args:?}");
        let err = first_err_line(&out);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("secret@"), "{err}");
    }
    assert_eq!(env.tokens_issued(), 0);
}
