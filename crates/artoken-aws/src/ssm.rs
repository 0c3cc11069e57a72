//! SSM Parameter Store parameters, always SecureString. PutParameter has no condition, so the
//! version numbers stand in for one: a write whose version is not the one right after the
//! version read means someone wrote in between, and the edit is made again on their version
//! (their change is back at once; a reader in that moment can see the version without it).

use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{ParameterHistory, ParameterTier, ParameterType};

use crate::error::AwsError;
use crate::s3::{MAX_ATTEMPTS, Updated, backoff};
use crate::store::classify;

/// `ssm:NAME`.
pub fn target(name: &str) -> String {
    format!("ssm:{name}")
}

/// One version of a SecureString parameter, decrypted.
struct Read {
    version: i64,
    value: String,
}

/// The parameter's text (`None`: there is no such parameter yet), for `--dry-run`.
pub async fn get(client: &Client, name: &str) -> Result<Option<String>, AwsError> {
    Ok(read(client, name, None).await?.map(|r| r.value))
}

/// Reads the parameter, hands its text to `edit` (`None`: no parameter yet) and writes what
/// `edit` returns (`None`: nothing to write): a missing parameter is created as a SecureString
/// with the account's default KMS key (`alias/aws/ssm`) and only if it is still missing; an
/// existing one is overwritten as a SecureString with its own KMS key, tier, description and
/// allowed pattern sent back (read with GetParameterHistory), so none of them changes. When
/// the version written is not the one after the version the edit was made on, the edit is made
/// again on the version before ours (someone else's) and written again, up to [`MAX_ATTEMPTS`]
/// times. A String or StringList parameter is refused: a token is never written in plain text.
pub async fn update<T>(
    client: &Client,
    name: &str,
    mut edit: impl FnMut(Option<&str>) -> Result<(Option<String>, T), AwsError>,
) -> Result<Updated<T>, AwsError> {
    let target = target(name);
    // The version the edit is made on, and the last version this run wrote.
    let mut basis = read(client, name, None).await?;
    let mut ours: Option<(i64, String)> = None;
    let mut kept: Option<Kept> = None;
    for attempt in 1..=MAX_ATTEMPTS {
        let held = basis.as_ref().map(|r| r.value.clone());
        let (new, value) = edit(held.as_deref())?;
        let want = new.or(held.clone());
        let now = ours.as_ref().map(|(_, v)| Some(v.clone())).unwrap_or(held);
        let (Some(want), false) = (want.as_ref(), want == now) else {
            return Ok(Updated {
                written: ours.is_some(),
                attempts: attempt,
                value,
            });
        };
        let secrets = [want.as_str()];
        let prev = ours
            .as_ref()
            .map(|(v, _)| *v)
            .or(basis.as_ref().map(|r| r.version));
        let mut put = client
            .put_parameter()
            .name(name)
            .value(want)
            .r#type(ParameterType::SecureString);
        put = match prev {
            None => put.overwrite(false),
            Some(p) => {
                if kept.is_none() {
                    kept = Some(keep(client, name, p).await?);
                }
                let k = kept.clone().unwrap_or_default();
                put.overwrite(true)
                    .set_key_id(k.key_id)
                    .set_tier(k.tier)
                    .set_description(k.description)
                    .set_allowed_pattern(k.allowed_pattern)
            }
        };
        let written = match put.send().await {
            Ok(out) => out.version,
            Err(e) => match e.code() {
                // Created meanwhile: start over from what was created.
                Some("ParameterAlreadyExists") if prev.is_none() => {
                    tracing::debug!("{target}: created by someone else meanwhile; reading it");
                    tokio::time::sleep(backoff(attempt)).await;
                    basis = read(client, name, None).await?;
                    continue;
                }
                // Another write in progress: nothing was written; try the same write again.
                Some("TooManyUpdates") => {
                    tracing::debug!("{target}: concurrent updates (attempt {attempt})");
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                _ => return Err(classify(e, &target, "ssm:PutParameter", &secrets)),
            },
        };
        let expected = prev.map_or(1, |p| p + 1);
        if written == expected {
            return Ok(Updated {
                written: true,
                attempts: attempt,
                value,
            });
        }
        // Versions expected..written-1 are someone else's, and ours was computed without
        // them: make the edit again on the latest of theirs.
        tracing::debug!(
            "{target}: wrote version {written}, but the version read was {}; editing version {} again",
            expected - 1,
            written - 1
        );
        ours = Some((written, want.clone()));
        basis = Some(
            read(client, name, Some(written - 1))
                .await?
                .ok_or_else(|| {
                    AwsError::Invalid(format!(
                        "{target}: version {} vanished while artoken was writing version {written}",
                        written - 1
                    ))
                })?,
        );
    }
    Err(AwsError::StoreConflicts {
        target,
        attempts: MAX_ATTEMPTS,
    })
}

/// The latest version (or the given one), decrypted; `None`: no such parameter.
async fn read(client: &Client, name: &str, version: Option<i64>) -> Result<Option<Read>, AwsError> {
    let target = target(name);
    let selector = match version {
        Some(v) => format!("{name}:{v}"),
        None => name.to_string(),
    };
    let out = match client
        .get_parameter()
        .name(selector)
        .with_decryption(true)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if version.is_none() && e.code() == Some("ParameterNotFound") => return Ok(None),
        Err(e) => return Err(classify(e, &target, "ssm:GetParameter", &[])),
    };
    let p = out.parameter.ok_or_else(|| AwsError::Store {
        target: target.clone(),
        operation: "GetParameter",
        detail: "the answer has no Parameter".into(),
    })?;
    match &p.r#type {
        Some(ParameterType::SecureString) => {}
        other => {
            let kind = other.as_ref().map_or("untyped", |t| t.as_str());
            return Err(AwsError::Invalid(format!(
                "{target}: is a {kind} parameter, and artoken writes a token only to a SecureString (never in plain text): delete it (aws ssm delete-parameter --name {name}) and artoken creates it as a SecureString"
            )));
        }
    }
    Ok(Some(Read {
        version: p.version,
        value: p.value.unwrap_or_default(),
    }))
}

/// What an overwrite sends back so that it stays.
#[derive(Debug, Clone, Default)]
struct Kept {
    key_id: Option<String>,
    tier: Option<ParameterTier>,
    description: Option<String>,
    allowed_pattern: Option<String>,
}

/// The KMS key, tier, description and allowed pattern of `version` (else of the latest).
async fn keep(client: &Client, name: &str, version: i64) -> Result<Kept, AwsError> {
    let target = target(name);
    let kept = |h: ParameterHistory| Kept {
        key_id: h.key_id,
        tier: h.tier,
        description: h.description,
        allowed_pattern: h.allowed_pattern,
    };
    let mut next: Option<String> = None;
    let mut last = None;
    loop {
        let out = client
            .get_parameter_history()
            .name(name)
            .with_decryption(false)
            .max_results(50)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| classify(e, &target, "ssm:GetParameterHistory", &[]))?;
        for h in out.parameters.unwrap_or_default() {
            if h.version == version {
                return Ok(kept(h));
            }
            last = Some(h);
        }
        match out.next_token {
            Some(t) => next = Some(t),
            None => return Ok(last.map(kept).unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_named_like_the_config() {
        assert_eq!(
            target("/ci/codeartifact/token"),
            "ssm:/ci/codeartifact/token"
        );
    }
}
