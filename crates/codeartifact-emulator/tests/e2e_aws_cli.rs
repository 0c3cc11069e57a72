//! The real AWS CLI against the emulator's control plane, then pip with the token it got.

use codeartifact_emulator::{BackgroundEmulator, EmulatorConfig};

#[test]
fn the_aws_cli_gets_a_token_and_endpoint_that_pip_can_use() {
    let emu = BackgroundEmulator::start(EmulatorConfig::demo()).unwrap();
    let mut sb = testkit::Sandbox::new();
    sb.use_endpoint(&emu.url());
    let aws = testkit::tool("aws");
    let out = testkit::run_ok(sb.command(&aws).args([
        "codeartifact",
        "get-authorization-token",
        "--domain",
        "demo",
        "--domain-owner",
        "111122223333",
        "--duration-seconds",
        "900",
        "--query",
        "authorizationToken",
        "--output",
        "text",
    ]));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(emu.issued_tokens(), vec![token.clone()]);
    let out = testkit::run_ok(sb.command(&aws).args([
        "codeartifact",
        "get-repository-endpoint",
        "--domain",
        "demo",
        "--domain-owner",
        "111122223333",
        "--repository",
        "pypi-store",
        "--format",
        "pypi",
        "--query",
        "repositoryEndpoint",
        "--output",
        "text",
    ]));
    let endpoint = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(endpoint.contains(&format!(
        "/demo-111122223333.d.codeartifact.{}.amazonaws.com/pypi/pypi-store/",
        testkit::REGION
    )));
    let index = format!(
        "{}simple/",
        endpoint.replacen("http://", &format!("http://aws:{token}@"), 1)
    );
    let target = sb.root().join("site");
    testkit::run_ok(
        sb.command(testkit::tool("pip"))
            .args(["install", "--no-cache-dir", "--target"])
            .arg(&target)
            .arg("artoken-demo")
            // by environment: no token on a command line
            .env("PIP_INDEX_URL", &index),
    );
    assert!(target.join("artoken_demo").exists());
    // an AccessDenied from the CLI's point of view: an unknown domain
    let out = testkit::run(sb.command(&aws).args([
        "codeartifact",
        "get-authorization-token",
        "--domain",
        "nope",
        "--domain-owner",
        "111122223333",
    ]));
    assert!(!out.status.success());
    assert!(
        testkit::text(&out).contains("ResourceNotFoundException"),
        "{}",
        testkit::text(&out)
    );
}
