//! One invocation: the event to [`Handler::handle`], its error to a Runtime API error response.

use artoken_aws::lambda::{Handler, HandlerError};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

/// A failed invocation, reported with its error type (`InvalidEvent`, `ConfigError`,
/// `ArtokenError`, `RefreshFailed`) and a one-line message. The runtime logs it with `Debug`:
/// that is the same one line.
pub struct Failure(HandlerError);

impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let message = artoken_core::redact::redact(&self.0.to_string()).into_owned();
        write!(f, "{}: {message}", self.0.error_type())
    }
}

impl From<Failure> for Diagnostic {
    fn from(f: Failure) -> Diagnostic {
        Diagnostic {
            error_type: f.0.error_type().to_string(),
            error_message: artoken_core::redact::redact(&f.0.to_string()).into_owned(),
        }
    }
}

pub async fn handle(state: &Handler, event: LambdaEvent<Value>) -> Result<Value, Failure> {
    state.handle(&event.payload).await.map_err(Failure)
}
