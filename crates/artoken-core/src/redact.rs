//! Redaction of tokens in text bound for logs, errors, `--verbose` and `--dry-run` output.

use std::borrow::Cow;

/// Replaces the secret part of every `aws:TOKEN@` (URL userinfo), `_authToken=TOKEN` (.npmrc),
/// `Authorization: Bearer/Basic ...`, `TWINE_PASSWORD=`/`CODEARTIFACT_AUTH_TOKEN=` assignment
/// and `"authorizationToken": "..."` with `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    const MARKERS: [(&str, &[u8]); 7] = [
        ("aws:", b"@"),
        ("_authToken=", b"\r\n \t\"'"),
        ("Bearer ", b"\r\n \t\"'"),
        ("Basic ", b"\r\n \t\"'"),
        ("CODEARTIFACT_AUTH_TOKEN=", b"\r\n \t\"'"),
        ("TWINE_PASSWORD=", b"\r\n \t\"'"),
        ("\"authorizationToken\":\"", b"\""),
    ];
    if !MARKERS.iter().any(|(m, _)| text.contains(m)) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for (marker, stops) in MARKERS {
        let mut from = 0;
        while let Some(pos) = out[from..].find(marker) {
            let start = from + pos + marker.len();
            let bytes = out.as_bytes();
            let mut end = start;
            while end < bytes.len() && !stops.contains(&bytes[end]) {
                if marker == "aws:" && (bytes[end] == b'/' || bytes[end].is_ascii_whitespace()) {
                    break;
                }
                end += 1;
            }
            // `aws:` only counts as userinfo when an `@` ends it.
            let is_secret = if marker == "aws:" {
                end < bytes.len() && bytes[end] == b'@' && end > start
            } else {
                end > start
            };
            if is_secret && &out[start..end] != "***" {
                out.replace_range(start..end, "***");
                from = start + 3;
            } else {
                from = start;
            }
        }
    }
    Cow::Owned(out)
}

/// An error and its causes on one line (`error: cause: cause`, a cause whose text is already
/// there is skipped), control characters as spaces, tokens redacted: for every error shown.
pub fn error_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = err.to_string();
    let mut cur = err.source();
    while let Some(cause) = cur {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
        cur = cause.source();
    }
    let msg: String = msg
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    redact(&msg).into_owned()
}

/// Replaces every occurrence of the given secrets too (exact values known to the caller).
pub fn redact_known<'a>(text: &'a str, secrets: &[&str]) -> Cow<'a, str> {
    let mut out = redact(text);
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        if out.contains(s) {
            out = Cow::Owned(out.replace(s, "***"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_line_has_its_causes_once_on_one_line_redacted() {
        #[derive(Debug)]
        struct E(&'static str, Option<Box<E>>);
        impl std::fmt::Display for E {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let inner = E("GET http://aws:s3cr3t@h/x\nfailed", None);
        let mid = E("refused", Some(Box::new(inner)));
        let top = E("upstream: refused", Some(Box::new(mid)));
        assert_eq!(
            error_line(&top),
            "upstream: refused: GET http://aws:***@h/x failed"
        );
    }
    use proptest::prelude::*;

    #[test]
    fn hides_tokens_in_every_known_shape() {
        assert_eq!(
            redact("https://aws:eyJabc.def@corp-1.d.codeartifact.x/pypi/r/simple/"),
            "https://aws:***@corp-1.d.codeartifact.x/pypi/r/simple/"
        );
        assert_eq!(
            redact("//h/npm/r/:_authToken=eyJx\nregistry=x"),
            "//h/npm/r/:_authToken=***\nregistry=x"
        );
        assert_eq!(
            redact("Authorization: Bearer eyJx y"),
            "Authorization: Bearer *** y"
        );
        assert_eq!(
            redact(r#"{"authorizationToken":"eyJ","expiration":1}"#),
            r#"{"authorizationToken":"***","expiration":1}"#
        );
        assert_eq!(
            redact("see aws:codeartifact docs"),
            "see aws:codeartifact docs"
        );
        assert_eq!(redact("no secrets"), "no secrets");
        assert_eq!(
            redact_known("x tok123456789 y", &["tok123456789"]),
            "x *** y"
        );
    }

    proptest! {
        #[test]
        fn a_token_in_a_url_never_survives(token in "[A-Za-z0-9._~-]{8,200}", path in "[a-z/]{0,20}") {
            let url = format!("https://aws:{token}@host.example/{path}");
            let red = redact(&url);
            prop_assert!(!red.contains(&token));
        }

        #[test]
        fn an_npmrc_token_never_survives(token in "[A-Za-z0-9._~+/=-]{8,200}") {
            let line = format!("//h/npm/r/:_authToken={token}\n");
            prop_assert!(!redact(&line).contains(&token));
        }
    }
}
