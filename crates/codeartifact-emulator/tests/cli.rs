//! The `codeartifact-emulator` binary: its help, its one-line configuration errors, and its
//! start-up banner.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_codeartifact-emulator");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

/// Kills the child when dropped, so a failed assertion leaves no server behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn help_documents_every_flag() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--config <FILE>",
        "--listen <ADDR>",
        "--region <REGION>",
        "--demo",
        "--domain <NAME[:OWNER]>",
        "--repository <DOMAIN/NAME:FORMAT>",
        "--packages-dir <DOMAIN/NAME=DIR>",
        "--access-key <ID:SECRET>",
        "--latency-ms <MS>",
        "--error-rate <RATE>",
        "--throttle-rate <RATE>",
        "--retry-after <SECS>",
        "--token-lifetime <SECS>",
        "--clock-skew <SECS>",
        "--token-endpoint-down",
        "--help",
        "--version",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

fn assert_one_line_error(out: &Output, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for needle in needles {
        assert!(lines[0].contains(needle), "{needle} in {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty(), "{out:?}");
}

#[test]
fn a_bad_config_file_is_one_line_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("emulator.yml");
    let file_arg = file.to_str().unwrap();

    std::fs::write(
        &file,
        "domains:\n  - name: Bad_Name\n    owner: '111122223333'\n",
    )
    .unwrap();
    let out = run(&["--config", file_arg]);
    assert_one_line_error(
        &out,
        &[&format!("error: {file_arg}: domains[0].name: "), "Bad_Name"],
    );

    std::fs::write(
        &file,
        "domains:\n  - name: corp\n    owner: '111122223333'\n    colour: blue\n",
    )
    .unwrap();
    let out = run(&["--config", file_arg]);
    assert_one_line_error(&out, &[file_arg, "colour"]);

    let missing = dir.path().join("missing.yml");
    let out = run(&["--config", missing.to_str().unwrap()]);
    assert_one_line_error(&out, &["missing.yml"]);
}

#[test]
fn bad_flag_values_are_one_line_and_usage_errors_stay_clap_s() {
    let out = run(&["--domain", "Bad_Name"]);
    assert_one_line_error(&out, &["--domain Bad_Name", "not a valid domain name"]);
    let out = run(&["--repository", "corp/store:wheel"]);
    assert_one_line_error(&out, &["--repository corp/store:wheel", "wheel"]);
    let out = run(&["--error-rate", "1.5"]);
    assert_one_line_error(&out, &["--error-rate"]);

    let out = run(&["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["--latency-ms", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn startup_prints_the_listening_url_and_the_endpoints() {
    let child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--region", "eu-west-1"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut child = Running(child);
    let stdout = child.0.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();

    let first = lines.next().expect("a line").unwrap();
    let url = first
        .strip_prefix("codeartifact-emulator listening on ")
        .unwrap_or_else(|| panic!("{first}"));
    let port: u16 = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{url}"));
    assert_ne!(port, 0);

    let mut rest = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("export AWS_SECRET_ACCESS_KEY=");
        rest.push(line);
        if done || Instant::now() > deadline {
            break;
        }
    }
    let rest = rest.join("\n");
    let endpoint =
        format!("{url}/demo-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/pypi-store/");
    assert!(rest.contains(&endpoint), "{rest}");
    assert!(rest.contains("npm/npm-store/"), "{rest}");
    assert!(
        rest.contains(&format!("export AWS_ENDPOINT_URL={url}")),
        "{rest}"
    );
    assert!(rest.contains("export AWS_REGION=eu-west-1"), "{rest}");

    // It accepts connections on that port.
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "connect to {url}"
    );
}

#[cfg(unix)]
#[test]
fn sigterm_stops_it_cleanly() {
    let child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut child = Running(child);
    let stdout = child.0.stdout.take().unwrap();
    let first = BufReader::new(stdout).lines().next().unwrap().unwrap();
    assert!(
        first.starts_with("codeartifact-emulator listening on "),
        "{first}"
    );
    let pid = child.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}
