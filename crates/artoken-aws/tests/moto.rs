//! The library against moto (S3, Glue) and the CodeArtifact emulator.

mod common;

use std::os::unix::fs::PermissionsExt;

use artoken_aws::glue::{plan_job_run, start_job_run};
use artoken_aws::installer::{ADDITIONAL_MODULES, INSTALLER_OPTION};
use artoken_aws::refresh::{Job, Options, Place, refresh_one};
use artoken_aws::s3::{S3Object, update};
use artoken_aws::{AwsError, Mode};
use common::*;

fn requirements(w: &World, eol: &str) -> String {
    let hp = w.host_path();
    [
        "# MWAA requirements".to_string(),
        format!("--extra-index-url http://aws:old-token@{hp}simple/"),
        "--index-url https://pypi.org/simple/".to_string(),
        format!("--extra-index-url=http://aws:other@{}/demo-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/other-repo/simple/", w.emu.url().trim_start_matches("http://")),
        "apache-airflow-providers-amazon==9.0.0  # keep".to_string(),
        format!("-i http://aws:${{AUTH_TOKEN}}@{hp}simple/"),
        "-r base.txt".to_string(),
        String::new(),
    ]
    .join(eol)
}

fn with_token(text: &str, token: &str) -> String {
    text.replace("old-token", token)
        .replace("${AUTH_TOKEN}", token)
}

#[test]
fn s3_refresh_changes_only_the_token_lf_and_crlf_and_is_idempotent() {
    let w = World::new();
    let rt = runtime();
    rt.block_on(async {
        let aws = w.aws();
        for (key, eol) in [("lf.txt", "\n"), ("crlf.txt", "\r\n")] {
            let text = requirements(&w, eol);
            w.put("mwaa", key, text.as_bytes()).await;
            let job = Job {
                place: Place::S3(S3Object::new("mwaa", key)),
                repository: None,
            };
            let o = refresh_one(&aws, &w.config, &job, Options::default())
                .await
                .unwrap();
            assert!(o.written);
            assert_eq!(o.rewrite.index_lines, 2);
            let token = w.emu.issued_tokens().last().unwrap().clone();
            let got = String::from_utf8(w.get("mwaa", key).await).unwrap();
            assert_eq!(got, with_token(&text, &token), "{key}");
            assert!(
                o.summary()
                    .starts_with("updated 2 index lines (repository demo, token valid until "),
                "{}",
                o.summary()
            );
            // Headers and metadata are carried over.
            let head = w
                .s3()
                .await
                .head_object()
                .bucket("mwaa")
                .key(key)
                .send()
                .await
                .unwrap();
            assert_eq!(head.content_type(), Some("text/plain"));
            assert_eq!(
                head.metadata().unwrap().get("team").map(String::as_str),
                Some("data")
            );
            // A second run finds nothing to do and writes nothing.
            let before = head.e_tag().unwrap().to_string();
            let again = refresh_one(&aws, &w.config, &job, Options::default())
                .await
                .unwrap();
            assert!(!again.written && !again.rewrite.changed());
            assert!(
                again.summary().starts_with("up to date, 2 index lines ("),
                "{}",
                again.summary()
            );
            let head = w
                .s3()
                .await
                .head_object()
                .bucket("mwaa")
                .key(key)
                .send()
                .await
                .unwrap();
            assert_eq!(head.e_tag().unwrap(), before);
        }
        assert_eq!(
            w.emu.stats().tokens_issued,
            1,
            "the token comes from the cache the second time"
        );
    });
}

#[test]
fn a_write_between_read_and_put_is_kept() {
    let w = World::new();
    let rt = runtime();
    rt.block_on(async {
        w.put("race", "r.txt", b"a\n").await;
        let client = w.s3().await;
        let moto = w.moto.url();
        let obj = S3Object::new("race", "r.txt");
        let mut calls = 0;
        let u = update(&client, &obj, |bytes| {
            calls += 1;
            if calls == 1 {
                // Someone else writes after our read, before our put.
                let moto = moto.clone();
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
                            .endpoint_url(moto)
                            .load()
                            .await;
                        let s3 = aws_sdk_s3::Client::from_conf(
                            aws_sdk_s3::config::Builder::from(&conf)
                                .force_path_style(true)
                                .build(),
                        );
                        s3.put_object()
                            .bucket("race")
                            .key("r.txt")
                            .body(b"a\nb\n".to_vec().into())
                            .send()
                            .await
                            .unwrap();
                    });
                })
                .join()
                .unwrap();
            }
            let mut new = bytes.to_vec();
            new.extend_from_slice(b"ours\n");
            Ok((Some(new), ()))
        })
        .await
        .unwrap();
        assert!(u.written);
        assert_eq!(u.attempts, 2);
        assert_eq!(w.get("race", "r.txt").await, b"a\nb\nours\n");
    });
}

#[test]
fn concurrent_conditional_writers_lose_no_edit() {
    let w = World::new();
    let rt = runtime();
    rt.block_on(async {
        w.put("many", "m.txt", b"").await;
        let client = w.s3().await;
        let obj = S3Object::new("many", "m.txt");
        let writers = (0..4).map(|i| {
            let (client, obj) = (client.clone(), obj.clone());
            tokio::spawn(async move {
                for j in 0..3 {
                    update(&client, &obj, |b| {
                        let mut n = b.to_vec();
                        n.extend_from_slice(format!("w{i}-{j}\n").as_bytes());
                        Ok((Some(n), ()))
                    })
                    .await
                    .unwrap();
                }
            })
        });
        for h in writers.collect::<Vec<_>>() {
            h.await.unwrap();
        }
        let text = String::from_utf8(w.get("many", "m.txt").await).unwrap();
        for i in 0..4 {
            for j in 0..3 {
                assert!(
                    text.contains(&format!("w{i}-{j}\n")),
                    "lost w{i}-{j}: {text}"
                );
            }
        }
        assert_eq!(text.lines().count(), 12);
    });
}

#[test]
fn glue_start_job_run_sends_the_merged_arguments() {
    let w = World::new();
    let rt = runtime();
    rt.block_on(async {
        w.create_job(
            "etl",
            &[
                (INSTALLER_OPTION, "--upgrade --index-url=https://aws:{auth_token}@elsewhere.example/pypi/x/simple/"),
                (ADDITIONAL_MODULES, "artoken-demo==1.0.0"),
                ("--job-language", "python"),
            ],
        )
        .await;
        let aws = w.aws();
        let spec = w.config.repository(None).unwrap();
        let auth = aws.auth(spec, 0).await.unwrap();
        let client = aws.glue(spec).await.unwrap();
        let plan = plan_job_run(&client, "etl", &auth, &[("--day".into(), "2026-11-23".into())], Mode::ExtraIndexUrl)
            .await
            .unwrap();
        let token = auth.token.token.expose().to_string();
        let url = format!("http://aws:{token}@{}simple/", w.host_path());
        let want_option = format!("--upgrade --index-url=https://aws:{{auth_token}}@elsewhere.example/pypi/x/simple/ --extra-index-url={url}");
        assert_eq!(plan.arguments[INSTALLER_OPTION], want_option);
        assert!(plan.warnings.is_empty());
        let run_id = start_job_run(&client, &plan).await.unwrap();
        let run = w.glue().await.get_job_run().job_name("etl").run_id(&run_id).send().await.unwrap();
        let args = run.job_run().unwrap().arguments().unwrap();
        // What was sent arrived (moto also merges in the job's defaults: not asserted).
        for (k, v) in &plan.arguments {
            assert_eq!(args.get(k), Some(v), "{k}");
        }
        assert_eq!(args[INSTALLER_OPTION], want_option);
        assert_eq!(args["--day"], "2026-11-23");
        assert!(!format!("{:?}", plan.redacted()).contains(&token));
    });
}

#[test]
fn missing_buckets_keys_and_jobs_are_named() {
    let w = World::new();
    let rt = runtime();
    rt.block_on(async {
        let aws = w.aws();
        let msg = |e: AwsError| artoken_aws::error::one_line(&e);
        let job = |b: &str, k: &str| Job {
            place: Place::S3(S3Object::new(b, k)),
            repository: None,
        };
        let e = refresh_one(&aws, &w.config, &job("no-such-bucket", "r.txt"), Options::default()).await.unwrap_err();
        assert_eq!(msg(e), "s3://no-such-bucket/r.txt: bucket no-such-bucket does not exist");
        w.put("there", "other.txt", b"x").await;
        let e = refresh_one(&aws, &w.config, &job("there", "r.txt"), Options::default()).await.unwrap_err();
        assert_eq!(msg(e), "s3://there/r.txt: no such object (bucket there has no key r.txt)");
        let e = refresh_one(&aws, &w.config, &job("there", "other.txt"), Options::default()).await.unwrap_err();
        assert_eq!(
            msg(e),
            format!("s3://there/other.txt: no --index-url, --extra-index-url or -i line points at repository demo ({})", w.endpoint())
        );
        let spec = w.config.repository(None).unwrap();
        let auth = aws.auth(spec, 0).await.unwrap();
        let client = aws.glue(spec).await.unwrap();
        let e = plan_job_run(&client, "no-such-job", &auth, &[], Mode::IndexUrl).await.unwrap_err();
        assert_eq!(msg(e), "Glue job no-such-job not found in region eu-west-1");
        // A repository that cannot hold a pip URL.
        let js = w.config.repository(Some("js")).unwrap();
        let e = aws.auth(js, 0).await.unwrap_err();
        assert_eq!(msg(e), "repository js has format npm; pip index URLs need format pypi");
    });
}

#[test]
fn file_targets_are_rewritten_in_place_0600() {
    let w = World::new();
    let rt = runtime();
    rt.block_on(async {
        let path = w.dir.path().join("requirements.txt");
        let text = requirements(&w, "\r\n");
        std::fs::write(&path, &text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let job = Job {
            place: Place::File(path.clone()),
            repository: Some("demo".into()),
        };
        let dry = refresh_one(
            &w.aws(),
            &w.config,
            &job,
            Options {
                min_validity: 0,
                dry_run: true,
            },
        )
        .await
        .unwrap();
        assert!(!dry.written && dry.rewrite.changed());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        let diff = dry.rewrite.diff("requirements.txt");
        assert!(
            diff.contains("@@ line 2 @@\n-")
                && diff.contains("${AUTH_TOKEN}")
                && diff.contains("aws:***@"),
            "{diff}"
        );
        let o = refresh_one(&w.aws(), &w.config, &job, Options::default())
            .await
            .unwrap();
        assert!(o.written);
        let token = w.emu.issued_tokens().last().unwrap().clone();
        assert!(!diff.contains(&token));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            with_token(&text, &token)
        );
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    });
}

#[test]
fn a_token_is_fetched_anew_when_the_cached_one_would_not_last() {
    let w = World::new();
    let rt = runtime();
    rt.block_on(async {
        let aws = w.aws();
        let spec = w.config.repository(None).unwrap();
        // A cached token with 2h left (of a 2h life): fresh by the cache's rules.
        let now = artoken_core::source::now();
        let cached = artoken_core::cache::CachedToken {
            token: artoken_core::Token::new("cached-token-2h"),
            expires_at: now + 7200,
            fetched_at: now - 60,
            skew: 0,
        };
        let key = w.provider.token_key(spec).await.unwrap().unwrap();
        w.provider
            .cache()
            .unwrap()
            .write_token(&key, &cached)
            .unwrap();
        let a = aws.auth(spec, 3600).await.unwrap();
        assert_eq!(
            a.token.token.expose(),
            "cached-token-2h",
            "2h left is enough for 1h"
        );
        let b = aws.auth(spec, 3 * 3600).await.unwrap();
        assert!(
            w.emu
                .issued_tokens()
                .contains(&b.token.token.expose().to_string()),
            "a new token for 3h"
        );
        let e = aws.auth(spec, 43_200).await.unwrap_err();
        assert!(
            artoken_aws::error::one_line(&e)
                .contains("tokens live 12h, so none stays valid for 12h"),
            "{e}"
        );
    });
}
