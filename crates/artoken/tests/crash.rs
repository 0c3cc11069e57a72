//! Crash safety: artoken killed with SIGKILL at random points while writing the cache never
//! leaves a torn or world-readable cache file.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use common::*;

const ITERATIONS: u32 = 200;

#[test]
fn sigkill_mid_write_never_tears_the_cache() {
    let env = setup();
    let dir = env.sb.cache_home().join("artoken");
    env.ok(&["token"]);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut killed = 0;
    for _ in 0..ITERATIONS {
        let mut child = env
            .artoken()
            .args(["--refresh", "token"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        std::thread::sleep(Duration::from_micros((seed >> 33) % 80_000));
        if child.try_wait().unwrap().is_none() {
            killed += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let issued = env.emu.issued_tokens();
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let mode = e.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name} has mode {mode:o}");
            if name.ends_with(".token.json") {
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(e.path()).unwrap())
                        .unwrap_or_else(|err| panic!("torn cache file {name}: {err}"));
                let t = v["token"].as_str().unwrap();
                assert!(
                    issued.iter().any(|i| i == t),
                    "the cached token is one the emulator issued"
                );
            }
        }
    }
    assert!(
        killed > ITERATIONS / 4,
        "only {killed} of {ITERATIONS} runs were killed mid-flight"
    );
    // and the cache still serves
    let t = env.ok(&["token"]);
    assert!(env.emu.issued_tokens().contains(&t.trim().to_string()));
    eprintln!(
        "crash test: {ITERATIONS} runs, {killed} killed mid-flight, {} tokens written, no torn file",
        env.tokens_issued()
    );
}
