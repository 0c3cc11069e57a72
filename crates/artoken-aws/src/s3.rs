//! S3 objects: read, edit, and write back with a conditional put (`If-Match` on the ETag read),
//! starting over from a fresh read whenever someone else wrote in between.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ServerSideEncryption, StorageClass};

use crate::error::{AwsError, one_line};

/// How often a write is tried before giving up on an object that keeps changing.
pub const MAX_ATTEMPTS: u32 = 8;

/// `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub bucket: String,
    pub key: String,
}

impl S3Object {
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> S3Object {
        S3Object {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    /// From `s3://BUCKET/KEY`.
    pub fn parse(url: &str) -> Result<S3Object, AwsError> {
        let (bucket, key) =
            artoken_core::config::targets::parse_s3_url(url).map_err(AwsError::Invalid)?;
        Ok(S3Object { bucket, key })
    }
}

impl fmt::Display for S3Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// What [`update`] did.
#[derive(Debug, Clone)]
pub struct Updated<T> {
    /// True when a new version was written.
    pub written: bool,
    /// Reads made (1 when nobody raced us).
    pub attempts: u32,
    /// What the last call of the edit returned.
    pub value: T,
}

/// What a read gave: the bytes, the ETag, and the headers a put must repeat to keep them.
struct Read {
    bytes: Vec<u8>,
    etag: String,
    content_type: Option<String>,
    cache_control: Option<String>,
    content_encoding: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    metadata: Option<HashMap<String, String>>,
    sse: Option<ServerSideEncryption>,
    kms_key: Option<String>,
    storage_class: Option<StorageClass>,
}

/// Reads `obj`, hands its bytes to `edit`, and writes what `edit` returns (`None`: nothing to
/// write) with `If-Match` on the ETag read. On 412 Precondition Failed (or 409 Conflict, a
/// concurrent conditional write) it reads again and calls `edit` on the new bytes, up to
/// [`MAX_ATTEMPTS`] times. Content type, cache and encoding headers, user metadata, server-side
/// encryption and storage class are carried over; object tags are not.
pub async fn update<T>(
    client: &Client,
    obj: &S3Object,
    mut edit: impl FnMut(&[u8]) -> Result<(Option<Vec<u8>>, T), AwsError>,
) -> Result<Updated<T>, AwsError> {
    for attempt in 1..=MAX_ATTEMPTS {
        let read = read(client, obj).await?;
        let (new, value) = edit(&read.bytes)?;
        let Some(new) = new.filter(|n| *n != read.bytes) else {
            return Ok(Updated {
                written: false,
                attempts: attempt,
                value,
            });
        };
        match write(client, obj, &read, new).await {
            Ok(()) => {
                return Ok(Updated {
                    written: true,
                    attempts: attempt,
                    value,
                });
            }
            Err(Write::Conflict) => {
                tracing::debug!(
                    "{obj}: changed since it was read (attempt {attempt}); reading it again"
                );
                tokio::time::sleep(backoff(attempt)).await;
            }
            Err(Write::Failed(e)) => return Err(e),
        }
    }
    Err(AwsError::TooManyConflicts {
        bucket: obj.bucket.clone(),
        key: obj.key.clone(),
        attempts: MAX_ATTEMPTS,
    })
}

/// The object's bytes (a plain read, for `--dry-run`).
pub async fn get(client: &Client, obj: &S3Object) -> Result<Vec<u8>, AwsError> {
    Ok(read(client, obj).await?.bytes)
}

/// How long to wait before reading again after a lost race: growing, with jitter.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = 40u64 << attempt.min(5);
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()) % base)
        .unwrap_or(0);
    Duration::from_millis(base + jitter)
}

async fn read(client: &Client, obj: &S3Object) -> Result<Read, AwsError> {
    let out = client
        .get_object()
        .bucket(&obj.bucket)
        .key(&obj.key)
        .send()
        .await
        .map_err(|e| classify(e, obj, "GetObject", "s3:GetObject"))?;
    let etag = out.e_tag.clone().ok_or_else(|| AwsError::S3 {
        bucket: obj.bucket.clone(),
        key: obj.key.clone(),
        operation: "GetObject",
        detail: "the answer has no ETag, so a safe conditional write is impossible".into(),
    })?;
    let mut read = Read {
        bytes: Vec::new(),
        etag,
        content_type: out.content_type.clone(),
        cache_control: out.cache_control.clone(),
        content_encoding: out.content_encoding.clone(),
        content_disposition: out.content_disposition.clone(),
        content_language: out.content_language.clone(),
        metadata: out.metadata.clone().filter(|m| !m.is_empty()),
        sse: out.server_side_encryption.clone(),
        kms_key: out.ssekms_key_id.clone(),
        storage_class: out.storage_class.clone(),
    };
    read.bytes = out
        .body
        .collect()
        .await
        .map_err(|e| AwsError::S3 {
            bucket: obj.bucket.clone(),
            key: obj.key.clone(),
            operation: "GetObject",
            detail: format!("reading the body failed: {}", one_line(&e)),
        })?
        .into_bytes()
        .to_vec();
    Ok(read)
}

enum Write {
    Conflict,
    Failed(AwsError),
}

async fn write(client: &Client, obj: &S3Object, read: &Read, bytes: Vec<u8>) -> Result<(), Write> {
    let mut put = client
        .put_object()
        .bucket(&obj.bucket)
        .key(&obj.key)
        .if_match(&read.etag)
        .body(ByteStream::from(bytes))
        .set_content_type(read.content_type.clone())
        .set_cache_control(read.cache_control.clone())
        .set_content_encoding(read.content_encoding.clone())
        .set_content_disposition(read.content_disposition.clone())
        .set_content_language(read.content_language.clone())
        .set_metadata(read.metadata.clone())
        .set_storage_class(read.storage_class.clone());
    if let Some(sse) = &read.sse {
        put = put.server_side_encryption(sse.clone());
        if *sse != ServerSideEncryption::Aes256 {
            put = put.set_ssekms_key_id(read.kms_key.clone());
        }
    }
    match put.send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            let code = e.code().unwrap_or_default().to_string();
            if matches!(status, Some(412 | 409))
                || matches!(
                    code.as_str(),
                    "PreconditionFailed" | "ConditionalRequestConflict"
                )
            {
                Err(Write::Conflict)
            } else {
                Err(Write::Failed(classify(e, obj, "PutObject", "s3:PutObject")))
            }
        }
    }
}

/// An S3 error in words, naming the object.
fn classify<E, R>(
    err: SdkError<E, R>,
    obj: &S3Object,
    operation: &'static str,
    action: &'static str,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let (bucket, key) = (obj.bucket.clone(), obj.key.clone());
    if let SdkError::ServiceError(se) = &err {
        let e = se.err();
        let message = artoken_core::redact::redact(e.message().unwrap_or("")).into_owned();
        match e.code().unwrap_or("") {
            "NoSuchBucket" => return AwsError::NoSuchBucket { bucket, key },
            "NoSuchKey" => return AwsError::NoSuchKey { bucket, key },
            code @ ("InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken") => {
                return AwsError::S3 {
                    bucket,
                    key,
                    operation,
                    detail: format!("AWS rejected the credentials: {code}: {message}"),
                };
            }
            "AccessDenied" | "AllAccessDisabled" => {
                return AwsError::S3Denied {
                    bucket,
                    key,
                    action,
                    message: denied_message(message, operation),
                };
            }
            "PermanentRedirect"
            | "AuthorizationHeaderMalformed"
            | "IllegalLocationConstraintException" => {
                return AwsError::S3 {
                    bucket,
                    key,
                    operation,
                    detail: format!(
                        "the bucket is in another region than the one used ({message}); pass --region"
                    ),
                };
            }
            _ => {}
        }
    }
    AwsError::S3 {
        bucket,
        key,
        operation,
        detail: one_line(&err),
    }
}

/// S3's message, with a hint for reads: a missing object looks the same without ListBucket.
fn denied_message(message: String, operation: &str) -> String {
    let m = if message.is_empty() {
        "Access Denied".to_string()
    } else {
        message
    };
    if operation == "GetObject" {
        format!("{m}; without s3:ListBucket, S3 also answers so for a missing object")
    } else {
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_parse_and_print() {
        let o = S3Object::parse("s3://mwaa-bucket/dags/codeartifact.txt").unwrap();
        assert_eq!(o, S3Object::new("mwaa-bucket", "dags/codeartifact.txt"));
        assert_eq!(o.to_string(), "s3://mwaa-bucket/dags/codeartifact.txt");
        assert!(S3Object::parse("mwaa-bucket/x").is_err());
    }

    #[test]
    fn backoff_grows_and_stays_small() {
        assert!(backoff(1) >= Duration::from_millis(80));
        assert!(backoff(8) <= Duration::from_millis(2560));
    }
}
