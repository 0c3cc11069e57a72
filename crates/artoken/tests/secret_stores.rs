//! `artoken refresh` with Secrets Manager and SSM Parameter Store targets, against moto and the
//! emulator: first write, nothing written while the token lasts, a rewrite when it would not,
//! another writer's keys kept, `--dry-run`, `--every`, and failures as one line per target.

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use codeartifact_emulator::config::AccessKey;
use codeartifact_emulator::{EmulatorConfig, Faults};
use common::*;
use serde_json::Value;
use testkit::Moto;

/// boto3 (moto's dependency, in the test venv) for setting up and reading what moto holds.
const HELPER: &str = r#"
import json, os, sys, urllib.request
import boto3
from botocore.exceptions import ClientError

url = os.environ["MOTO_URL"]
kw = dict(endpoint_url=url, region_name=os.environ["AWS_REGION"])
sm = boto3.client("secretsmanager", **kw)
ssm = boto3.client("ssm", **kw)
# The arguments come by environment (one may be a token: never on a command line).
cmd, *args = os.environ["HELPER_ARGS"].split("\x1f")
if cmd == "create-secret":
    name, value = args
    sm.create_secret(Name=name, SecretString=value)
elif cmd == "put-secret":
    # A new current version, as a plain PutSecretValue makes one in AWS (moto's moves
    # AWSCURRENT from the version a PutSecretValue last made current, which is not where
    # UpdateSecretVersionStage left it): written under a label, then AWSCURRENT moved to it.
    name, value = args
    current = sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["VersionId"]
    new = sm.put_secret_value(SecretId=name, SecretString=value, VersionStages=["OTHER_WRITER"])["VersionId"]
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=new, RemoveFromVersionId=current)
elif cmd == "secret":
    name, = args
    # By stage: moto's default is the version a PutSecretValue last made current, not the
    # one AWSCURRENT is on (AWS's default).
    value = sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]
    versions = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    print(json.dumps({"value": value, "versions": len(versions)}))
elif cmd == "put-param":
    name, kind, value = args
    ssm.put_parameter(Name=name, Type=kind, Value=value, Overwrite=True)
elif cmd == "param":
    name, = args
    try:
        p = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        print(json.dumps({"value": p["Value"], "version": p["Version"], "type": p["Type"]}))
    except ClientError as e:
        print(json.dumps({"error": e.response["Error"]["Code"]}))
elif cmd == "iam":
    # Users `admin` (everything) and `reader` (reads secrets and parameters, writes none);
    # then moto checks every request's signature and policy. Prints both keys.
    iam = boto3.client("iam", **kw)
    keys = {}
    for user, actions in [("admin", "*"), ("reader", [
            "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret",
            "ssm:GetParameter", "ssm:GetParameterHistory"])]:
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        k = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = [k["AccessKeyId"], k["SecretAccessKey"]]
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset-auth", data=b"0",
        method="POST", headers={"Content-Type": "text/plain"}))
    print(json.dumps(keys))
"#;

struct Stores {
    env: Env,
    moto: Moto,
    /// The keys the helper signs with (moto's IAM `admin` once IAM is on).
    helper_keys: (String, String),
}

/// The emulator (tokens capped to `lifetime` seconds) and moto, the sandbox's Secrets Manager
/// and SSM endpoints on moto.
fn setup_stores(lifetime: Option<u64>) -> Stores {
    let moto = Moto::start();
    let env = setup_with(EmulatorConfig {
        faults: Faults {
            token_lifetime_secs: lifetime,
            ..Faults::default()
        },
        ..emulator_config()
    });
    stores(
        env,
        moto,
        (
            testkit::ACCESS_KEY_ID.into(),
            testkit::SECRET_ACCESS_KEY.into(),
        ),
    )
}

fn stores(mut env: Env, moto: Moto, helper_keys: (String, String)) -> Stores {
    env.sb
        .set_env("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto.url());
    env.sb.set_env("AWS_ENDPOINT_URL_SSM", moto.url());
    Stores {
        env,
        moto,
        helper_keys,
    }
}

fn helper_command(moto: &Moto, keys: &(String, String), args: &[&str]) -> Command {
    let mut cmd = Command::new(testkit::tool("python"));
    cmd.arg("-c")
        .arg(HELPER)
        .env_clear()
        .env("HELPER_ARGS", args.join("\x1f"))
        .env("MOTO_URL", moto.url())
        .env("AWS_REGION", testkit::REGION)
        .env("AWS_ACCESS_KEY_ID", &keys.0)
        .env("AWS_SECRET_ACCESS_KEY", &keys.1)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    cmd
}

impl Stores {
    fn helper(&self, args: &[&str]) -> Value {
        let out = testkit::run_ok(&mut helper_command(&self.moto, &self.helper_keys, args));
        let text = String::from_utf8(out.stdout).unwrap();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    fn secret(&self, name: &str) -> (String, u64) {
        let v = self.helper(&["secret", name]);
        (
            v["value"].as_str().unwrap().to_string(),
            v["versions"].as_u64().unwrap(),
        )
    }

    fn param(&self, name: &str) -> Value {
        self.helper(&["param", name])
    }

    fn targets(&self, yaml: &str) {
        std::fs::write(self.env.sb.work().join("artoken.user.yml"), yaml).unwrap();
    }

    /// Runs artoken; no issued token in its stdout or stderr.
    fn run(&self, args: &[&str]) -> Output {
        let out = self.env.run(args);
        let text = testkit::text(&out);
        for t in self.env.emu.issued_tokens() {
            assert!(!text.contains(&t), "a token leaked: {text}");
        }
        out
    }

    fn token(&self) -> String {
        self.env.emu.issued_tokens().last().cloned().unwrap()
    }

    fn url(&self, token: &str) -> String {
        format!(
            "http://aws:{token}@{}simple/",
            self.env.endpoint().trim_start_matches("http://")
        )
    }
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Each line starts with its prefix, in order.
fn assert_lines(out: &Output, prefixes: &[&str]) {
    let lines = stdout_lines(out);
    assert_eq!(lines.len(), prefixes.len(), "{}", testkit::text(out));
    for (line, prefix) in lines.iter().zip(prefixes) {
        assert!(line.starts_with(prefix), "{line:?} !~ {prefix:?}");
    }
}

const TARGETS: &str = "targets:
  - secretsmanager: ci/token
  - secretsmanager: ci/pip
    json_key: token
  - ssm: /ci/codeartifact/token
  - ssm: /ci/codeartifact/index-url
    value: url
";

const PIP_SECRET: &str =
    "{\n  \"username\": \"aws\",\n  \"token\": \"\",\n  \"note\": \"kept\"\n}\n";

#[test]
fn refresh_keeps_secrets_and_parameters_fresh() {
    // Tokens live an hour.
    let s = setup_stores(Some(3600));
    s.helper(&["create-secret", "ci/token", "placeholder"]);
    s.helper(&["create-secret", "ci/pip", PIP_SECRET]);
    s.targets(TARGETS);

    // --dry-run: what would change, nothing written.
    let out = s.run(&["refresh", "--dry-run", "--min-validity", "30m"]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert_lines(
        &out,
        &[
            "secretsmanager:ci/token: would set the token to *** (repository demo, token valid until ",
            "secretsmanager:ci/pip: would set key `token` to *** (repository demo, ",
            "ssm:/ci/codeartifact/token: would set the token to *** (repository demo, ",
            "ssm:/ci/codeartifact/index-url: would set the index URL to *** (repository demo, ",
        ],
    );
    assert_eq!(s.secret("ci/token"), ("placeholder".to_string(), 1));
    assert_eq!(s.secret("ci/pip"), (PIP_SECRET.to_string(), 1));
    assert_eq!(
        s.param("/ci/codeartifact/token")["error"],
        "ParameterNotFound"
    );
    assert_eq!(
        s.param("/ci/codeartifact/index-url")["error"],
        "ParameterNotFound"
    );

    // First write: the secrets get the token, the parameters are created as SecureStrings.
    let out = s.run(&["refresh", "--min-validity", "30m"]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert_lines(
        &out,
        &[
            "secretsmanager:ci/token: updated the token (repository demo, token valid until ",
            "secretsmanager:ci/pip: updated key `token` (repository demo, ",
            "ssm:/ci/codeartifact/token: updated the token (repository demo, ",
            "ssm:/ci/codeartifact/index-url: updated the index URL (repository demo, ",
        ],
    );
    let first = s.token();
    assert_eq!(s.env.tokens_issued(), 1);
    assert_eq!(s.secret("ci/token"), (first.clone(), 2));
    let pip = PIP_SECRET.replace("\"token\": \"\"", &format!("\"token\": \"{first}\""));
    assert_eq!(s.secret("ci/pip"), (pip.clone(), 2));
    let p = s.param("/ci/codeartifact/token");
    assert_eq!(
        (&p["value"], &p["type"], &p["version"]),
        (
            &Value::from(first.clone()),
            &Value::from("SecureString"),
            &Value::from(1)
        )
    );
    let p = s.param("/ci/codeartifact/index-url");
    assert_eq!(p["value"], s.url(&first));
    assert_eq!(p["type"], "SecureString");

    // Someone else adds a key to the JSON secret.
    let theirs = pip.replace(
        "\"note\": \"kept\"",
        "\"note\": \"kept\",\n  \"password\": \"theirs\"",
    );
    s.helper(&["put-secret", "ci/pip", &theirs]);

    // The token lasts another 30 minutes: nothing to write, nothing written.
    let out = s.run(&["refresh", "--min-validity", "30m"]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert_lines(
        &out,
        &[
            "secretsmanager:ci/token: up to date, the token (repository demo, ",
            "secretsmanager:ci/pip: up to date, key `token` (repository demo, ",
            "ssm:/ci/codeartifact/token: up to date, the token (repository demo, ",
            "ssm:/ci/codeartifact/index-url: up to date, the index URL (repository demo, ",
        ],
    );
    assert_eq!(s.env.tokens_issued(), 1);
    assert_eq!(s.secret("ci/token"), (first.clone(), 2));
    assert_eq!(s.secret("ci/pip"), (theirs.clone(), 3));
    assert_eq!(s.param("/ci/codeartifact/token")["version"], 1);
    assert_eq!(s.param("/ci/codeartifact/index-url")["version"], 1);

    // It does not last two hours: one new token for the round, in every target; the other
    // writer's key stays.
    let out = s.run(&["refresh", "--min-validity", "2h"]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert_lines(
        &out,
        &[
            "secretsmanager:ci/token: updated the token (",
            "secretsmanager:ci/pip: updated key `token` (",
            "ssm:/ci/codeartifact/token: updated the token (",
            "ssm:/ci/codeartifact/index-url: updated the index URL (",
        ],
    );
    assert_eq!(s.env.tokens_issued(), 2, "one token fetched for the round");
    let second = s.token();
    assert_ne!(first, second);
    assert_eq!(s.secret("ci/token"), (second.clone(), 3));
    assert_eq!(s.secret("ci/pip"), (theirs.replace(&first, &second), 4));
    let p = s.param("/ci/codeartifact/token");
    assert_eq!(
        (&p["value"], &p["version"]),
        (&Value::from(second.clone()), &Value::from(2))
    );
    assert_eq!(
        s.param("/ci/codeartifact/index-url")["value"],
        s.url(&second)
    );
    // No token anywhere on disk but artoken's cache.
    s.env.assert_no_token_on_disk(&[]);
}

#[test]
fn store_failures_are_one_line_each_and_fail_the_run() {
    // moto checks IAM from here on: artoken signs as `reader`, which may read but not write.
    let moto = Moto::start();
    let bootstrap = (
        testkit::ACCESS_KEY_ID.to_string(),
        testkit::SECRET_ACCESS_KEY.to_string(),
    );
    for args in [
        ["create-secret", "ci/locked", "old"].as_slice(),
        &["create-secret", "ci/plain", "s3cr3t-password"],
        &["put-param", "/ci/locked", "SecureString", "old"],
        &["put-param", "/ci/plain", "String", "not-secret"],
    ] {
        testkit::run_ok(&mut helper_command(&moto, &bootstrap, args));
    }
    let out = testkit::run_ok(&mut helper_command(&moto, &bootstrap, &["iam"]));
    let keys: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = |user: &str| {
        (
            keys[user][0].as_str().unwrap().to_string(),
            keys[user][1].as_str().unwrap().to_string(),
        )
    };
    let (admin, reader) = (key("admin"), key("reader"));
    // The emulator takes the reader's key too (the same credentials sign both).
    let mut config = emulator_config();
    config.access_keys.push(AccessKey {
        id: reader.0.clone(),
        secret: reader.1.clone(),
        account: None,
        user: Some("reader".into()),
        deny: Vec::new(),
    });
    let mut env = setup_with(config);
    env.sb.set_env("AWS_ACCESS_KEY_ID", &reader.0);
    env.sb.set_env("AWS_SECRET_ACCESS_KEY", &reader.1);
    let s = stores(env, moto, admin);
    s.targets(
        "targets:
  - secretsmanager: ci/missing
  - secretsmanager: ci/locked
  - secretsmanager: ci/plain
    json_key: token
  - ssm: /ci/locked
  - ssm: /ci/plain
",
    );
    let out = s.run(&["refresh"]);
    assert_eq!(out.status.code(), Some(1), "{}", testkit::text(&out));
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 5, "{}", testkit::text(&out));
    assert_eq!(
        lines[0],
        "secretsmanager:ci/missing: FAILED: no such secret (artoken writes values, it does not create secrets: aws secretsmanager create-secret --name NAME)"
    );
    assert!(
        lines[1].starts_with("secretsmanager:ci/locked: FAILED: access denied: the caller lacks IAM permission secretsmanager:PutSecretValue (User: arn:aws:iam::")
            && lines[1].ends_with(":user/reader is not authorized to perform: secretsmanager:PutSecretValue)"),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "secretsmanager:ci/plain: FAILED: holds text that is not a JSON object (expected value at line 1 column 1), so it has no key `token` to set (json_key)"
    );
    assert!(
        lines[3].starts_with("ssm:/ci/locked: FAILED: access denied: the caller lacks IAM permission ssm:PutParameter (User: arn:aws:iam::")
            && lines[3].ends_with(":user/reader is not authorized to perform: ssm:PutParameter)"),
        "{}",
        lines[3]
    );
    assert_eq!(
        lines[4],
        "ssm:/ci/plain: FAILED: is a String parameter, and artoken writes a token only to a SecureString (never in plain text): delete it (aws ssm delete-parameter --name /ci/plain) and artoken creates it as a SecureString"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "artoken: error: 5 of 5 targets failed: secretsmanager:ci/missing: no such secret ("
        ) && stderr.contains("; ssm:/ci/plain: is a String parameter"),
        "{stderr}"
    );
    // Nothing changed, and the secret's old value is never quoted.
    assert!(!testkit::text(&out).contains("s3cr3t-password"));
    assert_eq!(s.secret("ci/locked"), ("old".to_string(), 1));
    assert_eq!(s.secret("ci/plain"), ("s3cr3t-password".to_string(), 1));
    assert_eq!(s.param("/ci/locked")["version"], 1);
    assert_eq!(s.param("/ci/plain")["value"], "not-secret");
}

#[test]
fn refresh_every_rewrites_the_stores_before_the_token_expires() {
    // Tokens live 30 s and must stay valid 20 s: one is good for 10 s of rounds a second apart.
    let s = setup_stores(Some(30));
    s.helper(&["create-secret", "ci/token", "placeholder"]);
    // (moto loads its SSM backend on the first SSM request, which takes seconds: not in a round.)
    assert_eq!(s.param("/ci/token")["error"], "ParameterNotFound");
    s.targets("targets:\n  - secretsmanager: ci/token\n  - ssm: /ci/token\n");
    let out_path = s.env.sb.root().join("tmp/every.out");
    let err_path = s.env.sb.root().join("tmp/every.err");
    let mut cmd = s.env.artoken();
    cmd.args(["refresh", "--every", "1s", "--min-validity", "20s"])
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let mut child = cmd.spawn().unwrap();
    let count = |text: &str, what: &str| {
        let what = format!(" secretsmanager:ci/token: {what} the token (");
        text.lines().filter(|l| l.contains(&what)).count()
    };
    let updated = |text: &str| count(text, "updated");
    // Until the secret was found fresh and then written again (a second token), 90 s at most.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let text = std::fs::read_to_string(&out_path).unwrap();
        if updated(&text) >= 2
            && count(&text, "up to date,") >= 1
            && text.lines().count().is_multiple_of(2)
        {
            break;
        }
        assert!(Instant::now() < deadline, "{text}");
        assert!(child.try_wait().unwrap().is_none(), "it stopped: {text}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    testkit::record_output(
        &cmd,
        &Output {
            status,
            stdout: Vec::new(),
            stderr: std::fs::read(&err_path).unwrap(),
        },
    );
    assert!(status.success(), "SIGTERM ends it cleanly: {status}");
    let text = std::fs::read_to_string(&out_path).unwrap();
    for t in s.env.emu.issued_tokens() {
        assert!(!text.contains(&t), "a token leaked: {text}");
    }
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("Z secretsmanager:ci/token: updated the token ("),
        "{text}"
    );
    assert!(
        lines[1].contains("Z ssm:/ci/token: updated the token ("),
        "{text}"
    );
    // The stores hold the last token issued; each write is one version (rounds that found
    // the token fresh wrote nothing). SIGTERM is acted on between rounds only: every round
    // that wrote printed its line.
    let tokens = s.env.emu.issued_tokens();
    assert!(tokens.len() >= 2);
    let last = tokens.last().unwrap();
    let (value, versions) = s.secret("ci/token");
    assert_eq!(&value, last);
    assert_eq!(versions, 1 + updated(&text) as u64);
    assert_eq!(s.param("/ci/token")["value"], last.as_str());
}
