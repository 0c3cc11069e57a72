//! What can go wrong on the AWS side, one line each, naming the object, job, secret or file.

use std::path::PathBuf;

use artoken_core::ProviderError;

/// A failed Glue, S3, secret store, file or token step, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("s3://{bucket}/{key}: bucket {bucket} does not exist")]
    NoSuchBucket { bucket: String, key: String },
    #[error("s3://{bucket}/{key}: no such object (bucket {bucket} has no key {key})")]
    NoSuchKey { bucket: String, key: String },
    #[error(
        "s3://{bucket}/{key}: access denied: the caller lacks IAM permission {action} ({message})"
    )]
    S3Denied {
        bucket: String,
        key: String,
        action: &'static str,
        message: String,
    },
    #[error(
        "s3://{bucket}/{key}: gave up after {attempts} attempts: the object changed between every read and write"
    )]
    TooManyConflicts {
        bucket: String,
        key: String,
        attempts: u32,
    },
    #[error("s3://{bucket}/{key}: {operation} failed: {detail}")]
    S3 {
        bucket: String,
        key: String,
        operation: &'static str,
        detail: String,
    },
    #[error("Glue job {job} not found{}", region.as_ref().map(|r| format!(" in region {r}")).unwrap_or_default())]
    NoSuchJob { job: String, region: Option<String> },
    #[error("Glue job {job}: access denied: the caller lacks IAM permission {action} ({message})")]
    GlueDenied {
        job: String,
        action: &'static str,
        message: String,
    },
    #[error("Glue job {job}: {operation} failed: {detail}")]
    Glue {
        job: String,
        operation: &'static str,
        detail: String,
    },
    /// A Secrets Manager secret or SSM parameter (`target` is `secretsmanager:ID` or `ssm:NAME`).
    #[error("{target}: access denied: the caller lacks IAM permission {action} ({message})")]
    StoreDenied {
        target: String,
        action: String,
        message: String,
    },
    #[error("{target}: {operation} failed: {detail}")]
    Store {
        target: String,
        operation: &'static str,
        detail: String,
    },
    #[error(
        "{target}: gave up after {attempts} attempts: the value changed between every read and write"
    )]
    StoreConflicts { target: String, attempts: u32 },
    #[error("{}: {what}: {source}", path.display())]
    File {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{target}: no --index-url, --extra-index-url or -i line points at repository {repository} ({endpoint})"
    )]
    NoIndexLines {
        target: String,
        repository: String,
        endpoint: String,
    },
    #[error("cannot get {what} for repository {repository}")]
    Token {
        repository: String,
        what: &'static str,
        #[source]
        source: ProviderError,
    },
    #[error("{0}")]
    Invalid(String),
}

/// The error and its causes on one line, tokens redacted.
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    artoken_core::redact::error_line(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_what_they_are_about() {
        let e = AwsError::NoSuchBucket {
            bucket: "nope".into(),
            key: "r.txt".into(),
        };
        assert_eq!(e.to_string(), "s3://nope/r.txt: bucket nope does not exist");
        let e = AwsError::NoSuchJob {
            job: "etl".into(),
            region: Some("eu-west-1".into()),
        };
        assert_eq!(e.to_string(), "Glue job etl not found in region eu-west-1");
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone\nnow");
        let e = AwsError::File {
            path: "/x".into(),
            what: "cannot read",
            source: io,
        };
        assert_eq!(one_line(&e), "/x: cannot read: gone now");
    }
}
