//! PyPI data plane: PEP 503 HTML and PEP 691 JSON simple index, file downloads, twine uploads.

use axum::extract::Request;
use axum::response::Response;

use crate::config::RepositoryConfig;
use crate::state::{Repository, State};

/// The distributions of one PyPI repository.
#[derive(Default)]
pub struct Store {}

impl Store {
    /// Loads `packages_dir` and builds the synthetic `packages`.
    pub fn load(_config: &RepositoryConfig) -> Result<Store, String> {
        Ok(Store::default())
    }
}

/// Serves `rest` (the path after the repository endpoint); `base` is the absolute endpoint URL.
pub async fn handle(
    _state: &State,
    _repo: &Repository,
    _base: &str,
    _rest: &str,
    _req: Request,
) -> Response {
    todo!("pypi data plane")
}
