//! A repository's explicit endpoints (`endpoint:`, `repository_endpoint:`): VPC interface
//! endpoints without private DNS, checked as URLs before anything is sent to them.
//!
//! `endpoint` is where CodeArtifact API calls go (`https://vpce-….api.codeartifact.REGION.
//! vpce.amazonaws.com`, or a loopback `http://` address for a local emulator);
//! `repository_endpoint` is the `codeartifact.repositories` endpoint's host
//! (`https://vpce-….d.codeartifact.REGION.vpce.amazonaws.com`), whose URLs the helpers may
//! then answer for (artoken-tools' `realm`).

use std::net::IpAddr;

use url::{Host, Url};

use super::error::one_line;

/// An http(s) URL with a host and nothing but an optional `/` after it.
fn bare_origin(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("`{}` is not a URL ({e})", one_line(s)))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("`{}` is not an http(s) URL", one_line(s)));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || url.path() != "/"
    {
        return Err(format!(
            "`{}`: expected scheme and host only (no user, path, query or fragment)",
            one_line(s)
        ));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(a)) => IpAddr::V4(a).is_loopback(),
        Some(Host::Ipv6(a)) => IpAddr::V6(a).is_loopback(),
        Some(Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// The control plane's endpoint: https to one of AWS's own names (`….amazonaws.com`, `.cn`),
/// or a loopback address (an emulator). A config file can be a cloned project's: a signed
/// `GetAuthorizationToken` sent to a host of its choosing could be replayed at AWS for the
/// user's token, so any other endpoint must come from the user (`--endpoint-url`,
/// `AWS_ENDPOINT_URL_CODEARTIFACT`), never from a file.
pub(crate) fn endpoint(s: &str) -> Result<(), String> {
    let url = bare_origin(s)?;
    if is_loopback(&url) {
        return Ok(());
    }
    if url.scheme() != "https" {
        return Err(format!(
            "`{}`: plain http only on a loopback address; use https",
            one_line(s)
        ));
    }
    let host = url.host_str().unwrap_or_default();
    let aws = matches!(url.host(), Some(Host::Domain(_)))
        && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn"));
    if !aws {
        return Err(format!(
            "`{}`: a config file may name only an AWS endpoint (….amazonaws.com, e.g. a VPC endpoint) or a loopback address; give any other with --endpoint-url or AWS_ENDPOINT_URL_CODEARTIFACT",
            one_line(s)
        ));
    }
    Ok(())
}

/// The `codeartifact.repositories` VPC endpoint: `https://vpce-….d.codeartifact.REGION.vpce.amazonaws.com`.
pub(crate) fn repository_endpoint(s: &str) -> Result<(), String> {
    let url = bare_origin(s)?;
    let host = url.host_str().unwrap_or_default();
    let vpce = host.starts_with("vpce-")
        && host.contains(".d.codeartifact.")
        && (host.ends_with(".vpce.amazonaws.com") || host.ends_with(".vpce.amazonaws.com.cn"));
    if url.scheme() != "https" || url.port().is_some() || !vpce {
        return Err(format!(
            "`{}` is not a CodeArtifact repositories VPC endpoint (https://vpce-….d.codeartifact.REGION.vpce.amazonaws.com, as `aws ec2 describe-vpc-endpoints` names it)",
            one_line(s)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_bare_https_origins() {
        for ok in [
            "https://vpce-0abc-xyz.api.codeartifact.eu-west-1.vpce.amazonaws.com",
            "https://vpce-0abc-xyz.api.codeartifact.eu-west-1.vpce.amazonaws.com/",
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:1/",
        ] {
            assert_eq!(endpoint(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://vpce-0abc-xyz.api.codeartifact.eu-west-1.vpce.amazonaws.com",
            "https://u:p@h.example",
            "https://h.example/x",
            "https://h.example/?q",
            "ftp://h.example",
            "h.example",
            "http://127.evil.example",
            // Signed requests only to AWS's own names: never a host a cloned config picks.
            "https://codeartifact.attacker.example",
            "https://vpce-0abc.api.codeartifact.eu-west-1.vpce.amazonaws.com.evil.example",
            "https://amazonaws.com.evil.example",
            "https://10.0.0.1",
        ] {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
        assert!(
            endpoint("https://codeartifact.attacker.example")
                .unwrap_err()
                .contains("--endpoint-url")
        );
        assert_eq!(
            endpoint("https://codeartifact-fips.us-east-1.amazonaws.com"),
            Ok(())
        );
        assert_eq!(
            repository_endpoint(
                "https://vpce-0abc-xyz.d.codeartifact.eu-west-1.vpce.amazonaws.com"
            ),
            Ok(())
        );
        for bad in [
            "https://vpce-0abc-xyz.api.codeartifact.eu-west-1.vpce.amazonaws.com",
            "https://vpce-0abc-xyz.d.codeartifact.eu-west-1.vpce.amazonaws.com:8443",
            "http://vpce-0abc-xyz.d.codeartifact.eu-west-1.vpce.amazonaws.com",
            "https://vpce-0abc-xyz.d.codeartifact.eu-west-1.vpce.amazonaws.com.evil.example",
            "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com",
        ] {
            assert!(repository_endpoint(bad).is_err(), "{bad}");
        }
    }
}
