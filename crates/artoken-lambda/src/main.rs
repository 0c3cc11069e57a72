//! `artoken-lambda`: artoken as an AWS Lambda function (custom runtime `provided.al2023`, the
//! binary named `bootstrap`). One handler for three event shapes: a Glue job start, a refresh
//! of requirements files in S3 (scheduled or on demand), and an env map; see
//! [`artoken_aws::lambda`] for the events and the configuration it reads.

mod handler;

use std::sync::Arc;

use artoken_aws::lambda::Handler;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let filter = std::env::var("ARTOKEN_LOG")
        .unwrap_or_else(|_| "warn,artoken_aws=info,artoken_lambda=info".to_string());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(false)
        .without_time()
        .with_writer(std::io::stderr)
        .init();
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    let state = Arc::new(Handler::from_env(&|k| std::env::var(k).ok(), cwd));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let state = Arc::clone(&state);
        async move { handler::handle(&state, event).await }
    }))
    .await
}
