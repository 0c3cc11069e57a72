//! The access log: one structured line per request on stderr (`text`: key=value, or `json`),
//! written when the response body is done; paths are redacted and no header is ever logged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use artoken_core::redact::redact;

/// How access lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessLog {
    /// `ts=... method=GET path=/demo/simple/ status=200 bytes=1234 ms=1.9 repository=demo`
    #[default]
    Text,
    /// One JSON object a line.
    Json,
    Off,
}

/// What is known about a request when its response starts.
pub struct Record {
    pub format: AccessLog,
    pub started: Instant,
    pub peer: SocketAddr,
    pub method: http::Method,
    pub path: String,
    pub status: u16,
    pub repository: Option<Arc<str>>,
    /// Milliseconds until the upstream answered (its headers).
    pub upstream_ms: Option<f64>,
    /// The request was sent again with a fresh token.
    pub retried: bool,
    /// Why the request guard refused it.
    pub refused: Option<String>,
}

impl Record {
    pub fn new(format: AccessLog, peer: SocketAddr, method: http::Method, path: String) -> Record {
        Record {
            format,
            started: Instant::now(),
            peer,
            method,
            path,
            status: 0,
            repository: None,
            upstream_ms: None,
            retried: false,
            refused: None,
        }
    }

    /// Writes the line (`error`: why the body did not finish).
    pub fn write(self, bytes: u64, error: Option<String>) {
        if self.format == AccessLog::Off {
            return;
        }
        artoken_core::redact::write_stderr(&self.line(bytes, error.as_deref()));
    }

    fn line(&self, bytes: u64, error: Option<&str>) -> String {
        let ms = (self.started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
        let ts = timestamp();
        let path = redact(&self.path);
        let error = error.map(|e| redact(e).into_owned());
        match self.format {
            AccessLog::Json => {
                let v = serde_json::json!({
                    "ts": ts,
                    "peer": self.peer.to_string(),
                    "method": self.method.as_str(),
                    "path": path,
                    "status": self.status,
                    "bytes": bytes,
                    "ms": ms,
                    "repository": self.repository.as_deref(),
                    "upstream_ms": self.upstream_ms.map(|m| (m * 100.0).round() / 100.0),
                    "retried": self.retried,
                    "refused": self.refused.as_deref().map(redact),
                    "error": error,
                });
                format!("{v}\n")
            }
            _ => {
                let mut s = format!(
                    "access ts={ts} peer={} method={} path={} status={} bytes={bytes} ms={ms}",
                    self.peer,
                    self.method,
                    quote(&path),
                    self.status
                );
                if let Some(r) = &self.repository {
                    s.push_str(&format!(" repository={}", quote(r)));
                }
                if let Some(u) = self.upstream_ms {
                    s.push_str(&format!(" upstream_ms={}", (u * 100.0).round() / 100.0));
                }
                if self.retried {
                    s.push_str(" retried=true");
                }
                if let Some(r) = &self.refused {
                    s.push_str(&format!(" refused={}", quote(&redact(r))));
                }
                if let Some(e) = error {
                    s.push_str(&format!(" error={}", quote(&e)));
                }
                s.push('\n');
                s
            }
        }
    }
}

/// A logfmt value: bare when it has no space, quote or `=`, else quoted and escaped.
fn quote(v: &str) -> String {
    if !v.is_empty()
        && !v.contains(|c: char| c.is_whitespace() || c == '"' || c == '=' || c.is_control())
    {
        return v.to_string();
    }
    serde_json::Value::String(v.to_string()).to_string()
}

/// `2026-01-02T03:04:05.678Z`.
fn timestamp() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = artoken_core::human::utc(now.as_secs() as i64);
    format!("{}.{:03}Z", secs.trim_end_matches('Z'), now.subsec_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(format: AccessLog) -> Record {
        let mut r = Record::new(
            format,
            "127.0.0.1:5000".parse().unwrap(),
            http::Method::GET,
            "/demo/simple/x/?u=https://aws:eyJsecret@host/".into(),
        );
        r.status = 200;
        r.repository = Some("demo".into());
        r
    }

    #[test]
    fn lines_are_structured_and_redacted() {
        let t = record(AccessLog::Text).line(12, None);
        assert!(t.starts_with("access ts="), "{t}");
        assert!(
            t.contains(" method=GET ") && t.contains(" status=200 bytes=12 ms="),
            "{t}"
        );
        assert!(t.contains(" repository=demo"), "{t}");
        assert!(!t.contains("eyJsecret"), "{t}");
        let j = record(AccessLog::Json).line(12, Some("client went away"));
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["status"], 200);
        assert_eq!(v["bytes"], 12);
        assert_eq!(v["error"], "client went away");
        assert!(!j.contains("eyJsecret"));
        let mut r = record(AccessLog::Text);
        r.status = 421;
        r.refused = Some("refused Host \"evil.example:1\"".into());
        let t = r.line(0, None);
        assert!(
            t.contains(r#" refused="refused Host \"evil.example:1\"""#),
            "{t}"
        );
        let mut r = record(AccessLog::Json);
        r.refused = Some("refused Host \"evil.example:1\"".into());
        let v: serde_json::Value = serde_json::from_str(&r.line(0, None)).unwrap();
        assert_eq!(v["refused"], "refused Host \"evil.example:1\"");
        assert_eq!(quote("a b"), "\"a b\"");
        assert_eq!(quote("/x/"), "/x/");
    }
}
