//! CodeArtifact control plane: GetAuthorizationToken, GetRepositoryEndpoint, DescribeDomain,
//! ListRepositoriesInDomain, with SigV4 checks, IAM denials and throttling faults.

use std::sync::Arc;

use axum::extract::{Request, State as AxState};
use axum::response::Response;

use crate::state::State;

pub(crate) async fn handle(AxState(_state): AxState<Arc<State>>, _req: Request) -> Response {
    todo!("control plane")
}
