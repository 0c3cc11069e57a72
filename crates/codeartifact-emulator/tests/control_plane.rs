//! The control plane as the AWS SDK for Rust sees it: tokens, endpoints, domains, pagination,
//! and a typed error for every refusal; plus STS's XML error shape over plain HTTP.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_codeartifact::Client;
use aws_sdk_codeartifact::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codeartifact::types::PackageFormat;
use codeartifact_emulator::config::{AccessKey, DomainConfig, RepositoryConfig};
use codeartifact_emulator::{Emulator, EmulatorConfig, Faults, Format};

const REGION: &str = "eu-west-1";
const OWNER: &str = "123456789012";
const OTHER_OWNER: &str = "210987654321";
const ID: &str = "AKIDCONTROLPLANE";
const SECRET: &str = "control-plane-secret";

fn key(id: &str, deny: &[&str]) -> AccessKey {
    AccessKey {
        id: id.into(),
        secret: SECRET.into(),
        account: Some(OWNER.into()),
        user: Some("alice".into()),
        deny: deny.iter().map(|s| s.to_string()).collect(),
    }
}

fn repo(name: &str, format: Format) -> RepositoryConfig {
    RepositoryConfig {
        name: name.into(),
        format,
        description: Some(format!("{name} repository")),
        packages_dir: None,
        packages: Vec::new(),
    }
}

fn config() -> EmulatorConfig {
    let mut repositories = vec![
        repo("pypi-store", Format::Pypi),
        repo("npm-store", Format::Npm),
    ];
    for i in 1..=5 {
        repositories.push(repo(&format!("generic-{i:02}"), Format::Generic));
    }
    EmulatorConfig {
        region: "us-east-1".into(),
        access_keys: vec![
            key(ID, &[]),
            key("AKIDNOTOKEN", &["codeartifact:GetAuthorizationToken"]),
            key("AKIDNOBEARER", &["sts:GetServiceBearerToken"]),
            key(
                "AKIDNOREAD",
                &[
                    "codeartifact:GetRepositoryEndpoint",
                    "codeartifact:DescribeDomain",
                    "codeartifact:ListRepositoriesInDomain",
                ],
            ),
        ],
        domains: vec![
            DomainConfig {
                name: "corp".into(),
                owner: OWNER.into(),
                repositories,
            },
            DomainConfig {
                name: "shared".into(),
                owner: OTHER_OWNER.into(),
                repositories: vec![repo("maven-central", Format::Maven)],
            },
        ],
        ..EmulatorConfig::default()
    }
}

async fn start() -> Emulator {
    Emulator::start(config()).await.expect("emulator starts")
}

/// A client with explicit region and credentials, no profile files, no retries.
#[allow(deprecated)]
async fn client_as(emu: &Emulator, id: &str, secret: &str) -> Client {
    use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
    let no_files = ProfileFiles::builder()
        .with_contents(ProfileFileKind::Config, "")
        .with_contents(ProfileFileKind::Credentials, "")
        .build();
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .profile_files(no_files)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(id, secret, None, None, "test"))
        .endpoint_url(emu.url())
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    Client::new(&conf)
}

async fn client(emu: &Emulator) -> Client {
    client_as(emu, ID, SECRET).await
}

fn epoch(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// The error code and message of a failed call.
fn code_and_message<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> (String, String) {
    (
        e.code().unwrap_or("<none>").to_string(),
        e.message().unwrap_or("").to_string(),
    )
}

#[tokio::test]
async fn issues_tokens_that_live_as_long_as_asked() {
    let emu = start().await;
    let c = client(&emu).await;

    let before = epoch(SystemTime::now());
    let out = c
        .get_authorization_token()
        .domain("corp")
        .domain_owner(OWNER)
        .duration_seconds(900)
        .send()
        .await
        .expect("token");
    let token = out.authorization_token().expect("a token");
    assert!(token.len() > 100, "{token}");
    assert_eq!(emu.issued_tokens(), vec![token.to_string()]);
    let exp = out.expiration().expect("an expiration").as_secs_f64();
    assert!(
        exp >= before + 899.0 && exp <= epoch(SystemTime::now()) + 901.0,
        "{exp} vs {before}"
    );

    // No owner: the caller's account. No duration: 12 hours.
    let out = c
        .get_authorization_token()
        .domain("corp")
        .send()
        .await
        .unwrap();
    let exp = out.expiration().unwrap().as_secs_f64();
    assert!((exp - before - 43_200.0).abs() < 60.0, "{exp}");

    // duration 0: as long as the maximum.
    let out = c
        .get_authorization_token()
        .domain("corp")
        .duration_seconds(0)
        .send()
        .await
        .unwrap();
    let exp = out.expiration().unwrap().as_secs_f64();
    assert!((exp - before - 43_200.0).abs() < 60.0, "{exp}");

    // Capped by the token_lifetime fault.
    emu.set_faults(Faults {
        token_lifetime_secs: Some(5),
        ..Faults::default()
    });
    let out = c
        .get_authorization_token()
        .domain("corp")
        .duration_seconds(3600)
        .send()
        .await
        .unwrap();
    let exp = out.expiration().unwrap().as_secs_f64();
    assert!(exp - epoch(SystemTime::now()) <= 5.5, "{exp}");
    assert!(exp - before >= 4.0, "{exp}");

    // Another domain, owned by another account.
    c.get_authorization_token()
        .domain("shared")
        .domain_owner(OTHER_OWNER)
        .send()
        .await
        .unwrap();

    let stats = emu.stats();
    assert_eq!(stats.tokens_issued, 5);
    assert_eq!(stats.requests.get("GetAuthorizationToken"), Some(&5));
}

#[tokio::test]
async fn answers_the_repository_endpoint() {
    let emu = start().await;
    let c = client(&emu).await;
    for (name, format, fmt) in [
        ("pypi-store", PackageFormat::Pypi, Format::Pypi),
        ("npm-store", PackageFormat::Npm, Format::Npm),
    ] {
        let out = c
            .get_repository_endpoint()
            .domain("corp")
            .domain_owner(OWNER)
            .repository(name)
            .format(format)
            .send()
            .await
            .expect("endpoint");
        let expected =
            codeartifact_emulator::endpoint_url(&emu.url(), "corp", OWNER, REGION, fmt, name);
        assert_eq!(out.repository_endpoint(), Some(expected.as_str()));
        assert!(
            expected.ends_with(&format!(
                "/corp-{OWNER}.d.codeartifact.{REGION}.amazonaws.com/{fmt}/{name}/"
            )),
            "{expected}"
        );
    }
    // The signing region picks the region in the URL; Emulator::endpoint uses the configured one.
    assert_eq!(
        emu.endpoint("corp", OWNER, Format::Pypi, "pypi-store"),
        codeartifact_emulator::endpoint_url(
            &emu.url(),
            "corp",
            OWNER,
            "us-east-1",
            Format::Pypi,
            "pypi-store"
        )
    );
    assert_eq!(emu.stats().requests.get("GetRepositoryEndpoint"), Some(&2));
}

#[tokio::test]
async fn describes_the_domain() {
    let emu = start().await;
    let c = client(&emu).await;
    let out = c
        .describe_domain()
        .domain("corp")
        .domain_owner(OWNER)
        .send()
        .await
        .expect("describe");
    let d = out.domain().expect("a domain");
    assert_eq!(d.name(), Some("corp"));
    assert_eq!(d.owner(), Some(OWNER));
    assert_eq!(
        d.arn(),
        Some(format!("arn:aws:codeartifact:{REGION}:{OWNER}:domain/corp").as_str())
    );
    assert_eq!(d.status().map(|s| s.as_str()), Some("Active"));
    assert!(d.created_time().is_some());
    assert!(
        d.encryption_key()
            .unwrap()
            .starts_with(&format!("arn:aws:kms:{REGION}:{OWNER}:key/"))
    );
    assert_eq!(d.repository_count(), 7);
    assert_eq!(d.asset_size_bytes(), 0);
    assert!(
        d.s3_bucket_arn()
            .unwrap()
            .starts_with("arn:aws:s3:::assets-")
    );
    assert_eq!(emu.stats().requests.get("DescribeDomain"), Some(&1));
}

#[tokio::test]
async fn lists_repositories_page_by_page() {
    let emu = start().await;
    let c = client(&emu).await;

    let all = c
        .list_repositories_in_domain()
        .domain("corp")
        .domain_owner(OWNER)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = all.repositories().iter().filter_map(|r| r.name()).collect();
    assert_eq!(
        names,
        [
            "generic-01",
            "generic-02",
            "generic-03",
            "generic-04",
            "generic-05",
            "npm-store",
            "pypi-store"
        ]
    );
    assert!(all.next_token().is_none());
    let first = &all.repositories()[0];
    assert_eq!(first.administrator_account(), Some(OWNER));
    assert_eq!(first.domain_name(), Some("corp"));
    assert_eq!(first.domain_owner(), Some(OWNER));
    assert_eq!(first.description(), Some("generic-01 repository"));
    assert!(first.created_time().is_some());
    assert_eq!(
        first.arn(),
        Some(format!("arn:aws:codeartifact:{REGION}:{OWNER}:repository/corp/generic-01").as_str())
    );

    // Pages of 3 by hand.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = c
            .list_repositories_in_domain()
            .domain("corp")
            .domain_owner(OWNER)
            .max_results(3)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(out.repositories().len() <= 3);
        seen.extend(
            out.repositories()
                .iter()
                .filter_map(|r| r.name().map(str::to_string)),
        );
        match out.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, names);

    // The SDK's paginator with a prefix.
    let pages: Vec<_> = c
        .list_repositories_in_domain()
        .domain("corp")
        .domain_owner(OWNER)
        .repository_prefix("generic-")
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 3);
    let names: Vec<String> = pages
        .into_iter()
        .flat_map(|p| p.unwrap().repositories().to_vec())
        .filter_map(|r| r.name().map(str::to_string))
        .collect();
    assert_eq!(names.len(), 5);
    assert!(names.iter().all(|n| n.starts_with("generic-")));

    // A forged token.
    let e = c
        .list_repositories_in_domain()
        .domain("corp")
        .next_token("not-a-token!")
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_validation_exception(),
        "{e:?}"
    );
}

#[tokio::test]
async fn denied_actions_are_access_denied_naming_the_action() {
    let emu = start().await;
    for (id, action) in [
        ("AKIDNOTOKEN", "codeartifact:GetAuthorizationToken"),
        ("AKIDNOBEARER", "sts:GetServiceBearerToken"),
    ] {
        let c = client_as(&emu, id, SECRET).await;
        let e = c
            .get_authorization_token()
            .domain("corp")
            .send()
            .await
            .unwrap_err();
        let se = e.as_service_error().expect("a service error");
        assert!(se.is_access_denied_exception(), "{e:?}");
        let (code, message) = code_and_message(&e);
        assert_eq!(code, "AccessDeniedException");
        assert!(message.contains(action), "{message}");
        assert!(
            message.starts_with(&format!(
                "User: arn:aws:iam::{OWNER}:user/alice is not authorized to perform: {action} on resource: arn:aws:"
            )),
            "{message}"
        );
    }

    let c = client_as(&emu, "AKIDNOREAD", SECRET).await;
    let e = c
        .get_repository_endpoint()
        .domain("corp")
        .repository("pypi-store")
        .format(PackageFormat::Pypi)
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().unwrap().is_access_denied_exception());
    assert!(
        code_and_message(&e)
            .1
            .contains("codeartifact:GetRepositoryEndpoint")
    );
    let e = c.describe_domain().domain("corp").send().await.unwrap_err();
    assert!(e.as_service_error().unwrap().is_access_denied_exception());
    assert!(
        code_and_message(&e)
            .1
            .contains("codeartifact:DescribeDomain")
    );
    let e = c
        .list_repositories_in_domain()
        .domain("corp")
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().unwrap().is_access_denied_exception());
    assert!(
        code_and_message(&e)
            .1
            .contains("codeartifact:ListRepositoriesInDomain")
    );
    // The key may still do what it is not denied.
    c.get_authorization_token()
        .domain("corp")
        .send()
        .await
        .unwrap();

    let stats = emu.stats();
    assert_eq!(stats.tokens_issued, 1);
    assert_eq!(stats.requests.get("GetAuthorizationToken"), Some(&3));
}

#[tokio::test]
async fn unknown_domains_owners_and_repositories_are_not_found() {
    let emu = start().await;
    let c = client(&emu).await;

    let e = c
        .get_authorization_token()
        .domain("nope")
        .send()
        .await
        .unwrap_err();
    let err = e.into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let aws_sdk_codeartifact::operation::get_authorization_token::GetAuthorizationTokenError::ResourceNotFoundException(nf) = err else {
        unreachable!()
    };
    assert_eq!(nf.resource_id(), Some("nope"));
    assert_eq!(nf.resource_type().map(|t| t.as_str()), Some("domain"));
    assert!(nf.message().contains("nope"), "{}", nf.message());

    // The domain exists, but not under this owner; and without an owner, the caller's account
    // (which does not own `shared`) is assumed.
    for owner in [Some(OWNER), None] {
        let e = c
            .get_authorization_token()
            .domain("shared")
            .set_domain_owner(owner.map(str::to_string))
            .send()
            .await
            .unwrap_err();
        assert!(
            e.as_service_error()
                .unwrap()
                .is_resource_not_found_exception(),
            "{e:?}"
        );
    }
    let e = c
        .describe_domain()
        .domain("corp")
        .domain_owner(OTHER_OWNER)
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error()
            .unwrap()
            .is_resource_not_found_exception()
    );

    // Unknown repository; a repository of another format.
    for (name, format) in [
        ("nope", PackageFormat::Pypi),
        ("npm-store", PackageFormat::Pypi),
    ] {
        let e = c
            .get_repository_endpoint()
            .domain("corp")
            .repository(name)
            .format(format)
            .send()
            .await
            .unwrap_err();
        let err = e.into_service_error();
        let aws_sdk_codeartifact::operation::get_repository_endpoint::GetRepositoryEndpointError::ResourceNotFoundException(nf) = err else {
            panic!("{err:?}")
        };
        assert_eq!(nf.resource_id(), Some(name));
        assert_eq!(nf.resource_type().map(|t| t.as_str()), Some("repository"));
    }
    assert_eq!(emu.stats().tokens_issued, 0);
}

#[tokio::test]
async fn invalid_input_is_a_validation_exception() {
    let emu = start().await;
    let c = client(&emu).await;

    for duration in [100, 899, 43_201, -1] {
        let e = c
            .get_authorization_token()
            .domain("corp")
            .duration_seconds(duration)
            .send()
            .await
            .unwrap_err();
        let err = e.into_service_error();
        let aws_sdk_codeartifact::operation::get_authorization_token::GetAuthorizationTokenError::ValidationException(v) = err else {
            panic!("{duration}: {err:?}")
        };
        assert_eq!(
            v.reason().map(|r| r.as_str()),
            Some("FIELD_VALIDATION_FAILED")
        );
        assert!(v.message().contains("durationSeconds"), "{}", v.message());
    }

    let e = c
        .get_repository_endpoint()
        .domain("corp")
        .repository("pypi-store")
        .format(PackageFormat::from("wheel"))
        .send()
        .await
        .unwrap_err();
    let (code, message) = code_and_message(&e);
    assert!(
        e.as_service_error().unwrap().is_validation_exception(),
        "{e:?}"
    );
    assert_eq!(code, "ValidationException");
    assert!(message.contains("format"), "{message}");

    for (domain, owner) in [("Bad_Name", OWNER), ("corp", "12345")] {
        let e = c
            .get_authorization_token()
            .domain(domain)
            .domain_owner(owner)
            .send()
            .await
            .unwrap_err();
        assert!(
            e.as_service_error().unwrap().is_validation_exception(),
            "{e:?}"
        );
    }
    let e = c
        .get_repository_endpoint()
        .domain("corp")
        .repository("-bad")
        .format(PackageFormat::Pypi)
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().unwrap().is_validation_exception());
    assert_eq!(emu.stats().tokens_issued, 0);
}

#[tokio::test]
async fn faults_throttle_and_fail_the_token_endpoint() {
    let emu = start().await;
    let c = client(&emu).await;

    emu.set_faults(Faults {
        throttle_rate: 1.0,
        retry_after_secs: 7,
        ..Faults::default()
    });
    let e = c
        .get_authorization_token()
        .domain("corp")
        .send()
        .await
        .unwrap_err();
    let err = e.into_service_error();
    let aws_sdk_codeartifact::operation::get_authorization_token::GetAuthorizationTokenError::ThrottlingException(t) = err else {
        panic!("{err:?}")
    };
    assert_eq!(t.retry_after_seconds(), Some(7));
    let e = c.describe_domain().domain("corp").send().await.unwrap_err();
    assert_eq!(code_and_message(&e).0, "ThrottlingException");

    emu.set_faults(Faults {
        token_endpoint_down: true,
        ..Faults::default()
    });
    let e = c
        .get_authorization_token()
        .domain("corp")
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_internal_server_exception(),
        "{e:?}"
    );
    // Other operations still work.
    c.describe_domain().domain("corp").send().await.unwrap();

    // The 5xx fault applies to every operation.
    emu.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let e = c.describe_domain().domain("corp").send().await.unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_internal_server_exception(),
        "{e:?}"
    );

    emu.set_faults(Faults::default());
    c.get_authorization_token()
        .domain("corp")
        .send()
        .await
        .unwrap();
    let stats = emu.stats();
    assert_eq!(stats.tokens_issued, 1);
    assert_eq!(stats.requests.get("GetAuthorizationToken"), Some(&3));
    assert_eq!(stats.requests.get("DescribeDomain"), Some(&2));
    assert_eq!(stats.requests.get("fault:5xx"), Some(&1));
}

#[tokio::test]
async fn scripted_faults_fail_exactly_the_requests_they_name() {
    let emu = start().await;
    let c = client(&emu).await;
    let mut script = std::collections::BTreeMap::new();
    script.insert("GetAuthorizationToken".to_string(), "ET.E".to_string());
    emu.set_faults(Faults {
        retry_after_secs: 2,
        script,
        ..Faults::default()
    });
    let token = || c.get_authorization_token().domain("corp").send();
    let e = token().await.unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_internal_server_exception(),
        "{e:?}"
    );
    let err = token().await.unwrap_err().into_service_error();
    let aws_sdk_codeartifact::operation::get_authorization_token::GetAuthorizationTokenError::ThrottlingException(t) = err else {
        panic!("{err:?}")
    };
    assert_eq!(t.retry_after_seconds(), Some(2));
    token().await.unwrap();
    let e = token().await.unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_internal_server_exception(),
        "{e:?}"
    );
    // The pattern is used up: every later request is served.
    for _ in 0..3 {
        token().await.unwrap();
    }
    assert!(emu.faults().script.is_empty(), "{:?}", emu.faults().script);
    // `*` covers every operation without its own entry, one step per request.
    let mut faults = emu.faults();
    faults.script.insert("*".to_string(), "T.".to_string());
    faults
        .script
        .insert("DescribeDomain".to_string(), ".".to_string());
    emu.set_faults(faults);
    c.describe_domain().domain("corp").send().await.unwrap();
    let e = c.describe_domain().domain("corp").send().await.unwrap_err();
    assert_eq!(code_and_message(&e).0, "ThrottlingException");
    token().await.unwrap();
    c.describe_domain().domain("corp").send().await.unwrap();
    assert!(emu.faults().script.is_empty(), "{:?}", emu.faults().script);
    let stats = emu.stats();
    assert_eq!(stats.tokens_issued, 5);
    assert_eq!(stats.requests.get("GetAuthorizationToken"), Some(&8));
    assert_eq!(stats.requests.get("fault:5xx"), Some(&2));
    assert_eq!(stats.requests.get("fault:throttle"), Some(&2));
}

#[tokio::test]
async fn a_script_with_an_unknown_step_or_operation_is_refused_over_http() {
    let emu = start().await;
    let http = reqwest::Client::new();
    for (body, needle) in [
        (
            r#"{"script": {"GetAuthorizationToken": "EX"}}"#,
            "faults.script.GetAuthorizationToken",
        ),
        (
            r#"{"script": {"PutPackage": "E"}}"#,
            "faults.script.PutPackage: unknown operation",
        ),
    ] {
        let r = http
            .put(format!("{}/_emulator/faults", emu.url()))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert!(r.text().await.unwrap().contains(needle));
    }
    assert!(emu.faults().script.is_empty());
}

#[tokio::test]
async fn bad_credentials_and_skewed_clocks_are_refused() {
    let emu = start().await;

    let c = client_as(&emu, "AKIDUNKNOWN", SECRET).await;
    let e = c
        .get_authorization_token()
        .domain("corp")
        .send()
        .await
        .unwrap_err();
    let (code, message) = code_and_message(&e);
    assert_eq!(code, "UnrecognizedClientException");
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));

    let c = client_as(&emu, ID, "wrong-secret").await;
    let e = c
        .get_authorization_token()
        .domain("corp")
        .send()
        .await
        .unwrap_err();
    let (code, message) = code_and_message(&e);
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        message.starts_with("The request signature we calculated does not match"),
        "{message}"
    );

    // The emulator's clock is an hour ahead: the SDK's signature looks expired.
    emu.set_faults(Faults {
        clock_skew_secs: 3600,
        ..Faults::default()
    });
    let c = client(&emu).await;
    let e = c.describe_domain().domain("corp").send().await.unwrap_err();
    let (code, message) = code_and_message(&e);
    assert_eq!(code, "InvalidSignatureException");
    assert!(message.starts_with("Signature expired: "), "{message}");

    assert_eq!(emu.stats().tokens_issued, 0);
    assert!(emu.issued_tokens().is_empty());
}

#[tokio::test]
async fn unsigned_and_unknown_requests_get_aws_errors() {
    let emu = start().await;
    let http = reqwest::Client::new();

    let resp = http
        .post(format!("{}/v1/authorization-token?domain=corp", emu.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "Missing Authentication Token");

    let resp = http
        .get(format!("{}/v1/no-such-operation", emu.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "UnknownOperationException"
    );
    // The right path with the wrong method is unknown too.
    let resp = http
        .get(format!("{}/v1/authorization-token?domain=corp", emu.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);

    let resp = http
        .post(format!("{}/v1/authorization-token?domain=corp", emu.url()))
        .header("authorization", "AWS4-HMAC-SHA256 garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "IncompleteSignatureException"
    );
    assert_eq!(emu.stats().requests.get("GetAuthorizationToken"), Some(&2));
}

#[tokio::test]
async fn sts_refuses_unsigned_requests_in_the_query_xml_shape() {
    let emu = start().await;
    let resp = reqwest::Client::new()
        .post(format!("{}/", emu.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=GetCallerIdentity&Version=2011-06-15")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    let body = resp.text().await.unwrap();
    assert!(body.starts_with("<ErrorResponse"), "{body}");
    for part in [
        "<Error>",
        "<Type>Sender</Type>",
        "<Code>MissingAuthenticationToken</Code>",
        "<Message>",
        "<RequestId>",
    ] {
        assert!(body.contains(part), "{part} in {body}");
    }
    assert_eq!(emu.stats().requests.get("GetCallerIdentity"), Some(&1));
    emu.shutdown().await;
}
