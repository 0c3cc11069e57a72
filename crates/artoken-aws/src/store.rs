//! A secret store target's value: the token (or index URL) as the whole value, or spliced into
//! one key of a JSON object whose other bytes stay as they were; and the stores' errors.

use std::ops::Range;

use artoken_core::config::targets::{StoreValue, ValueKind};
use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use serde_json::Value;

use crate::error::{AwsError, one_line};

/// What the target should hold, in words for a summary line: `key \`token\`` or `the token`.
pub fn describe(how: &StoreValue) -> String {
    match &how.json_key {
        Some(k) => format!("key `{}`", shown(k)),
        None => match how.kind {
            ValueKind::Token => "the token".to_string(),
            ValueKind::Url => "the index URL".to_string(),
        },
    }
}

/// The value `old` (`None`: the store has none yet) should become so that it holds `text` as
/// `how` says; `None` when it already does. A JSON object is edited in place: only the key's
/// value changes (every occurrence of the key, if it is there twice), or the key is added after
/// the last one, indented like it; other keys, their order, spacing and numbers stay byte for
/// byte. Errors never quote the value (it is a secret).
pub fn edit(old: Option<&str>, how: &StoreValue, text: &str) -> Result<Option<String>, String> {
    match &how.json_key {
        None => Ok((old != Some(text)).then(|| text.to_string())),
        Some(key) => set_key(old.unwrap_or(""), key, text),
    }
}

fn set_key(old: &str, key: &str, text: &str) -> Result<Option<String>, String> {
    let new_value = Value::String(text.to_string()).to_string();
    let new_key = Value::String(key.to_string()).to_string();
    if old.trim().is_empty() {
        return Ok(Some(format!("{{{new_key}:{new_value}}}")));
    }
    let shown_key = shown(key);
    match serde_json::from_str::<Value>(old) {
        Ok(Value::Object(_)) => {}
        Ok(other) => {
            return Err(format!(
                "holds JSON {}, not an object, so it has no key `{shown_key}` to set (json_key)",
                json_kind(&other)
            ));
        }
        // serde_json's message gives a line and column, never the text.
        Err(e) => {
            return Err(format!(
                "holds text that is not a JSON object ({e}), so it has no key `{shown_key}` to set (json_key)"
            ));
        }
    }
    let object = scan_object(old.as_bytes()).ok_or_else(|| {
        format!("holds JSON artoken cannot edit in place, so key `{shown_key}` was not set")
    })?;
    let hits: Vec<&Member> = object
        .members
        .iter()
        .filter(|m| {
            serde_json::from_str::<String>(&old[m.key.clone()])
                .ok()
                .as_deref()
                == Some(key)
        })
        .collect();
    if !hits.is_empty() {
        let holds = |m: &Member| {
            serde_json::from_str::<String>(&old[m.value.clone()])
                .ok()
                .as_deref()
                == Some(text)
        };
        if hits.iter().all(|m| holds(m)) {
            return Ok(None);
        }
        let mut out = old.to_string();
        for m in hits.iter().rev() {
            out.replace_range(m.value.clone(), &new_value);
        }
        return Ok(Some(out));
    }
    let mut out = String::with_capacity(old.len() + new_key.len() + new_value.len() + 8);
    match object.members.last() {
        None => {
            out.push_str(&old[..=object.open]);
            out.push_str(&format!("{new_key}:{new_value}"));
            out.push_str(&old[object.open + 1..]);
        }
        Some(last) => {
            let lead = &old[last.lead.clone()];
            let colon = &old[last.key.end..last.value.start];
            out.push_str(&old[..last.value.end]);
            out.push_str(&format!(",{lead}{new_key}{colon}{new_value}"));
            out.push_str(&old[last.value.end..]);
        }
    }
    Ok(Some(out))
}

/// A key name on one line (control characters escaped).
fn shown(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A top-level member of a JSON object, as byte ranges: the blanks before its key, its key
/// (quotes included) and its value.
#[derive(Debug)]
struct Member {
    lead: Range<usize>,
    key: Range<usize>,
    value: Range<usize>,
}

#[derive(Debug)]
struct Object {
    /// Where `{` is.
    open: usize,
    members: Vec<Member>,
}

/// The members of the object `b` holds. `b` was checked to be one JSON object (serde_json
/// parsed it), so this only finds where things are; `None` rather than a panic if it cannot.
fn scan_object(b: &[u8]) -> Option<Object> {
    let open = skip_blanks(b, 0);
    if *b.get(open)? != b'{' {
        return None;
    }
    let mut members = Vec::new();
    let mut i = open + 1;
    loop {
        let lead_start = i;
        i = skip_blanks(b, i);
        if *b.get(i)? == b'}' {
            return Some(Object { open, members });
        }
        let key = i..skip_string(b, i)?;
        i = skip_blanks(b, key.end);
        if *b.get(i)? != b':' {
            return None;
        }
        let start = skip_blanks(b, i + 1);
        let value = start..skip_value(b, start)?;
        members.push(Member {
            lead: lead_start..key.start,
            key,
            value: value.clone(),
        });
        i = skip_blanks(b, value.end);
        match *b.get(i)? {
            b',' => i += 1,
            b'}' => return Some(Object { open, members }),
            _ => return None,
        }
    }
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| b" \t\r\n".contains(c)) {
        i += 1;
    }
    i
}

/// The end of the string starting at `i` (just past its closing quote).
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    if *b.get(i)? != b'"' {
        return None;
    }
    i += 1;
    loop {
        match *b.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The end of the value starting at `i`.
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            loop {
                match *b.get(i)? {
                    b'"' => {
                        i = skip_string(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            while b.get(i).is_some_and(|c| !b",}] \t\r\n".contains(c)) {
                i += 1;
            }
            Some(i)
        }
    }
}

/// A Secrets Manager or SSM error in words, naming the target; `action` is the IAM action of
/// the call (`ssm:PutParameter`). `secrets` (the token, the value written) are cut out of any
/// message AWS sends back, on top of the usual redaction.
pub(crate) fn classify<E>(
    err: SdkError<E, HttpResponse>,
    target: &str,
    action: &'static str,
    secrets: &[&str],
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let operation = action.split_once(':').map_or(action, |(_, op)| op);
    let scrub = |s: &str| artoken_core::redact::redact_known(s, secrets).into_owned();
    let target = target.to_string();
    if let Some(raw) = err.raw_response() {
        let (meta_code, meta_message) = match &err {
            SdkError::ServiceError(se) => (se.err().code(), se.err().message()),
            _ => (None, None),
        };
        // An answer whose body is not the JSON these services send (an XML or HTML error
        // page from a proxy or an emulator) leaves the SDK without a code or message (or
        // makes it a response error): the `x-amzn-ErrorType` header or the XML's `<Code>`
        // and `<Message>` still say what happened.
        let body = raw.body().bytes().unwrap_or_default();
        let xml_code = xml_field(body, "Code");
        let code = meta_code
            .or_else(|| raw.headers().get("x-amzn-errortype").map(error_code))
            .unwrap_or(&xml_code);
        let message = match meta_message {
            Some(m) => scrub(m),
            None => scrub(&xml_field(body, "Message")),
        };
        match code {
            "AccessDeniedException" | "AccessDenied" => {
                return AwsError::StoreDenied {
                    target,
                    action: kms_action(&message).unwrap_or_else(|| action.to_string()),
                    message: if message.is_empty() {
                        "Access Denied".into()
                    } else {
                        message
                    },
                };
            }
            "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "ExpiredTokenException"
            | "ExpiredToken" => {
                return AwsError::Store {
                    target,
                    operation,
                    detail: format!("AWS rejected the credentials: {code}: {message}"),
                };
            }
            "DecryptionFailure" | "InvalidCiphertextException" => {
                return AwsError::Store {
                    target,
                    operation,
                    detail: format!(
                        "cannot decrypt the value with its KMS key ({message}); the caller needs kms:Decrypt on that key"
                    ),
                };
            }
            "EncryptionFailure" | "InvalidKeyId" => {
                return AwsError::Store {
                    target,
                    operation,
                    detail: format!(
                        "cannot encrypt the value with its KMS key ({code}: {message}); the caller needs kms:GenerateDataKey (Secrets Manager) or kms:Encrypt (SSM) on that key"
                    ),
                };
            }
            _ => {}
        }
    }
    AwsError::Store {
        target,
        operation,
        detail: scrub(&one_line(&err)),
    }
}

/// An `x-amzn-ErrorType` value's code: `AccessDeniedException` of
/// `aws.protocols#AccessDeniedException:http://...`.
fn error_code(header: &str) -> &str {
    let code = header.split(':').next().unwrap_or(header);
    code.rsplit('#').next().unwrap_or(code)
}

/// The text of the first `<TAG>` of an XML error body, on one line and at most 300 characters
/// (it comes from the network); empty when there is none.
fn xml_field(body: &[u8], tag: &str) -> String {
    let text = String::from_utf8_lossy(body);
    let Some((_, rest)) = text.split_once(&format!("<{tag}>")) else {
        return String::new();
    };
    let inner = rest
        .split_once(&format!("</{tag}>"))
        .map_or(rest, |(m, _)| m);
    inner
        .chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// `kms:Decrypt` when AWS's message says the denial was KMS's.
fn kms_action(message: &str) -> Option<String> {
    let at = message.find("kms:")?;
    let action: String = message[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':')
        .collect();
    (action.len() > 4).then_some(action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(k: &str) -> StoreValue {
        StoreValue {
            kind: ValueKind::Token,
            json_key: Some(k.into()),
        }
    }

    const TOKEN: &str = "eyJ2ZXIiOjF9.new-token";

    #[test]
    fn a_bare_value_is_the_token() {
        let how = StoreValue::default();
        assert_eq!(edit(None, &how, TOKEN).unwrap().as_deref(), Some(TOKEN));
        assert_eq!(
            edit(Some("old"), &how, TOKEN).unwrap().as_deref(),
            Some(TOKEN)
        );
        assert_eq!(edit(Some(TOKEN), &how, TOKEN).unwrap(), None);
        assert_eq!(describe(&how), "the token");
        assert_eq!(
            describe(&StoreValue {
                kind: ValueKind::Url,
                json_key: None
            }),
            "the index URL"
        );
        assert_eq!(describe(&key("token")), "key `token`");
    }

    #[test]
    fn a_json_key_is_set_and_every_other_byte_stays() {
        let how = key("token");
        // Replaced in place: order, spacing, a big number and an escaped key stay.
        let old = "{ \"user\" : \"ci\", \"token\" : \"old\",\n \"n\": 12345678901234567890123, \"a\\\"b\": [1, {\"token\": \"inner\"}] }";
        let new = edit(Some(old), &how, TOKEN).unwrap().unwrap();
        assert_eq!(new, old.replace("\"old\"", &format!("\"{TOKEN}\"")));
        assert_eq!(edit(Some(&new), &how, TOKEN).unwrap(), None);
        // Added after the last key, indented like it.
        let pretty = "{\n  \"user\": \"ci\",\n  \"password\": \"p\"\n}\n";
        assert_eq!(
            edit(Some(pretty), &how, TOKEN).unwrap().unwrap(),
            format!(
                "{{\n  \"user\": \"ci\",\n  \"password\": \"p\",\n  \"token\": \"{TOKEN}\"\n}}\n"
            )
        );
        assert_eq!(
            edit(Some("{\"a\":1}"), &how, TOKEN).unwrap().unwrap(),
            format!("{{\"a\":1,\"token\":\"{TOKEN}\"}}")
        );
        // An empty object or no value at all.
        for old in [None, Some(""), Some("  \n"), Some("{}")] {
            assert_eq!(
                edit(old, &how, TOKEN).unwrap().unwrap(),
                format!("{{\"token\":\"{TOKEN}\"}}")
            );
        }
        assert_eq!(
            edit(Some(" { } "), &how, TOKEN).unwrap().unwrap(),
            format!(" {{\"token\":\"{TOKEN}\" }} ")
        );
        // A key given twice: both get the token (JSON readers differ on which one wins).
        assert_eq!(
            edit(Some("{\"token\":\"a\",\"token\":\"b\"}"), &how, TOKEN)
                .unwrap()
                .unwrap(),
            format!("{{\"token\":\"{TOKEN}\",\"token\":\"{TOKEN}\"}}")
        );
        // A key that needs escaping, and a non-string value replaced.
        assert_eq!(
            edit(Some("{\"x\": null}"), &key("a\"b"), TOKEN)
                .unwrap()
                .unwrap(),
            format!("{{\"x\": null,\"a\\\"b\": \"{TOKEN}\"}}")
        );
        assert_eq!(
            edit(Some("{\"token\": {\"deep\": [1]}}"), &how, TOKEN)
                .unwrap()
                .unwrap(),
            format!("{{\"token\": \"{TOKEN}\"}}")
        );
    }

    #[test]
    fn a_value_that_is_no_json_object_is_refused_without_quoting_it() {
        let how = key("token");
        for (old, want) in [
            (
                "s3cr3t-password",
                "holds text that is not a JSON object (expected value at line 1 column 1), so it has no key `token` to set (json_key)",
            ),
            (
                "[\"s3cr3t\"]",
                "holds JSON an array, not an object, so it has no key `token` to set (json_key)",
            ),
            (
                "\"s3cr3t\"",
                "holds JSON a string, not an object, so it has no key `token` to set (json_key)",
            ),
            (
                "{\"a\": \"s3cr3t\"",
                "holds text that is not a JSON object (EOF while parsing an object at line 1 column 14), so it has no key `token` to set (json_key)",
            ),
        ] {
            let e = edit(Some(old), &how, TOKEN).unwrap_err();
            assert_eq!(e, want);
            assert!(!e.contains("s3cr3t"));
        }
    }

    #[test]
    fn an_error_without_a_json_body_is_read_from_its_header_and_xml() {
        assert_eq!(
            error_code("aws.protocols#AccessDeniedException:http://internal.amazon.com/"),
            "AccessDeniedException"
        );
        assert_eq!(error_code("AccessDenied"), "AccessDenied");
        let xml = b"<?xml version=\"1.0\"?><ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: u is not\nauthorized</Message></Error></Errors></ErrorResponse>";
        assert_eq!(xml_field(xml, "Message"), "User: u is not authorized");
        assert_eq!(xml_field(xml, "Code"), "AccessDenied");
        assert_eq!(xml_field(b"<html>proxy</html>", "Message"), "");
        assert_eq!(xml_field(&[b'<', b'M'].repeat(2), "Message").len(), 0);
        assert_eq!(
            xml_field(
                format!("<Message>{}", "x".repeat(1000)).as_bytes(),
                "Message"
            )
            .len(),
            300
        );
    }

    #[test]
    fn a_kms_denial_names_the_kms_action() {
        assert_eq!(
            kms_action("User: x is not authorized to perform: kms:Decrypt on resource: k")
                .as_deref(),
            Some("kms:Decrypt")
        );
        assert_eq!(
            kms_action("not authorized to perform: ssm:GetParameter"),
            None
        );
    }

    fn json_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z\"\\\\{}\\[\\], :\u{e9}]{0,8}".prop_map(Value::String),
        ];
        let value = leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z\"]{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        });
        (
            prop::collection::btree_map("[a-z\"\\\\ ]{0,5}", value, 0..5),
            any::<bool>(),
        )
            .prop_map(|(m, pretty)| {
                let v = Value::Object(m.into_iter().collect());
                if pretty {
                    serde_json::to_string_pretty(&v).unwrap()
                } else {
                    serde_json::to_string(&v).unwrap()
                }
            })
    }

    proptest! {
        /// Any JSON object: afterwards the key holds the token, every other key holds what it
        /// held, and a second edit changes nothing.
        #[test]
        fn setting_a_key_keeps_the_others(old in json_text(), k in "[a-z\"\\\\ ]{0,5}") {
            let how = key(&k);
            let new = edit(Some(&old), &how, TOKEN).unwrap();
            let after = new.clone().unwrap_or(old.clone());
            let (before, after_v): (Value, Value) =
                (serde_json::from_str(&old).unwrap(), serde_json::from_str(&after).unwrap());
            let (before, after_v) = (before.as_object().unwrap(), after_v.as_object().unwrap());
            prop_assert_eq!(after_v.get(&k), Some(&Value::String(TOKEN.into())));
            for (name, v) in before {
                if *name != k {
                    prop_assert_eq!(after_v.get(name), Some(v));
                }
            }
            prop_assert_eq!(after_v.len(), before.len() + usize::from(!before.contains_key(&k)));
            prop_assert_eq!(edit(Some(&after), &how, TOKEN).unwrap(), None);
            prop_assert_eq!(new.is_none(), before.get(&k) == Some(&Value::String(TOKEN.into())));
        }
    }
}
