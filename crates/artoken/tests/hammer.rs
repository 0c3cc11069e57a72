//! Concurrency: 100 processes hammering `token`, `exec` and `login pip` at once while the
//! emulator's tokens rotate every second: no error, about one fetch per rotation, no torn file.

mod common;

use std::process::Stdio;
use std::time::Instant;

use common::*;

const PROCESSES: usize = 100;

#[test]
fn a_hundred_processes_share_one_token_per_rotation() {
    let env = setup();
    let mut f = env.emu.faults();
    // 2 s tokens are replaced with 1 s left: a new token every second.
    f.token_lifetime_secs = Some(2);
    env.emu.set_faults(f);
    let pip_conf = env.sb.work().join("pip.conf");
    let start = Instant::now();
    let children: Vec<_> = (0..PROCESSES)
        .map(|i| {
            // spread over about 4 s so that several rotations happen under load
            if i > 0 && i % 10 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(400));
            }
            let mut cmd = env.artoken();
            match i % 3 {
                0 => cmd.arg("token"),
                1 => cmd.args([
                    "exec",
                    "--",
                    "sh",
                    "-c",
                    "test -n \"$CODEARTIFACT_AUTH_TOKEN\"",
                ]),
                _ => cmd.args(["login", "pip", "--file"]).arg(&pip_conf),
            };
            cmd.stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut failures = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        if !out.status.success() {
            failures.push(String::from_utf8_lossy(&out.stderr).to_string());
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        failures.first()
    );
    let fetched = env.tokens_issued();
    let rotations = elapsed.ceil() as u64 + 1;
    assert!(
        fetched <= rotations + 1,
        "{fetched} tokens fetched in {elapsed:.1} s ({rotations} rotations)"
    );
    // the pip.conf written by ~33 concurrent logins is whole and holds one artoken block
    let text = std::fs::read_to_string(&pip_conf).unwrap();
    assert_eq!(text.matches(">>> artoken:demo").count(), 1, "{text}");
    assert_eq!(text.matches("<<< artoken:demo").count(), 1, "{text}");
    let token_in_file = env
        .emu
        .issued_tokens()
        .iter()
        .any(|t| text.contains(t.as_str()));
    assert!(token_in_file, "{text}");
    assert!(
        fetched >= 3,
        "tokens rotated only {fetched} times in {elapsed:.1} s"
    );
    eprintln!("hammer: {PROCESSES} processes in {elapsed:.1} s, {fetched} token fetches, 0 errors");
}
