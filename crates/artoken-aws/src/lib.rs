//! artoken's AWS side: Glue job runs with a fresh index URL, the token inside requirements files
//! in S3 (MWAA) and on disk, in Secrets Manager secrets and SSM parameters, the refresher for many
//! such targets, and the Lambda handler's logic.
//!
//! S3, Glue, Secrets Manager and SSM calls go through the official SDK clients, built from the
//! same `SdkConfig` the core's token source uses for the repository (profile, role, region), with
//! `AWS_ENDPOINT_URL_S3` / `_GLUE` / `_SECRETS_MANAGER` / `_SSM` honoured.

pub mod context;
pub mod error;
pub mod glue;
pub mod installer;
pub mod lambda;
pub mod refresh;
pub mod s3;
pub mod secrets;
pub mod ssm;
pub mod store;

// The requirements-file rewriter lives with the other file writers (and is fuzzed there).
pub use artoken_tools::index_url;
pub use artoken_tools::requirements as rewrite;

pub use context::{Aws, Endpoints, RepoAuth};
pub use error::AwsError;
pub use installer::Mode;
