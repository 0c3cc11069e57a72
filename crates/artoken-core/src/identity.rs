//! Which cache entry is this caller's? The identity part of every cache key: the credential
//! source the AWS SDK's chain will use and what names it, from the environment and the shared
//! config files (read with the SDK's own parser; never the credentials themselves).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::task::{Context, Poll, Waker};

use aws_config::profile::ProfileSet;
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

use crate::spec::RepositorySpec;

/// The variables that choose or name the credentials (and where the shared files are).
pub const VARS: [&str; 17] = [
    "HOME",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
];

/// Profile properties that choose or name a profile's credentials, or where its calls go.
const PROFILE_KEYS: [&str; 19] = [
    "aws_access_key_id",
    "role_arn",
    "role_session_name",
    "external_id",
    "source_profile",
    "credential_source",
    "web_identity_token_file",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "sso_region",
    "sso_account_id",
    "sso_role_name",
    "login_session",
    "region",
    "endpoint_url",
    "services",
    "use_fips_endpoint",
    "use_dualstack_endpoint",
];

/// Properties that give a profile credentials of its own (else the SDK's chain goes on).
const CREDENTIAL_KEYS: [&str; 7] = [
    "aws_access_key_id",
    "role_arn",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
    "login_session",
];

/// `source_profile` chains longer than this are not followed (the SDK refuses cycles).
const MAX_CHAIN: usize = 8;

/// The environment as far as identity goes, captured once (the process environment in the
/// binary, a map in tests). The secret access key is kept only as "set", a container
/// authorization token only as a digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityEnv {
    vars: BTreeMap<&'static str, String>,
}

impl IdentityEnv {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> IdentityEnv {
        let mut vars = BTreeMap::new();
        for k in VARS {
            if let Some(v) = env(k).filter(|v| !v.is_empty()) {
                let v = match k {
                    "AWS_SECRET_ACCESS_KEY" => "set".to_string(),
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN" => digest(v.as_bytes()),
                    _ => v,
                };
                vars.insert(k, v);
            }
        }
        IdentityEnv { vars }
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.vars.get(k).map(String::as_str)
    }
}

/// What this machine knows about who the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalIdentity {
    /// Key material: the credential source and what names it (no secrets).
    pub material: String,
    /// Nothing here tells this caller from another (an instance role, a shared container
    /// credentials endpoint): STS has to say who it is.
    pub opaque: bool,
}

/// The identity for `spec`: its `role_arn`, then the source the SDK's chain picks: the
/// configured profile, else static keys in the environment, else the `AWS_PROFILE` (or
/// `default`) profile if it has credentials, else web identity, else container credentials,
/// else the instance (IMDS). Profiles are read with the SDK's parser: keys, roles with their
/// source profiles, SSO sessions, web identity files, `credential_process` commands, regions
/// and endpoints all go into the key.
pub fn local_identity(spec: &RepositorySpec, env: &IdentityEnv) -> LocalIdentity {
    let profiles = load_profiles(env);
    let mut f: Vec<String> = Vec::new();
    if let Some(role) = &spec.role_arn {
        f.push(format!("assume={role}"));
    }
    let base_opaque = match (&profiles, &spec.profile) {
        (Err(e), _) => {
            // The SDK cannot read them either: let STS (or its error) decide.
            f.push(format!("profiles-unreadable={e}"));
            true
        }
        (Ok(set), Some(p)) => {
            f.push("source=profile".into());
            !profile_material(set, p, &mut f)
        }
        (Ok(set), None) => default_chain(set, env, &mut f),
    };
    LocalIdentity {
        material: f.join(";"),
        opaque: base_opaque && spec.role_arn.is_none(),
    }
}

/// The SDK's default chain; returns whether the source is opaque.
fn default_chain(set: &ProfileSet, env: &IdentityEnv, f: &mut Vec<String>) -> bool {
    let selected = env.get("AWS_PROFILE").unwrap_or("default");
    // The selected profile's region and endpoint count whatever gives the credentials.
    let mut profile = Vec::new();
    let has_credentials = profile_material(set, selected, &mut profile);
    f.extend(profile);
    if let Some(p) = env.get("AWS_DEFAULT_PROFILE") {
        f.push(format!("AWS_DEFAULT_PROFILE={p}"));
    }
    if let (Some(id), Some(_)) = (
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
    ) {
        f.push(format!("source=env-key;key={id}"));
        return false;
    }
    if has_credentials {
        f.push("source=profile".into());
        return false;
    }
    if let (Some(file), Some(role)) = (
        env.get("AWS_WEB_IDENTITY_TOKEN_FILE"),
        env.get("AWS_ROLE_ARN"),
    ) {
        f.push(format!(
            "source=web-identity;file={file};role={role};session={}",
            env.get("AWS_ROLE_SESSION_NAME").unwrap_or("")
        ));
        return false;
    }
    if let Some(uri) = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        // ECS gives every task its own path.
        f.push(format!("source=container;relative={uri}"));
        return false;
    }
    if let Some(uri) = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
        // One address (and token file path) for every pod on a node (EKS Pod Identity): only
        // the pod's own authorization token tells them apart, so its digest is in the key, and
        // STS names the caller behind it (the token rotates; the caller does not).
        let file = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        let token = match file {
            Some(path) => std::fs::read(path)
                .map(|b| digest(b.trim_ascii()))
                .unwrap_or_default(),
            None => env
                .get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
                .unwrap_or("")
                .to_string(),
        };
        f.push(format!(
            "source=container;full={uri};token-file={};token={token}",
            file.unwrap_or("")
        ));
        return true;
    }
    f.push(format!(
        "source=instance;imds={};disabled={}",
        env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT").unwrap_or(""),
        env.get("AWS_EC2_METADATA_DISABLED").unwrap_or("")
    ));
    true
}

/// Appends what names profile `name` (following `source_profile` and `sso_session`);
/// returns whether it has credentials of its own.
fn profile_material(set: &ProfileSet, name: &str, f: &mut Vec<String>) -> bool {
    let mut seen: Vec<&str> = Vec::new();
    let mut has_credentials = false;
    let mut next = Some(name);
    while let Some(n) = next.take() {
        f.push(format!("profile={n}"));
        if seen.contains(&n) || seen.len() >= MAX_CHAIN {
            break;
        }
        seen.push(n);
        let Some(p) = set.get_profile(n) else {
            break;
        };
        has_credentials |= CREDENTIAL_KEYS.iter().any(|k| p.get(k).is_some());
        for k in PROFILE_KEYS {
            if let Some(v) = p.get(k) {
                f.push(format!("{k}={v}"));
            }
        }
        if let Some(s) = p.get("sso_session").and_then(|s| set.sso_session(s)) {
            for k in ["sso_start_url", "sso_region"] {
                if let Some(v) = s.get(k) {
                    f.push(format!("sso-session.{k}={v}"));
                }
            }
        }
        next = p.get("source_profile");
    }
    has_credentials
}

/// A short digest of a secret: tells two apart without keeping either.
fn digest(secret: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("sha256:{}", hex::encode(&Sha256::digest(secret)[..16]))
}

/// The shared config and credentials files as the SDK reads them (`AWS_CONFIG_FILE`,
/// `AWS_SHARED_CREDENTIALS_FILE`, `~`), parsed by the SDK.
fn load_profiles(env: &IdentityEnv) -> Result<ProfileSet, String> {
    let vars: HashMap<String, String> = env
        .vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let env = Env::from(vars);
    let (fs, files) = (Fs::real(), EnvConfigFiles::default());
    let load = aws_config::profile::load(&fs, &env, &files, None);
    match ready(load) {
        Some(Ok(set)) => Ok(set),
        Some(Err(e)) => Err(crate::redact::error_line(&e)),
        None => Err("the AWS SDK's profile loader did not finish at once".into()),
    }
}

/// The SDK's profile loader does its file IO inline (its `Fs` says so): it is ready on the
/// first poll, which keeps this usable without a runtime. `None` if that ever changes.
fn ready<F: Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Home {
        dir: tempfile::TempDir,
    }

    impl Home {
        fn new(config: &str, credentials: &str) -> Home {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
            std::fs::write(dir.path().join(".aws/config"), config).unwrap();
            std::fs::write(dir.path().join(".aws/credentials"), credentials).unwrap();
            Home { dir }
        }

        fn env(&self, vars: &[(&str, &str)]) -> IdentityEnv {
            let home = self.dir.path().to_string_lossy().to_string();
            let mut all: Vec<(&str, &str)> = vec![("HOME", &home)];
            all.extend_from_slice(vars);
            let map: HashMap<String, String> = all
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            IdentityEnv::from_env(&|k| map.get(k).cloned())
        }
    }

    fn spec() -> RepositorySpec {
        RepositorySpec::new("corp", "corp")
    }

    fn id(home: &Home, vars: &[(&str, &str)]) -> LocalIdentity {
        local_identity(&spec(), &home.env(vars))
    }

    const CREDENTIALS: &str = "[a]\naws_access_key_id = AKIAAAAA\naws_secret_access_key = sa\n\
                               [b]\naws_access_key_id = AKIABBBB\naws_secret_access_key = sb\n";

    #[test]
    fn profiles_from_aws_profile_are_told_apart() {
        let home = Home::new("", CREDENTIALS);
        let a = id(&home, &[("AWS_PROFILE", "a")]);
        let b = id(&home, &[("AWS_PROFILE", "b")]);
        assert_ne!(a, b);
        assert!(!a.opaque && !b.opaque);
        assert!(a.material.contains("aws_access_key_id=AKIAAAAA"), "{a:?}");
        assert!(!a.material.contains("sa"), "no secret in the key: {a:?}");
        // a profile selected in the config wins the same way
        let mut s = spec();
        s.profile = Some("a".into());
        let configured = local_identity(&s, &home.env(&[("AWS_PROFILE", "b")]));
        assert!(configured.material.contains("AKIAAAAA"), "{configured:?}");
        assert!(!configured.material.contains("AKIABBBB"), "{configured:?}");
    }

    #[test]
    fn a_profile_whose_key_changes_is_another_caller() {
        let before = Home::new("", CREDENTIALS);
        let after = Home::new("", &CREDENTIALS.replace("AKIAAAAA", "AKIACCCC"));
        assert_ne!(
            id(&before, &[("AWS_PROFILE", "a")]),
            id(&after, &[("AWS_PROFILE", "a")])
        );
    }

    #[test]
    fn static_keys_in_the_environment_name_the_caller() {
        let home = Home::new("", CREDENTIALS);
        let one = id(
            &home,
            &[
                ("AWS_ACCESS_KEY_ID", "AKIAONE"),
                ("AWS_SECRET_ACCESS_KEY", "s1"),
            ],
        );
        let two = id(
            &home,
            &[
                ("AWS_ACCESS_KEY_ID", "AKIATWO"),
                ("AWS_SECRET_ACCESS_KEY", "s2"),
            ],
        );
        assert_ne!(one, two);
        assert!(!one.opaque);
        assert!(!one.material.contains("s1"), "{one:?}");
        // AWS_PROFILE changes the region the profile may give, so it stays in the key
        let with_profile = id(
            &home,
            &[
                ("AWS_ACCESS_KEY_ID", "AKIAONE"),
                ("AWS_SECRET_ACCESS_KEY", "s1"),
                ("AWS_PROFILE", "b"),
            ],
        );
        assert_ne!(one, with_profile);
    }

    #[test]
    fn sso_profiles_are_named_by_start_url_account_and_role() {
        let config = "[profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Dev\n\
                      [profile prod]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = Dev\n\
                      [profile legacy]\nsso_start_url = https://old.awsapps.com/start\nsso_region = eu-west-1\nsso_account_id = 111111111111\nsso_role_name = Dev\n\
                      [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n";
        let home = Home::new(config, "");
        let dev = id(&home, &[("AWS_PROFILE", "dev")]);
        let prod = id(&home, &[("AWS_PROFILE", "prod")]);
        let legacy = id(&home, &[("AWS_PROFILE", "legacy")]);
        assert!(!dev.opaque);
        assert_ne!(dev, prod);
        assert_ne!(dev, legacy);
        assert!(
            dev.material
                .contains("sso-session.sso_start_url=https://corp.awsapps.com/start"),
            "{dev:?}"
        );
        // the same account and role through another start URL is another entry
        let other = Home::new(&config.replace("corp.awsapps", "other.awsapps"), "");
        assert_ne!(dev, id(&other, &[("AWS_PROFILE", "dev")]));
    }

    #[test]
    fn roles_follow_their_source_profiles() {
        let config = "[profile admin]\nrole_arn = arn:aws:iam::111111111111:role/Admin\nsource_profile = a\n\
                      [profile admin2]\nrole_arn = arn:aws:iam::111111111111:role/Admin\nsource_profile = b\n\
                      [profile loop]\nrole_arn = arn:aws:iam::1:role/X\nsource_profile = loop\n";
        let home = Home::new(config, CREDENTIALS);
        let admin = id(&home, &[("AWS_PROFILE", "admin")]);
        assert!(
            admin
                .material
                .contains("role_arn=arn:aws:iam::111111111111:role/Admin")
        );
        assert!(admin.material.contains("AKIAAAAA"), "{admin:?}");
        assert_ne!(admin, id(&home, &[("AWS_PROFILE", "admin2")]));
        // a cycle ends (the SDK will refuse it)
        assert!(!id(&home, &[("AWS_PROFILE", "loop")]).opaque);
        // a configured role_arn is part of the key, on top of the base credentials
        let mut s = spec();
        s.role_arn = Some("arn:aws:iam::111111111111:role/Reader".into());
        let env = home.env(&[("AWS_PROFILE", "a")]);
        assert_ne!(local_identity(&s, &env), local_identity(&spec(), &env));
    }

    #[test]
    fn credential_process_and_web_identity_profiles_are_named_by_what_they_run_and_read() {
        let config = "[profile proc1]\ncredential_process = /usr/bin/creds --account one\n\
                      [profile proc2]\ncredential_process = /usr/bin/creds --account two\n\
                      [profile wi]\nrole_arn = arn:aws:iam::1:role/Ci\nweb_identity_token_file = /run/token\n";
        let home = Home::new(config, "");
        let p1 = id(&home, &[("AWS_PROFILE", "proc1")]);
        assert!(!p1.opaque);
        assert_ne!(p1, id(&home, &[("AWS_PROFILE", "proc2")]));
        let wi = id(&home, &[("AWS_PROFILE", "wi")]);
        assert!(
            wi.material.contains("web_identity_token_file=/run/token"),
            "{wi:?}"
        );
    }

    #[test]
    fn web_identity_from_the_environment_names_file_and_role() {
        let home = Home::new("", "");
        let a = id(
            &home,
            &[
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/token"),
                ("AWS_ROLE_ARN", "arn:aws:iam::111111111111:role/PodA"),
            ],
        );
        let b = id(
            &home,
            &[
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/token"),
                ("AWS_ROLE_ARN", "arn:aws:iam::111111111111:role/PodB"),
            ],
        );
        assert!(!a.opaque);
        assert!(a.material.contains("source=web-identity"), "{a:?}");
        assert_ne!(a, b);
        // static keys come first in the chain
        let keys = id(
            &home,
            &[
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/token"),
                ("AWS_ROLE_ARN", "arn:aws:iam::111111111111:role/PodA"),
                ("AWS_ACCESS_KEY_ID", "AKIAONE"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
            ],
        );
        assert!(keys.material.contains("source=env-key"), "{keys:?}");
    }

    #[test]
    fn container_credentials_are_named_by_their_task_path_or_resolved() {
        let home = Home::new("", "");
        let task1 = id(
            &home,
            &[(
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/1",
            )],
        );
        let task2 = id(
            &home,
            &[(
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/2",
            )],
        );
        assert!(!task1.opaque);
        assert_ne!(task1, task2);
        // EKS Pod Identity: the same address in every pod, so STS must say who it is
        let pod = id(
            &home,
            &[
                (
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    "http://169.254.170.23/v1/credentials",
                ),
                (
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                    "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token",
                ),
            ],
        );
        assert!(pod.opaque, "{pod:?}");
        // pods on one node differ only in the token in that file: its digest, not the token
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        let file_s = file.to_string_lossy().to_string();
        let pod_with = |token: &str| {
            std::fs::write(&file, token).unwrap();
            id(
                &home,
                &[
                    (
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                        "http://169.254.170.23/v1/credentials",
                    ),
                    ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &file_s),
                ],
            )
        };
        let (a, b) = (pod_with("pod-a-token"), pod_with("pod-b-token"));
        assert_ne!(a, b);
        assert!(!a.material.contains("pod-a-token"), "{a:?}");
        assert_eq!(a, pod_with("pod-a-token\n"));
        let direct = |token: &str| {
            id(
                &home,
                &[
                    (
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                        "http://127.0.0.1:9/creds",
                    ),
                    ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token),
                ],
            )
        };
        assert_ne!(direct("one"), direct("two"));
        assert!(
            !direct("one").material.contains("one;"),
            "{:?}",
            direct("one")
        );
    }

    #[test]
    fn the_instance_role_and_profiles_without_credentials_are_opaque() {
        let home = Home::new("[default]\nregion = eu-west-1\n", "");
        let instance = id(&home, &[]);
        assert!(instance.opaque);
        assert!(
            instance.material.contains("source=instance"),
            "{instance:?}"
        );
        assert!(
            instance.material.contains("region=eu-west-1"),
            "{instance:?}"
        );
        // a configured role names the caller even on an instance
        let mut s = spec();
        s.role_arn = Some("arn:aws:iam::1:role/R".into());
        assert!(!local_identity(&s, &home.env(&[])).opaque);
        // a configured profile with nothing the SDK can use: STS decides (or fails)
        let mut p = spec();
        p.profile = Some("default".into());
        assert!(local_identity(&p, &home.env(&[])).opaque);
    }

    #[test]
    fn unreadable_profiles_are_left_to_sts() {
        let home = Home::new("[profile broken\nregion = x\n", "");
        let broken = id(&home, &[("AWS_PROFILE", "broken")]);
        assert!(broken.opaque, "{broken:?}");
        assert!(
            broken.material.contains("profiles-unreadable="),
            "{broken:?}"
        );
    }

    #[test]
    fn the_config_files_named_in_the_environment_are_read() {
        let home = Home::new("", "");
        let other = tempfile::tempdir().unwrap();
        let creds = other.path().join("creds");
        std::fs::write(&creds, CREDENTIALS).unwrap();
        let creds = creds.to_string_lossy().to_string();
        let a = id(
            &home,
            &[
                ("AWS_PROFILE", "a"),
                ("AWS_SHARED_CREDENTIALS_FILE", &creds),
            ],
        );
        assert!(a.material.contains("AKIAAAAA"), "{a:?}");
        assert!(!a.opaque);
    }
}
