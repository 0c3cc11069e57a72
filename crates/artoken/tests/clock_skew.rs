//! Tokens judged on AWS's clock: with the emulator's clock off (`faults.clock_skew_secs`),
//! artoken reads the skew from the `Date` of the token answer and refreshes, and counts the
//! time left, by the emulator's clock.

mod common;

use std::time::{Duration, Instant};

use common::*;

fn set_clock(env: &Env, skew: i64, token_life: u64) {
    let mut f = env.emu.faults();
    f.clock_skew_secs = skew;
    f.token_lifetime_secs = Some(token_life);
    env.emu.set_faults(f);
}

/// The data plane's status for a request carrying `token`.
fn status_with(env: &Env, token: &str) -> u16 {
    let url = format!("{}simple/", env.endpoint());
    http_get_with(&url, &[format!("Authorization: Bearer {token}")]).0
}

fn token_json(env: &Env, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&env.ok(args)).unwrap()
}

#[test]
fn seconds_left_are_counted_on_aws_clock() {
    let env = setup();
    for skew in [600, -600] {
        // 15 min tokens from a clock 10 min ahead of (then behind) this machine's.
        set_clock(&env, skew, 900);
        let t = token_json(&env, &["--refresh", "token", "--json"]);
        let left = t["expires_in_seconds"].as_i64().unwrap();
        assert!(
            (880..=900).contains(&left),
            "emulator {skew:+}s: {left}s left, the emulator says 900"
        );
        let status = token_json(&env, &["status", "--json"]);
        let demo = &status["repositories"][0]["token"];
        let left = demo["expires_in_seconds"].as_i64().unwrap();
        assert!(
            (880..=900).contains(&left),
            "status, emulator {skew:+}s: {left}s"
        );
        assert_eq!(demo["fresh"], true);
    }
}

#[test]
fn a_clock_behind_aws_refreshes_on_time_by_aws_clock() {
    let env = setup();
    // The emulator runs 10 min ahead and its tokens live 6 s. By this machine's clock a token
    // would look good for 10 min more; by the emulator's it is gone in 6 s, and due for
    // replacement (half its life) after 3.
    set_clock(&env, 600, 6);
    let first = env.ok(&["token"]).trim().to_string();
    let start = Instant::now();
    let mut seen = vec![first.clone()];
    // Every token artoken hands out must work when it is handed out, until it has replaced
    // the first one; far longer than the first one lives is a failure.
    while seen.len() < 2 {
        let t = env.ok(&["token"]).trim().to_string();
        assert_eq!(
            status_with(&env, &t),
            200,
            "artoken handed out a token the emulator no longer accepts after {:?}",
            start.elapsed()
        );
        if !seen.contains(&t) {
            seen.push(t);
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the first token was never replaced"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(env.tokens_issued(), 2);
    // The first token is past its time now or soon; artoken never hands it out again.
    for _ in 0..3 {
        assert_ne!(env.ok(&["token"]).trim(), first);
    }
}
