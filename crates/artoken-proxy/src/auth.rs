//! Who may use the proxy: anyone on loopback by default; elsewhere only clients that present
//! the shared secret (`Authorization: Bearer SECRET`, or Basic with it as the password),
//! compared in constant time.

use std::net::SocketAddr;
use std::path::Path;

use base64::Engine;
use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::error::ProxyError;

/// A client secret, kept only as its SHA-256 digest.
#[derive(Clone)]
pub struct ClientSecret {
    digest: [u8; 32],
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(***)")
    }
}

impl ClientSecret {
    pub fn new(secret: &str) -> ClientSecret {
        ClientSecret {
            digest: Sha256::digest(secret.as_bytes()).into(),
        }
    }

    /// Reads the secret from a file (surrounding whitespace and the final newline dropped).
    /// Warns when the file can be read by others.
    pub fn from_file(path: &Path) -> Result<ClientSecret, ProxyError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProxyError::SecretFile {
            path: path.to_path_buf(),
            source,
        })?;
        let secret = text.trim();
        if secret.is_empty() {
            return Err(ProxyError::EmptySecret {
                path: path.to_path_buf(),
            });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(m) = std::fs::metadata(path)
                && m.permissions().mode() & 0o077 != 0
            {
                tracing::warn!(
                    "client secret file {} can be read by other users (chmod 600 it)",
                    path.display()
                );
            }
        }
        if secret.len() < 16 {
            tracing::warn!(
                "the client secret in {} is short ({} characters); use 32 or more random ones",
                path.display(),
                secret.len()
            );
        }
        Ok(ClientSecret::new(secret))
    }

    /// True when the request carries the secret: `Bearer SECRET`, or `Basic` with any user
    /// name and the secret as the password.
    pub fn accepts(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some((scheme, rest)) = value.trim().split_once(' ') else {
            return false;
        };
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            return self.matches(rest.as_bytes());
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest) else {
                return false;
            };
            let Some(colon) = decoded.iter().position(|&b| b == b':') else {
                return false;
            };
            return self.matches(&decoded[colon + 1..]);
        }
        false
    }

    fn matches(&self, candidate: &[u8]) -> bool {
        let d: [u8; 32] = Sha256::digest(candidate).into();
        constant_time_eq(&d, &self.digest)
    }
}

/// Compares two digests without an early exit.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Loopback is open; any other address needs `--allow-remote` and a client secret.
pub fn check_listen(
    addr: SocketAddr,
    allow_remote: bool,
    has_secret: bool,
) -> Result<(), ProxyError> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    if !allow_remote {
        return Err(ProxyError::RemoteNotAllowed { addr });
    }
    if !has_secret {
        return Err(ProxyError::RemoteWithoutSecret { addr });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn bearer_and_basic_carry_the_secret() {
        let s = ClientSecret::new("s3cret-value");
        assert!(s.accepts(&headers("Bearer s3cret-value")));
        assert!(s.accepts(&headers("bearer  s3cret-value ")));
        let b = base64::engine::general_purpose::STANDARD.encode("anyone:s3cret-value");
        assert!(s.accepts(&headers(&format!("Basic {b}"))));
        assert!(!s.accepts(&headers("Bearer s3cret-valu")));
        let b = base64::engine::general_purpose::STANDARD.encode("s3cret-value");
        assert!(!s.accepts(&headers(&format!("Basic {b}"))));
        assert!(!s.accepts(&headers("Digest s3cret-value")));
        assert!(!s.accepts(&HeaderMap::new()));
        assert_eq!(format!("{s:?}"), "ClientSecret(***)");
    }

    #[test]
    fn remote_listening_needs_the_flag_and_a_secret() {
        let lo: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let lo6: SocketAddr = "[::1]:1".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:1".parse().unwrap();
        assert!(check_listen(lo, false, false).is_ok());
        assert!(check_listen(lo6, false, false).is_ok());
        let e = check_listen(any, false, true).unwrap_err().to_string();
        assert!(
            e.contains("--allow-remote") && e.contains("--client-secret-file"),
            "{e}"
        );
        let e = check_listen(any, true, false).unwrap_err().to_string();
        assert!(e.contains("--client-secret-file"), "{e}");
        assert!(check_listen(any, true, true).is_ok());
    }

    #[test]
    fn secret_files_are_trimmed_and_must_not_be_empty() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret");
        std::fs::write(&p, "  abcdefghijklmnopqrstuvwxyz\n").unwrap();
        let s = ClientSecret::from_file(&p).unwrap();
        assert!(s.accepts(&headers("Bearer abcdefghijklmnopqrstuvwxyz")));
        std::fs::write(&p, "\n").unwrap();
        assert!(
            ClientSecret::from_file(&p)
                .unwrap_err()
                .to_string()
                .contains("is empty")
        );
        let e = ClientSecret::from_file(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("client secret file "), "{e}");
    }
}
