//! Shared set-up: moto (S3, Glue, Secrets Manager, SSM) and the CodeArtifact emulator, a config
//! naming the emulator's repository, and a provider whose AWS clients go to moto.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Once;

use artoken_aws::{Aws, Endpoints};
use artoken_core::config::{self, Config};
use artoken_core::{Provider, Settings};
use codeartifact_emulator::{BackgroundEmulator, EmulatorConfig};
use testkit::Moto;

pub const OWNER: &str = "111122223333";

/// The in-process SDK reads credentials and region from the process environment: set the
/// sandbox's static ones once, before any test touches AWS.
pub fn aws_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An empty AWS config at a fixed place under cargo's scratch dir for tests: it lives as
        // long as the process, and leaves nothing behind in /tmp (a sandbox kept by
        // `mem::forget` left one dir per test binary there on every run).
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("artoken-aws-env");
        std::fs::create_dir_all(&dir).expect("create the AWS config dir");
        std::fs::write(dir.join("config"), "").expect("write the empty AWS config");
        // SAFETY: runs once, before any test thread reads the environment (every test
        // calls this first and waits on the Once).
        unsafe {
            for k in [
                "AWS_PROFILE",
                "AWS_ENDPOINT_URL",
                "AWS_ENDPOINT_URL_S3",
                "AWS_ENDPOINT_URL_GLUE",
                "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                "AWS_ENDPOINT_URL_SSM",
                "AWS_SESSION_TOKEN",
            ] {
                std::env::remove_var(k);
            }
            std::env::set_var("AWS_ACCESS_KEY_ID", testkit::ACCESS_KEY_ID);
            std::env::set_var("AWS_SECRET_ACCESS_KEY", testkit::SECRET_ACCESS_KEY);
            std::env::set_var("AWS_REGION", testkit::REGION);
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
            std::env::set_var("AWS_CONFIG_FILE", dir.join("config"));
            std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"));
        }
    });
}

pub struct World {
    pub moto: Moto,
    pub emu: BackgroundEmulator,
    pub config: Config,
    pub provider: Provider,
    pub endpoints: Endpoints,
    pub dir: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        aws_env();
        let moto = Moto::start();
        let emu = BackgroundEmulator::start(EmulatorConfig::demo()).expect("emulator");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("artoken.yml");
        std::fs::write(
            &file,
            "default: demo\nrepositories:\n  demo: {domain: demo, owner: \"111122223333\", repository: pypi-store}\n  js: {domain: demo, owner: \"111122223333\", repository: npm-store, format: npm}\n",
        )
        .unwrap();
        let none = |_: &str| None;
        let config = config::load(&config::LoadOptions {
            home: None,
            cwd: dir.path().to_path_buf(),
            explicit: vec![file],
            env: &none,
        })
        .unwrap();
        let mut settings = Settings::from_env(&none);
        settings.cache_dir = Some(dir.path().join("cache"));
        settings.endpoint_override = Some(emu.url());
        let endpoints = Endpoints {
            s3: Some(moto.url()),
            glue: Some(moto.url()),
            secretsmanager: Some(moto.url()),
            ssm: Some(moto.url()),
            any: false,
        };
        World {
            moto,
            emu,
            config,
            provider: Provider::new(settings),
            endpoints,
            dir,
        }
    }

    pub fn aws(&self) -> Aws<'_> {
        Aws::new(&self.provider, self.endpoints.clone())
    }

    /// The emulator's endpoint for pypi-store (as GetRepositoryEndpoint names it).
    pub fn endpoint(&self) -> String {
        codeartifact_emulator::endpoint_url(
            &self.emu.url(),
            "demo",
            OWNER,
            testkit::REGION,
            codeartifact_emulator::Format::Pypi,
            "pypi-store",
        )
    }

    /// host[:port]/path of the endpoint, for building index lines.
    pub fn host_path(&self) -> String {
        self.endpoint().trim_start_matches("http://").to_string()
    }

    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let conf = sdk_config(&self.moto.url()).await;
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .force_path_style(true)
                .build(),
        )
    }

    pub async fn glue(&self) -> aws_sdk_glue::Client {
        let conf = sdk_config(&self.moto.url()).await;
        aws_sdk_glue::Client::new(&conf)
    }

    /// A Secrets Manager client on moto, for setting up and checking (not artoken's own).
    pub async fn secretsmanager(&self) -> aws_sdk_secretsmanager::Client {
        let conf = sdk_config(&self.moto.url()).await;
        aws_sdk_secretsmanager::Client::new(&conf)
    }

    /// An SSM client on moto, likewise.
    pub async fn ssm(&self) -> aws_sdk_ssm::Client {
        let conf = sdk_config(&self.moto.url()).await;
        aws_sdk_ssm::Client::new(&conf)
    }

    pub async fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        let s3 = self.s3().await;
        let _ = s3
            .create_bucket()
            .bucket(bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                        testkit::REGION,
                    ))
                    .build(),
            )
            .send()
            .await;
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(body.to_vec().into())
            .content_type("text/plain")
            .metadata("team", "data")
            .send()
            .await
            .unwrap();
    }

    pub async fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        let out = self
            .s3()
            .await
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        out.body.collect().await.unwrap().into_bytes().to_vec()
    }

    pub async fn create_job(&self, name: &str, defaults: &[(&str, &str)]) {
        let args: HashMap<String, String> = defaults
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.glue()
            .await
            .create_job()
            .name(name)
            .role("arn:aws:iam::111122223333:role/glue")
            .command(
                aws_sdk_glue::types::JobCommand::builder()
                    .name("glueetl")
                    .script_location("s3://scripts/etl.py")
                    .build(),
            )
            .set_default_arguments(Some(args))
            .send()
            .await
            .unwrap();
    }
}

/// The SDK's configuration for test clients of the service at `url` (moto), on the
/// environment's fake credentials.
pub async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .load()
        .await
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
