//! Variable assignments rendered for shells, dotenv, JSON, SAM and $GITHUB_ENV, always quoted.

use crate::cli::EnvFormat;

/// Renders `vars` (name, value) in `format`. Names are checked by the caller.
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
}
