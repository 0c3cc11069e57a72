//! Resolves the configured `env` entries (and wev variables) into name/value pairs.

use crate::config::{Config, EnvValue};
use crate::provider::{Provider, ProviderError};
use crate::secret::Token;
use crate::urls::{Tool, tool_url};

/// One variable for `exec`/`env`. The value may hold a token, so it is a [`Token`].
#[derive(Debug, Clone)]
pub struct EnvVar {
    pub name: String,
    pub value: Token,
}

/// Why a variable could not be resolved; names the variable and the file it came from.
#[derive(Debug, thiserror::Error)]
#[error("{name} (from {source_file}): {message}")]
pub struct ResolveError {
    pub name: String,
    pub source_file: String,
    pub message: String,
    #[source]
    pub cause: Option<ProviderError>,
}

/// Resolves every entry, in config order; later entries win for the same name.
pub async fn resolve_env(
    config: &Config,
    provider: &Provider,
) -> Result<Vec<EnvVar>, ResolveError> {
    let mut out: Vec<EnvVar> = Vec::new();
    for entry in &config.env {
        let first = entry.names.first().cloned().unwrap_or_default();
        let fail = |message: String, cause: Option<ProviderError>| ResolveError {
            name: first.clone(),
            source_file: entry.source.display().to_string(),
            message,
            cause,
        };
        let value = match &entry.value {
            EnvValue::Literal(s) => Token::new(s.clone()),
            EnvValue::Token { repository } => {
                let spec = config
                    .repository(Some(repository))
                    .map_err(|e| fail(e.to_string(), None))?;
                let t = provider
                    .token(spec)
                    .await
                    .map_err(|e| fail(format!("cannot get a token for {repository}"), Some(e)))?;
                t.token.clone()
            }
            EnvValue::Endpoint { repository } => {
                let spec = config
                    .repository(Some(repository))
                    .map_err(|e| fail(e.to_string(), None))?;
                let e = provider.endpoint(spec).await.map_err(|e| {
                    fail(format!("cannot get the endpoint of {repository}"), Some(e))
                })?;
                Token::new(e)
            }
            EnvValue::Url { repository, tool } => {
                let spec = config
                    .repository(Some(repository))
                    .map_err(|e| fail(e.to_string(), None))?;
                let tool: Tool = tool
                    .as_deref()
                    .unwrap_or("pip")
                    .parse()
                    .map_err(|e: String| fail(e, None))?;
                let endpoint = provider.endpoint(spec).await.map_err(|e| {
                    fail(format!("cannot get the endpoint of {repository}"), Some(e))
                })?;
                let token = if tool.needs_token() {
                    Some(
                        provider
                            .token(spec)
                            .await
                            .map_err(|e| {
                                fail(format!("cannot get a token for {repository}"), Some(e))
                            })?
                            .token,
                    )
                } else {
                    None
                };
                Token::new(tool_url(tool, &endpoint, token.as_ref()).map_err(|e| fail(e, None))?)
            }
        };
        for name in &entry.names {
            out.retain(|v| &v.name != name);
            out.push(EnvVar {
                name: name.clone(),
                value: value.clone(),
            });
        }
    }
    Ok(out)
}
