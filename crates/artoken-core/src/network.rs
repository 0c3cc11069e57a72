//! The one proxy policy for every outbound connection (the AWS SDK's and `serve`'s upstream).
//!
//! Both clients read `HTTPS_PROXY`/`https_proxy` (https destinations, a `CONNECT` tunnel),
//! `HTTP_PROXY`/`http_proxy` (http destinations, absolute-form requests), `ALL_PROXY`/
//! `all_proxy` (both) and `NO_PROXY`/`no_proxy` (host suffixes, IPs, CIDRs) with hyper-util's
//! matcher (curl's rules): the SDK's default client does so itself (behavior version
//! 2025-08-07 and later), `serve` through `artoken-proxy`'s upstream connector. Loopback is not
//! special: set `NO_PROXY=127.0.0.1,localhost` to reach a local endpoint directly.
//!
//! One correction on top: that matcher checks an IP literal host only against NO_PROXY's IP
//! entries, so `NO_PROXY=*` would still proxy `http://127.0.0.1:…`. Here `*` means every host,
//! as for curl: [`no_proxy_everything`] turns the proxy off for both clients.

/// `NO_PROXY` (else `no_proxy`) has a `*` entry: nothing goes through a proxy.
pub fn no_proxy_everything() -> bool {
    let value = std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .unwrap_or_default();
    star_entry(&value)
}

fn star_entry(no_proxy: &str) -> bool {
    no_proxy.split(',').any(|e| e.trim() == "*")
}

/// The HTTP client for every SDK call: `None` keeps the SDK's default (rustls with aws-lc,
/// proxies from the environment); with `NO_PROXY=*` the same client with the proxy off.
#[cfg(feature = "aws")]
pub fn sdk_http_client() -> Option<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{Builder, ConnectorBuilder, tls};
    if !no_proxy_everything() {
        return None;
    }
    // As aws-smithy-runtime's `default_https_client`, with the proxy disabled.
    Some(
        Builder::new().build_with_connector_fn(|settings, runtime_components| {
            let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ));
            conn.set_connector_settings(settings.cloned());
            if let Some(components) = runtime_components {
                conn.set_sleep_impl(components.sleep_impl());
            }
            conn.set_proxy_config(Some(ProxyConfig::disabled()));
            conn.build()
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_entry_anywhere_in_the_list() {
        for v in ["*", " * ", "example.org,*", "a, *, b"] {
            assert!(star_entry(v), "{v}");
        }
        for v in ["", "*.example.org", "127.0.0.1", "**", "x*"] {
            assert!(!star_entry(v), "{v}");
        }
    }
}
