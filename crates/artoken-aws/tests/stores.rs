//! Secrets Manager and SSM targets against moto: a writer between artoken's read and its write
//! loses nothing (a hook in the edit writes at that exact moment, so the race is the same every
//! run), a token that would not last is replaced, and `--dry-run` writes nothing.

mod common;

use std::future::Future;

use artoken_aws::refresh::{Job, Options, Place, refresh_one};
use artoken_aws::{AwsError, secrets, ssm, store};
use artoken_core::config::targets::{StoreValue, ValueKind};
use aws_sdk_ssm::types::ParameterType;
use common::*;

const NEW: &str = "new-token-from-artoken";
const ORIGINAL: &str = r#"{"user": "ci", "token": "old"}"#;
/// What the other writer puts: the same object with a key of its own.
const THEIRS: &str = r#"{"user": "ci", "token": "old", "password": "theirs"}"#;
const THEIRS_WITH_NEW: &str =
    r#"{"user": "ci", "token": "new-token-from-artoken", "password": "theirs"}"#;

fn json_key(k: &str) -> StoreValue {
    StoreValue {
        kind: ValueKind::Token,
        json_key: Some(k.into()),
    }
}

/// Runs `f` to its end on a thread and runtime of its own (the caller is inside artoken's edit,
/// between its read and its write).
fn meanwhile<F: Future<Output = ()> + Send + 'static>(f: F) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    })
    .join()
    .unwrap();
}

#[test]
fn a_secret_written_between_read_and_swap_keeps_the_other_writers_key() {
    let w = World::new();
    let rt = runtime();
    rt.block_on(async {
        let sm = w.secretsmanager().await;
        sm.create_secret()
            .name("ci/pip")
            .secret_string(ORIGINAL)
            .send()
            .await
            .unwrap();
        let url = w.moto.url();
        let how = json_key("token");
        let mut seen: Vec<Option<String>> = Vec::new();
        let u = secrets::update(&sm, "ci/pip", |old| {
            seen.push(old.map(str::to_string));
            if seen.len() == 1 {
                // Another writer (a plain PutSecretValue, which moves AWSCURRENT) right after
                // artoken's read.
                let url = url.clone();
                meanwhile(async move {
                    aws_sdk_secretsmanager::Client::new(&sdk_config(&url).await)
                        .put_secret_value()
                        .secret_id("ci/pip")
                        .secret_string(THEIRS)
                        .send()
                        .await
                        .unwrap();
                });
            }
            let new = store::edit(old, &how, NEW).map_err(AwsError::Invalid)?;
            Ok((new, ()))
        })
        .await
        .unwrap();
        assert!(u.written);
        assert_eq!(u.attempts, 2, "the refused swap made it read again");
        assert_eq!(
            seen,
            [Some(ORIGINAL.to_string()), Some(THEIRS.to_string())],
            "the second edit was made on the other writer's value"
        );
        // (By stage: moto's GetSecretValue without one returns the version last made current
        // by a PutSecretValue, not the one AWSCURRENT is on; AWS's default is AWSCURRENT.)
        let current = sm
            .get_secret_value()
            .secret_id("ci/pip")
            .version_stage("AWSCURRENT")
            .send()
            .await
            .unwrap();
        assert_eq!(current.secret_string(), Some(THEIRS_WITH_NEW));
        // AWSCURRENT was moved from the other writer's version (it is AWSPREVIOUS now), and no
        // version is left labelled pending.
        let previous = sm
            .get_secret_value()
            .secret_id("ci/pip")
            .version_stage("AWSPREVIOUS")
            .send()
            .await
            .unwrap();
        assert_eq!(previous.secret_string(), Some(THEIRS));
        let versions = sm
            .list_secret_version_ids()
            .secret_id("ci/pip")
            .include_deprecated(true)
            .send()
            .await
            .unwrap();
        let labels: Vec<String> = versions
            .versions()
            .iter()
            .flat_map(|v| v.version_stages().iter().cloned())
            .collect();
        assert!(!labels.iter().any(|l| l == secrets::PENDING), "{labels:?}");
        assert_eq!(labels.iter().filter(|l| *l == "AWSCURRENT").count(), 1);
    });
}

#[test]
fn a_parameter_written_between_read_and_put_is_edited_again_on_the_other_writers_version() {
    let w = World::new();
    let rt = runtime();
    rt.block_on(async {
        let client = w.ssm().await;
        client
            .put_parameter()
            .name("/ci/pip")
            .value(ORIGINAL)
            .r#type(ParameterType::SecureString)
            .description("pip credentials for CI")
            .send()
            .await
            .unwrap();
        let url = w.moto.url();
        let how = json_key("token");
        let mut seen: Vec<Option<String>> = Vec::new();
        let u = ssm::update(&client, "/ci/pip", |old| {
            seen.push(old.map(str::to_string));
            if seen.len() == 1 {
                let url = url.clone();
                meanwhile(async move {
                    aws_sdk_ssm::Client::new(&sdk_config(&url).await)
                        .put_parameter()
                        .name("/ci/pip")
                        .value(THEIRS)
                        .r#type(ParameterType::SecureString)
                        .overwrite(true)
                        .send()
                        .await
                        .unwrap();
                });
            }
            let new = store::edit(old, &how, NEW).map_err(AwsError::Invalid)?;
            Ok((new, ()))
        })
        .await
        .unwrap();
        assert!(u.written);
        assert_eq!(u.attempts, 2);
        assert_eq!(seen, [Some(ORIGINAL.to_string()), Some(THEIRS.to_string())]);
        let p = client
            .get_parameter()
            .name("/ci/pip")
            .with_decryption(true)
            .send()
            .await
            .unwrap()
            .parameter
            .unwrap();
        assert_eq!(p.value(), Some(THEIRS_WITH_NEW));
        // 1 the original, 2 theirs, 3 ours made on 1, 4 ours made again on 2.
        assert_eq!(p.version(), 4);
        assert_eq!(p.r#type(), Some(&ParameterType::SecureString));
        let history = client
            .get_parameter_history()
            .name("/ci/pip")
            .send()
            .await
            .unwrap();
        let last = history.parameters().last().unwrap();
        assert_eq!(last.version(), 4);
        assert_eq!(last.description(), Some("pip credentials for CI"));
    });
}

/// Puts a token in the provider's cache that expires in `left` seconds.
async fn cache_token(w: &World, token: &str, left: i64) {
    let spec = w.config.repository(None).unwrap();
    let now = artoken_core::source::now();
    let cached = artoken_core::cache::CachedToken {
        token: artoken_core::Token::new(token),
        expires_at: now + left,
        fetched_at: now - 60,
        skew: 0,
    };
    let key = w.provider.token_key(spec).await.unwrap().unwrap();
    w.provider
        .cache()
        .unwrap()
        .write_token(&key, &cached)
        .unwrap();
}

#[test]
fn a_store_is_rewritten_only_when_the_token_would_not_last() {
    let w = World::new();
    let rt = runtime();
    rt.block_on(async {
        let sm = w.secretsmanager().await;
        sm.create_secret()
            .name("ci/token")
            .secret_string("placeholder")
            .send()
            .await
            .unwrap();
        let versions = || async {
            w.secretsmanager()
                .await
                .list_secret_version_ids()
                .secret_id("ci/token")
                .include_deprecated(true)
                .send()
                .await
                .unwrap()
                .versions()
                .len()
        };
        let secret = || async {
            w.secretsmanager()
                .await
                .get_secret_value()
                .secret_id("ci/token")
                .version_stage("AWSCURRENT")
                .send()
                .await
                .unwrap()
                .secret_string
                .unwrap()
        };
        // The cached token has 30 minutes left.
        cache_token(&w, "cached-token-30m", 1800).await;
        let aws = w.aws();
        let job = Job {
            place: Place::SecretsManager {
                secret: "ci/token".into(),
                value: StoreValue::default(),
            },
            repository: None,
        };
        let run = |min_validity| {
            let (aws, job, config) = (&aws, &job, &w.config);
            async move {
                refresh_one(
                    aws,
                    config,
                    job,
                    Options {
                        min_validity,
                        dry_run: false,
                    },
                )
                .await
                .unwrap()
            }
        };
        let o = run(600).await;
        assert!(o.written && o.changed);
        assert!(
            o.line().starts_with(
                "secretsmanager:ci/token: updated the token (repository demo, token valid until "
            ),
            "{}",
            o.line()
        );
        assert_eq!(secret().await, "cached-token-30m");
        assert_eq!(versions().await, 2);
        // Still valid for 10 minutes more: nothing written.
        let o = run(600).await;
        assert!(!o.written && !o.changed);
        assert!(
            o.line()
                .starts_with("secretsmanager:ci/token: up to date, the token (repository demo"),
            "{}",
            o.line()
        );
        assert_eq!(versions().await, 2);
        assert_eq!(w.emu.stats().tokens_issued, 0);
        // Not valid for an hour more: a new token, written.
        let o = run(3600).await;
        assert!(o.written);
        let token = w.emu.issued_tokens().last().cloned().unwrap();
        assert_eq!(secret().await, token);
        assert_eq!(versions().await, 3);
        assert!(!o.line().contains(&token));

        // A parameter holding the index URL: created as a SecureString, and --dry-run writes
        // nothing (says what it would do, without the token).
        let url_job = |name: &str| Job {
            place: Place::Ssm {
                name: name.into(),
                value: StoreValue {
                    kind: ValueKind::Url,
                    json_key: None,
                },
            },
            repository: Some("demo".into()),
        };
        let dry = refresh_one(
            &aws,
            &w.config,
            &url_job("/ci/dry"),
            Options {
                min_validity: 600,
                dry_run: true,
            },
        )
        .await
        .unwrap();
        assert!(dry.changed && !dry.written);
        assert!(
            dry.line()
                .starts_with("ssm:/ci/dry: would set the index URL to *** (repository demo"),
            "{}",
            dry.line()
        );
        let ssm = w.ssm().await;
        let e = ssm
            .get_parameter()
            .name("/ci/dry")
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            aws_sdk_ssm::error::ProvideErrorMetadata::code(&e),
            Some("ParameterNotFound")
        );
        let o = refresh_one(
            &aws,
            &w.config,
            &url_job("/ci/index-url"),
            Options::default(),
        )
        .await
        .unwrap();
        assert!(o.written);
        let p = ssm
            .get_parameter()
            .name("/ci/index-url")
            .with_decryption(true)
            .send()
            .await
            .unwrap()
            .parameter
            .unwrap();
        assert_eq!(
            p.value().unwrap(),
            format!("http://aws:{token}@{}simple/", w.host_path())
        );
        assert_eq!(p.r#type(), Some(&ParameterType::SecureString));
        assert_eq!(p.version(), 1);
    });
}
