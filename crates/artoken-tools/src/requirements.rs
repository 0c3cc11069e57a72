//! The requirements-file rewriter: the token of each index line for one repository, nothing else.
//!
//! A line counts when, after leading blanks, it starts with `--index-url`, `--extra-index-url`
//! or `-i`, and its URL (after `=` or blanks; quotes allowed) points at the repository. Only the
//! URL's password changes (a URL without one gets `aws:TOKEN@`); every other byte stays,
//! line endings (LF, CRLF, none at the end) included. Work is on bytes: a file that is not
//! UTF-8 elsewhere is no problem.

use std::ops::Range;

use artoken_core::Token;

use crate::index_url::{RepoUrl, shown, with_token};

/// One line whose token changed, for a redacted diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// 1-based.
    pub line: usize,
    /// The line before and after, line ending dropped, tokens shown as `***`
    /// (placeholders such as `${AUTH_TOKEN}` are shown as they are: they are no secret).
    pub before: String,
    pub after: String,
}

/// The result of [`rewrite`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub bytes: Vec<u8>,
    /// Index lines that point at the repository (changed or not).
    pub index_lines: usize,
    pub changes: Vec<Change>,
}

impl Rewrite {
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }

    /// A diff of the changed lines, tokens redacted.
    pub fn diff(&self, name: &str) -> String {
        let mut out = format!("--- {name}\n+++ {name}\n");
        for c in &self.changes {
            out.push_str(&format!(
                "@@ line {} @@\n-{}\n+{}\n",
                c.line, c.before, c.after
            ));
        }
        out
    }
}

const OPTIONS: [&[u8]; 2] = [b"--index-url", b"--extra-index-url"];

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn skip_blanks(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && is_blank(line[i]) {
        i += 1;
    }
    i
}

/// The byte range of the URL of an index option line (quotes excluded), if the line is one.
pub fn index_url_span(line: &[u8]) -> Option<Range<usize>> {
    let i = skip_blanks(line, 0);
    let rest = &line[i..];
    let start = if let Some(opt) = OPTIONS.iter().find(|o| rest.starts_with(o)) {
        let j = i + opt.len();
        match line.get(j) {
            Some(b'=') => j + 1,
            Some(&b) if is_blank(b) => skip_blanks(line, j),
            _ => return None,
        }
    } else if rest.starts_with(b"-i") {
        let j = i + 2;
        match line.get(j) {
            Some(&b) if is_blank(b) => skip_blanks(line, j),
            // `-iURL`, as optparse reads it.
            Some(_) if line[j..].starts_with(b"http") => j,
            _ => return None,
        }
    } else {
        return None;
    };
    let (start, stop): (usize, &dyn Fn(u8) -> bool) = match line.get(start) {
        Some(&q) if q == b'"' || q == b'\'' => (start + 1, &move |b| b == q),
        _ => (start, &|b: u8| is_blank(b)),
    };
    let end = line[start..]
        .iter()
        .position(|&b| stop(b) || b == b'\r')
        .map_or(line.len(), |p| start + p);
    (end > start).then_some(start..end)
}

/// Puts `token` into every index line of `text` that points at `repo`.
pub fn rewrite(text: &[u8], repo: &RepoUrl, token: &Token) -> Rewrite {
    let mut bytes = Vec::with_capacity(text.len() + 64);
    let mut index_lines = 0;
    let mut changes = Vec::new();
    for (n, raw) in text.split_inclusive(|&b| b == b'\n').enumerate() {
        let body_len = raw.len() - usize::from(raw.ends_with(b"\n"));
        let body = &raw[..body_len];
        let found = index_url_span(body).and_then(|span| {
            let url = std::str::from_utf8(&body[span.clone()]).ok()?;
            repo.matches(url).then_some((span, url))
        });
        let Some((span, url)) = found else {
            bytes.extend_from_slice(raw);
            continue;
        };
        index_lines += 1;
        let new = with_token(url, token).map(|t| t.url);
        match new {
            Some(new) if new != url => {
                bytes.extend_from_slice(&body[..span.start]);
                bytes.extend_from_slice(new.as_bytes());
                bytes.extend_from_slice(&raw[span.end..]);
                let end = body.strip_suffix(b"\r").unwrap_or(body).len();
                let (head, tail) = (
                    String::from_utf8_lossy(&body[..span.start]),
                    String::from_utf8_lossy(&body[span.end..end]),
                );
                let redact = |s: &str| artoken_core::redact::redact(s).into_owned();
                changes.push(Change {
                    line: n + 1,
                    before: format!("{}{}{}", redact(&head), shown(url), redact(&tail)),
                    after: format!("{}{}{}", redact(&head), shown(&new), redact(&tail)),
                });
            }
            _ => bytes.extend_from_slice(raw),
        }
    }
    Rewrite {
        bytes,
        index_lines,
        changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOST: &str = "corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com";

    fn repo() -> RepoUrl {
        RepoUrl::new(&format!("https://{HOST}/pypi/store/")).unwrap()
    }

    fn run(text: &str, token: &str) -> Rewrite {
        rewrite(text.as_bytes(), &repo(), &Token::new(token))
    }

    fn out(text: &str, token: &str) -> String {
        String::from_utf8(run(text, token).bytes).unwrap()
    }

    #[test]
    fn every_index_option_form_is_found() {
        for (line, url) in [
            ("--index-url https://h/x", "https://h/x"),
            ("--index-url=https://h/x", "https://h/x"),
            ("  --extra-index-url\thttps://h/x  # c", "https://h/x"),
            ("--extra-index-url=\"https://h/x\"", "https://h/x"),
            ("-i https://h/x", "https://h/x"),
            ("-ihttps://h/x", "https://h/x"),
            ("-i 'https://h/x' --trusted-host h", "https://h/x"),
            ("--index-url https://h/x\r", "https://h/x"),
        ] {
            let span = index_url_span(line.as_bytes()).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(&line[span], url, "{line}");
        }
        for line in [
            "# --index-url https://h/x",
            "--index-urls https://h/x",
            "--index-url",
            "-r other.txt",
            "requests==2.0 -i",
            "-i=https://h/x",
            "pkg @ https://h/x",
        ] {
            assert_eq!(index_url_span(line.as_bytes()), None, "{line}");
        }
    }

    #[test]
    fn only_the_repository_lines_get_the_token() {
        let text = format!(
            "# requirements for MWAA\r\n--index-url https://pypi.org/simple/\r\n--extra-index-url https://aws:OLD@{HOST}/pypi/store/simple/\r\n-r base.txt\r\nrequests==2.32.0  # pinned\r\n--extra-index-url=https://aws:OLD@{HOST}/pypi/other/simple/\r\n-i https://aws:${{AUTH_TOKEN}}@{HOST}/pypi/store/simple/\r\n--extra-index-url https://aws:{{auth_token}}@{HOST}/pypi/store/simple/\r\n--index-url=https://{HOST}/pypi/store/simple/\r\n"
        );
        let got = out(&text, "NEW");
        let want = format!(
            "# requirements for MWAA\r\n--index-url https://pypi.org/simple/\r\n--extra-index-url https://aws:NEW@{HOST}/pypi/store/simple/\r\n-r base.txt\r\nrequests==2.32.0  # pinned\r\n--extra-index-url=https://aws:OLD@{HOST}/pypi/other/simple/\r\n-i https://aws:NEW@{HOST}/pypi/store/simple/\r\n--extra-index-url https://aws:NEW@{HOST}/pypi/store/simple/\r\n--index-url=https://aws:NEW@{HOST}/pypi/store/simple/\r\n"
        );
        assert_eq!(got, want);
        let r = run(&text, "NEWTOKEN1234");
        assert_eq!(r.index_lines, 4);
        assert_eq!(
            r.changes.iter().map(|c| c.line).collect::<Vec<_>>(),
            [3, 7, 8, 9]
        );
        assert_eq!(
            r.changes[1].before,
            format!("-i https://aws:${{AUTH_TOKEN}}@{HOST}/pypi/store/simple/")
        );
        assert_eq!(
            r.changes[1].after,
            format!("-i https://aws:***@{HOST}/pypi/store/simple/")
        );
        let diff = r.diff("s3://b/k");
        assert!(
            !diff.contains("NEWTOKEN1234") && !diff.contains("OLD"),
            "{diff}"
        );
    }

    #[test]
    fn unchanged_text_is_no_change() {
        let text = format!("--extra-index-url https://aws:T@{HOST}/pypi/store/simple/\nx==1");
        let r = run(&text, "T");
        assert!(!r.changed());
        assert_eq!(r.index_lines, 1);
        assert_eq!(r.bytes, text.as_bytes());
        let r = run("requests\n", "T");
        assert_eq!((r.index_lines, r.changed()), (0, false));
    }

    #[test]
    fn no_final_newline_and_odd_bytes_are_kept() {
        let mut text = b"# caf\xe9 latin-1\n".to_vec();
        text.extend_from_slice(
            format!("-i \"https://aws:OLD@{HOST}/pypi/store/simple/\"").as_bytes(),
        );
        let r = rewrite(&text, &repo(), &Token::new("N"));
        let mut want = b"# caf\xe9 latin-1\n".to_vec();
        want.extend_from_slice(
            format!("-i \"https://aws:N@{HOST}/pypi/store/simple/\"").as_bytes(),
        );
        assert_eq!(r.bytes, want);
    }

    /// A line of a requirements file, and what it must become.
    fn line() -> impl Strategy<Value = (String, String)> {
        let token = "[A-Za-z0-9._-]{1,40}";
        let ending = prop_oneof![Just("\n"), Just("\r\n")];
        let other = "[ -~]{0,60}".prop_filter("not an option line", |s| {
            index_url_span(s.as_bytes()).is_none()
        });
        let opt = prop_oneof![
            Just("--index-url "),
            Just("--index-url="),
            Just("--extra-index-url "),
            Just("--extra-index-url="),
            Just("-i "),
            Just("  -i\t"),
        ];
        let password = prop_oneof![
            token.prop_map(|t| t.to_string()),
            Just("{auth_token}".to_string()),
            Just("${AUTH_TOKEN}".to_string()),
            Just("$AUTH_TOKEN".to_string()),
        ];
        let repo_path = prop_oneof![Just("store"), Just("other")];
        let comment = prop_oneof![Just(""), Just("  # CodeArtifact")];
        prop_oneof![
            (other, ending.clone()).prop_map(|(o, e)| (format!("{o}{e}"), format!("{o}{e}"))),
            (opt, password, repo_path, comment, ending).prop_map(|(o, p, r, c, e)| {
                let before = format!("{o}https://aws:{p}@{HOST}/pypi/{r}/simple/{c}{e}");
                let after = if r == "store" {
                    format!("{o}https://aws:THE-TOKEN@{HOST}/pypi/{r}/simple/{c}{e}")
                } else {
                    before.clone()
                };
                (before, after)
            }),
        ]
    }

    proptest! {
        #[test]
        fn only_the_token_changes(lines in prop::collection::vec(line(), 0..30)) {
            let before: String = lines.iter().map(|l| l.0.as_str()).collect();
            let want: String = lines.iter().map(|l| l.1.as_str()).collect();
            let r = run(&before, "THE-TOKEN");
            prop_assert_eq!(String::from_utf8(r.bytes.clone()).unwrap(), want);
            // A second run changes nothing.
            let again = rewrite(&r.bytes, &repo(), &Token::new("THE-TOKEN"));
            prop_assert!(!again.changed());
            prop_assert_eq!(again.bytes, r.bytes);
        }

        #[test]
        fn arbitrary_bytes_pass_through(text in prop::collection::vec(any::<u8>(), 0..400)) {
            let r = rewrite(&text, &repo(), &Token::new("T"));
            prop_assert_eq!(r.bytes, text);
        }
    }
}
