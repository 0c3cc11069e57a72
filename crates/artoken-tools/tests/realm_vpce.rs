//! VPC interface endpoints (`repository_endpoint:`): a `vpce-….d.codeartifact…` URL gets a
//! token only when it is exactly the https origin a configured repository names, in AWS's
//! `/{format}/d/{domain}-{owner}/{repo}/` form; every other VPC endpoint host, however close,
//! gets nothing.

use std::collections::BTreeMap;

use artoken_core::{Format, RepositorySpec};
use artoken_tools::realm::{ClientUrl, Trust};
use proptest::prelude::*;

const VPCE: &str = "vpce-0abc123def4567890-xyz12345.d.codeartifact.eu-west-1.vpce.amazonaws.com";
const PATH: &str = "/pypi/d/corp-111122223333/pypi-store/simple/";

fn trust(repository_endpoint: Option<&str>) -> Trust {
    let mut spec = RepositorySpec::new("corp", "corp");
    spec.owner = Some("111122223333".into());
    spec.repository = Some("pypi-store".into());
    spec.format = Format::Pypi;
    spec.repository_endpoint = repository_endpoint.map(str::to_string);
    Trust::new(BTreeMap::from([("corp".to_string(), spec)]), None, None)
}

fn configured() -> Trust {
    trust(Some(&format!("https://{VPCE}")))
}

fn answers(t: &Trust, url: &str) -> bool {
    ClientUrl::keyring(url)
        .and_then(|u| t.spec_for(&u))
        .is_some()
        || ClientUrl::cargo(&format!("sparse+{url}"))
            .and_then(|u| t.spec_for(&u))
            .is_some()
}

#[test]
fn the_configured_endpoint_and_nothing_like_it() {
    let t = configured();
    assert!(answers(&t, &format!("https://{VPCE}{PATH}")));
    assert!(answers(&t, &format!("https://aws@{VPCE}{PATH}")));
    assert!(answers(&t, &format!("https://{VPCE}:443{PATH}")));
    for u in [
        format!("http://{VPCE}{PATH}"),
        format!("https://{VPCE}:8443{PATH}"),
        format!("https://{}{PATH}", VPCE.replace("xyz12345", "xyz12346")),
        format!("https://{}{PATH}", VPCE.replace("eu-west-1", "us-east-1")),
        format!("https://{VPCE}.evil.example{PATH}"),
        format!("https://{VPCE}{}", PATH.replace("corp-", "other-")),
        format!(
            "https://{VPCE}{}",
            PATH.replace("111122223333", "999999999999")
        ),
        format!("https://{VPCE}{PATH}?x"),
        format!("https://{VPCE}{PATH}#x"),
        format!("https://{VPCE}/pypi/corp-111122223333/pypi-store/simple/"),
        format!("https://{VPCE}/"),
        format!("https://evil.example/{VPCE}{PATH}"),
    ] {
        assert!(!answers(&t, &u), "{u}");
    }
    // nobody configured it: the very same URL gets nothing
    assert!(!answers(&trust(None), &format!("https://{VPCE}{PATH}")));
    // the host alone (pip's fallback) names no domain: nothing
    assert!(!answers(&t, VPCE));
}

fn vpce_host() -> impl Strategy<Value = String> {
    (
        "[a-z0-9]{1,17}",
        "[a-z0-9]{1,8}",
        proptest::sample::select(vec![
            "eu-west-1",
            "us-east-1",
            "ap-southeast-2",
            "cn-north-1",
        ]),
        proptest::sample::select(vec![".vpce.amazonaws.com", ".vpce.amazonaws.com.cn"]),
    )
        .prop_map(|(a, b, region, suffix)| format!("vpce-{a}-{b}.d.codeartifact.{region}{suffix}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A VPC endpoint host gets a token exactly when it is the configured one.
    #[test]
    fn unconfigured_vpce_hosts_never_get_a_token(
        other in vpce_host(),
        configured_host in prop_oneof![Just(VPCE.to_string()), vpce_host()],
        same in any::<bool>(),
        user in prop_oneof![Just(String::new()), Just("aws@".to_string())],
        format in proptest::sample::select(vec!["pypi", "npm", "cargo", "maven"]),
    ) {
        let t = trust(Some(&format!("https://{configured_host}")));
        let host = if same { configured_host.clone() } else { other };
        let url = format!("https://{user}{host}/{format}/d/corp-111122223333/pypi-store/");
        prop_assert_eq!(answers(&t, &url), host == configured_host, "{}", url);
        // with no repository_endpoint configured, no VPC endpoint URL gets anything
        prop_assert!(!answers(&trust(None), &url), "{}", url);
    }
}
