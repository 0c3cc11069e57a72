//! Concurrency: 100 processes hammering `token`, `exec` and `login pip` at once while the
//! emulator's tokens rotate every two seconds: no error, one fetch per rotation, no torn file.

mod common;

use std::process::Stdio;
use std::time::Instant;

use common::*;

const PROCESSES: usize = 100;

#[test]
fn a_hundred_processes_share_one_token_per_rotation() {
    let env = setup();
    let mut f = env.emu.faults();
    // 4 s tokens are replaced with half their life left: a new token every 2 s.
    f.token_lifetime_secs = Some(4);
    env.emu.set_faults(f);
    let pip_conf = env.sb.work().join("pip.conf");
    let start = Instant::now();
    let children: Vec<_> = (0..PROCESSES)
        .map(|i| {
            // spread over about 5.4 s so that at least two rotations happen, however loaded
            if i > 0 && i % 10 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(600));
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
            cmd.stdout(Stdio::null()).stderr(Stdio::piped());
            let child = cmd.spawn().unwrap();
            (cmd, child)
        })
        .collect();
    let mut failures = Vec::new();
    for (cmd, c) in children {
        let out = c.wait_with_output().unwrap();
        testkit::record_output(&cmd, &out);
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
    // One fetch per rotation, whatever the load: a token is replaced only once it has less than
    // half its life (2 s) left, so no two fetches come closer than that, less the second the
    // cache may round an expiration down by.
    let issued = env.emu.issued();
    let fetched = issued.len() as u64;
    for pair in issued.windows(2) {
        let gap = pair[1]
            .issued_at
            .duration_since(pair[0].issued_at)
            .unwrap_or_default();
        assert!(
            gap >= std::time::Duration::from_millis(950),
            "two fetches {gap:?} apart: more than one per rotation ({fetched} in {elapsed:.1} s)"
        );
    }
    assert!(
        fetched >= 2,
        "tokens rotated only {fetched} times in {elapsed:.1} s"
    );
    // The pip.conf written by ~33 concurrent logins is exactly what one login writes: the same
    // bytes as a login into an empty file now, but for the token (one the emulator issued).
    let text = std::fs::read_to_string(&pip_conf).unwrap();
    let in_file = env
        .emu
        .issued_tokens()
        .into_iter()
        .find(|t| text.contains(t.as_str()))
        .unwrap_or_else(|| panic!("no issued token in pip.conf:\n{text}"));
    let fresh = env.sb.work().join("fresh-pip.conf");
    env.ok(&["login", "pip", "--file", fresh.to_str().unwrap()]);
    let fresh_text = std::fs::read_to_string(&fresh).unwrap();
    let now = env
        .emu
        .issued_tokens()
        .into_iter()
        .find(|t| fresh_text.contains(t.as_str()))
        .unwrap();
    assert_eq!(
        text.replace(&in_file, "TOKEN"),
        fresh_text.replace(&now, "TOKEN"),
        "pip.conf after the hammer is one whole login"
    );
    eprintln!("hammer: {PROCESSES} processes in {elapsed:.1} s, {fetched} token fetches, 0 errors");
}
