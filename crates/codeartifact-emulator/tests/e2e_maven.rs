//! The real `mvn` (Debian's, plugins from /usr/share/maven-repo, no Maven Central) against the emulator's Maven data plane, in sandboxes.

#[allow(dead_code)]
#[path = "../src/synth.rs"]
mod synth;

use std::process::Output;

use codeartifact_emulator::{BackgroundEmulator, EmulatorConfig, Format};
use testkit::maven::Maven;
use testkit::{Sandbox, run_ok, text};

const DOMAIN: &str = "demo";
const OWNER: &str = "111122223333";

fn start() -> (BackgroundEmulator, String, String) {
    let emu = BackgroundEmulator::start(EmulatorConfig::demo()).expect("emulator starts");
    let token = emu.issue_token(DOMAIN, OWNER, 3600);
    let url = emu.endpoint(DOMAIN, OWNER, Format::Maven, "maven-store");
    (emu, token, url)
}

fn count(emu: &BackgroundEmulator, route: &str) -> u64 {
    emu.stats().requests.get(route).copied().unwrap_or(0)
}

fn assert_ok(out: &Output, what: &str, token: &str) {
    assert!(out.status.success(), "{what} failed:\n{}", text(out));
    assert!(!text(out).contains(token), "{what} printed the token");
}

fn assert_refused(out: &Output, what: &str, token: &str) {
    let all = text(out);
    assert!(!out.status.success(), "{what} should have failed:\n{all}");
    assert!(all.contains("401"), "{what}: no 401 in:\n{all}");
    assert!(!all.contains(token), "{what} printed the token");
}

/// Runs `main` of the demo jar with the machine's java: the jar mvn fetched is a real one.
fn java_says(sb: &Sandbox, jar: &std::path::Path) -> String {
    let out = run_ok(
        sb.command(testkit::on_path("java"))
            .arg("-cp")
            .arg(jar)
            .arg(synth::maven_main_class("com.example", "artoken-demo")),
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn mvn_resolves_the_demo_artifact_with_a_token_and_not_without() {
    let (emu, token, url) = start();
    let sb = Sandbox::new();
    let mvn = Maven::new(&sb, &url);
    let coords = "com.example:artoken-demo:1.0.0";

    let out = mvn.get(&sb, Some(&token), coords);
    assert_ok(&out, "mvn dependency:get", &token);
    let jar = mvn.local_file("com.example", "artoken-demo", "1.0.0", "jar");
    let want = synth::maven_artifact("com.example:artoken-demo", "1.0.0").unwrap();
    assert_eq!(std::fs::read(&jar).unwrap(), want.jar);
    assert_eq!(
        std::fs::read(mvn.local_file("com.example", "artoken-demo", "1.0.0", "pom")).unwrap(),
        want.pom
    );
    assert_eq!(
        java_says(&sb, &jar),
        synth::maven_hello("com.example", "artoken-demo", "1.0.0")
    );
    // mvn checked the checksums (it keeps the .sha1 it validated against), and got the files
    // only after the challenge (its wagon does not send credentials before a 401).
    let sha1 = jar.with_extension("jar.sha1");
    assert!(sha1.is_file(), "{} missing", sha1.display());
    assert!(count(&emu, "maven:get") >= 2);
    assert!(count(&emu, "maven:checksum") >= 2);
    assert!(count(&emu, "maven:refused") >= 1);

    // No token (the settings' ${env.CODEARTIFACT_AUTH_TOKEN} stays unresolved): refused.
    mvn.clear_local_repo();
    let out = mvn.get(&sb, None, coords);
    assert_refused(&out, "mvn without a token", &token);
    assert!(!jar.exists());

    // An expired token: refused.
    emu.expire_all_tokens();
    let out = mvn.get(&sb, Some(&token), coords);
    assert_refused(&out, "mvn with an expired token", &token);
    assert!(!jar.exists());
    assert!(
        emu.issued_tokens().len() == 1,
        "nothing else asked for a token"
    );
}

#[test]
fn mvn_deploys_a_file_that_mvn_then_resolves() {
    let (emu, token, url) = start();
    let sb = Sandbox::new();
    let mvn = Maven::new(&sb, &url);
    let built = synth::maven_artifact("org.acme:deployed", "3.1.0").unwrap();
    let file = sb.work().join("deployed.jar");
    std::fs::write(&file, &built.jar).unwrap();
    let coords = ("org.acme", "deployed", "3.1.0");

    // Without a token the deploy is refused and nothing is stored.
    let out = mvn.deploy_file(&sb, None, &file, coords, &url);
    assert_refused(&out, "mvn deploy-file without a token", &token);
    assert_eq!(count(&emu, "maven:put"), 0);

    let out = mvn.deploy_file(&sb, Some(&token), &file, coords, &url);
    assert_ok(&out, "mvn deploy-file", &token);
    // jar and generated pom, a checksum of each (mvn sends md5 and sha1), then the metadata
    assert_eq!(count(&emu, "maven:put"), 2);
    assert!(count(&emu, "maven:put-checksum") >= 4);
    assert_eq!(count(&emu, "maven:put-metadata"), 1);

    // Another machine (an empty local repository) resolves what was deployed.
    mvn.clear_local_repo();
    let out = mvn.get(&sb, Some(&token), "org.acme:deployed:3.1.0");
    assert_ok(&out, "mvn dependency:get of the deployed jar", &token);
    let jar = mvn.local_file("org.acme", "deployed", "3.1.0", "jar");
    assert_eq!(std::fs::read(&jar).unwrap(), built.jar);
    let pom =
        std::fs::read_to_string(mvn.local_file("org.acme", "deployed", "3.1.0", "pom")).unwrap();
    assert!(pom.contains("<artifactId>deployed</artifactId>"), "{pom}");

    // Deploying the same release again with other bytes is refused (409), as CodeArtifact does.
    std::fs::write(&file, b"other bytes").unwrap();
    let out = mvn.deploy_file(&sb, Some(&token), &file, coords, &url);
    assert!(
        !out.status.success(),
        "a second deploy succeeded:\n{}",
        text(&out)
    );
    assert!(text(&out).contains("409"), "{}", text(&out));
}
