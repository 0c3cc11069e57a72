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

/// `faults.script` for GetAuthorizationToken: one step per request (E: 500, T: 429, .: served).
fn script_token_requests(env: &Env, pattern: &str) {
    with_faults(env, |f| {
        f.script
            .insert("GetAuthorizationToken".into(), pattern.into());
    });
}

fn requests(env: &Env, route: &str) -> u64 {
    env.emu.stats().requests.get(route).copied().unwrap_or(0)
}

#[test]
fn a_slow_endpoint_times_out_within_the_bound_and_says_so() {
    let env = setup();
    // The answer would take a minute; the 1 s bound must cut it short. The 20 s limit leaves
    // room for a machine four times slower than this one (start-up, SDK load) and still
    // proves that nobody waited for the answer.
    with_faults(&env, |f| f.latency_ms = 60_000);
    let start = Instant::now();
    let out = testkit::run(env.artoken().env("ARTOKEN_TIMEOUT", "1s").arg("token"));
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(l.contains("timed out talking to"), "{l}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn a_5xx_burst_is_retried_then_reported() {
    let env = setup();
    // Four failures ahead, three attempts allowed: all three fail, the fourth is left over.
    script_token_requests(&env, "EEEE");
    let out = testkit::run(
        env.artoken()
            .env("AWS_MAX_ATTEMPTS", "3")
            .env("ARTOKEN_TIMEOUT", "120s")
            .arg("token"),
    );
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(l.contains("InternalServerException"), "{l}");
    assert_eq!(requests(&env, "fault:5xx"), 3, "three attempts");
    assert_eq!(requests(&env, "GetAuthorizationToken"), 3);
    assert_eq!(env.tokens_issued(), 0);
    // One failure is left: the next call absorbs it with a retry and works.
    let out = testkit::run(
        env.artoken()
            .env("AWS_MAX_ATTEMPTS", "3")
            .env("ARTOKEN_TIMEOUT", "120s")
            .arg("token"),
    );
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert_eq!(requests(&env, "fault:5xx"), 4);
    assert_eq!(requests(&env, "GetAuthorizationToken"), 5);
    assert_eq!(env.tokens_issued(), 1);
}

#[test]
fn a_short_5xx_burst_is_absorbed_by_retries() {
    let env = setup();
    // Three failures, then the endpoint answers: with four attempts allowed, the fourth
    // attempt gets the token. The bound is generous: the SDK's backoff (jittered, up to
    // 1 + 2 + 4 s) is not what this test measures.
    script_token_requests(&env, "EEE");
    let out = testkit::run(
        env.artoken()
            .env("AWS_MAX_ATTEMPTS", "4")
            .env("ARTOKEN_TIMEOUT", "120s")
            .args(["--refresh", "token"]),
    );
    assert!(out.status.success(), "{}", testkit::text(&out));
    let token = String::from_utf8(out.stdout).unwrap();
    assert!(env.emu.issued_tokens().contains(&token.trim().to_string()));
    assert_eq!(requests(&env, "fault:5xx"), 3);
    assert_eq!(
        requests(&env, "GetAuthorizationToken"),
        4,
        "one attempt per step"
    );
    assert_eq!(env.tokens_issued(), 1);
}

#[test]
fn throttling_is_retried_after_the_servers_delay() {
    let env = setup();
    // One throttled answer asking for 2 s, then a token: the retry waits at least that long.
    with_faults(&env, |f| f.retry_after_secs = 2);
    script_token_requests(&env, "T");
    let start = Instant::now();
    let out = testkit::run(
        env.artoken()
            .env("AWS_MAX_ATTEMPTS", "3")
            .env("ARTOKEN_TIMEOUT", "120s")
            .arg("token"),
    );
    let took = start.elapsed();
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert_eq!(requests(&env, "fault:throttle"), 1);
    assert_eq!(requests(&env, "GetAuthorizationToken"), 2, "one retry");
    assert_eq!(env.tokens_issued(), 1);
    // A lower bound only: it holds however slow the machine is.
    assert!(
        took >= Duration::from_millis(1_900),
        "retried after {took:?}, before the 2 s the server asked for"
    );
}

#[test]
fn throttling_that_lasts_is_reported_in_words() {
    let env = setup();
    with_faults(&env, |f| f.retry_after_secs = 1);
    script_token_requests(&env, "TT");
    let out = testkit::run(
        env.artoken()
            .env("AWS_MAX_ATTEMPTS", "2")
            .env("ARTOKEN_TIMEOUT", "120s")
            .arg("token"),
    );
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(l.contains("CodeArtifact is throttling requests"), "{l}");
    assert_eq!(
        requests(&env, "fault:throttle"),
        2,
        "both attempts throttled"
    );
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
