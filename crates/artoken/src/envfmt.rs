//! Variable assignments rendered for shells, dotenv, Docker's --env-file, JSON, SAM and
//! $GITHUB_ENV: each format quoted (or, for Docker, checked) so its reader gets every byte back.

use crate::cli::EnvFormat;

/// Refuses the values a format cannot carry: for `docker`, a line break (its reader splits lines
/// and drops a `\r` before the end of one) and a value both starting and ending with the same
/// quote (docker/cli's env-file parser keeps such quotes in some versions and strips them in
/// others, docker/cli#3630: no spelling reads back the same on both). One line, naming the
/// variable.
pub fn check(format: EnvFormat, vars: &[(String, String)]) -> Result<(), String> {
    if format != EnvFormat::Docker {
        return Ok(());
    }
    for (k, v) in vars {
        if v.contains(['\n', '\r']) {
            return Err(format!(
                "--format docker: {k} holds a line break, which `docker run --env-file` cannot carry; use --format dotenv (docker compose) or json"
            ));
        }
        let b = v.as_bytes();
        if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[0] == b[b.len() - 1] {
            return Err(format!(
                "--format docker: {k} starts and ends with {}, which some Docker releases strip from --env-file values and others keep; use --format dotenv (docker compose) or json",
                char::from(b[0])
            ));
        }
    }
    Ok(())
}

/// Renders `vars` (name, value) in `format`. Names are checked by the caller, and values by
/// [`check`] for the formats that cannot carry every value.
pub fn render(format: EnvFormat, vars: &[(String, String)]) -> String {
    let mut out = String::new();
    match format {
        EnvFormat::Sh => {
            for (k, v) in vars {
                out.push_str(&format!("export {k}={}\n", sh_quote(v)));
            }
        }
        EnvFormat::Fish => {
            for (k, v) in vars {
                out.push_str(&format!("set -gx {k} {};\n", fish_quote(v)));
            }
        }
        EnvFormat::Powershell => {
            for (k, v) in vars {
                out.push_str(&format!("$Env:{k} = '{}'\n", v.replace('\'', "''")));
            }
        }
        EnvFormat::Dotenv => {
            for (k, v) in vars {
                out.push_str(&format!("{k}={}\n", dotenv_quote(v)));
            }
        }
        EnvFormat::Docker => {
            for (k, v) in vars {
                out.push_str(&format!("{k}={v}\n"));
            }
        }
        EnvFormat::Json | EnvFormat::Sam => {
            let map: serde_json::Map<String, serde_json::Value> = vars
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            let value = if format == EnvFormat::Sam {
                serde_json::json!({ "Parameters": map })
            } else {
                serde_json::Value::Object(map)
            };
            out = serde_json::to_string_pretty(&value).unwrap_or_default();
            out.push('\n');
        }
        EnvFormat::Github => {
            for (k, v) in vars {
                let mut delim = format!("ARTOKEN_EOF_{}", std::process::id());
                while v.contains(&delim) {
                    delim.push('_');
                }
                out.push_str(&format!("{k}<<{delim}\n{v}\n{delim}\n"));
            }
        }
    }
    out
}

/// POSIX single quotes: `'` becomes `'\''`.
pub fn sh_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

fn fish_quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', r"\\").replace('\'', r"\'"))
}

fn dotenv_quote(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        match c {
            '\\' => s.push_str(r"\\"),
            '"' => s.push_str("\\\""),
            '$' => s.push_str(r"\$"),
            '\n' => s.push_str(r"\n"),
            '`' => s.push_str("\\`"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(v: &str) -> Vec<(String, String)> {
        vec![("A".to_string(), v.to_string())]
    }

    #[test]
    fn sh_output_survives_a_real_shell() {
        let nasty = r#"a'b"c$d`e\f g;h|i&j*k
l"#;
        let script = format!("{}printf '%s' \"$A\"", render(EnvFormat::Sh, &vars(nasty)));
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .env_clear()
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), nasty);
    }

    #[test]
    fn every_format_quotes() {
        assert_eq!(
            render(EnvFormat::Fish, &vars("it's")),
            "set -gx A 'it\\'s';\n"
        );
        assert_eq!(
            render(EnvFormat::Powershell, &vars("it's")),
            "$Env:A = 'it''s'\n"
        );
        assert_eq!(
            render(EnvFormat::Dotenv, &vars("a\"$b")),
            "A=\"a\\\"\\$b\"\n"
        );
        let j: serde_json::Value =
            serde_json::from_str(&render(EnvFormat::Sam, &vars("x"))).unwrap();
        assert_eq!(j["Parameters"]["A"], "x");
        let g = render(EnvFormat::Github, &vars("v"));
        assert!(g.starts_with("A<<ARTOKEN_EOF_") && g.contains("\nv\n"));
    }

    #[test]
    fn docker_values_are_written_as_they_are() {
        // Docker's --env-file keeps every byte after the first `=`: quotes, `$`, `\`,
        // leading and trailing blanks, `#`, more `=`.
        let v = r#"https://aws:a"b$c\d'e#f=g@h/ x "#;
        assert_eq!(check(EnvFormat::Docker, &vars(v)), Ok(()));
        assert_eq!(render(EnvFormat::Docker, &vars(v)), format!("A={v}\n"));
        assert_eq!(render(EnvFormat::Docker, &vars("")), "A=\n");
        assert_eq!(check(EnvFormat::Docker, &vars("\"")), Ok(()));
        assert_eq!(check(EnvFormat::Docker, &vars("'x\"")), Ok(()));
    }

    #[test]
    fn docker_refuses_what_its_reader_would_change() {
        for (v, what) in [
            ("a\nb", "line break"),
            ("a\r", "line break"),
            ("\"quoted\"", "starts and ends with \""),
            ("'q'", "starts and ends with '"),
        ] {
            let e = check(EnvFormat::Docker, &vars(v)).unwrap_err();
            assert!(e.contains("A ") && e.contains(what), "{e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
        // The other formats carry every value.
        assert_eq!(check(EnvFormat::Dotenv, &vars("a\nb")), Ok(()));
    }
}
