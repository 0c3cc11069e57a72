//! cargo: `[registries.NAME]` in ~/.cargo/config.toml with the `sparse+` index and artoken as
//! its credential provider, so no token is ever written (`[registry]` is left alone).

use super::toml::{at, key, quote, remove, upsert};

/// What cargo runs for a token (it adds `--cargo-plugin`).
pub const PROVIDER: [&str; 2] = ["artoken", "cargo-credential"];

/// Adds (or refreshes) registry `name` with `index` (`sparse+https://.../cargo/repo/`).
pub fn login(text: &str, name: &str, index: &str) -> Result<String, String> {
    let provider: Vec<String> = PROVIDER.iter().map(|p| quote(p)).collect();
    let content = [
        format!("[registries.{}]", key(name)),
        format!("index = {}", quote(index)),
        format!("credential-provider = [{}]", provider.join(", ")),
    ];
    upsert(text, name, "registry", &content, &|doc| {
        at(doc, &["registries", name]).is_some().then(|| {
            format!("a registry named {name:?} that artoken did not write is already there; remove it, or name the repository differently in artoken.yml")
        })
    })
}

pub fn logout(text: &str, name: &str) -> Result<String, String> {
    remove(text, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const INDEX: &str =
        "sparse+https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/cargo/a/";
    const CONFIG: &str = "# cargo\n[registry]\nglobal-credential-providers = [\"cargo:token\"]\n\n[registries.other]\nindex = \"sparse+https://other/\"\n\n[net]\ngit-fetch-with-cli = true\n";

    #[test]
    fn roundtrips_without_a_token() {
        for t in ["", CONFIG, &CONFIG.replace('\n', "\r\n")] {
            let once = login(t, "a", INDEX).unwrap();
            assert!(once.contains("credential-provider = [\"artoken\", \"cargo-credential\"]"));
            assert!(
                once.contains("global-credential-providers = [\"cargo:token\"]") || t.is_empty()
            );
            assert_eq!(login(&once, "a", INDEX).unwrap(), once);
            assert_eq!(logout(&once, "a").unwrap(), t);
        }
        assert!(
            login(CONFIG, "other", INDEX)
                .unwrap_err()
                .contains("\"other\"")
        );
        assert!(
            login("registries = { x = 1 }\n", "a", INDEX)
                .unwrap_err()
                .contains("break")
        );
    }

    proptest! {
        #[test]
        fn logout_undoes_login(text in super::super::toml::tests::arb_toml()) {
            let once = login(&text, "a", INDEX).unwrap();
            prop_assert_eq!(logout(&once, "a").unwrap(), text);
        }
    }
}
