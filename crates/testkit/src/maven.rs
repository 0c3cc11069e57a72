//! Debian's `mvn` as the end-to-end tests run it: offline but for one repository under test,
//! plugins from Debian's packaged repository, an isolated local repository, the token only in
//! the environment.
//!
//! Every Maven goal needs plugins, and Maven Central is not reachable here. Debian packages
//! the plugins (`libmaven-dependency-plugin-java`, `libmaven-deploy-plugin-java`, with `junit4`
//! that one of their poms names) into `/usr/share/maven-repo`, a Maven 2 layout; the
//! settings this writes stand it in for `central` (and mirror every other remote repository a
//! pom may name to it), so the only network Maven uses is the repository under test.
//! `scripts/install-test-tools` installs the packages. The recipe, by hand:
//!
//! ```text
//! mvn -B -ntp -s settings.xml -Dmaven.repo.local=DIR \
//!     org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get -Dartifact=G:A:V
//! mvn -B -ntp -s settings.xml -Dmaven.repo.local=DIR \
//!     org.apache.maven.plugins:maven-deploy-plugin:3.0.0:deploy-file \
//!     -Dfile=F -DgroupId=G -DartifactId=A -Dversion=V -Dpackaging=jar \
//!     -DrepositoryId=artoken -Durl=URL
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::{Sandbox, on_path, run};

/// Debian's packaged Maven repository.
pub const DEBIAN_REPO: &str = "/usr/share/maven-repo";
/// The `<server>` and `<repository>` id of the repository under test.
pub const SERVER_ID: &str = "artoken";
/// The variable `settings.xml` reads the token from (`${env.CODEARTIFACT_AUTH_TOKEN}`).
pub const TOKEN_VAR: &str = "CODEARTIFACT_AUTH_TOKEN";

/// The Debian packages the Maven tests need (what `scripts/install-test-tools` installs).
pub const DEBIAN_PACKAGES: &str =
    "maven libmaven-dependency-plugin-java libmaven-deploy-plugin-java junit4";

/// `groupId:artifactId:version` of a plugin Debian packages (the newest version with a jar).
/// Panics, naming the packages to install, when it is missing: tests never skip silently.
pub fn debian_plugin(artifact_id: &str) -> String {
    let dir = Path::new(DEBIAN_REPO)
        .join("org/apache/maven/plugins")
        .join(artifact_id);
    let mut versions: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|v| dir.join(v).join(format!("{artifact_id}-{v}.jar")).is_file())
        .collect();
    versions.sort_by_key(|v| {
        v.split('.')
            .map(|p| p.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    let Some(version) = versions.pop() else {
        panic!(
            "{} has no {artifact_id} jar: run scripts/install-test-tools as root (it installs the \
             Debian packages {DEBIAN_PACKAGES})",
            dir.display()
        );
    };
    format!("org.apache.maven.plugins:{artifact_id}:{version}")
}

/// `mvn` on PATH (Debian's `maven`).
pub fn mvn() -> PathBuf {
    on_path("mvn")
}

/// A Maven set-up in a sandbox: `settings.xml` and a local repository of its own.
pub struct Maven {
    settings: PathBuf,
    local_repo: PathBuf,
}

impl Maven {
    /// Writes `settings.xml` for the repository at `url` (ending with `/`) into the sandbox:
    /// server `artoken` with user `aws` and the password `${env.CODEARTIFACT_AUTH_TOKEN}`,
    /// repository `artoken` first, `central` (dependencies and plugins) from
    /// [`DEBIAN_REPO`], and every other remote repository mirrored there too.
    pub fn new(sb: &Sandbox, url: &str) -> Maven {
        let dir = sb.root().join("maven");
        std::fs::create_dir_all(&dir).expect("create the maven dir");
        let settings = dir.join("settings.xml");
        std::fs::write(&settings, settings_xml(url)).expect("write settings.xml");
        Maven {
            settings,
            local_repo: dir.join("repository"),
        }
    }

    pub fn settings(&self) -> &Path {
        &self.settings
    }

    /// The local repository (`-Dmaven.repo.local`).
    pub fn local_repo(&self) -> &Path {
        &self.local_repo
    }

    /// Starts over with an empty local repository (so the next run downloads again).
    pub fn clear_local_repo(&self) {
        if self.local_repo.exists() {
            std::fs::remove_dir_all(&self.local_repo).expect("remove the local repository");
        }
    }

    /// Where the local repository keeps `group:artifact:version`'s file of `extension`.
    pub fn local_file(&self, group: &str, artifact: &str, version: &str, ext: &str) -> PathBuf {
        self.local_repo
            .join(group.replace('.', "/"))
            .join(artifact)
            .join(version)
            .join(format!("{artifact}-{version}.{ext}"))
    }

    /// `mvn -B -ntp -s settings.xml -Dmaven.repo.local=...` in the sandbox, with the token in
    /// `CODEARTIFACT_AUTH_TOKEN` when one is given (never on the command line).
    pub fn command(&self, sb: &Sandbox, token: Option<&str>) -> Command {
        let mut cmd = sb.command(mvn());
        cmd.args(["-B", "-ntp", "-s"])
            .arg(&self.settings)
            .arg(format!("-Dmaven.repo.local={}", self.local_repo.display()))
            .env_remove(TOKEN_VAR);
        if let Some(t) = token {
            cmd.env(TOKEN_VAR, t);
        }
        cmd
    }

    /// `dependency:get -Dartifact=COORDS` (`group:artifact:version`, transitively).
    pub fn get(&self, sb: &Sandbox, token: Option<&str>, coords: &str) -> Output {
        run(self
            .command(sb, token)
            .arg(format!("{}:get", debian_plugin("maven-dependency-plugin")))
            .arg(format!("-Dartifact={coords}")))
    }

    /// `deploy:deploy-file` of `file` as `group:artifact:version` (a jar; the pom generated)
    /// to the repository at `url` with the `artoken` server's credentials.
    pub fn deploy_file(
        &self,
        sb: &Sandbox,
        token: Option<&str>,
        file: &Path,
        coords: (&str, &str, &str),
        url: &str,
    ) -> Output {
        let (group, artifact, version) = coords;
        run(self
            .command(sb, token)
            .arg(format!(
                "{}:deploy-file",
                debian_plugin("maven-deploy-plugin")
            ))
            .arg(format!("-Dfile={}", file.display()))
            .arg(format!("-DgroupId={group}"))
            .arg(format!("-DartifactId={artifact}"))
            .arg(format!("-Dversion={version}"))
            .arg("-Dpackaging=jar")
            .arg(format!("-DrepositoryId={SERVER_ID}"))
            .arg(format!("-Durl={url}")))
    }
}

/// The settings: see [`Maven::new`]. Debian's repository has no checksum files, so its
/// checksums are not asked for; the repository under test's must match (`fail`, not Maven's
/// default `warn`), so a wrong or missing checksum fails the run.
fn settings_xml(url: &str) -> String {
    let debian = format!("file://{DEBIAN_REPO}");
    let url = xml_escape(url);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- written by testkit::maven: only {url} is reached over the network -->
<settings>
  <interactiveMode>false</interactiveMode>
  <servers>
    <server>
      <id>{SERVER_ID}</id>
      <username>aws</username>
      <password>${{env.{TOKEN_VAR}}}</password>
    </server>
  </servers>
  <mirrors>
    <mirror>
      <id>debian-for-every-other-remote</id>
      <mirrorOf>external:*,!{SERVER_ID}</mirrorOf>
      <url>{debian}</url>
    </mirror>
  </mirrors>
  <profiles>
    <profile>
      <id>{SERVER_ID}</id>
      <repositories>
        <repository>
          <id>{SERVER_ID}</id>
          <url>{url}</url>
          <releases><checksumPolicy>fail</checksumPolicy></releases>
          <snapshots>
            <enabled>true</enabled>
            <updatePolicy>always</updatePolicy>
            <checksumPolicy>fail</checksumPolicy>
          </snapshots>
        </repository>
        <repository>
          <id>central</id>
          <url>{debian}</url>
          <releases><checksumPolicy>ignore</checksumPolicy></releases>
          <snapshots><enabled>false</enabled></snapshots>
        </repository>
      </repositories>
      <pluginRepositories>
        <pluginRepository>
          <id>central</id>
          <url>{debian}</url>
          <releases><checksumPolicy>ignore</checksumPolicy></releases>
          <snapshots><enabled>false</enabled></snapshots>
        </pluginRepository>
      </pluginRepositories>
    </profile>
  </profiles>
  <activeProfiles>
    <activeProfile>{SERVER_ID}</activeProfile>
  </activeProfiles>
</settings>
"#
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_take_the_token_from_the_environment_only() {
        let xml = settings_xml("http://127.0.0.1:1/x/?a=1&b=<2>");
        assert!(xml.contains("<password>${env.CODEARTIFACT_AUTH_TOKEN}</password>"));
        assert!(xml.contains("<url>http://127.0.0.1:1/x/?a=1&amp;b=&lt;2&gt;</url>"));
        assert!(xml.contains("<mirrorOf>external:*,!artoken</mirrorOf>"));
        assert_eq!(
            xml.matches("<checksumPolicy>fail</checksumPolicy>").count(),
            2
        );
        assert_eq!(
            xml.matches("<url>file:///usr/share/maven-repo</url>")
                .count(),
            3
        );
    }
}
