//! AWS Signature Version 4 (header form) verification against the known access keys.
//!
//! Rebuilds the canonical request as AWS does for non-S3 services (each path segment
//! URI-encoded again, query sorted and RFC 3986-encoded, signed headers lowercased and trimmed,
//! payload hash from `x-amz-content-sha256` or the body), derives the signing key from the
//! secret and compares signatures in constant time. Bodies are expected to be small (the
//! control plane's POSTs are empty, STS's form bodies are tens of bytes).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, Method, Uri, header};
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};
use sha2::{Digest, Sha256};

use crate::config::AccessKey;

type HmacSha256 = Hmac<Sha256>;

/// The only algorithm AWS accepts in the header form.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far a request's `x-amz-date` may be from the server's clock.
pub(crate) const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// RFC 3986 unreserved characters stay; everything else is percent-encoded (uppercase hex).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why a request's signature was refused. The `Display` texts are AWS's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SigError {
    /// No `Authorization` header at all.
    #[error("Missing Authentication Token")]
    Missing,
    /// An `Authorization` header that is not a well-formed SigV4 one, or no `x-amz-date`.
    #[error("{0}")]
    Incomplete(String),
    /// The access key id is not one the emulator knows.
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    /// The signature does not match (wrong secret, or a request altered after signing).
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."
    )]
    Mismatch,
    /// `x-amz-date` is more than [`MAX_SKEW`] away from the server's clock.
    #[error("{0}")]
    Expired(String),
    /// The credential scope names another service (or a date other than `x-amz-date`'s).
    #[error("{0}")]
    BadScope(String),
}

/// The parsed `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorization {
    pub access_key_id: String,
    /// `YYYYMMDD`.
    pub date: String,
    pub region: String,
    pub service: String,
    /// Lowercase header names, as listed.
    pub signed_headers: Vec<String>,
    /// Lowercase hex.
    pub signature: String,
}

/// A request whose signature checked out.
#[derive(Debug, Clone)]
pub(crate) struct Verified<'k> {
    pub key: &'k AccessKey,
    /// Region of the credential scope.
    pub region: String,
}

/// Parses an `Authorization` header value.
pub(crate) fn parse_authorization(value: &str) -> Result<Authorization, SigError> {
    let value = value.trim();
    let (algorithm, rest) = value
        .split_once(' ')
        .ok_or_else(|| incomplete_header(value))?;
    if algorithm != ALGORITHM {
        return Err(SigError::Incomplete(format!(
            "Authorization header requires '{ALGORITHM}' as the algorithm; got '{algorithm}'."
        )));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((k, v)) = part.split_once('=') else {
            return Err(incomplete_header(value));
        };
        match k.trim() {
            "Credential" => credential = Some(v.trim()),
            "SignedHeaders" => signed_headers = Some(v.trim()),
            "Signature" => signature = Some(v.trim()),
            _ => {}
        }
    }
    let missing: Vec<&str> = [
        ("Credential", credential.is_none()),
        ("Signature", signature.is_none()),
        ("SignedHeaders", signed_headers.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(SigError::Incomplete(format!(
            "Authorization header requires '{}' parameter(s). Authorization={value}",
            missing.join("', '")
        )));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(SigError::Incomplete(format!(
            "Credential should have the form AKID/YYYYMMDD/REGION/SERVICE/aws4_request; got '{credential}'."
        )));
    };
    if terminator != "aws4_request"
        || access_key_id.is_empty()
        || date.len() != 8
        || !date.bytes().all(|b| b.is_ascii_digit())
        || region.is_empty()
        || service.is_empty()
    {
        return Err(SigError::Incomplete(format!(
            "Credential should have the form AKID/YYYYMMDD/REGION/SERVICE/aws4_request; got '{credential}'."
        )));
    }
    let signed_headers: Vec<String> = signed_headers
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    if signed_headers.is_empty() {
        return Err(incomplete_header(value));
    }
    Ok(Authorization {
        access_key_id: access_key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers,
        signature: signature.to_ascii_lowercase(),
    })
}

fn incomplete_header(value: &str) -> SigError {
    SigError::Incomplete(format!(
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={value}"
    ))
}

/// Verifies a request signed for `service` against `keys`, with the server's clock at `now`.
pub(crate) fn verify<'k>(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    keys: &'k [AccessKey],
    service: &str,
    now: SystemTime,
) -> Result<Verified<'k>, SigError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(SigError::Missing)?;
    let value = value
        .to_str()
        .map_err(|_| SigError::Incomplete("Authorization header is not valid ASCII.".into()))?;
    let auth = parse_authorization(value)?;
    let key = keys
        .iter()
        .find(|k| k.id == auth.access_key_id)
        .ok_or(SigError::UnknownKey)?;
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(|| {
            SigError::Incomplete(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                    .into(),
            )
        })?;
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
        SigError::Incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        ))
    })?;
    check_clock(amz_date, signed_at, now)?;
    if auth.service != service {
        return Err(SigError::BadScope(format!(
            "Credential should be scoped to correct service: '{service}'. "
        )));
    }
    if !amz_date.starts_with(&auth.date) {
        return Err(SigError::BadScope(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..8.min(amz_date.len())]
        )));
    }
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(SigError::Incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    let payload_hash = match headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        Some(h) => h.trim().to_string(),
        None => hex_sha256(body),
    };
    let creq = canonical_request(
        method.as_str(),
        &canonical_uri(uri.path(), &auth.service),
        &canonical_query(uri.query()),
        &auth.signed_headers,
        headers,
        uri,
        &payload_hash,
    );
    let sts = string_to_sign(
        amz_date,
        &scope(&auth.date, &auth.region, &auth.service),
        &creq,
    );
    let provided = hex::decode(&auth.signature).map_err(|_| SigError::Mismatch)?;
    let signing_key = signing_key(&key.secret, &auth.date, &auth.region, &auth.service);
    let mut mac = new_mac(&signing_key);
    mac.update(sts.as_bytes());
    mac.verify_slice(&provided)
        .map_err(|_| SigError::Mismatch)?;
    Ok(Verified {
        key,
        region: auth.region,
    })
}

fn check_clock(amz_date: &str, signed_at: SystemTime, now: SystemTime) -> Result<(), SigError> {
    if signed_at + MAX_SKEW < now {
        let limit = format_amz_date(now - MAX_SKEW);
        return Err(SigError::Expired(format!(
            "Signature expired: {amz_date} is now earlier than {limit} ({} - 15 min.)",
            format_amz_date(now)
        )));
    }
    if signed_at > now + MAX_SKEW {
        let limit = format_amz_date(now + MAX_SKEW);
        return Err(SigError::Expired(format!(
            "Signature not yet current: {amz_date} is still later than {limit} ({} + 15 min.)",
            format_amz_date(now)
        )));
    }
    Ok(())
}

/// `DATE/REGION/SERVICE/aws4_request`.
pub(crate) fn scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/aws4_request")
}

/// The canonical request: method, URI, query, headers, signed header list, payload hash.
pub(crate) fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    signed_headers: &[String],
    headers: &HeaderMap,
    uri: &Uri,
    payload_hash: &str,
) -> String {
    let mut out = format!("{method}\n{canonical_uri}\n{canonical_query}\n");
    for name in signed_headers {
        let mut values: Vec<String> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| canonical_header_value(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        if values.is_empty() && name == "host" {
            // HTTP/2 carries the host in the URI authority, not in a header.
            if let Some(authority) = uri.authority() {
                values.push(authority.as_str().to_string());
            }
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// Trims a header value and collapses runs of spaces, as SigV4 requires.
fn canonical_header_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hex sha256 of the canonical request}`.
pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex_sha256(canonical_request.as_bytes())
    )
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// Hex signature of `string_to_sign` with `key`.
#[cfg(test)]
pub(crate) fn signature(key: &[u8], string_to_sign: &str) -> String {
    hex::encode(hmac(key, string_to_sign.as_bytes()))
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` only fails for fixed-size-key MACs.
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = new_mac(key);
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub(crate) fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The canonical URI. S3 signs the path as sent; every other service normalizes it (drops
/// `.` and `..` segments) and URI-encodes each segment once more (so `%` becomes `%25`).
pub(crate) fn canonical_uri(path: &str, service: &str) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    if service == "s3" {
        return path.to_string();
    }
    let trailing = path.len() > 1 && path.ends_with('/');
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/').skip(1) {
        match seg {
            "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    // A trailing slash shows up as an empty last segment; keep it once.
    if trailing {
        while segments.last() == Some(&"") {
            segments.pop();
        }
    }
    let mut out = String::with_capacity(path.len() + 8);
    for seg in &segments {
        out.push('/');
        out.extend(percent_encode(seg.as_bytes(), UNRESERVED));
    }
    if trailing || out.is_empty() {
        out.push('/');
    }
    out
}

/// The canonical query string: every parameter decoded, RFC 3986-encoded again, sorted by
/// name then value, `name=value` joined with `&`.
pub(crate) fn canonical_query(query: Option<&str>) -> String {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (reencode(k), reencode(v))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn reencode(s: &str) -> String {
    let bytes: Vec<u8> = percent_decode_str(s).collect();
    percent_encode(&bytes, UNRESERVED).to_string()
}

/// Decodes `a=1&b=x%20y` into pairs, in order. With `plus_as_space` (form bodies), `+` is a
/// space; in URL queries it is a literal `+`.
pub(crate) fn decode_pairs(s: &str, plus_as_space: bool) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k, plus_as_space), decode(v, plus_as_space))
        })
        .collect()
}

fn decode(s: &str, plus_as_space: bool) -> String {
    if plus_as_space && s.contains('+') {
        let s = s.replace('+', " ");
        percent_decode_str(&s).decode_utf8_lossy().into_owned()
    } else {
        percent_decode_str(s).decode_utf8_lossy().into_owned()
    }
}

/// `YYYYMMDDTHHMMSSZ` (UTC).
pub(crate) fn format_amz_date(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// An HTTP `Date` (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`), as AWS stamps its answers.
pub(crate) fn format_http_date(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses `YYYYMMDDTHHMMSSZ`.
pub(crate) fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Signs a request in place as the AWS SDKs do (for tests): sets `host` (from the URI) and
/// `x-amz-date`, signs every header present, and adds `Authorization`.
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign(
    method: &Method,
    uri: &Uri,
    headers: &mut HeaderMap,
    body: &[u8],
    access_key_id: &str,
    secret: &str,
    region: &str,
    service: &str,
    at: SystemTime,
) {
    use axum::http::HeaderValue;
    if !headers.contains_key(header::HOST)
        && let Some(authority) = uri.authority()
        && let Ok(v) = HeaderValue::from_str(authority.as_str())
    {
        headers.insert(header::HOST, v);
    }
    let amz_date = format_amz_date(at);
    if let Ok(v) = HeaderValue::from_str(&amz_date) {
        headers.insert("x-amz-date", v);
    }
    headers.remove(header::AUTHORIZATION);
    let mut names: Vec<String> = headers.keys().map(|k| k.as_str().to_string()).collect();
    names.sort();
    names.dedup();
    let date = &amz_date[..8];
    let payload_hash = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| hex_sha256(body));
    let creq = canonical_request(
        method.as_str(),
        &canonical_uri(uri.path(), service),
        &canonical_query(uri.query()),
        &names,
        headers,
        uri,
        &payload_hash,
    );
    let sts = string_to_sign(&amz_date, &scope(date, region, service), &creq);
    let sig = signature(&signing_key(secret, date, region, service), &sts);
    let value = format!(
        "{ALGORITHM} Credential={access_key_id}/{}, SignedHeaders={}, Signature={sig}",
        scope(date, region, service),
        names.join(";")
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(header::AUTHORIZATION, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    // AWS's Signature Version 4 test suite credentials and clock (20150830T123600Z).
    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn suite_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    fn suite_key() -> Vec<AccessKey> {
        vec![AccessKey {
            id: AKID.into(),
            secret: SECRET.into(),
            account: None,
            user: None,
            deny: Vec::new(),
        }]
    }

    fn suite_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_static("example.amazonaws.com"),
        );
        h.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
        h
    }

    fn suite_signature(method: &str, path: &str, query: Option<&str>) -> String {
        let names = vec!["host".to_string(), "x-amz-date".to_string()];
        let uri: Uri = "/".parse().unwrap();
        let creq = canonical_request(
            method,
            path,
            &canonical_query(query),
            &names,
            &suite_headers(),
            &uri,
            EMPTY_SHA256,
        );
        let sts = string_to_sign(
            "20150830T123600Z",
            &scope("20150830", "us-east-1", "service"),
            &creq,
        );
        signature(
            &signing_key(SECRET, "20150830", "us-east-1", "service"),
            &sts,
        )
    }

    #[test]
    fn matches_the_aws_test_suite() {
        // get-vanilla
        let names = vec!["host".to_string(), "x-amz-date".to_string()];
        let uri: Uri = "/".parse().unwrap();
        let creq = canonical_request("GET", "/", "", &names, &suite_headers(), &uri, EMPTY_SHA256);
        assert_eq!(
            creq,
            format!(
                "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n{EMPTY_SHA256}"
            )
        );
        assert_eq!(
            string_to_sign(
                "20150830T123600Z",
                "20150830/us-east-1/service/aws4_request",
                &creq
            ),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        assert_eq!(
            suite_signature("GET", "/", None),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        // get-vanilla-query-order-key-case
        assert_eq!(
            suite_signature("GET", "/", Some("Param2=value2&Param1=value1")),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
        // post-vanilla
        assert_eq!(
            suite_signature("POST", "/", None),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
        // get-utf8 (the path `/ሴ`, encoded once)
        assert_eq!(
            suite_signature("GET", "/%E1%88%B4", None),
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
        );
    }

    #[test]
    fn verifies_the_get_vanilla_request() {
        let uri: Uri = "/".parse().unwrap();
        let mut h = suite_headers();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        );
        let keys = suite_key();
        let v = verify(&Method::GET, &uri, &h, b"", &keys, "service", suite_time()).unwrap();
        assert_eq!(v.key.id, AKID);
        assert_eq!(v.region, "us-east-1");
        // Another service in the scope than the one serving.
        let e = verify(&Method::GET, &uri, &h, b"", &keys, "sts", suite_time()).unwrap_err();
        assert!(matches!(e, SigError::BadScope(_)), "{e:?}");
        // Same request, other method: the signature no longer matches.
        let e = verify(&Method::POST, &uri, &h, b"", &keys, "service", suite_time()).unwrap_err();
        assert_eq!(e, SigError::Mismatch);
    }

    #[test]
    fn sign_and_verify_round_trip() {
        let uri: Uri = "http://127.0.0.1:4000/v1/authorization-token?domain=my-domain&duration=900&domain-owner=111122223333"
            .parse()
            .unwrap();
        let path_only: Uri =
            "/v1/authorization-token?domain=my-domain&duration=900&domain-owner=111122223333"
                .parse()
                .unwrap();
        let now = SystemTime::now();
        let mut h = HeaderMap::new();
        h.insert(
            "x-amz-user-agent",
            HeaderValue::from_static("aws-sdk-rust  test"),
        );
        sign(
            &Method::POST,
            &uri,
            &mut h,
            b"",
            AKID,
            SECRET,
            "eu-west-1",
            "codeartifact",
            now,
        );
        let keys = suite_key();
        let v = verify(
            &Method::POST,
            &path_only,
            &h,
            b"",
            &keys,
            "codeartifact",
            now,
        )
        .unwrap();
        assert_eq!(v.region, "eu-west-1");

        // Wrong secret.
        let other = vec![AccessKey {
            secret: "another".into(),
            ..keys[0].clone()
        }];
        let e = verify(
            &Method::POST,
            &path_only,
            &h,
            b"",
            &other,
            "codeartifact",
            now,
        );
        assert_eq!(e.unwrap_err(), SigError::Mismatch);
        // Unknown key.
        let e = verify(&Method::POST, &path_only, &h, b"", &[], "codeartifact", now);
        assert_eq!(e.unwrap_err(), SigError::UnknownKey);
        // A changed query.
        let changed: Uri =
            "/v1/authorization-token?domain=my-domain&duration=901&domain-owner=111122223333"
                .parse()
                .unwrap();
        let e = verify(&Method::POST, &changed, &h, b"", &keys, "codeartifact", now);
        assert_eq!(e.unwrap_err(), SigError::Mismatch);
        // A body that was not signed.
        let e = verify(
            &Method::POST,
            &path_only,
            &h,
            b"x",
            &keys,
            "codeartifact",
            now,
        );
        assert_eq!(e.unwrap_err(), SigError::Mismatch);
        // Clock 20 minutes later / earlier.
        let later = now + Duration::from_secs(20 * 60);
        let e = verify(
            &Method::POST,
            &path_only,
            &h,
            b"",
            &keys,
            "codeartifact",
            later,
        );
        match e.unwrap_err() {
            SigError::Expired(m) => assert!(m.starts_with("Signature expired: "), "{m}"),
            other => panic!("{other:?}"),
        }
        let earlier = now - Duration::from_secs(20 * 60);
        let e = verify(
            &Method::POST,
            &path_only,
            &h,
            b"",
            &keys,
            "codeartifact",
            earlier,
        );
        match e.unwrap_err() {
            SigError::Expired(m) => assert!(m.starts_with("Signature not yet current: "), "{m}"),
            other => panic!("{other:?}"),
        }
        // No Authorization header.
        h.remove(header::AUTHORIZATION);
        let e = verify(
            &Method::POST,
            &path_only,
            &h,
            b"",
            &keys,
            "codeartifact",
            now,
        );
        assert_eq!(e.unwrap_err(), SigError::Missing);
    }

    #[test]
    fn parses_and_rejects_authorization_headers() {
        let a = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/codeartifact/aws4_request,SignedHeaders=host;X-Amz-Date,Signature=ABCDEF",
        )
        .unwrap();
        assert_eq!(a.access_key_id, "AKID");
        assert_eq!(a.region, "eu-west-1");
        assert_eq!(a.service, "codeartifact");
        assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(a.signature, "abcdef");
        for bad in [
            "Basic YXdzOnRva2Vu",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/codeartifact/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AKID/2024/eu-west-1/codeartifact/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/codeartifact, SignedHeaders=host, Signature=00",
        ] {
            assert!(
                matches!(parse_authorization(bad), Err(SigError::Incomplete(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn canonical_uri_and_query() {
        assert_eq!(canonical_uri("", "codeartifact"), "/");
        assert_eq!(canonical_uri("/", "codeartifact"), "/");
        assert_eq!(
            canonical_uri("/v1/authorization-token", "codeartifact"),
            "/v1/authorization-token"
        );
        assert_eq!(canonical_uri("/a%20b/c", "codeartifact"), "/a%2520b/c");
        assert_eq!(canonical_uri("/a/./b/../c/", "codeartifact"), "/a/c/");
        assert_eq!(canonical_uri("/a%20b/c", "s3"), "/a%20b/c");
        assert_eq!(
            canonical_query(Some("b=2&a=x y&A=0&c&a=%7e1")),
            "A=0&a=x%20y&a=~1&b=2&c="
        );
        assert_eq!(canonical_query(Some("k=a+b%2Bc")), "k=a%2Bb%2Bc");
        assert_eq!(canonical_query(None), "");
        assert_eq!(
            decode_pairs("Action=GetCallerIdentity&Version=2011-06-15&x=a+b%21", true),
            vec![
                ("Action".to_string(), "GetCallerIdentity".to_string()),
                ("Version".to_string(), "2011-06-15".to_string()),
                ("x".to_string(), "a b!".to_string()),
            ]
        );
        assert_eq!(decode_pairs("x=a+b", false)[0].1, "a+b");
    }

    #[test]
    fn http_dates_are_imf_fixdates() {
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(format_http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            format_http_date(UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn amz_dates_round_trip() {
        assert_eq!(format_amz_date(suite_time()), "20150830T123600Z");
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(suite_time()));
        assert_eq!(format_amz_date(UNIX_EPOCH), "19700101T000000Z");
        let leap = parse_amz_date("20240229T235959Z").unwrap();
        assert_eq!(format_amz_date(leap), "20240229T235959Z");
        assert_eq!(
            format_amz_date(leap + Duration::from_secs(1)),
            "20240301T000000Z"
        );
        for bad in [
            "2015-08-30T12:36:00Z",
            "20151330T123600Z",
            "20150830T123600",
            "x",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }
}
