//! Redaction: the one layer every output of a token-holding process goes through (logs, the
//! AWS SDK's wire logs, errors, access lines, panics, `--verbose` and `--dry-run` output), with
//! the registry of the exact tokens this process holds.
//!
//! [`redact`] hides a value wherever it sits in a known shape, however it is quoted or
//! encoded: URL userinfo (`aws:T@`, any `user:T@` after `://`, and both percent-encoded once
//! or twice: `aws%3AT%40`), `Bearer T` / `Basic T`, and the value of any key whose name ends in
//! `token`, `password`, `passwd`, `secret` or `_auth` (`_authToken`, `authorizationToken`,
//! `CODEARTIFACT_AUTH_TOKEN`, `UV_INDEX_X_PASSWORD`, `x-amz-security-token`, ...) as
//! `K=T`, `K = 'T'`, `"K": "T"`, `\"K\":\"T\"`, `\u0022K\u0022:\u0022T`, `%22K%22%3A%22T`,
//! `&quot;K&quot;:&quot;T`, `K: T` (a key that is not a plain word), `<K>T</K>`, `key="K"
//! value="T"`, netrc's `password T`, fish's `set -gx K 'T'` and `$GITHUB_ENV`'s `K<<EOF`.
//! ANSI colour codes (tracing's field colours) do not hide a shape. On top of the shapes, every
//! token the process was handed ([`remember`], done by [`crate::Token::new`]) is hidden
//! wherever it shows, in any shape at all.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Mutex;

const MASK: &str = "***";

/// Replaces every secret in `text` (see the module docs for the shapes) with `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    if text.contains('\x1b') {
        return redact_coloured(text);
    }
    let mut spans = Vec::new();
    shapes(text.as_bytes(), &mut spans);
    known(text, &mut spans);
    apply(text, spans)
}

/// Replaces every occurrence of the given secrets too (exact values known to the caller).
pub fn redact_known<'a>(text: &'a str, secrets: &[&str]) -> Cow<'a, str> {
    let mut out = redact(text);
    for s in secrets.iter().filter(|s| s.len() >= MIN_KNOWN) {
        if out.contains(s) {
            out = Cow::Owned(out.replace(s, MASK));
        }
    }
    out
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

/// Writes `text` to stderr redacted, in one write: for lines written outside `tracing` (the
/// access log, final errors).
pub fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(redact(text).as_bytes());
}

// ---- writers ----

/// A writer that keeps what it is given (one `tracing` event) and writes it redacted, in one
/// write, when dropped.
pub struct RedactingWriter<W: Write> {
    buf: Vec<u8>,
    out: W,
}

impl<W: Write> RedactingWriter<W> {
    pub fn new(out: W) -> RedactingWriter<W> {
        RedactingWriter {
            buf: Vec::new(),
            out,
        }
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buf);
        let _ = self.out.write_all(redact(&text).as_bytes());
        let _ = self.out.flush();
        self.buf.fill(0);
    }
}

/// A `tracing_subscriber` writer maker whose every event is redacted before it reaches the
/// wrapped one: `fmt().with_writer(Redacting(std::io::stderr))`, or [`stderr`].
#[cfg(feature = "runtime")]
#[derive(Clone, Copy, Debug, Default)]
pub struct Redacting<M>(pub M);

#[cfg(feature = "runtime")]
impl<'a, M: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a>
    for Redacting<M>
{
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter::new(self.0.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        RedactingWriter::new(self.0.make_writer_for(meta))
    }
}

/// The log writer of every artoken process (the CLI, `serve`, the Lambda): stderr, redacted.
#[cfg(feature = "runtime")]
pub fn stderr() -> Redacting<fn() -> std::io::Stderr> {
    Redacting(std::io::stderr)
}

/// Panics print their message redacted (a panic may carry a URL or a body), as the default
/// hook would: the thread, the place, the message, and the backtrace when RUST_BACKTRACE asks.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("<unnamed>");
        let backtrace = std::backtrace::Backtrace::capture();
        let mut text = format!("thread '{name}' {info}\n");
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            text.push_str(&format!("stack backtrace:\n{backtrace}\n"));
        }
        write_stderr(&text);
    }));
}

// ---- the registry of known tokens ----

/// Shorter values are not remembered: they would hide ordinary words.
const MIN_KNOWN: usize = 8;
/// Tokens remembered at most (oldest forgotten first): a long-running `serve` refreshes for
/// days, and only the tokens of the last hours can still be in use.
const KNOWN_MAX: usize = 64;

/// Each remembered token and its percent-encoded form when that differs.
static KNOWN: Mutex<Vec<(String, Option<String>)>> = Mutex::new(Vec::new());

/// Remembers a secret this process holds: from now on [`redact`] hides it wherever it shows.
/// [`crate::Token::new`] calls it for every token.
pub fn remember(secret: &str) {
    if secret.len() < MIN_KNOWN {
        return;
    }
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    if known.iter().any(|(s, _)| s == secret) {
        return;
    }
    if known.len() >= KNOWN_MAX {
        let (mut s, e) = known.remove(0);
        wipe(&mut s);
        if let Some(mut e) = e {
            wipe(&mut e);
        }
    }
    let encoded: String =
        percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
            // The unreserved characters stay as they are (RFC 3986).
            .replace("%2D", "-")
            .replace("%2E", ".")
            .replace("%5F", "_")
            .replace("%7E", "~");
    let encoded = (encoded != secret).then_some(encoded);
    known.push((secret.to_string(), encoded));
}

fn wipe(s: &mut str) {
    // SAFETY: zero bytes are valid UTF-8.
    unsafe { s.as_bytes_mut() }.fill(0);
}

fn known(text: &str, spans: &mut Vec<(usize, usize)>) {
    let known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    for (secret, encoded) in known.iter() {
        for s in std::iter::once(secret).chain(encoded) {
            let mut from = 0;
            while let Some(p) = text[from..].find(s.as_str()) {
                spans.push((from + p, from + p + s.len()));
                from += p + s.len();
            }
        }
    }
}

// ---- applying spans ----

/// `text` with each span (byte ranges on ASCII boundaries) replaced by `***`; borrowed when
/// nothing changes.
fn apply(text: &str, mut spans: Vec<(usize, usize)>) -> Cow<'_, str> {
    spans.retain(|(s, e)| e > s);
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    if merged.iter().all(|&(s, e)| &text[s..e] == MASK) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in merged {
        out.push_str(&text[at..s]);
        out.push_str(MASK);
        at = e;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// [`redact`] for text with ANSI escape sequences: the shapes are found in the text without
/// them (tracing colours a field's name and its `=` apart), and the spans mapped back.
fn redact_coloured(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let mut plain = Vec::with_capacity(b.len());
    let mut at = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == 0x1b {
            i += 1;
            if b.get(i) == Some(&b'[') {
                i += 1;
                while i < b.len() && !(0x40..=0x7e).contains(&b[i]) {
                    i += 1;
                }
            }
            i += 1;
            continue;
        }
        plain.push(b[i]);
        at.push(i);
        i += 1;
    }
    let mut spans = Vec::new();
    shapes(&plain, &mut spans);
    let mut mapped: Vec<(usize, usize)> = spans
        .into_iter()
        .filter(|(s, e)| e > s)
        .map(|(s, e)| (at[s], at[e - 1] + 1))
        .collect();
    known(text, &mut mapped);
    // A span may now hold escape sequences: widen it to char boundaries to be safe.
    for (s, e) in &mut mapped {
        while !text.is_char_boundary(*s) {
            *s -= 1;
        }
        while !text.is_char_boundary(*e) {
            *e += 1;
        }
    }
    apply(text, mapped)
}

// ---- the shapes ----
//
// The text is read in units: a byte, or what an escape stands for (`%XX`, `%25XX`, `&quot;`,
// `%26quot%3B`, ...), so each shape is found in every encoding at once.

/// Finds every secret value in a known shape; pushes its byte range.
fn shapes(b: &[u8], spans: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    // The previous unit, decoded: a word starts where it is no word character.
    let mut prev = b' ';
    while i < b.len() {
        // `://user:T@`, `%3A%2F%2Fuser%3AT%40`, `:\/\/user:T@`.
        if let Some(n) = scheme_separator(b, i) {
            userinfo(b, i + n, depth(b, i), spans);
            prev = b'/';
            i += n;
            continue;
        }
        // A string escape (`\n`, `\"`, `\\\"`, `\u0022`), in any encoding, separates words.
        if b[i] == b'\\' {
            i += escape_len(b, i);
            prev = b' ';
            continue;
        }
        if let Some(n) = encoded_escape_len(b, i) {
            i += n;
            prev = b' ';
            continue;
        }
        let (c, n) = unit(b, i).unwrap_or((b[i], 1));
        if !is_ident(c) || is_ident(prev) {
            prev = c;
            i += n;
            continue;
        }
        let (word, e) = word(b, i);
        let found = spans.len();
        if word.eq_ignore_ascii_case(b"aws") {
            // `aws:T@` without a scheme in front.
            if let Some((b':', n)) = unit(b, e) {
                password(b, e + n, depth(b, e), spans);
            }
        } else if word == b"Bearer" || word == b"Basic" || word == b"bearer" {
            scheme_credentials(b, e, spans);
        } else if is_secret_key(&word) && !b[..i].ends_with(b"::") {
            // (A Rust path's last part, `operation::get_authorization_token: ...`, is no key.)
            key_value(b, &word, prev, i, e, spans);
        }
        prev = b'a';
        // Past a value found (already hidden whole): `token=token=...` stays linear.
        i = spans[found..].iter().map(|s| s.1).fold(e, usize::max);
    }
}

/// The word (units that are word characters, decoded) at `i`, and where it ends.
fn word(b: &[u8], mut i: usize) -> (Vec<u8>, usize) {
    let mut w = Vec::new();
    while let Some((c, n)) = unit(b, i) {
        if !is_ident(c) {
            break;
        }
        w.push(c);
        i += n;
    }
    (w, i)
}

/// The length of the string escape at `i` (a backslash): `\n`, `\\\"`, `\u0022`, ...
fn escape_len(b: &[u8], i: usize) -> usize {
    let mut j = i;
    while b.get(j) == Some(&b'\\') {
        j += 1;
    }
    match b.get(j) {
        Some(b'u') if b.len() >= j + 5 && b[j + 1..j + 5].iter().all(u8::is_ascii_hexdigit) => {
            j + 5 - i
        }
        Some(b'n' | b'r' | b't' | b'"' | b'\'' | b'/') => j + 1 - i,
        _ => j - i,
    }
}

/// A string escape written in an encoding (`%5Cn`, `%255Cn`, `%5C%22`): its length, when the
/// unit at `i` is an encoded backslash followed by an escape letter or quote.
fn encoded_escape_len(b: &[u8], i: usize) -> Option<usize> {
    let (c, n) = unit(b, i)?;
    if c != b'\\' || n == 1 {
        return None;
    }
    let mut j = i + n;
    while let Some((b'\\', m)) = unit(b, j) {
        j += m;
    }
    match unit(b, j)? {
        (b'n' | b'r' | b't' | b'"' | b'\'' | b'/', m) => Some(j + m - i),
        _ => None,
    }
}

/// `/` or JSON's `\/` at `i`: its length.
fn slash(b: &[u8], i: usize) -> Option<usize> {
    match unit(b, i)? {
        (b'/', n) => Some(n),
        (b'\\', 1) if b.get(i + 1) == Some(&b'/') => Some(2),
        _ => None,
    }
}

/// `://` at `i`, in any encoding: its length.
fn scheme_separator(b: &[u8], i: usize) -> Option<usize> {
    let (c, n1) = unit(b, i)?;
    if c != b':' {
        return None;
    }
    let n2 = slash(b, i + n1)?;
    let n3 = slash(b, i + n1 + n2)?;
    Some(n1 + n2 + n3)
}

/// The authority after a scheme separator (whose `:` is `level` times percent-encoded): hides
/// the password of `user:password@`. Bytes encoded deeper than the separator are data.
fn userinfo(b: &[u8], mut i: usize, level: u8, spans: &mut Vec<(usize, usize)>) {
    while let Some((c, n)) = unit(b, i) {
        if depth(b, i) <= level {
            if c == b':' {
                password(b, i + n, level, spans);
                return;
            }
            if userinfo_stop(c) {
                return;
            }
        }
        i += n;
    }
}

/// A password from `start`: a secret only when an `@` as deeply encoded as the `:` before it
/// ends it (`%40` in a plain URL's password is part of it).
fn password(b: &[u8], start: usize, level: u8, spans: &mut Vec<(usize, usize)>) {
    let mut end = start;
    while let Some((c, n)) = unit(b, end) {
        if depth(b, end) <= level && userinfo_stop(c) {
            break;
        }
        end += n;
    }
    if end > start && matches!(unit(b, end), Some((b'@', _))) {
        spans.push((start, end));
    }
}

/// How many times the unit at `i` is percent-encoded: 0, 1 (`%3A`) or 2 (`%253A`).
fn depth(b: &[u8], i: usize) -> u8 {
    match percent(b, i) {
        Some((_, 5)) => 2,
        Some((_, 3)) => 1,
        _ => 0,
    }
}

/// `Bearer T`, `Basic T` (a space, `%20` or `+` between).
fn scheme_credentials(b: &[u8], e: usize, spans: &mut Vec<(usize, usize)>) {
    let start = match unit(b, e) {
        Some((b' ', n)) => e + n,
        Some((b'+', 1)) => e + 1,
        _ => return,
    };
    let end = value_end(b, start, value_stop);
    if end > start {
        spans.push((start, end));
    }
}

/// The value after secret key `key` (`b[k..e]`, after a unit `prev`), in any of the key
/// shapes (module docs).
fn key_value(b: &[u8], key: &[u8], prev: u8, k: usize, e: usize, spans: &mut Vec<(usize, usize)>) {
    // `<password>T</password>`, `&lt;password&gt;T`, `%3Cpassword%3ET`
    if prev == b'<' {
        if let Some((b'>', n)) = unit(b, e) {
            value_at(b, e + n, spans);
        }
        return;
    }
    // `K<<DELIM\nT\nDELIM` ($GITHUB_ENV)
    if is_env_name(key)
        && let Some((b'<', n1)) = unit(b, e)
        && let Some((b'<', n2)) = unit(b, e + n1)
    {
        let (delim, j) = word(b, e + n1 + n2);
        if !delim.is_empty()
            && let Some(n) = newline(b, j)
        {
            value_at(b, j + n, spans);
        }
        return;
    }
    let q1 = quote_run(b, e);
    let quoted = q1 > e;
    let ws = skip_blanks(b, q1);
    let spaced = ws > q1;
    let mut j = ws;
    let separated = match unit(b, j) {
        Some((b'=', n)) => {
            j += n;
            if let Some((b'>', n)) = unit(b, j) {
                j += n; // `"K" => "T"`
            }
            true
        }
        Some((b':', n)) if (quoted || colon_key(key)) && unit(b, j + n) != Some((b':', 1)) => {
            j += n;
            if let Some((b'=', n)) = unit(b, j) {
                j += n;
            }
            true
        }
        _ => false,
    };
    if separated {
        let mut j = skip_blanks(b, j);
        // Pretty JSON may break the line after the `:`.
        while quoted && let Some(n) = newline(b, j) {
            j = skip_blanks(b, j + n);
        }
        return value_at(b, j, spans);
    }
    // `key="ClearTextPassword" value="T"` (NuGet)
    if quoted {
        let (attr, after) = word(b, j);
        if attr == b"value"
            && let Some((b'=', n)) = unit(b, after)
        {
            return value_at(b, after + n, spans);
        }
    }
    if !spaced || newline(b, j).is_some() {
        return;
    }
    // `machine h login aws password T` (netrc), on one line or on its own.
    if key == b"password" && netrc_line(b, k) {
        return value_at(b, j, spans);
    }
    // `set -gx K 'T'` (fish): an environment name and a quoted value after a space.
    if is_env_name(key) && quote_run(b, j) > j {
        value_at(b, j, spans);
    }
}

/// A value at `i`, after its opening quotes if any; `${NAME}` placeholders are not secrets.
fn value_at(b: &[u8], mut i: usize, spans: &mut Vec<(usize, usize)>) {
    // A Debug-printed `Option`: `token: Some("T")`.
    if b[i.min(b.len())..].starts_with(b"Some(") {
        i += 5;
    }
    let start = quote_run(b, i);
    if let Some((b'$', n)) = unit(b, start)
        && let Some((b'{', _)) = unit(b, start + n)
    {
        return;
    }
    let end = value_end(b, start, value_stop);
    if end > start {
        spans.push((start, end));
    }
}

/// Where a value from `start` ends: at a unit `stop` says ends it. JSON's `\/` and escapes of
/// other bytes are part of the value.
fn value_end(b: &[u8], start: usize, stop: fn(u8) -> bool) -> usize {
    let mut i = start;
    while let Some((c, n)) = unit(b, i) {
        if c == b'\\'
            && let Some((b'/', m)) = unit(b, i + n)
        {
            i += n + m;
            continue;
        }
        if stop(c) {
            break;
        }
        i += n;
    }
    i
}

/// The byte at `i` and how many bytes stand for it: `%XX`, `%25XX` (encoded twice), an HTML
/// entity (`&quot;`, `&#39;`, `&lt;`, ..., also percent-encoded), or the byte itself.
fn unit(b: &[u8], i: usize) -> Option<(u8, usize)> {
    let (mut c, mut n) = percent(b, i)?;
    // `&amp;quot;`: escaped twice.
    for _ in 0..2 {
        match entity(b, i + n) {
            Some((d, m)) if c == b'&' => (c, n) = (d, n + m),
            _ => break,
        }
    }
    Some((c, n))
}

fn percent(b: &[u8], i: usize) -> Option<(u8, usize)> {
    let c = *b.get(i)?;
    if c != b'%' {
        return Some((c, 1));
    }
    let hex = |j: usize| {
        let h = |k: usize| b.get(k).and_then(|h| (*h as char).to_digit(16));
        Some((h(j)? * 16 + h(j + 1)?) as u8)
    };
    match hex(i + 1) {
        Some(b'%') => match hex(i + 3) {
            Some(w) => Some((w, 5)),
            None => Some((b'%', 3)),
        },
        Some(v) => Some((v, 3)),
        None => Some((c, 1)),
    }
}

/// The HTML entity after a `&` at `i` (its name, `;`, either percent-encoded): the byte it
/// stands for, its length.
fn entity(b: &[u8], i: usize) -> Option<(u8, usize)> {
    let mut name = Vec::new();
    let mut j = i;
    loop {
        let (c, n) = percent(b, j)?;
        if c == b';' && !name.is_empty() {
            j += n;
            break;
        }
        if name.len() == 6 || !(c.is_ascii_alphanumeric() || c == b'#') {
            return None;
        }
        name.push(c.to_ascii_lowercase());
        j += n;
    }
    let c = match name.as_slice() {
        b"quot" | b"#34" | b"#x22" => b'"',
        b"apos" | b"#39" | b"#x27" => b'\'',
        b"lt" | b"#60" | b"#x3c" => b'<',
        b"gt" | b"#62" | b"#x3e" => b'>',
        b"amp" | b"#38" | b"#x26" => b'&',
        _ => return None,
    };
    Some((c, j - i))
}

/// Past any run of quotes in any encoding: `"`, `'`, `` ` ``, backslashes, `\u0022`, `%22`,
/// `%2522`, `&quot;`, `&#39;`.
fn quote_run(b: &[u8], mut i: usize) -> usize {
    loop {
        if b.get(i) == Some(&b'\\')
            && b.len() >= i + 6
            && b[i + 1].eq_ignore_ascii_case(&b'u')
            && (&b[i + 2..i + 6] == b"0022" || &b[i + 2..i + 6] == b"0027")
        {
            i += 6;
            continue;
        }
        match unit(b, i) {
            Some((b'"' | b'\'' | b'`' | b'\\', n)) => i += n,
            _ => return i,
        }
    }
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while let Some((b' ' | b'\t', n)) = unit(b, i) {
        i += n;
    }
    i
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// How the names of keys that hold a secret end (compared in lower case).
const SECRET_SUFFIXES: [&str; 7] = [
    "token",
    "password",
    "passwd",
    "secret",
    "_auth",
    "secret_access_key",
    "secretaccesskey",
];

/// A key whose value is a secret: its name ends in one of [`SECRET_SUFFIXES`] as a word of its
/// own (the whole name, after `_`, `-` or `.`, or a camelCase hump: `authToken`, not
/// `artoken`); `_auth` only as npm's own key (`_auth`, `npm_config__auth`), not as in
/// `session_auth`.
fn is_secret_key(key: &[u8]) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_SUFFIXES.iter().any(|s| {
        if !k.ends_with(s.as_bytes()) {
            return false;
        }
        if *s == "_auth" {
            return k.len() == 5 || k[k.len() - 6] == b'_';
        }
        let start = k.len() - s.len();
        start == 0
            || matches!(key[start - 1], b'_' | b'-' | b'.')
            || ((key[start - 1].is_ascii_lowercase() || key[start - 1].is_ascii_digit())
                && key[start].is_ascii_uppercase())
    })
}

/// `K: T` without quotes counts only for a key that is no plain word (`npmAuthToken:`,
/// `x-amz-security-token:`, `aws_session_token:`), so `cannot get a token: ...` stays, and
/// no API operation name (`GetAuthorizationToken: ...`).
fn colon_key(key: &[u8]) -> bool {
    let plain = SECRET_SUFFIXES
        .iter()
        .any(|s| key.eq_ignore_ascii_case(s.trim_start_matches('_').as_bytes()));
    let operation = key[0].is_ascii_uppercase() && key.iter().all(|c| c.is_ascii_alphanumeric());
    !plain && !operation
}

/// An environment variable name: upper case, digits and `_`, with a `_`.
fn is_env_name(key: &[u8]) -> bool {
    key.contains(&b'_')
        && key
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

/// netrc's `password` at `k`: first on its line, or after `machine`/`login` on it.
fn netrc_line(b: &[u8], k: usize) -> bool {
    let line_start = b[..k]
        .iter()
        .rposition(|c| *c == b'\n')
        .map_or(0, |p| p + 1);
    let before = &b[line_start..k];
    before.iter().all(|c| *c == b' ' || *c == b'\t')
        || before.windows(5).any(|w| w == b"login")
        || before.windows(7).any(|w| w == b"machine")
}

/// A line break at `i` (`\n`, `\r\n`, percent-encoded, or escaped as `\n` in a string): its
/// length.
fn newline(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    if let Some((b'\r', n)) = unit(b, j) {
        j += n;
    }
    if let Some((b'\n', n)) = unit(b, j) {
        return Some(j + n - i);
    }
    // Escaped: backslashes, `r`, backslashes, `n` (each in any encoding).
    let skip = |mut j: usize| {
        while let Some((b'\\', n)) = unit(b, j) {
            j += n;
        }
        j
    };
    let mut j = skip(i);
    if j == i {
        return None;
    }
    if let Some((b'r', 1)) = unit(b, j) {
        j = skip(j + 1);
    }
    match unit(b, j) {
        Some((b'n', 1)) => Some(j + 1 - i),
        _ => None,
    }
}

/// What ends a value: blanks, controls, quotes, backslashes and the delimiters of JSON, URL
/// query strings, shells and markup.
fn value_stop(c: u8) -> bool {
    c <= b' ' || c == 0x7f || b"\"'`\\,;&<>()[]{}|".contains(&c)
}

/// What ends URL userinfo: a value's ends, and `/ @ ? #`.
fn userinfo_stop(c: u8) -> bool {
    value_stop(c) || b"/@?#".contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A token with every character tokens have that a URL's userinfo takes as it is.
    const T: &str = "eyJ2ZXIiOjEsImlzdSI6MTcwMDAwMDAwMH0.SECRET-tok_en~1+2=";

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

    /// Every shape a token travels in: (text with `T` for the token, the same text redacted).
    const SHAPES: &[(&str, &str)] = &[
        // URL userinfo, any user, percent-encoded once and twice, in a query string.
        (
            "https://aws:T@corp-1.d.codeartifact.x/pypi/r/simple/",
            "https://aws:***@corp-1.d.codeartifact.x/pypi/r/simple/",
        ),
        ("aws:T@host", "aws:***@host"),
        ("git+https://user:T@h/x", "git+https://user:***@h/x"),
        (
            "?next=https%3A%2F%2Faws%3AT%40h%2Fsimple%2F",
            "?next=https%3A%2F%2Faws%3A***%40h%2Fsimple%2F",
        ),
        ("aws%3aT%40h", "aws%3a***%40h"),
        (
            "u=https%253A%252F%252Faws%253AT%2540h",
            "u=https%253A%252F%252Faws%253A***%2540h",
        ),
        // Authorization schemes.
        ("Authorization: Bearer T y", "Authorization: Bearer *** y"),
        (
            "{\"authorization\": \"Basic T\"}",
            "{\"authorization\": \"Basic ***\"}",
        ),
        (
            "authorization=Bearer%20T&x=1",
            "authorization=Bearer%20***&x=1",
        ),
        // JSON, every way it gets quoted.
        (
            r#"{"authorizationToken":"T","expiration":1}"#,
            r#"{"authorizationToken":"***","expiration":1}"#,
        ),
        (
            r#"{"authorizationToken": "T", "expiration": 1}"#,
            r#"{"authorizationToken": "***", "expiration": 1}"#,
        ),
        (
            "{\n  \"authorizationToken\" :\n\t \"T\"\n}",
            "{\n  \"authorizationToken\" :\n\t \"***\"\n}",
        ),
        (
            r#"b"{\"authorizationToken\":\"T\",\"expiration\":1.7E9}""#,
            r#"b"{\"authorizationToken\":\"***\",\"expiration\":1.7E9}""#,
        ),
        (
            r#""{\\\"authorizationToken\\\": \\\"T\\\"}""#,
            r#""{\\\"authorizationToken\\\": \\\"***\\\"}""#,
        ),
        (
            r#"{\u0022authorizationToken\u0022:\u0022T\u0022}"#,
            r#"{\u0022authorizationToken\u0022:\u0022***\u0022}"#,
        ),
        (
            "%7B%22authorizationToken%22%3A%22T%22%7D",
            "%7B%22authorizationToken%22%3A%22***%22%7D",
        ),
        (
            "{&quot;authorizationToken&quot;:&quot;T&quot;}",
            "{&quot;authorizationToken&quot;:&quot;***&quot;}",
        ),
        (
            "{'authorizationToken': 'T'}",
            "{'authorizationToken': '***'}",
        ),
        (
            r#"{"env":{"CODEARTIFACT_AUTH_TOKEN":"T","PIP_INDEX_URL":"x"}}"#,
            r#"{"env":{"CODEARTIFACT_AUTH_TOKEN":"***","PIP_INDEX_URL":"x"}}"#,
        ),
        (r#"{"token": "T"}"#, r#"{"token": "***"}"#),
        (
            r#"{"a":"https:\/\/aws:T@h\/"}"#,
            r#"{"a":"https:\/\/aws:***@h\/"}"#,
        ),
        // Assignments: shells, dotenv, PowerShell, TOML, properties, .npmrc, query strings.
        (
            "export CODEARTIFACT_AUTH_TOKEN='T'\n",
            "export CODEARTIFACT_AUTH_TOKEN='***'\n",
        ),
        (
            "UV_INDEX_CORP_PASSWORD=\"T\"\n",
            "UV_INDEX_CORP_PASSWORD=\"***\"\n",
        ),
        ("TWINE_PASSWORD=T x", "TWINE_PASSWORD=*** x"),
        (
            "$Env:CODEARTIFACT_AUTH_TOKEN = 'T'",
            "$Env:CODEARTIFACT_AUTH_TOKEN = '***'",
        ),
        ("password = \"T\"", "password = \"***\""),
        ("token = \"T\"", "token = \"***\""),
        (
            "codeartifactToken=T\ncodeartifact.a.token=T\n",
            "codeartifactToken=***\ncodeartifact.a.token=***\n",
        ),
        (
            "//h/npm/r/:_authToken=T\nregistry=x",
            "//h/npm/r/:_authToken=***\nregistry=x",
        ),
        ("//h/npm/r/:_auth=T", "//h/npm/r/:_auth=***"),
        (
            "GET /x?X-Amz-Security-Token=T&a=b",
            "GET /x?X-Amz-Security-Token=***&a=b",
        ),
        ("token%3DT%26x", "token%3D***%26x"),
        ("{:token => \"T\"}", "{:token => \"***\"}"),
        // Headers and YAML.
        (
            "x-amz-security-token: T\r\n",
            "x-amz-security-token: ***\r\n",
        ),
        ("  npmAuthToken: \"T\"\n", "  npmAuthToken: \"***\"\n"),
        ("aws_session_token: T", "aws_session_token: ***"),
        // Markup: Maven, NuGet.
        ("<password>T</password>", "<password>***</password>"),
        (
            "&lt;password&gt;T&lt;/password&gt;",
            "&lt;password&gt;***&lt;/password&gt;",
        ),
        (
            "<add key=\"ClearTextPassword\" value=\"T\" />",
            "<add key=\"ClearTextPassword\" value=\"***\" />",
        ),
        // netrc, fish, $GITHUB_ENV.
        (
            "machine h login aws password T\n",
            "machine h login aws password ***\n",
        ),
        (
            "machine h\n  login aws\n  password T\n",
            "machine h\n  login aws\n  password ***\n",
        ),
        (
            "set -gx CODEARTIFACT_AUTH_TOKEN 'T';\n",
            "set -gx CODEARTIFACT_AUTH_TOKEN '***';\n",
        ),
        (
            "CODEARTIFACT_AUTH_TOKEN<<ARTOKEN_EOF_7\nT\nARTOKEN_EOF_7\n",
            "CODEARTIFACT_AUTH_TOKEN<<ARTOKEN_EOF_7\n***\nARTOKEN_EOF_7\n",
        ),
        // Debug-printed structs.
        (
            "Creds { session_token: Some(\"T\") }",
            "Creds { session_token: Some(\"***\") }",
        ),
        // tracing's colours between a field's name and its value.
        (
            "\x1b[3mtoken\x1b[0m\x1b[2m=\x1b[0m\"T\" done",
            "\x1b[3mtoken\x1b[0m\x1b[2m=\x1b[0m\"***\" done",
        ),
    ];

    #[test]
    fn hides_a_token_in_every_shape() {
        for (shape, want) in SHAPES {
            // `T` is in other words of some shapes: the token goes only where a lone T is.
            let text = lone_t(shape, T);
            let got = redact(&text);
            assert_eq!(got, *want, "shape {shape:?}");
            assert!(!got.contains(T), "{got}");
        }
    }

    /// `shape` with each `T` that is not part of a longer word replaced by `token`.
    fn lone_t(shape: &str, token: &str) -> String {
        let b = shape.as_bytes();
        let mut out = String::new();
        for (i, c) in shape.char_indices() {
            let alone = |j: Option<&u8>| j.is_none_or(|c| !c.is_ascii_alphanumeric());
            if c == 'T' && alone(i.checked_sub(1).and_then(|j| b.get(j))) && alone(b.get(i + 1)) {
                out.push_str(token);
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn leaves_text_without_secrets_alone() {
        for text in [
            "no secrets",
            "see aws:codeartifact docs",
            "cannot get a token: AccessDenied: not authorized",
            "--fault-script GetAuthorizationToken: expected OP=PATTERN",
            "codeartifact:GetAuthorizationToken on resource: arn:aws:codeartifact:eu-west-1:1:domain/d",
            "CODEARTIFACT_AUTH_TOKEN: { token: demo }",
            "new token, expires in 11h",
            "token=*** repository=demo",
            "Token(***)",
            "tokens_issued=3 http://host:8080/path",
            "https://aws:${CODEARTIFACT_AUTH_TOKEN_IS_A_PLACEHOLDER}",
            "UV_INDEX_A_PASSWORD=${UV_PW}",
            "Password: see the docs",
            // The AWS SDK's trace logs: paths, targets and fields that only look like keys.
            "PhantomData<aws_sdk_codeartifact::operation::get_authorization_token::GetAuthorizationToken>",
            "aws_sdk_codeartifact::operation::get_authorization_token: GetAuthorizationToken(\"1\")",
            "aws_sdk_s3::endpoint_auth: resolving endpoint for auth scheme selection",
            "Params { disable_s3_express_session_auth: None }",
            "authorization_token: \"*** Sensitive Data Redacted ***\"",
            "access ts=2026-01-02T03:04:05.678Z method=GET path=/demo/simple/ status=200",
            // `token` only as a word of the key: artoken's own name is none.
            "artoken: error: no repository named `nope`",
            "artoken keyring: error: cannot get a CodeArtifact token",
            "artoken=1.0 Mytoken: x",
        ] {
            assert!(
                matches!(redact(text), Cow::Borrowed(_)),
                "{text:?} -> {}",
                redact(text)
            );
        }
    }

    #[test]
    fn remembered_tokens_are_hidden_in_any_shape() {
        let token = "rEmEmBeReD-9f8e7d6c5b4a+/=";
        remember(token);
        remember("short"); // under 8 bytes: ignored
        assert_eq!(
            redact("odd place: rEmEmBeReD-9f8e7d6c5b4a+/= end"),
            "odd place: *** end"
        );
        assert_eq!(redact("q=rEmEmBeReD-9f8e7d6c5b4a%2B%2F%3D&x"), "q=***&x");
        assert_eq!(redact("a short word"), "a short word");
        assert_eq!(
            redact_known("x tok123456789 y", &["tok123456789"]),
            "x *** y"
        );
    }

    #[test]
    fn the_writer_redacts_each_event_in_one_write() {
        let mut out = Vec::new();
        {
            let mut w = RedactingWriter::new(&mut out);
            write!(w, "body={{\"authorizationToken\":").unwrap();
            writeln!(w, "\"{T}\"}}").unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "body={\"authorizationToken\":\"***\"}\n"
        );
    }

    /// Work grows with the text, not its square: keys in a row, each value running to the end,
    /// and a long line without secrets (a trace log line can be 100 kB).
    #[test]
    fn long_texts_take_linear_time() {
        let keys = "token=".repeat(100_000);
        let plain = "runtime_components=RuntimeComponents { a: Some(\"x\") } ".repeat(10_000);
        for text in [keys, plain] {
            let start = std::time::Instant::now();
            let red = redact(&text);
            // Milliseconds when linear (minutes were it quadratic); generous for slow machines.
            assert!(
                start.elapsed() < std::time::Duration::from_secs(5),
                "{:?}",
                start.elapsed()
            );
            assert!(red.len() <= text.len());
        }
    }

    #[cfg(feature = "runtime")]
    #[test]
    fn a_tracing_subscriber_with_the_redacting_writer_never_writes_a_token() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let s2 = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(Redacting(move || s2.clone()))
            .with_ansi(true)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let body = format!("{{\"authorizationToken\":\"{T}\",\"expiration\":1}}");
            tracing::trace!(response = ?body, "read response body");
            tracing::debug!(token = %T, url = %format!("https://aws:{T}@h/"), "fields");
        });
        let out = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(
            out.contains("read response body") && out.contains("fields"),
            "{out}"
        );
        assert!(!out.contains(T), "{out}");
    }

    /// A text encoding a log may hold another text in.
    #[derive(Debug, Clone, Copy)]
    enum Encoding {
        /// A JSON string (quotes and backslashes escaped).
        Json,
        /// Rust's `{:?}` of a string (what the SDK's trace logs print bodies as).
        Debug,
        /// HTML/XML text.
        Html,
        /// A URL query component.
        Percent,
    }

    fn encode(e: Encoding, s: &str) -> String {
        match e {
            Encoding::Json => serde_json::Value::String(s.into()).to_string(),
            Encoding::Debug => format!("{s:?}"),
            Encoding::Html => s
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#39;"),
            Encoding::Percent => {
                percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                    .to_string()
            }
        }
    }

    /// The places a token is put in, as they are written: `{}` is the token (URL userinfo
    /// takes it percent-encoded, as a URL must).
    const CONTEXTS: &[&str] = &[
        "https://aws:{}@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/r/simple/",
        "aws:{}@h",
        "Authorization: Bearer {}",
        "Authorization: Basic {}",
        "{\"authorizationToken\":\"{}\",\"expiration\":1700000000}",
        "{\"authorizationToken\": \"{}\"}",
        "{\"env\":{\"CODEARTIFACT_AUTH_TOKEN\":\"{}\"}}",
        "{\"Parameters\":{\"UV_INDEX_X_PASSWORD\":\"{}\"}}",
        "CODEARTIFACT_AUTH_TOKEN={}",
        "export TWINE_PASSWORD='{}'",
        "$Env:CODEARTIFACT_AUTH_TOKEN = '{}'",
        "set -gx CODEARTIFACT_AUTH_TOKEN '{}';",
        "CODEARTIFACT_AUTH_TOKEN<<EOF_1\n{}\nEOF_1",
        "//h/npm/r/:_authToken={}",
        "npmAuthToken: \"{}\"",
        "[http-basic.corp]\nusername = \"aws\"\npassword = \"{}\"",
        "codeartifact.corp.token={}",
        "<server><id>c</id><username>aws</username><password>{}</password></server>",
        "<add key=\"ClearTextPassword\" value=\"{}\" />",
        "machine h login aws password {}",
        "machine h\n  login aws\n  password {}\n",
        "x-amz-security-token: {}",
        "?X-Amz-Security-Token={}&X-Amz-Date=1",
    ];

    fn join(parts: &[String]) -> String {
        parts.concat()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// A random token in a random context, inside random text, under up to three random
        /// encodings (JSON in a Debug-printed body, a URL in a query string, ...): no form of
        /// the token survives.
        #[test]
        fn no_token_survives_any_context_or_encoding(
            token in "[A-Za-z0-9._~+/=-]{8,120}",
            context in 0..CONTEXTS.len(),
            encodings in proptest::collection::vec(
                prop_oneof![
                    Just(Encoding::Json),
                    Just(Encoding::Debug),
                    Just(Encoding::Html),
                    Just(Encoding::Percent),
                ],
                0..3,
            ),
            before in "[ -~\n]{0,40}",
            after in "[ -~\n]{0,40}",
        ) {
            let ctx = CONTEXTS[context];
            let put = if ctx.contains("://") || ctx.starts_with("aws:") {
                encode(Encoding::Percent, &token)
            } else {
                token.clone()
            };
            let mut text = join(&[before.clone(), " ".into(), ctx.replace("{}", &put), "\n".into(), after.clone()]);
            let mut forms = vec![token.clone(), put.clone()];
            let percents = encodings.iter().filter(|e| matches!(e, Encoding::Percent)).count();
            prop_assume!(percents <= 2);
            for e in &encodings {
                text = encode(*e, &text);
                forms = forms.iter().flat_map(|f| [f.clone(), encode(*e, f)]).collect();
            }
            let red = redact(&text);
            for f in &forms {
                prop_assert!(!red.contains(f.as_str()), "{:?} in {red}", f);
            }
        }

        /// A random JSON object holding the token under one of the keys tokens go by, among
        /// random other members, compact or pretty, as it is or as a string in another JSON
        /// document or a Debug-printed body.
        #[test]
        fn no_token_survives_in_random_json(
            token in "[A-Za-z0-9._~+/=-]{8,120}",
            key in prop_oneof![
                Just("authorizationToken"), Just("CODEARTIFACT_AUTH_TOKEN"), Just("token"),
                Just("password"), Just("UV_INDEX_CORP_PASSWORD"), Just("TWINE_PASSWORD"),
                Just("npmAuthToken"), Just("x-amz-security-token"), Just("SessionToken"),
            ],
            others in proptest::collection::btree_map("[a-zA-Z_]{1,12}", "[ -~]{0,20}", 0..5),
            pretty in any::<bool>(),
            wrap in 0..3u8,
        ) {
            let mut map: serde_json::Map<String, serde_json::Value> = others
                .into_iter()
                .filter(|(k, _)| !is_secret_key(k.as_bytes()))
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            map.insert(key.to_string(), serde_json::Value::String(token.clone()));
            let doc = serde_json::Value::Object(map);
            let text = if pretty { serde_json::to_string_pretty(&doc).unwrap() } else { doc.to_string() };
            let text = match wrap {
                0 => text,
                1 => serde_json::json!({"body": text}).to_string(),
                _ => format!("response={:?}", text),
            };
            let red = redact(&text);
            prop_assert!(!red.contains(&token), "{}", red);
        }

        #[test]
        fn a_token_in_a_url_never_survives(token in "[A-Za-z0-9._~-]{8,200}", path in "[a-z/]{0,20}") {
            let url = format!("https://aws:{token}@host.example/{path}");
            let red = redact(&url);
            prop_assert!(!red.contains(&token));
        }

        #[test]
        fn redaction_never_panics_and_keeps_text_without_secrets(text in "\\PC{0,200}") {
            let red = redact(&text);
            prop_assert!(red.len() <= text.len() + 3 * text.len() / 2 + 3);
        }
    }
}
