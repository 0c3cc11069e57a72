//! `artoken-lambda`: artoken as an AWS Lambda function (custom runtime `provided.al2023`, the
//! binary named `bootstrap`). One handler for three event shapes: a Glue job start, a refresh
//! of requirements files in S3 (scheduled or on demand), and an env map; see
//! [`artoken_aws::lambda`] for the events and the configuration it reads. Hardened and logging
//! through artoken-core's redacting writer like the CLI, at every `ARTOKEN_LOG` level.

mod handler;

use std::process::ExitCode;
use std::sync::Arc;

use artoken_aws::lambda::Handler;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

fn main() -> ExitCode {
    // Before anything holds a token: no core dump, no same-user reader of our memory.
    artoken_core::process::harden();
    let filter = std::env::var("ARTOKEN_LOG")
        .unwrap_or_else(|_| "warn,artoken_aws=info,artoken_lambda=info".to_string());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(false)
        .without_time()
        .with_writer(artoken_core::redact::stderr())
        .init();
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(lambda_runtime::Error::from)
        .and_then(|rt| rt.block_on(run()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let line = artoken_core::redact::error_line(&*e);
            artoken_core::redact::write_stderr(&format!("artoken-lambda: error: {line}\n"));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), lambda_runtime::Error> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    let state = Arc::new(Handler::from_env(&|k| std::env::var(k).ok(), cwd));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let state = Arc::clone(&state);
        async move { handler::handle(&state, event).await }
    }))
    .await
}
