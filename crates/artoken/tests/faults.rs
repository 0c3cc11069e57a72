//! Faults from the emulator: slow answers, 5xx bursts, throttling, clock skew, bad settings.

mod common;

use std::time::{Duration, Instant};

use codeartifact_emulator::Faults;
use common::*;

fn with_faults(env: &Env, f: impl FnOnce(&mut Faults)) {
    let mut faults = env.emu.faults();
    f(&mut faults);
    env.emu.set_faults(faults);
}

#[test]
fn a_slow_endpoint_times_out_within_the_bound_and_says_so() {
    let env = setup();
    with_faults(&env, |f| f.latency_ms = 5_000);
    let start = Instant::now();
    let out = testkit::run(env.artoken().env("ARTOKEN_TIMEOUT", "1s").arg("token"));
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(l.contains("timed out talking to"), "{l}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[test]
fn a_5xx_burst_is_retried_then_reported() {
    let env = setup();
    with_faults(&env, |f| f.error_rate = 1.0);
    let out = testkit::run(env.artoken().env("AWS_MAX_ATTEMPTS", "3").arg("token"));
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(l.contains("InternalServerException"), "{l}");
    let injected = env
        .emu
        .stats()
        .requests
        .get("fault:5xx")
        .copied()
        .unwrap_or(0);
    assert_eq!(injected, 3, "three attempts");
    // the burst ends: the next call works
    with_faults(&env, |f| f.error_rate = 0.0);
    env.ok(&["token"]);
}

#[test]
fn a_short_5xx_burst_is_absorbed_by_retries() {
    let env = setup();
    with_faults(&env, |f| f.error_rate = 0.5);
    // with 8 attempts and a 50% error rate, a fetch fails only if 8 attempts in a row fail (1 in 256)
    for _ in 0..6 {
        let out = testkit::run(
            env.artoken()
                .env("AWS_MAX_ATTEMPTS", "8")
                .args(["--refresh", "token"]),
        );
        assert!(out.status.success(), "{}", testkit::text(&out));
    }
    assert!(
        env.emu
            .stats()
            .requests
            .get("fault:5xx")
            .copied()
            .unwrap_or(0)
            > 0
    );
}

#[test]
fn throttling_is_retried_then_reported_in_words() {
    let env = setup();
    with_faults(&env, |f| {
        f.throttle_rate = 1.0;
        f.retry_after_secs = 1;
    });
    let out = testkit::run(env.artoken().env("AWS_MAX_ATTEMPTS", "2").arg("token"));
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(l.contains("CodeArtifact is throttling requests"), "{l}");
}

#[test]
fn clock_skew_within_aws_tolerance_works_and_beyond_is_explained() {
    let env = setup();
    with_faults(&env, |f| f.clock_skew_secs = 5 * 60);
    env.ok(&["token"]);
    with_faults(&env, |f| f.clock_skew_secs = -20 * 60);
    let out = testkit::run(
        env.artoken()
            .env("AWS_MAX_ATTEMPTS", "1")
            .args(["--refresh", "token"]),
    );
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(l.contains("clock is off by more than 15 minutes"), "{l}");
}

#[test]
fn a_bad_timeout_setting_names_the_variable() {
    let env = setup();
    let out = testkit::run(env.artoken().env("ARTOKEN_TIMEOUT", "soon").arg("token"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        first_err_line(&out)
            .starts_with("artoken: error: ARTOKEN_TIMEOUT: invalid duration \"soon\""),
        "{}",
        first_err_line(&out)
    );
}
