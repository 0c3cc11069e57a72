//! `--dry-run` output: a unified-style diff of a file, with every token shown as `***`.

use artoken_core::redact::redact_known;

/// Hides tokens in one line of a config file: the one redaction layer
/// ([`artoken_core::redact`]) finds every shape the writers write (`password = T`, netrc's
/// `password T`, `npmAuthToken: "T"`, NuGet's `ClearTextPassword` value, `<password>T</password>`,
/// `codeartifactToken=T`, `_authToken=T`, URL userinfo), plus the exact `secrets` given.
pub fn mask(line: &str, secrets: &[&str]) -> String {
    redact_known(line, secrets).into_owned()
}

enum Op {
    Same(usize),
    Del(usize),
    Add(usize),
}

fn split(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suf = a[pre..]
        .iter()
        .rev()
        .zip(b[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let mut out: Vec<Op> = (0..pre).map(Op::Same).collect();
    if am.len() * bm.len() > 4_000_000 {
        out.extend((0..am.len()).map(|i| Op::Del(pre + i)));
        out.extend((0..bm.len()).map(|j| Op::Add(pre + j)));
    } else {
        // Longest common subsequence, table from the end.
        let (n, m) = (am.len(), bm.len());
        let mut t = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                t[i * (m + 1) + j] = if am[i] == bm[j] {
                    t[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    t[(i + 1) * (m + 1) + j].max(t[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                out.push(Op::Same(pre + i));
                i += 1;
                j += 1;
            } else if j < m && (i == n || t[i * (m + 1) + j + 1] >= t[(i + 1) * (m + 1) + j]) {
                out.push(Op::Add(pre + j));
                j += 1;
            } else {
                out.push(Op::Del(pre + i));
                i += 1;
            }
        }
    }
    out.extend((0..suf).map(|k| Op::Same(a.len() - suf + k)));
    out
}

fn show(line: &str, secrets: &[&str]) -> String {
    let body = line.strip_suffix('\n').unwrap_or(line);
    let body = body.strip_suffix('\r').unwrap_or(body);
    mask(body, secrets)
}

/// The diff from `before` to `after` (`None`: no file), tokens masked. Empty when equal.
pub fn unified(path: &str, before: Option<&str>, after: Option<&str>, secrets: &[&str]) -> String {
    if before == after {
        return String::new();
    }
    let (a, b) = (split(before.unwrap_or("")), split(after.unwrap_or("")));
    let ops = ops(&a, &b);
    let mut out = format!(
        "--- {}\n+++ {}\n",
        if before.is_some() { path } else { "/dev/null" },
        if after.is_some() { path } else { "/dev/null" }
    );
    const CTX: usize = 3;
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| !matches!(o, Op::Same(_)))
        .map(|(k, _)| k)
        .collect();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(CTX);
        let mut end = changed[k];
        while k < changed.len() && changed[k] <= end + 2 * CTX + 1 {
            end = changed[k];
            k += 1;
        }
        let end = (end + CTX + 1).min(ops.len());
        // Line numbers of the hunk's start in each file.
        let (mut la, mut lb) = (0, 0);
        for o in &ops[..start] {
            match o {
                Op::Same(_) => {
                    la += 1;
                    lb += 1;
                }
                Op::Del(_) => la += 1,
                Op::Add(_) => lb += 1,
            }
        }
        let na = ops[start..end]
            .iter()
            .filter(|o| !matches!(o, Op::Add(_)))
            .count();
        let nb = ops[start..end]
            .iter()
            .filter(|o| !matches!(o, Op::Del(_)))
            .count();
        let first = |l: usize, n: usize| if n == 0 { l } else { l + 1 };
        out.push_str(&format!(
            "@@ -{},{na} +{},{nb} @@\n",
            first(la, na),
            first(lb, nb)
        ));
        for o in &ops[start..end] {
            let (sign, line) = match o {
                Op::Same(i) => (' ', a[*i]),
                Op::Del(i) => ('-', a[*i]),
                Op::Add(j) => ('+', b[*j]),
            };
            out.push(sign);
            out.push_str(&show(line, secrets));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_changes_with_context_and_no_token() {
        let a = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let b = "a\nb\nc\nd\nX password = eyJsecret\ne\nf\ng\nh\n";
        let d = unified("/p", Some(a), Some(b), &["eyJsecret"]);
        assert_eq!(
            d,
            "--- /p\n+++ /p\n@@ -2,6 +2,7 @@\n b\n c\n d\n+X password = ***\n e\n f\n g\n"
        );
        let d = unified("/p", None, Some("x\n"), &[]);
        assert!(
            d.starts_with("--- /dev/null\n+++ /p\n@@ -0,0 +1,1 @@\n+x\n"),
            "{d}"
        );
        assert_eq!(unified("/p", Some("x"), Some("x"), &[]), "");
    }

    #[test]
    fn masks_every_shape_artoken_writes() {
        for (line, want) in [
            ("password = tok", "password = ***"),
            (
                "machine h login aws password tok",
                "machine h login aws password ***",
            ),
            ("    npmAuthToken: \"tok\"", "    npmAuthToken: \"***\""),
            (
                "<add key=\"ClearTextPassword\" value=\"tok\" />",
                "<add key=\"ClearTextPassword\" value=\"***\" />",
            ),
            ("<password>tok</password>", "<password>***</password>"),
            ("codeartifactToken=tok", "codeartifactToken=***"),
            ("codeartifact.a.token=tok", "codeartifact.a.token=***"),
            ("UV_INDEX_A_PASSWORD=tok", "UV_INDEX_A_PASSWORD=***"),
            ("//h/:_authToken=tok", "//h/:_authToken=***"),
            (
                "index-url = https://aws:tok@h/simple/",
                "index-url = https://aws:***@h/simple/",
            ),
            ("password = \"tok\"", "password = \"***\""),
            // A placeholder is no secret: the diff shows what the file will reference.
            (
                "url = \"https://aws:${CODEARTIFACT_AUTH_TOKEN}@h/\"",
                "url = \"https://aws:${CODEARTIFACT_AUTH_TOKEN}@h/\"",
            ),
        ] {
            assert_eq!(mask(line, &[]), want, "{line}");
        }
    }
}
