//! `artoken glue`, `artoken s3`, `artoken refresh` against moto (S3, Glue) and the emulator.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use testkit::Moto;

/// boto3 (from the test venv, moto's dependency) for setting up and checking what moto holds.
const HELPER: &str = r#"
import json, os, sys, time
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
url = os.environ["MOTO_URL"]
s3 = boto3.client("s3", endpoint_url=url, config=cfg)
glue = boto3.client("glue", endpoint_url=url)
cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "put":
    bucket, key, path = args
    try:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_REGION"]})
    except ClientError:
        pass
    s3.put_object(Bucket=bucket, Key=key, Body=open(path, "rb").read(), ContentType="text/plain")
elif cmd == "get":
    bucket, key = args
    sys.stdout.buffer.write(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
elif cmd == "create-job":
    name, defaults = args
    glue.create_job(Name=name, Role="arn:aws:iam::111122223333:role/glue",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/etl.py"},
                    DefaultArguments=json.loads(defaults))
elif cmd == "get-job-run":
    name, run_id = args
    print(json.dumps(glue.get_job_run(JobName=name, RunId=run_id)["JobRun"].get("Arguments", {})))
elif cmd == "writer":
    # Appends N lines, each with a conditional read-modify-write retried on 412.
    bucket, key, n = args
    conflicts = 0
    for i in range(int(n)):
        while True:
            obj = s3.get_object(Bucket=bucket, Key=key)
            body = obj["Body"].read() + ("writer-%d\n" % i).encode()
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=body, IfMatch=obj["ETag"])
                break
            except ClientError as e:
                if e.response["Error"]["Code"] not in ("PreconditionFailed", "ConditionalRequestConflict"):
                    raise
                conflicts += 1
        time.sleep(0.02)
    print(conflicts)
"#;

struct Aws {
    env: Env,
    moto: Moto,
}

fn setup_aws() -> Aws {
    let mut env = setup();
    let moto = Moto::start();
    env.sb.set_env("AWS_ENDPOINT_URL_S3", moto.url());
    env.sb.set_env("AWS_ENDPOINT_URL_GLUE", moto.url());
    env.sb.set_env("MOTO_URL", moto.url());
    Aws { env, moto }
}

impl Aws {
    fn helper(&self, args: &[&str]) -> Vec<u8> {
        let mut cmd = self.env.sb.command(testkit::tool("python"));
        cmd.arg("-c").arg(HELPER).args(args);
        testkit::run_ok(&mut cmd).stdout
    }

    fn put(&self, bucket: &str, key: &str, body: &str) {
        let path = self.env.sb.root().join("tmp/body");
        std::fs::write(&path, body).unwrap();
        self.helper(&["put", bucket, key, path.to_str().unwrap()]);
    }

    fn get(&self, bucket: &str, key: &str) -> String {
        String::from_utf8(self.helper(&["get", bucket, key])).unwrap()
    }

    /// host:port/path/ of the repository endpoint.
    fn host_path(&self) -> String {
        self.env
            .endpoint()
            .trim_start_matches("http://")
            .to_string()
    }

    /// A requirements file: our repository twice (a token, a placeholder), other indexes.
    fn requirements(&self, eol: &str) -> String {
        let hp = self.host_path();
        let other = hp.replace("/pypi-store/", "/other-store/");
        [
            "# requirements for MWAA (codeartifact.txt)",
            "",
            &format!("--extra-index-url http://aws:stale-token@{hp}simple/"),
            "--index-url https://pypi.org/simple/",
            &format!("--extra-index-url=http://aws:keep-me@{other}simple/"),
            "apache-airflow-providers-amazon==9.0.0  # pinned",
            &format!("-i http://aws:${{AUTH_TOKEN}}@{hp}simple/"),
            // Another scheme is another origin (the endpoint is http here): never rewritten.
            &format!("--extra-index-url https://aws:keep-this@{hp}simple/"),
            "",
        ]
        .join(eol)
    }

    fn token(&self) -> String {
        self.env
            .emu
            .issued_tokens()
            .last()
            .cloned()
            .expect("a token was issued")
    }

    fn no_token_in(&self, out: &std::process::Output) {
        let text = testkit::text(out);
        for t in self.env.emu.issued_tokens() {
            assert!(!text.contains(&t), "a token leaked: {text}");
        }
    }
}

fn with_token(text: &str, token: &str) -> String {
    text.replace("stale-token", token)
        .replace("${AUTH_TOKEN}", token)
}

#[test]
fn s3_refresh_updates_lf_and_crlf_files_and_a_second_run_writes_nothing() {
    let a = setup_aws();
    for (key, eol) in [("dags/lf.txt", "\n"), ("dags/crlf.txt", "\r\n")] {
        let text = a.requirements(eol);
        a.put("mwaa-env", key, &text);
        let url = format!("s3://mwaa-env/{key}");
        let out = testkit::run_ok(a.env.artoken().args(["s3", "refresh", &url]));
        a.no_token_in(&out);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            stdout.starts_with(&format!(
                "{url}: updated 2 index lines (repository demo, token valid until "
            )),
            "{stdout}"
        );
        assert_eq!(
            a.get("mwaa-env", key),
            with_token(&text, &a.token()),
            "{key}"
        );
        let out = testkit::run_ok(a.env.artoken().args(["s3", "refresh", &url]));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            stdout.starts_with(&format!("{url}: up to date, 2 index lines (")),
            "{stdout}"
        );
    }
    assert_eq!(a.env.tokens_issued(), 1);
    // Two PUTs in all (one per file): the second runs wrote nothing.
    let puts = a
        .moto
        .log_text()
        .lines()
        .filter(|l| l.contains("\"PUT /mwaa-env/dags/"))
        .count();
    assert_eq!(
        puts,
        2 + 2,
        "the helper's two uploads and artoken's two writes:\n{}",
        a.moto.log_text()
    );
}

#[test]
fn s3_refresh_dry_run_prints_a_redacted_diff_and_writes_nothing() {
    let a = setup_aws();
    let text = a.requirements("\r\n");
    a.put("mwaa-env", "codeartifact.txt", &text);
    let out = testkit::run_ok(a.env.artoken().args([
        "s3",
        "refresh",
        "s3://mwaa-env/codeartifact.txt",
        "--dry-run",
        "--repo",
        "demo",
    ]));
    a.no_token_in(&out);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let hp = a.host_path();
    assert_eq!(
        stdout.lines().take(8).collect::<Vec<_>>(),
        [
            "--- s3://mwaa-env/codeartifact.txt".to_string(),
            "+++ s3://mwaa-env/codeartifact.txt".to_string(),
            "@@ line 3 @@".to_string(),
            format!("---extra-index-url http://aws:***@{hp}simple/"),
            format!("+--extra-index-url http://aws:***@{hp}simple/"),
            "@@ line 7 @@".to_string(),
            format!("--i http://aws:${{AUTH_TOKEN}}@{hp}simple/"),
            format!("+-i http://aws:***@{hp}simple/"),
        ]
    );
    assert!(
        stdout
            .lines()
            .nth(8)
            .unwrap()
            .starts_with("s3://mwaa-env/codeartifact.txt: would update 2 of 2 index lines"),
        "{stdout}"
    );
    assert_eq!(a.get("mwaa-env", "codeartifact.txt"), text);
}

#[test]
fn glue_start_job_run_prints_the_run_id_and_sends_the_merged_arguments() {
    let a = setup_aws();
    let defaults = serde_json::json!({
        "--python-modules-installer-option": "--upgrade",
        "--additional-python-modules": "artoken-demo==1.0.0",
        "--TempDir": "s3://tmp/glue/",
    });
    a.helper(&["create-job", "nightly-etl", &defaults.to_string()]);

    // --dry-run: the arguments, redacted; nothing started.
    let out = testkit::run_ok(a.env.artoken().args([
        "glue",
        "start-job-run",
        "nightly-etl",
        "--dry-run",
        "--arguments",
        "day=2026-11-23",
        "--mode",
        "extra-index-url",
    ]));
    a.no_token_in(&out);
    let hp = a.host_path();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "--day=2026-11-23\n--python-modules-installer-option=--upgrade --extra-index-url=http://aws:***@{hp}simple/\n"
        )
    );
    assert!(!a.moto.log_text().contains("StartJobRun"));

    let out = testkit::run_ok(a.env.artoken().args([
        "glue",
        "start-job-run",
        "nightly-etl",
        "--arguments",
        "day=2026-11-23",
        "--arguments=--TempDir=s3://tmp/other/",
        "--mode",
        "extra-index-url",
    ]));
    a.no_token_in(&out);
    let run_id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(!run_id.is_empty() && !run_id.contains(' '), "{run_id:?}");
    let args: serde_json::Value =
        serde_json::from_slice(&a.helper(&["get-job-run", "nightly-etl", &run_id])).unwrap();
    // What artoken sent (moto also merges in the job's defaults: not asserted on).
    assert_eq!(
        args["--python-modules-installer-option"],
        format!(
            "--upgrade --extra-index-url=http://aws:{}@{hp}simple/",
            a.token()
        )
    );
    assert_eq!(args["--day"], "2026-11-23");
    assert_eq!(args["--TempDir"], "s3://tmp/other/");

    // --json: the run id and the redacted arguments.
    let out =
        testkit::run_ok(
            a.env
                .artoken()
                .args(["glue", "start-job-run", "nightly-etl", "--json"]),
        );
    a.no_token_in(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["job"], "nightly-etl");
    assert_eq!(v["repository"], "demo");
    assert!(
        v["job_run_id"].as_str().is_some_and(|s| !s.is_empty()),
        "{v}"
    );
    assert_eq!(
        v["arguments"]["--python-modules-installer-option"],
        format!("--upgrade --index-url=http://aws:***@{hp}simple/")
    );
}

#[test]
fn a_missing_bucket_object_or_job_is_one_clear_line() {
    let a = setup_aws();
    let err = |args: &[&str]| {
        let out = a.env.run(args);
        assert_eq!(out.status.code(), Some(1), "{}", testkit::text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        stderr.trim_end().to_string()
    };
    assert_eq!(
        err(&["s3", "refresh", "s3://no-such-bucket/requirements.txt"]),
        "artoken: error: s3://no-such-bucket/requirements.txt: bucket no-such-bucket does not exist"
    );
    a.put("mwaa-env", "requirements.txt", "requests\n");
    assert_eq!(
        err(&["s3", "refresh", "s3://mwaa-env/codeartifact.txt"]),
        "artoken: error: s3://mwaa-env/codeartifact.txt: no such object (bucket mwaa-env has no key codeartifact.txt)"
    );
    assert_eq!(
        err(&["s3", "refresh", "s3://mwaa-env/requirements.txt"]),
        format!(
            "artoken: error: s3://mwaa-env/requirements.txt: no --index-url, --extra-index-url or -i line points at repository demo ({})",
            a.env.endpoint()
        )
    );
    assert_eq!(
        err(&["glue", "start-job-run", "no-such-job"]),
        "artoken: error: Glue job no-such-job not found in region eu-west-1"
    );
    assert_eq!(
        err(&["s3", "refresh", "mwaa-env/requirements.txt"]),
        "artoken: error: `mwaa-env/requirements.txt` is not an S3 object URL (it does not start with s3://; expected s3://BUCKET/KEY)"
    );
    assert_eq!(
        err(&["glue", "start-job-run", "j", "--repo", "js"]),
        "artoken: error: repository js has format npm; pip index URLs need format pypi"
    );
}

/// Runs `artoken s3 refresh` `n` times in a row, each with a brand-new token (`--refresh`).
fn refresher(a: &Aws, n: usize) -> std::thread::JoinHandle<Vec<std::process::Output>> {
    let cmds: Vec<Command> = (0..n)
        .map(|_| {
            let mut c = a.env.artoken();
            c.args([
                "--refresh",
                "s3",
                "refresh",
                "s3://mwaa-env/codeartifact.txt",
            ]);
            c
        })
        .collect();
    std::thread::spawn(move || cmds.into_iter().map(|mut c| testkit::run(&mut c)).collect())
}

#[test]
fn two_refreshers_and_a_writer_lose_no_edit() {
    let a = setup_aws();
    let text = a.requirements("\n");
    a.put("mwaa-env", "codeartifact.txt", &text);
    let mut writer = a.env.sb.command(testkit::tool("python"));
    writer
        .arg("-c")
        .arg(HELPER)
        .args(["writer", "mwaa-env", "codeartifact.txt", "12"]);
    let writer = std::thread::spawn(move || testkit::run(&mut writer));
    let r1 = refresher(&a, 4);
    let r2 = refresher(&a, 4);
    let w = writer.join().unwrap();
    assert!(w.status.success(), "{}", testkit::text(&w));
    let mut retried = 0;
    for out in r1.join().unwrap().into_iter().chain(r2.join().unwrap()) {
        assert!(out.status.success(), "{}", testkit::text(&out));
        a.no_token_in(&out);
        retried +=
            usize::from(String::from_utf8_lossy(&out.stdout).contains("it changed meanwhile"));
    }
    // How often each side lost a race (and retried), for the log.
    eprintln!(
        "writer conflicts: {}; refresher runs that re-read: {retried}",
        String::from_utf8_lossy(&w.stdout).trim()
    );
    let got = a.get("mwaa-env", "codeartifact.txt");
    // Every line the writer added is there, in order, after the original text.
    let mut want_tail = String::new();
    for i in 0..12 {
        want_tail.push_str(&format!("writer-{i}\n"));
    }
    assert!(got.ends_with(&want_tail), "{got}");
    // The original lines are there with one token, one the emulator issued, in both places.
    let head = &got[..got.len() - want_tail.len()];
    let token = a
        .env
        .emu
        .issued_tokens()
        .into_iter()
        .find(|t| head.contains(&format!("aws:{t}@")))
        .expect("an issued token in the file");
    assert_eq!(head, with_token(&text, &token));
    assert!(a.env.tokens_issued() >= 2);
}

#[test]
fn refresh_once_reports_each_target_and_fails_when_one_does() {
    let a = setup_aws();
    let text = a.requirements("\n");
    a.put("mwaa-env", "dags/codeartifact.txt", &text);
    std::fs::write(
        a.env.sb.work().join("requirements.txt"),
        a.requirements("\r\n"),
    )
    .unwrap();
    std::fs::write(
        a.env.sb.work().join("artoken.user.yml"),
        "targets:\n  - s3: s3://mwaa-env/dags/codeartifact.txt\n  - file: requirements.txt\n    repository: demo\n  - s3: s3://gone-bucket/r.txt\n",
    )
    .unwrap();
    let out = a.env.run(&["refresh", "--once"]);
    a.no_token_in(&out);
    assert_eq!(out.status.code(), Some(1), "{}", testkit::text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with(
            "s3://mwaa-env/dags/codeartifact.txt: updated 2 index lines (repository demo"
        ),
        "{stdout}"
    );
    let file = a.env.sb.work().join("requirements.txt");
    assert!(
        lines[1].starts_with(&format!("{}: updated 2 index lines", file.display())),
        "{stdout}"
    );
    assert_eq!(
        lines[2],
        "s3://gone-bucket/r.txt: FAILED: bucket gone-bucket does not exist"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "artoken: error: 1 of 3 targets failed: s3://gone-bucket/r.txt: bucket gone-bucket does not exist\n"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        with_token(&a.requirements("\r\n"), &a.token())
    );
    assert_eq!(
        a.get("mwaa-env", "dags/codeartifact.txt"),
        with_token(&text, &a.token())
    );

    // Without the broken target: success, nothing to do.
    std::fs::write(
        a.env.sb.work().join("artoken.user.yml"),
        "targets:\n  - s3: s3://mwaa-env/dags/codeartifact.txt\n  - file: requirements.txt\n",
    )
    .unwrap();
    let out = a.env.run(&["refresh"]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.contains(": up to date, 2 index lines ("))
            .count(),
        2,
        "{stdout}"
    );

    // A config error names the file and line.
    std::fs::write(
        a.env.sb.work().join("artoken.user.yml"),
        "targets:\n  - s3: s3://mwaa-env\n",
    )
    .unwrap();
    let out = a.env.run(&["refresh"]);
    assert_eq!(
        first_err_line(&out),
        format!(
            "artoken: error: {}:2: targets[0].s3: `s3://mwaa-env` is not an S3 object URL (it names no key; expected s3://BUCKET/KEY)",
            a.env.sb.work().join("artoken.user.yml").display()
        )
    );
}

#[test]
fn refresh_every_runs_until_stopped() {
    let a = setup_aws();
    a.put("mwaa-env", "codeartifact.txt", &a.requirements("\n"));
    std::fs::write(
        a.env.sb.work().join("artoken.user.yml"),
        "targets:\n  - s3: s3://mwaa-env/codeartifact.txt\n",
    )
    .unwrap();
    // An interval no token outlives is refused up front.
    let out = a.env.run(&["refresh", "--every", "12h"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        first_err_line(&out).starts_with("artoken: error: --every 12h: tokens of repository demo live 12h, so the one written would expire before the next refresh"),
        "{}",
        first_err_line(&out)
    );
    let out_path = a.env.sb.root().join("tmp/every.out");
    let err_path = a.env.sb.root().join("tmp/every.err");
    let mut cmd = a.env.artoken();
    cmd.args(["refresh", "--every", "1s"])
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&out_path).unwrap().lines().count() < 3 {
        assert!(
            Instant::now() < deadline,
            "{}",
            std::fs::read_to_string(&out_path).unwrap()
        );
        assert!(child.try_wait().unwrap().is_none(), "it stopped by itself");
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    // Its stderr joins the suite's leak check.
    testkit::record_output(
        &cmd,
        &std::process::Output {
            status,
            stdout: Vec::new(),
            stderr: std::fs::read(&err_path).unwrap(),
        },
    );
    assert!(status.success(), "SIGTERM ends it cleanly: {status}");
    let text = std::fs::read_to_string(&out_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("Z s3://mwaa-env/codeartifact.txt: updated 2 index lines (repository demo, token valid until "), "{text}");
    assert!(
        lines[1].contains("Z s3://mwaa-env/codeartifact.txt: up to date, 2 index lines ("),
        "{text}"
    );
}
