//! `artoken render WHAT [REPO]`: a whole config file, token included, on stdout, for a
//! BuildKit secret (`docker build --secret id=pip,src=<(artoken render pip.conf)`), a secret
//! store or `kubectl apply -f -`. Package manager files are the bytes `artoken login` writes
//! into a file that does not exist yet (the same writers); `k8s-secret` and `renovate` are
//! built here. Nothing is written to disk; stdout is refused when it is a terminal.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use artoken_core::{Format, RepositorySpec, Token};
use artoken_tools::writers::{self, Options, Tool};
use clap::{Args, ValueEnum};

use crate::app::App;
use crate::cli::Global;

/// What `render` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum What {
    /// pip's config: `index-url` (or `extra-index-url` with --extra) with the token in the URL
    #[value(name = "pip.conf", alias = "pip")]
    PipConf,
    /// uv's config: an `[[index]]` whose URL carries the token (uv reads no password from files)
    #[value(name = "uv.toml", alias = "uv")]
    UvToml,
    /// Poetry's auth.toml: `[http-basic.REPO]` (the source itself lives in pyproject.toml)
    #[value(name = "poetry-auth.toml", alias = "poetry")]
    PoetryAuth,
    /// twine's .pypirc: a `[REPO]` section with the upload URL
    #[value(name = "pypirc", alias = ".pypirc", alias = "twine")]
    Pypirc,
    /// npm and pnpm: `registry=` (or `@scope:registry=` with --scope) and `_authToken`
    #[value(name = "npmrc", alias = ".npmrc", alias = "npm")]
    Npmrc,
    /// yarn berry's .yarnrc.yml: `npmRegistries` (or `npmScopes` with --scope)
    #[value(name = "yarnrc.yml", alias = ".yarnrc.yml", alias = "yarn")]
    Yarnrc,
    /// .netrc: `machine HOST login aws password TOKEN` (curl, git, pip, uv, SwiftPM)
    #[value(name = "netrc", alias = ".netrc")]
    Netrc,
    /// Maven's settings.xml: a `<server>` with the repository's name as its id
    #[value(name = "settings.xml", alias = "maven")]
    MavenSettings,
    /// gradle.properties: the repository URL and credentials as properties
    #[value(name = "gradle.properties", alias = "gradle")]
    GradleProperties,
    /// NuGet.Config: the v3 feed and its credentials
    #[value(name = "nuget.config", alias = "NuGet.Config", alias = "nuget")]
    NugetConfig,
    /// A Kubernetes Secret (type Opaque) holding the variables `artoken env` prints
    #[value(name = "k8s-secret", alias = "kubernetes")]
    K8sSecret,
    /// Renovate `hostRules` (JSON) for every configured repository, or REPO
    #[value(name = "renovate", alias = "renovate.json")]
    Renovate,
}

impl What {
    fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }

    /// The `login` tool whose writer makes this file.
    fn tool(self) -> Option<Tool> {
        Some(match self {
            What::PipConf => Tool::Pip,
            What::UvToml => Tool::Uv,
            What::PoetryAuth => Tool::Poetry,
            What::Pypirc => Tool::Twine,
            What::Npmrc => Tool::Npm,
            What::Yarnrc => Tool::Yarn,
            What::Netrc => Tool::Netrc,
            What::MavenSettings => Tool::Maven,
            What::GradleProperties => Tool::Gradle,
            What::NugetConfig => Tool::Nuget,
            What::K8sSecret | What::Renovate => return None,
        })
    }
}

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "The file goes to stdout and nowhere else: hand it straight to its reader, e.g.\n",
    "  docker build --secret id=pip,src=<(artoken render pip.conf) .\n",
    "  artoken render k8s-secret --namespace ci | kubectl apply --server-side -f -\n",
    "With stdout on a terminal it refuses (the file holds a token): see it with --dry-run\n",
    "(token as ***), or pass --force. See docs/containers.md for the Dockerfile recipes."
))]
pub struct RenderArgs {
    /// The file to print
    #[arg(value_enum)]
    pub what: What,
    /// Repository name from the config [default: `default:` or the only one]; renovate: only
    /// this one (else every repository); not for k8s-secret (it takes the `env:` variables)
    pub repo: Option<String>,
    /// pip.conf, uv.toml: the repository as an extra index, PyPI staying the default one
    #[arg(long)]
    pub extra: bool,
    /// npmrc, yarnrc.yml: use the repository for this scope only (e.g. @corp)
    #[arg(long, value_name = "@SCOPE")]
    pub scope: Option<String>,
    /// k8s-secret: the Secret's name
    #[arg(long, value_name = "NAME", default_value = "codeartifact")]
    pub name: String,
    /// k8s-secret: the Secret's namespace [default: kubectl's current one]
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Print it with every token as *** (to look at it; the token is still fetched)
    #[arg(long)]
    pub dry_run: bool,
    /// Print it even when stdout is a terminal
    #[arg(long)]
    pub force: bool,
}

pub fn run(global: &Global, args: RenderArgs) -> Result<ExitCode> {
    let what = args.what;
    let shown = what.name();
    // Every refusal comes before any AWS call.
    if std::io::stdout().is_terminal() && !args.dry_run && !args.force {
        bail!(
            "render {shown}: stdout is a terminal and the file holds a token; send it where it goes (`> FILE`, `--secret id=ID,src=<(artoken render {shown})`, `| kubectl apply -f -`), look at it with --dry-run (token as ***), or pass --force"
        );
    }
    let scope = check_flags(&args)?;
    let app = App::new(global)?;
    let text = match what {
        What::K8sSecret => {
            let vars = crate::cmd::token::resolved(&app)?;
            k8s_secret(&args.name, args.namespace.as_deref(), &vars).map_err(anyhow::Error::msg)?
        }
        What::Renovate => renovate(&app, args.repo.as_deref())?,
        _ => {
            let spec = app.repository(args.repo.as_deref())?;
            writer(what, &spec.name, spec.format)
                .map_err(|e| anyhow::anyhow!("render {shown}: {e}"))?;
            let (endpoint, token) = endpoint_and_token(&app, spec, &shown)?;
            file_text(
                what,
                &spec.name,
                spec.format,
                &endpoint,
                token.expose(),
                args.extra,
                scope.as_deref(),
            )
            .map_err(|e| anyhow::anyhow!("render {shown}: {e}"))?
        }
    };
    app.flush_warnings();
    let out = if args.dry_run {
        artoken_core::redact::redact(&text).into_owned()
    } else {
        text
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// Checks the flags against WHAT; returns the npm scope as `@name`.
fn check_flags(args: &RenderArgs) -> Result<Option<String>> {
    let shown = args.what.name();
    let k8s = args.what == What::K8sSecret;
    if !k8s && (args.namespace.is_some() || args.name != "codeartifact") {
        bail!("--name, --namespace: only k8s-secret has them, not {shown}");
    }
    if k8s {
        if let Some(r) = &args.repo {
            bail!(
                "render k8s-secret takes the variables of `artoken env` (the `env:` section, or the default repository's), not a repository: drop {r:?}"
            );
        }
        check_k8s_name("--name", &args.name, 253, true)?;
        if let Some(ns) = &args.namespace {
            check_k8s_name("--namespace", ns, 63, false)?;
        }
    }
    if args.extra && !matches!(args.what, What::PipConf | What::UvToml) {
        bail!("--extra: only pip.conf and uv.toml have extra indexes, not {shown}");
    }
    match (args.what.tool(), &args.scope) {
        (Some(tool), scope) => {
            let opts = Options {
                extra: args.extra,
                scope: scope.clone(),
                ..Options::default()
            };
            let scope = writers::plan::check(tool, &opts, false)
                .map_err(|e| anyhow::anyhow!("{}", e.to_string().replace(tool.name(), &shown)))?;
            Ok(scope)
        }
        (None, Some(_)) => bail!("--scope: only npmrc and yarnrc.yml have scopes, not {shown}"),
        (None, None) => Ok(None),
    }
}

/// A DNS-1123 subdomain (a Secret's name, `dots`) or label (a namespace).
fn check_k8s_name(flag: &str, name: &str, max: usize, dots: bool) -> Result<()> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let ok = name.len() <= max
        && if dots {
            name.split('.').all(label_ok)
        } else {
            label_ok(name)
        };
    if !ok {
        bail!(
            "{flag}: {name:?} is not a Kubernetes name (lowercase letters, digits and '-'{}, at most {max} characters, starting and ending with a letter or digit)",
            if dots { ", '.' between parts" } else { "" }
        );
    }
    Ok(())
}

fn endpoint_and_token(app: &App, spec: &RepositorySpec, shown: &str) -> Result<(String, Token)> {
    if spec.repository.is_none() {
        bail!(
            "render {shown}: repository {} names no `repository:` (a token-only entry has no endpoint)",
            spec.name
        );
    }
    let endpoint = app.endpoint(spec)?;
    let token = app.token(spec)?;
    Ok((endpoint, token.token))
}

fn slash(endpoint: &str) -> String {
    if endpoint.ends_with('/') {
        endpoint.to_string()
    } else {
        format!("{endpoint}/")
    }
}

/// The `login` tool whose writer makes WHAT for a repository `name` of `format`, or why none.
fn writer(what: What, name: &str, format: Format) -> Result<Tool, String> {
    let Some(tool) = what.tool() else {
        return Err(format!("{} is not a package manager's file", what.name()));
    };
    // .netrc fits any repository; a swift one gets the user SwiftPM sends (`login swift`).
    let tool = match tool {
        Tool::Netrc if format == Format::Swift => Tool::Swift,
        t => t,
    };
    if let Some(needed) = tool.format()
        && needed != format
    {
        return Err(format!(
            "repository {name} has format {format}; {} needs format {needed} (see `format:` in artoken.yml)",
            what.name()
        ));
    }
    Ok(tool)
}

/// The file `artoken login TOOL NAME` writes where there was none: the same writers, on an
/// empty text. `format` is the repository's (checked against the tool's).
pub fn file_text(
    what: What,
    name: &str,
    format: Format,
    endpoint: &str,
    token: &str,
    extra: bool,
    scope: Option<&str>,
) -> Result<String, String> {
    let tool = writer(what, name, format)?;
    let base = slash(endpoint);
    let simple = format!("{base}simple/");
    let with_token = || artoken_core::urls::with_userinfo(&simple, &Token::new(token));
    match tool {
        Tool::Pip => writers::pip::login("", name, &with_token()?, extra),
        Tool::Uv => writers::uv::login("", name, &with_token()?, extra, false),
        Tool::Poetry => writers::poetry::login_auth("", name, token),
        Tool::Twine => writers::pypirc::login("", name, &base, token),
        Tool::Npm => writers::npmrc::login("", name, &base, token, scope),
        Tool::Yarn => writers::yarnrc::login("", name, &base, token, scope),
        Tool::Maven => writers::maven::login("", name, token),
        Tool::Gradle => writers::properties::login("", name, &base, token),
        Tool::Nuget => writers::nuget::login("", name, &format!("{base}v3/index.json"), token),
        Tool::Netrc | Tool::Swift => {
            let host = url::Url::parse(&base)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .ok_or_else(|| format!("the endpoint {endpoint:?} has no host"))?;
            let user = if tool == Tool::Swift { "token" } else { "aws" };
            writers::netrc::login("", name, &host, user, token)
        }
        other => Err(format!("{other} has no file to render")),
    }
}

/// A Secret manifest of type Opaque whose keys are the variables (`stringData`: the API server
/// stores them base64-encoded under `data`), for `kubectl apply -f -`.
pub fn k8s_secret(
    name: &str,
    namespace: Option<&str>,
    vars: &[(String, String)],
) -> Result<String, String> {
    let mut out = String::from("apiVersion: v1\nkind: Secret\nmetadata:\n");
    // Quoted: a valid name such as `1234`, `true` or `null` is not a string to a YAML reader.
    out.push_str(&format!("  name: {}\n", yaml_quote(name)));
    if let Some(ns) = namespace {
        out.push_str(&format!("  namespace: {}\n", yaml_quote(ns)));
    }
    out.push_str(
        "  labels:\n    app.kubernetes.io/managed-by: artoken\ntype: Opaque\nstringData:\n",
    );
    for (k, v) in vars {
        let ok = !k.is_empty()
            && k.len() <= 253
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
        if !ok {
            return Err(format!(
                "k8s-secret: {k:?} is not a Secret key (letters, digits, '-', '_', '.')"
            ));
        }
        out.push_str(&format!("  {k}: {}\n", yaml_quote(v)));
    }
    Ok(out)
}

/// A YAML double-quoted scalar: `"` and `\` escaped, and every character a YAML reader could
/// take for a line break or drop (C0/C1 controls, DEL, U+2028/2029, BOM) as `\uXXXX`.
fn yaml_quote(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                s.push_str(&format!("\\u{:04X}", u32::from(c)))
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// Renovate's `hostType` for a repository format (none for the formats it has no datasource
/// with credentials for).
fn renovate_host_type(format: Format) -> Option<&'static str> {
    Some(match format {
        Format::Npm => "npm",
        Format::Pypi => "pypi",
        Format::Maven => "maven",
        Format::Nuget => "nuget",
        Format::Ruby => "rubygems",
        Format::Cargo => "crate",
        Format::Generic | Format::Swift => return None,
    })
}

/// One host rule: `matchHost` is the repository endpoint (a URL prefix, so the rule covers that
/// repository only); npm and cargo send the token as a bearer token (`token`), the others as
/// Basic `aws:TOKEN` (`username`/`password`), as their clients do against CodeArtifact.
pub fn renovate_rule(format: Format, endpoint: &str, token: &str) -> serde_json::Value {
    let mut rule = serde_json::Map::new();
    rule.insert("matchHost".into(), slash(endpoint).into());
    if let Some(t) = renovate_host_type(format) {
        rule.insert("hostType".into(), t.into());
    }
    if matches!(format, Format::Npm | Format::Cargo) {
        rule.insert("token".into(), token.into());
    } else {
        rule.insert("username".into(), "aws".into());
        rule.insert("password".into(), token.into());
    }
    serde_json::Value::Object(rule)
}

fn renovate(app: &App, repo: Option<&str>) -> Result<String> {
    let specs: Vec<&RepositorySpec> = match repo {
        Some(r) => vec![app.repository(Some(r))?],
        None => app
            .config
            .repositories
            .values()
            .filter(|s| s.repository.is_some())
            .collect(),
    };
    if specs.is_empty() {
        bail!(
            "render renovate: no repository with a `repository:` is configured (token-only entries have no endpoint)"
        );
    }
    let mut rules = Vec::new();
    for spec in specs {
        let (endpoint, token) = endpoint_and_token(app, spec, "renovate")?;
        rules.push(renovate_rule(spec.format, &endpoint, token.expose()));
    }
    let mut out = serde_json::to_string_pretty(&serde_json::json!({ "hostRules": rules }))?;
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EP: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/py/";

    #[test]
    fn files_are_what_login_writes_into_an_empty_file() {
        let pip = file_text(What::PipConf, "corp", Format::Pypi, EP, "T0K", false, None).unwrap();
        assert_eq!(
            pip,
            writers::pip::login(
                "",
                "corp",
                &format!("{}simple/", EP.replace("https://", "https://aws:T0K@")),
                false
            )
            .unwrap()
        );
        assert!(pip.contains("index-url = https://aws:T0K@corp-"), "{pip}");
        let uv = file_text(What::UvToml, "corp", Format::Pypi, EP, "T0K", false, None).unwrap();
        assert!(
            uv.contains("url = \"https://aws:T0K@corp-") && uv.contains("default = true"),
            "{uv}"
        );
        let extra = file_text(What::UvToml, "corp", Format::Pypi, EP, "T0K", true, None).unwrap();
        assert!(!extra.contains("default"), "{extra}");
        let netrc = file_text(What::Netrc, "corp", Format::Pypi, EP, "T0K", false, None).unwrap();
        assert!(netrc.contains(
            "machine corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com login aws password T0K"
        ));
        let swift = file_text(What::Netrc, "sw", Format::Swift, EP, "T0K", false, None).unwrap();
        assert!(swift.contains(" login token password T0K"), "{swift}");
    }

    #[test]
    fn a_file_for_another_format_is_refused_in_one_line() {
        let e = file_text(What::Npmrc, "corp", Format::Pypi, EP, "T0K", false, None).unwrap_err();
        assert_eq!(
            e,
            "repository corp has format pypi; npmrc needs format npm (see `format:` in artoken.yml)"
        );
    }

    #[test]
    fn secret_manifests_quote_every_value() {
        let vars = vec![
            ("CODEARTIFACT_AUTH_TOKEN".to_string(), "T0K".to_string()),
            ("ODD".to_string(), "a\"b\\c\nd\u{2028}e: #f".to_string()),
        ];
        let y = k8s_secret("ca", Some("ci"), &vars).unwrap();
        assert_eq!(
            y,
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"ca\"\n  namespace: \"ci\"\n  labels:\n    app.kubernetes.io/managed-by: artoken\ntype: Opaque\nstringData:\n  CODEARTIFACT_AUTH_TOKEN: \"T0K\"\n  ODD: \"a\\\"b\\\\c\\u000Ad\\u2028e: #f\"\n"
        );
        let e = k8s_secret("ca", None, &[("A B".into(), "x".into())]).unwrap_err();
        assert!(e.contains("\"A B\" is not a Secret key"), "{e}");
    }

    #[test]
    fn kubernetes_names_are_checked() {
        for ok in ["codeartifact", "a", "ci.tokens-1"] {
            assert!(check_k8s_name("--name", ok, 253, true).is_ok(), "{ok}");
        }
        for bad in ["", "Corp", "-a", "a-", "a..b", "a_b", &"x".repeat(254)] {
            assert!(check_k8s_name("--name", bad, 253, true).is_err(), "{bad}");
        }
        assert!(check_k8s_name("--namespace", "a.b", 63, false).is_err());
    }

    #[test]
    fn renovate_rules_use_what_each_client_sends() {
        let npm = renovate_rule(Format::Npm, "https://h/npm/js", "T0K");
        assert_eq!(
            npm,
            serde_json::json!({"matchHost": "https://h/npm/js/", "hostType": "npm", "token": "T0K"})
        );
        let py = renovate_rule(Format::Pypi, EP, "T0K");
        assert_eq!(
            py,
            serde_json::json!({"matchHost": EP, "hostType": "pypi", "username": "aws", "password": "T0K"})
        );
        let generic = renovate_rule(Format::Generic, EP, "T0K");
        assert!(generic.get("hostType").is_none());
    }

    #[test]
    fn every_what_has_a_help_line() {
        for w in What::value_variants() {
            let v = w.to_possible_value().unwrap();
            assert!(v.get_help().is_some(), "{}", v.get_name());
        }
    }
}
