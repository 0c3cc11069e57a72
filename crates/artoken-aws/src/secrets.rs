//! Secrets Manager secrets, edited with a compare-and-swap: the new value is written as a
//! version labelled `ARTOKEN_PENDING` (readers still get the old one), then `AWSCURRENT` is
//! moved to it only from the version that was read (`UpdateSecretVersionStage` with
//! `RemoveFromVersionId`, which AWS refuses when the label has moved); when someone else wrote
//! in between, everything starts over from a fresh read.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};

use crate::error::AwsError;
use crate::s3::{MAX_ATTEMPTS, Updated, backoff};
use crate::store::classify;

/// The label of a version written but not yet current. One version at most carries it:
/// PutSecretValue takes it off the previous one; a successful swap takes it off ours.
pub const PENDING: &str = "ARTOKEN_PENDING";
const CURRENT: &str = "AWSCURRENT";

/// `secretsmanager:ID`.
pub fn target(id: &str) -> String {
    format!("secretsmanager:{id}")
}

/// The region of a secret given by ARN (`arn:aws:secretsmanager:REGION:...`).
pub fn region_of(id: &str) -> Option<&str> {
    let rest = id.strip_prefix("arn:")?;
    let mut parts = rest.splitn(4, ':');
    let (_partition, service, region) = (parts.next()?, parts.next()?, parts.next()?);
    (service == "secretsmanager" && !region.is_empty()).then_some(region)
}

/// The version `AWSCURRENT` is on and its text; `version: None`: the secret has no value yet.
struct Current {
    version: Option<String>,
    value: Option<String>,
}

/// The secret's current text (`None`: it has no value yet), for `--dry-run`.
pub async fn get(client: &Client, id: &str) -> Result<Option<String>, AwsError> {
    Ok(read(client, id).await?.value)
}

/// Reads the secret, hands its text to `edit` (`None`: no value yet), and makes what `edit`
/// returns the current version (`None` from `edit`: nothing to write), swapping `AWSCURRENT`
/// only from the version read; when the swap is refused because the label moved (someone
/// else wrote), reads again and calls `edit` on the new text, up to [`MAX_ATTEMPTS`] times.
/// A version written in a lost race keeps no label and is left for Secrets Manager to expire.
pub async fn update<T>(
    client: &Client,
    id: &str,
    mut edit: impl FnMut(Option<&str>) -> Result<(Option<String>, T), AwsError>,
) -> Result<Updated<T>, AwsError> {
    let target = target(id);
    // A refused swap, and the version it was refused from: refused again from the same
    // version, it is no race but a real error.
    let mut refused: Option<(Option<String>, AwsError)> = None;
    for attempt in 1..=MAX_ATTEMPTS {
        let cur = read(client, id).await?;
        if let Some((from, e)) = refused.take()
            && from == cur.version
        {
            return Err(e);
        }
        let (new, value) = edit(cur.value.as_deref())?;
        let Some(new) = new.filter(|n| Some(n.as_str()) != cur.value.as_deref()) else {
            return Ok(Updated {
                written: false,
                attempts: attempt,
                value,
            });
        };
        let secrets = [new.as_str()];
        let put = client
            .put_secret_value()
            .secret_id(id)
            .secret_string(&new)
            .version_stages(PENDING)
            .send()
            .await
            .map_err(|e| not_found(e, &target, "secretsmanager:PutSecretValue", &secrets))?;
        let version = put.version_id.ok_or_else(|| AwsError::Store {
            target: target.clone(),
            operation: "PutSecretValue",
            detail: "the answer has no VersionId".into(),
        })?;
        if put
            .version_stages
            .unwrap_or_default()
            .iter()
            .any(|s| s == CURRENT)
        {
            // The secret's first value: Secrets Manager made it current itself.
            unlabel(client, id, &version).await;
            return Ok(Updated {
                written: true,
                attempts: attempt,
                value,
            });
        }
        let swap = client
            .update_secret_version_stage()
            .secret_id(id)
            .version_stage(CURRENT)
            .move_to_version_id(&version)
            .set_remove_from_version_id(cur.version.clone())
            .send()
            .await;
        match swap {
            Ok(_) => {
                unlabel(client, id, &version).await;
                return Ok(Updated {
                    written: true,
                    attempts: attempt,
                    value,
                });
            }
            Err(e) if is_refusal(&e) => {
                tracing::debug!(
                    "{target}: AWSCURRENT moved since it was read (attempt {attempt}); reading it again"
                );
                let e = classify(
                    e,
                    &target,
                    "secretsmanager:UpdateSecretVersionStage",
                    &secrets,
                );
                refused = Some((cur.version, e));
                tokio::time::sleep(backoff(attempt)).await;
            }
            Err(e) => {
                return Err(not_found(
                    e,
                    &target,
                    "secretsmanager:UpdateSecretVersionStage",
                    &secrets,
                ));
            }
        }
    }
    Err(AwsError::StoreConflicts {
        target,
        attempts: MAX_ATTEMPTS,
    })
}

/// What AWS answers a swap from a version `AWSCURRENT` is no longer on.
fn is_refusal<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(
        e.code(),
        Some("InvalidParameterException" | "InvalidRequestException")
    )
}

/// Takes [`PENDING`] off a version that is current now (best effort: a label left behind is
/// harmless, and the next write moves it).
async fn unlabel(client: &Client, id: &str, version: &str) {
    let r = client
        .update_secret_version_stage()
        .secret_id(id)
        .version_stage(PENDING)
        .remove_from_version_id(version)
        .send()
        .await;
    if let Err(e) = r {
        tracing::debug!(
            "{}: could not take label {PENDING} off version {version}: {}",
            target(id),
            crate::error::one_line(&e)
        );
    }
}

async fn read(client: &Client, id: &str) -> Result<Current, AwsError> {
    let target = target(id);
    let out = match client
        .get_secret_value()
        .secret_id(id)
        .version_stage(CURRENT)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if e.code() == Some("ResourceNotFoundException") => {
            // No such secret, or one without a value yet (created empty, as Terraform's
            // aws_secretsmanager_secret does): DescribeSecret tells them apart.
            return match client.describe_secret().secret_id(id).send().await {
                Ok(d) if d.deleted_date.is_some() => Err(AwsError::Invalid(format!(
                    "{target}: the secret is scheduled for deletion (restore it with aws secretsmanager restore-secret)"
                ))),
                Ok(_) => Ok(Current {
                    version: None,
                    value: None,
                }),
                Err(e) => Err(not_found(e, &target, "secretsmanager:DescribeSecret", &[])),
            };
        }
        Err(e) => return Err(not_found(e, &target, "secretsmanager:GetSecretValue", &[])),
    };
    if out.secret_string.is_none() && out.secret_binary.is_some() {
        return Err(AwsError::Invalid(format!(
            "{target}: the secret holds a binary value (SecretBinary); artoken writes text (SecretString) only"
        )));
    }
    let version = out.version_id.ok_or_else(|| AwsError::Store {
        target,
        operation: "GetSecretValue",
        detail: "the answer has no VersionId, so a safe swap is impossible".into(),
    })?;
    Ok(Current {
        version: Some(version),
        value: out.secret_string,
    })
}

/// [`classify`], with a missing secret said plainly.
fn not_found<E>(
    e: SdkError<E, HttpResponse>,
    target: &str,
    action: &'static str,
    secrets: &[&str],
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if e.code() == Some("ResourceNotFoundException") {
        return AwsError::Invalid(format!(
            "{target}: no such secret (artoken writes values, it does not create secrets: aws secretsmanager create-secret --name NAME)"
        ));
    }
    classify(e, target, action, secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arn_names_its_region() {
        assert_eq!(
            region_of("arn:aws:secretsmanager:eu-west-1:111122223333:secret:ci/pip-AbCdEf"),
            Some("eu-west-1")
        );
        assert_eq!(region_of("ci/pip"), None);
        assert_eq!(
            region_of("arn:aws:ssm:eu-west-1:111122223333:parameter/x"),
            None
        );
        assert_eq!(target("ci/pip"), "secretsmanager:ci/pip");
    }
}
