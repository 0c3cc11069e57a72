//! gradle: `login gradle --init-script` writes `~/.gradle/init.d/artoken-NAME.gradle`, a whole
//! file of artoken's that gives the repository's Maven repositories a token `artoken token`
//! prints while the build is configured (no token on disk).
//!
//! The script runs the command through `providers.exec` (Gradle 7.5+), which the configuration
//! cache tracks: before Gradle reuses a cached configuration it runs the command again, and
//! configures the build anew when the token changed. A daemon that lives for days therefore
//! never builds with an expired token, and the script itself never changes.

use std::path::{Path, PathBuf};

/// The first line's start: what says the file is artoken's, for `NAME`.
fn header(name: &str) -> String {
    format!("// >>> artoken:{name} gradle init script >>>")
}

/// A Groovy single-quoted string (`$` is literal there; `\` and `'` are escaped).
fn quote(s: &str) -> Result<String, String> {
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{s:?} holds the control character {c:?}, which an init script cannot name"
        ));
    }
    Ok(format!(
        "'{}'",
        s.replace('\\', "\\\\").replace('\'', "\\'")
    ))
}

/// What the script runs: `EXE [--config FILE]... token NAME` (the files read now, so it
/// decides the same wherever Gradle runs it).
pub fn command(exe: &Path, config: &[PathBuf], name: &str) -> Result<Vec<String>, String> {
    let text = |p: &Path, what: &str| -> Result<String, String> {
        let t = p
            .to_str()
            .ok_or_else(|| format!("{what} {} is not UTF-8", p.display()))?;
        if !p.is_absolute() {
            return Err(format!("{what} {t} is not an absolute path"));
        }
        Ok(t.to_string())
    };
    let mut words = vec![text(exe, "the artoken executable")?];
    for c in config {
        words.push("--config".into());
        words.push(text(c, "the config file")?);
    }
    words.extend(["token".to_string(), name.to_string()]);
    Ok(words)
}

/// The script for repository `name` at `endpoint` that runs `command`.
fn script(name: &str, endpoint: &str, command: &[String]) -> Result<String, String> {
    let endpoint = quote(endpoint.trim_end_matches('/'))?;
    let command = command
        .iter()
        .map(|w| quote(w))
        .collect::<Result<Vec<_>, _>>()?
        .join(", ");
    let head = header(name);
    Ok(format!(
        r#"{head}
// Written by `artoken login gradle {name} --init-script`; `artoken logout gradle {name} --init-script`
// removes it. Every Maven repository at the URL below (in plugin management, dependency
// resolution management, projects and publishing) gets the user `aws` and the token that
// artoken prints while the build is configured: from its cache, or fetched anew when the cached
// one is near its expiry. No token is written to disk. providers.exec (Gradle 7.5+) keeps the
// configuration cache usable: Gradle runs the command again before it reuses a cached
// configuration, and configures the build anew when the token changed.

def artokenEndpoint = {endpoint}
def artokenCommand = [{command}]
String artokenToken = null
def artokenPassword = {{ ProviderFactory providers ->
    if (artokenToken == null) {{
        artokenToken = providers.exec {{ commandLine(artokenCommand) }}.standardOutput.asText.get().trim()
    }}
    artokenToken
}}
def artokenCredentials = {{ RepositoryHandler repositories, ProviderFactory providers ->
    repositories.withType(MavenArtifactRepository).configureEach {{ repo ->
        def url = repo.url.toString().replaceAll('/+$', '')
        if (url == artokenEndpoint || url.startsWith(artokenEndpoint + '/')) {{
            repo.credentials {{
                username = 'aws'
                password = artokenPassword(providers)
            }}
        }}
    }}
}}

beforeSettings {{ settings ->
    artokenCredentials(settings.pluginManagement.repositories, settings.providers)
    artokenCredentials(settings.dependencyResolutionManagement.repositories, settings.providers)
}}
beforeProject {{ project ->
    artokenCredentials(project.repositories, project.providers)
    project.pluginManager.withPlugin('maven-publish') {{
        artokenCredentials(project.extensions.getByName('publishing').repositories, project.providers)
    }}
}}
// <<< artoken:{name} gradle init script <<<
"#
    ))
}

/// The init script's text: refused over a file that is not artoken's for `name`.
pub fn login(text: &str, name: &str, endpoint: &str, command: &[String]) -> Result<String, String> {
    if !text.is_empty() && !ours(text, name) {
        return Err(format!(
            "artoken did not write this file (its first line is not {:?}); remove it, or give another path with --file",
            header(name)
        ));
    }
    script(name, endpoint, command)
}

/// Empty (the file goes) when it is artoken's script for `name`; refused otherwise.
pub fn logout(text: &str, name: &str) -> Result<String, String> {
    if text.is_empty() || ours(text, name) {
        return Ok(String::new());
    }
    Err(format!(
        "artoken did not write this file (its first line is not {:?}): left in place",
        header(name)
    ))
}

fn ours(text: &str, name: &str) -> bool {
    text.lines()
        .next()
        .is_some_and(|l| l.trim_end() == header(name))
}

/// The command a script runs, read back from its text (for tests and `status`-like checks).
pub fn command_of(text: &str) -> Option<Vec<String>> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("def artokenCommand = ["))?;
    let inner = line.strip_suffix(']')?;
    let mut out = Vec::new();
    let mut chars = inner.chars();
    loop {
        match chars.next() {
            None => break,
            Some(' ' | ',') => continue,
            Some('\'') => {
                let mut w = String::new();
                loop {
                    match chars.next()? {
                        '\\' => w.push(chars.next()?),
                        '\'' => break,
                        c => w.push(c),
                    }
                }
                out.push(w);
            }
            Some(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EP: &str = "https://d-1.d.codeartifact.r.amazonaws.com/maven/repo/";

    fn cmd() -> Vec<String> {
        command(
            Path::new("/opt/it's $HOME/artoken"),
            &[PathBuf::from("/w/artoken.yml")],
            "mvn",
        )
        .unwrap()
    }

    #[test]
    fn the_script_runs_artoken_token_through_providers_exec() {
        let s = login("", "mvn", EP, &cmd()).unwrap();
        assert!(s.starts_with("// >>> artoken:mvn gradle init script >>>\n"));
        assert!(s.ends_with("// <<< artoken:mvn gradle init script <<<\n"));
        assert!(s.contains(
            "def artokenEndpoint = 'https://d-1.d.codeartifact.r.amazonaws.com/maven/repo'\n"
        ));
        assert!(s.contains(
            "def artokenCommand = ['/opt/it\\'s $HOME/artoken', '--config', '/w/artoken.yml', 'token', 'mvn']\n"
        ));
        assert!(s.contains("providers.exec { commandLine(artokenCommand) }"));
        for hook in [
            "settings.pluginManagement.repositories",
            "settings.dependencyResolutionManagement.repositories",
            "project.repositories",
            "withPlugin('maven-publish')",
        ] {
            assert!(s.contains(hook), "{hook}");
        }
        // No Groovy string interpolation anywhere: every string is single-quoted.
        assert!(!s.contains('"'), "{s}");
        assert_eq!(command_of(&s).unwrap(), cmd());
        // A second login writes the same file.
        assert_eq!(login(&s, "mvn", EP, &cmd()).unwrap(), s);
    }

    #[test]
    fn only_artokens_own_file_is_replaced_or_removed() {
        let s = login("", "mvn", EP, &cmd()).unwrap();
        assert_eq!(logout(&s, "mvn").unwrap(), "");
        assert_eq!(logout("", "mvn").unwrap(), "");
        for other in ["allprojects { }\n", &s.replace("artoken:mvn", "artoken:x")] {
            let e = login(other, "mvn", EP, &cmd()).unwrap_err();
            assert!(e.contains("did not write") && e.lines().count() == 1, "{e}");
            let e = logout(other, "mvn").unwrap_err();
            assert!(e.contains("left in place"), "{e}");
        }
    }

    #[test]
    fn commands_are_absolute_and_printable() {
        let e = command(Path::new("artoken"), &[], "a").unwrap_err();
        assert!(e.contains("absolute"), "{e}");
        let e = command(Path::new("/a"), &[PathBuf::from("rel.yml")], "a").unwrap_err();
        assert!(e.contains("the config file"), "{e}");
        let e = script("a", EP, &["/x\ny".into()]).unwrap_err();
        assert!(e.contains("control character"), "{e}");
        for w in ["/a\\b", "/it's", "/$x/${y}"] {
            let words = vec![w.to_string(), "token".into()];
            let s = script("a", EP, &words).unwrap();
            assert_eq!(command_of(&s).unwrap(), words, "{w}");
        }
    }
}
