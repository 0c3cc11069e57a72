//! The Lambda binary through the real lambda_runtime loop, against a small Runtime API served
//! here (the `2018-06-01` routes: next, response, error), with moto for S3 and Glue and the
//! emulator for CodeArtifact. One process handles every event, as a warm Lambda would.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use codeartifact_emulator::{BackgroundEmulator, EmulatorConfig};
use serde_json::{Value, json};
use testkit::{Moto, Sandbox};
use tokio::sync::{Mutex, mpsc};

/// What the function answered for one request id.
#[derive(Debug)]
enum Answer {
    Response(Value),
    Error { error_type: String, message: String },
}

struct Api {
    events: Mutex<mpsc::UnboundedReceiver<(String, Vec<u8>)>>,
    answers: mpsc::UnboundedSender<(String, Answer)>,
    /// How many times the function asked for an event.
    polls: AtomicUsize,
}

async fn next(State(api): State<Arc<Api>>) -> impl IntoResponse {
    api.polls.fetch_add(1, Ordering::SeqCst);
    let Some((id, body)) = api.events.lock().await.recv().await else {
        return (StatusCode::GONE, HeaderMap::new(), Vec::new());
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 60_000;
    let mut h = HeaderMap::new();
    h.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_str(&id).unwrap(),
    );
    h.insert(
        "lambda-runtime-deadline-ms",
        HeaderValue::from_str(&deadline.to_string()).unwrap(),
    );
    h.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:eu-west-1:111122223333:function:artoken"),
    );
    h.insert(
        "lambda-runtime-trace-id",
        HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
    );
    (StatusCode::OK, h, body)
}

async fn response(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> StatusCode {
    let v = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into()));
    let _ = api.answers.send((id, Answer::Response(v)));
    StatusCode::ACCEPTED
}

async fn error(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> StatusCode {
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let _ = api.answers.send((
        id,
        Answer::Error {
            error_type: v["errorType"].as_str().unwrap_or_default().to_string(),
            message: v["errorMessage"].as_str().unwrap_or_default().to_string(),
        },
    ));
    StatusCode::ACCEPTED
}

struct Function {
    child: Child,
    cmd: Command,
    /// Its stderr (the log).
    log: PathBuf,
    api: Arc<Api>,
    events: mpsc::UnboundedSender<(String, Vec<u8>)>,
    answers: mpsc::UnboundedReceiver<(String, Answer)>,
    n: usize,
}

impl Function {
    /// Invokes the function with `payload` (raw bytes) and waits for its answer.
    async fn invoke_raw(&mut self, payload: Vec<u8>) -> Answer {
        self.n += 1;
        let id = format!("req-{}", self.n);
        self.events.send((id.clone(), payload)).unwrap();
        let (got, answer) = tokio::time::timeout(Duration::from_secs(60), self.answers.recv())
            .await
            .expect("an answer within 60 s")
            .expect("the API is up");
        assert_eq!(got, id);
        answer
    }

    async fn invoke(&mut self, payload: Value) -> Answer {
        self.invoke_raw(payload.to_string().into_bytes()).await
    }
}

impl Function {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        // Its log joins the suite-wide leak check (scripts/leak-check).
        testkit::kill_and_record(&mut self.child, &self.cmd, &self.log);
    }
}

const OWNER: &str = "111122223333";

async fn clients(moto: &str) -> (aws_sdk_s3::Client, aws_sdk_glue::Client) {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto)
        .region(aws_config::Region::new(testkit::REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            testkit::ACCESS_KEY_ID,
            testkit::SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .load()
        .await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    (s3, aws_sdk_glue::Client::new(&conf))
}

/// The function in `sb`, logging at `ARTOKEN_LOG=log` when given.
async fn start_function(sb: &Sandbox, log: Option<&str>) -> Function {
    let mut cmd = sb.command(env!("CARGO_BIN_EXE_artoken-lambda"));
    if let Some(level) = log {
        cmd.env("ARTOKEN_LOG", level);
    }
    start_command(cmd, sb.root().join("tmp/lambda.log")).await
}

/// `cmd` (the function's binary) against a Runtime API served here, its stderr to `log`.
async fn start_command(mut cmd: Command, log: PathBuf) -> Function {
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let (an_tx, an_rx) = mpsc::unbounded_channel();
    let api = Arc::new(Api {
        events: Mutex::new(ev_rx),
        answers: an_tx,
        polls: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .with_state(Arc::clone(&api));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    cmd.env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "artoken")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let child = testkit::procfs::spawn(&mut cmd);
    Function {
        child,
        cmd,
        log,
        api,
        events: ev_tx,
        answers: an_rx,
        n: 0,
    }
}

/// Moto (S3, Glue) and the emulator (CodeArtifact), a sandbox configured for both, a bucket
/// with two requirements files and a Glue job.
struct World {
    moto: Moto,
    emu: BackgroundEmulator,
    sb: Sandbox,
    endpoint: String,
    /// The endpoint's `host:port/path/`.
    hp: String,
    /// Both requirements files before any refresh.
    requirements: String,
}

impl World {
    fn new() -> World {
        let moto = Moto::start();
        let emu = BackgroundEmulator::start(EmulatorConfig::demo()).expect("emulator");
        let mut sb = Sandbox::new();
        let cache = sb.root().join("cache/artoken");
        sb.set_env("AWS_ENDPOINT_URL_CODEARTIFACT", emu.url())
            .set_env("AWS_ENDPOINT_URL_S3", moto.url())
            .set_env("AWS_ENDPOINT_URL_GLUE", moto.url())
            .set_env("ARTOKEN_DOMAIN", "demo")
            .set_env("ARTOKEN_DOMAIN_OWNER", OWNER)
            .set_env("ARTOKEN_REPOSITORY", "pypi-store")
            .set_env("ARTOKEN_TARGETS", "s3://mwaa-env/dags/codeartifact.txt")
            .set_env("ARTOKEN_CACHE_DIR", cache);
        let endpoint = codeartifact_emulator::endpoint_url(
            &emu.url(),
            "demo",
            OWNER,
            testkit::REGION,
            codeartifact_emulator::Format::Pypi,
            "pypi-store",
        );
        let hp = endpoint.trim_start_matches("http://").to_string();
        let requirements = format!(
            "# MWAA\r\n--extra-index-url http://aws:${{AUTH_TOKEN}}@{hp}simple/\r\nrequests==2.32.0\r\n"
        );
        World {
            moto,
            emu,
            sb,
            endpoint,
            hp,
            requirements,
        }
    }

    /// The bucket, its two files and the Glue job; the clients.
    async fn seed(&self) -> (aws_sdk_s3::Client, aws_sdk_glue::Client) {
        let (s3, glue) = clients(&self.moto.url()).await;
        s3.create_bucket()
            .bucket("mwaa-env")
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                        testkit::REGION,
                    ))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        for key in ["dags/codeartifact.txt", "other/requirements.txt"] {
            s3.put_object()
                .bucket("mwaa-env")
                .key(key)
                .body(self.requirements.clone().into_bytes().into())
                .send()
                .await
                .unwrap();
        }
        glue.create_job()
            .name("etl")
            .role("arn:aws:iam::111122223333:role/glue")
            .command(
                aws_sdk_glue::types::JobCommand::builder()
                    .name("glueetl")
                    .script_location("s3://s/etl.py")
                    .build(),
            )
            .set_default_arguments(Some(HashMap::from([
                (
                    "--python-modules-installer-option".to_string(),
                    "--upgrade".to_string(),
                ),
                (
                    "--additional-python-modules".to_string(),
                    "artoken-demo==1.0.0".to_string(),
                ),
            ])))
            .send()
            .await
            .unwrap();
        (s3, glue)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn every_event_shape_through_the_runtime_loop() {
    let w = World::new();
    let World {
        emu,
        sb,
        endpoint,
        hp,
        requirements,
        ..
    } = &w;
    runtime().block_on(async {
        let (s3, glue) = w.seed().await;
        let get = |key: &'static str| {
            let s3 = s3.clone();
            async move {
                let o = s3.get_object().bucket("mwaa-env").key(key).send().await.unwrap();
                String::from_utf8(o.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
            }
        };

        let mut f = start_function(sb, None).await;

        // 1. A Glue start request, as an EventBridge rule or Step Functions would send it.
        let a = f
            .invoke(json!({"action": "glue-start-job-run", "job": "etl", "arguments": {"day": "2026-11-23"}}))
            .await;
        let Answer::Response(v) = a else { panic!("{a:?}") };
        let token = emu.issued_tokens()[0].clone();
        assert!(!v.to_string().contains(&token), "{v}");
        let run_id = v["job_run_id"].as_str().expect("a run id").to_string();
        assert_eq!(v["job"], "etl");
        assert_eq!(v["repository"], "default");
        let run = glue.get_job_run().job_name("etl").run_id(&run_id).send().await.unwrap();
        let args = run.job_run().unwrap().arguments().unwrap();
        assert_eq!(
            args["--python-modules-installer-option"],
            format!("--upgrade --index-url=http://aws:{token}@{hp}simple/")
        );
        assert_eq!(args["--day"], "2026-11-23");

        // 2. A refresh of the targets named in the event.
        let a = f
            .invoke(json!({"action": "refresh", "targets": [{"s3": "s3://mwaa-env/other/requirements.txt"}]}))
            .await;
        let Answer::Response(v) = a else { panic!("{a:?}") };
        assert_eq!(v["targets"][0]["target"], "s3://mwaa-env/other/requirements.txt");
        assert_eq!(v["targets"][0]["status"], "updated");
        assert_eq!(v["targets"][0]["index_lines"], 1);
        assert_eq!(get("other/requirements.txt").await, requirements.replace("${AUTH_TOKEN}", &token));

        // 3. A raw EventBridge Scheduled Event: the configured targets (ARTOKEN_TARGETS).
        let scheduled = json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": OWNER, "time": "2026-11-23T06:00:00Z", "region": "eu-west-1",
            "resources": ["arn:aws:events:eu-west-1:111122223333:rule/artoken-refresh"], "detail": {}
        });
        let Answer::Response(v) = f.invoke(scheduled.clone()).await else { panic!() };
        assert_eq!(v["targets"][0]["target"], "s3://mwaa-env/dags/codeartifact.txt");
        assert_eq!(v["targets"][0]["status"], "updated");
        assert_eq!(get("dags/codeartifact.txt").await, requirements.replace("${AUTH_TOKEN}", &token));
        let Answer::Response(v) = f.invoke(scheduled).await else { panic!() };
        assert_eq!(v["targets"][0]["status"], "up-to-date");

        // 4. An env request.
        let Answer::Response(v) = f.invoke(json!({"action": "env"})).await else { panic!() };
        assert_eq!(v["env"]["CODEARTIFACT_AUTH_TOKEN"], token.as_str());
        assert_eq!(v["env"]["PIP_INDEX_URL"], format!("http://aws:{token}@{hp}simple/"));
        assert_eq!(v["env"]["CODEARTIFACT_ENDPOINT"], endpoint.as_str());
        assert!(v["expiration"].as_str().unwrap().ends_with('Z'));
        assert_eq!(emu.stats().tokens_issued, 1, "a warm function reuses its token");

        // 5. Malformed events: a clear error response each.
        let cases = [
            (json!({"action": "deploy"}), "invalid event: unknown action \"deploy\" (expected glue-start-job-run, refresh or env)"),
            (json!({"hello": "world"}), "invalid event: no \"action\" (expected glue-start-job-run, refresh or env, or an EventBridge Scheduled Event)"),
            (json!({"action": "glue-start-job-run"}), "invalid event: a glue-start-job-run event needs \"job\": the Glue job name"),
            (json!([1, 2]), "invalid event: expected a JSON object with \"action\": glue-start-job-run, refresh or env; got a list"),
        ];
        for (event, want) in cases {
            match f.invoke(event).await {
                Answer::Error { error_type, message } => {
                    assert_eq!(error_type, "InvalidEvent");
                    assert_eq!(message, want);
                }
                other => panic!("{other:?}"),
            }
        }
        // Not even JSON: the runtime itself answers with an error.
        match f.invoke_raw(b"not json".to_vec()).await {
            Answer::Error { message, .. } => assert!(!message.is_empty()),
            other => panic!("{other:?}"),
        }

        // 6. Failures name what failed.
        match f.invoke(json!({"action": "refresh", "targets": [{"s3": "s3://no-such-bucket/r.txt"}, {"s3": "s3://mwaa-env/dags/codeartifact.txt"}]})).await {
            Answer::Error { error_type, message } => {
                assert_eq!(error_type, "RefreshFailed");
                assert_eq!(message, "1 of 2 targets failed: s3://no-such-bucket/r.txt: bucket no-such-bucket does not exist");
            }
            other => panic!("{other:?}"),
        }
        match f.invoke(json!({"action": "glue-start-job-run", "job": "nope"})).await {
            Answer::Error { error_type, message } => {
                assert_eq!(error_type, "ArtokenError");
                assert_eq!(message, "Glue job nope not found in region eu-west-1");
            }
            other => panic!("{other:?}"),
        }
        match f.invoke(json!({"action": "env", "repository": "nope"})).await {
            Answer::Error { error_type, message } => {
                assert_eq!(error_type, "ConfigError");
                assert!(message.starts_with("configuration: no repository named `nope`"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let log = f.log();
        eprintln!("--- the function's log\n{log}");
        for t in emu.issued_tokens() {
            assert!(!log.contains(&t), "a token in the function's log: {log}");
        }
        drop(f);
    });
}

/// At `ARTOKEN_LOG=trace` the AWS SDK logs its wire traffic: the GetAuthorizationToken response,
/// the Glue arguments and the S3 body that carry the token, the env map sent back to the
/// Runtime API. The function's one redacting writer keeps every token out of that log (and the
/// log joins the suite's leak check).
#[test]
fn a_trace_level_log_holds_no_token() {
    let w = World::new();
    runtime().block_on(async {
        w.seed().await;
        let mut f = start_function(&w.sb, Some("trace")).await;
        let a = f
            .invoke(json!({"action": "glue-start-job-run", "job": "etl"}))
            .await;
        assert!(matches!(a, Answer::Response(_)), "{a:?}");
        let a = f
            .invoke(json!({"action": "refresh", "targets": [{"s3": "s3://mwaa-env/other/requirements.txt"}]}))
            .await;
        let Answer::Response(v) = a else { panic!("{a:?}") };
        assert_eq!(v["targets"][0]["status"], "updated");
        let Answer::Response(v) = f.invoke(json!({"action": "env"})).await else { panic!() };
        let tokens = w.emu.issued_tokens();
        assert_eq!(tokens.len(), 1);
        assert_eq!(v["env"]["CODEARTIFACT_AUTH_TOKEN"], tokens[0].as_str());

        let log = f.log();
        for t in &tokens {
            assert!(!log.contains(t.as_str()), "a token in the function's trace log:\n{log}");
        }
        // The wire logs were there, the token redacted in them: else this test proves nothing.
        // (The SDK prints the GetAuthorizationToken response body as escaped bytes.)
        assert!(
            log.contains(r#"body: SdkBody { inner: Once(Some(b"{\"authorizationToken\":\"***\","#),
            "the GetAuthorizationToken response body, redacted, in the trace log:\n{log}"
        );
        eprintln!("--- the function's trace log, around each ***");
        for (i, _) in log.match_indices("***") {
            let a = log.floor_char_boundary(i.saturating_sub(80));
            let b = log.ceil_char_boundary((i + 60).min(log.len()));
            eprintln!("...{}...", &log[a..b]);
        }
        drop(f);
    });
}

/// The function holds tokens for as long as it is warm: it can leave none in a core file or to
/// a reader running as its user. Started with core dumps allowed (the soft limit raised to the
/// hard one) and as nobody when the tests run as root, once it asks for its first event it has
/// RLIMIT_CORE 0 and is not dumpable (its /proc/PID/environ belongs to root, not to its uid).
/// `sleep`, started the same way, shows both would be seen otherwise.
#[test]
fn the_function_cannot_dump_core_or_be_read_by_its_user() {
    use std::os::unix::fs::PermissionsExt;
    use testkit::procfs;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = procfs::runnable_by_nobody(
        std::path::Path::new(env!("CARGO_BIN_EXE_artoken-lambda")),
        dir.path(),
    );
    let mut cmd = procfs::with_core_dumps_allowed(&exe);
    cmd.env_clear()
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("AWS_REGION", testkit::REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    procfs::as_nobody_if_root(&mut cmd);
    runtime().block_on(async {
        let f = start_command(cmd, dir.path().join("lambda.log")).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while f.api.polls.load(Ordering::SeqCst) == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the function never asked for an event:\n{}",
                f.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let pid = f.child.id();
        assert_eq!(procfs::exe_of(pid).as_deref(), Some(exe.as_path()));
        let (soft, hard) = procfs::core_limit(pid);
        assert_eq!(soft, "0", "the function's soft core limit (hard {hard})");
        assert_eq!(
            procfs::dumpable(pid),
            Some(false),
            "the function is dumpable"
        );

        // The control: the same start, a program that does not harden itself.
        let mut sleep = procfs::with_core_dumps_allowed(std::path::Path::new("/bin/sleep"));
        sleep.arg("60").current_dir(dir.path());
        procfs::as_nobody_if_root(&mut sleep);
        let mut control = procfs::spawn(&mut sleep);
        let cpid = control.id();
        procfs::wait_until(30, "sleep to start", || {
            procfs::exe_of(cpid).is_some_and(|p| p.ends_with("sleep"))
        });
        assert_eq!(procfs::core_limit(cpid), (hard.clone(), hard.clone()));
        assert_eq!(procfs::dumpable(cpid), Some(true));
        let _ = control.kill();
        let _ = control.wait();
        drop(f);
    });
}
