//! maven: ~/.m2/settings.xml gets either a `<server>` (id = the repository name, username
//! `aws`, the token as password) in `<servers>`, or, with `login maven --serve`, a `<mirror>` of
//! every repository to `artoken serve` (no token in the file: the proxy adds it).

use super::lines::{Block, Doc, Tag, XML, indent_of};
use super::xml::{self, children, elements, escape, root};

const KIND: &str = "server";
const MIRROR: &str = "mirror";
/// What artoken's mirror stands in for: every repository (Maven Central included), as
/// CodeArtifact repositories with an upstream to Maven Central are meant to be used.
const MIRROR_OF: &str = "*";

/// One element artoken writes into `<settings>`: its name (also its block's kind), the list
/// it goes in, the child a refresh rewrites, that child's new text, and the whole element.
struct Entry<'a> {
    elem: &'static str,
    container: &'static str,
    field: &'static str,
    value: &'a str,
    build: fn(indent: &str, step: &str, name: &str, value: &str) -> Vec<String>,
}

impl Entry<'_> {
    fn lines(&self, indent: &str, step: &str, name: &str) -> Vec<String> {
        (self.build)(indent, step, name, self.value)
    }
}

/// A `<server>` whose password is the token.
fn server_entry(token: &str) -> Entry<'_> {
    Entry {
        elem: KIND,
        container: "servers",
        field: "password",
        value: token,
        build: server,
    }
}

/// A `<mirror>` of every repository to `url`.
fn mirror_entry(url: &str) -> Entry<'_> {
    Entry {
        elem: MIRROR,
        container: "mirrors",
        field: "url",
        value: url,
        build: mirror,
    }
}

fn server(indent: &str, step: &str, name: &str, token: &str) -> Vec<String> {
    let i2 = format!("{indent}{step}");
    vec![
        format!("{indent}<server>"),
        format!("{i2}<id>{}</id>", escape(name)),
        format!("{i2}<username>aws</username>"),
        format!("{i2}<password>{}</password>", escape(token)),
        format!("{indent}</server>"),
    ]
}

fn mirror(indent: &str, step: &str, name: &str, url: &str) -> Vec<String> {
    let i2 = format!("{indent}{step}");
    vec![
        format!("{indent}<mirror>"),
        format!("{i2}<id>{}</id>", escape(name)),
        format!(
            "{i2}<name>artoken serve: CodeArtifact repository {} (the proxy adds the token)</name>",
            escape(name)
        ),
        format!("{i2}<url>{}</url>", escape(url)),
        format!("{i2}<mirrorOf>{MIRROR_OF}</mirrorOf>"),
        format!("{indent}</mirror>"),
    ]
}

/// The trimmed text of `e`'s first child `child`.
fn child_text<'a>(
    text: &'a str,
    elems: &[xml::Elem],
    e: &xml::Elem,
    child: &str,
) -> Option<&'a str> {
    let c = children(elems, e, Some(child)).into_iter().next()?;
    xml::content(c).map(|r| text[r].trim())
}

/// Refreshes `name`'s entry in block `b` by structure: only the text of its `field` (the
/// password, the mirror's URL) changes, so whatever formatting the block has now (re-indented,
/// CRLF, tabs, a `<mirrorOf>` narrowed by hand) stays. A block whose element was emptied or
/// broken by hand gets a whole new one between its markers.
fn refresh(mut d: Doc, b: &Block, name: &str, e: &Entry) -> Result<String, String> {
    let text = d.render();
    let elems = elements(&text)?;
    let at = xml::inside(&d, &elems, b)
        .into_iter()
        .filter(|x| x.name == e.elem && child_text(&text, &elems, x, "id") == Some(name))
        .find_map(|x| children(&elems, x, Some(e.field)).into_iter().next())
        .and_then(xml::content);
    let out = match at {
        Some(r) => {
            let mut out = text;
            out.replace_range(r, &escape(e.value));
            out
        }
        None => {
            let indent = indent_of(d.text(b.begin)).to_string();
            d.replace_content(b, &e.lines(&indent, &xml::step(&d), name));
            d.render()
        }
    };
    xml::check(&out, "settings", name)?;
    Ok(out)
}

/// Refuses when one of the user's own elements of `e`'s kind has the id `name` (artoken would
/// write a second one), or when `also` says one is in the way.
fn refuse_users(
    d: &Doc,
    name: &str,
    e: &Entry,
    also: impl Fn(&str, &[xml::Elem], &xml::Elem, usize) -> Result<(), String>,
) -> Result<(), String> {
    let text = d.render();
    if text.trim().is_empty() {
        return Ok(());
    }
    let elems = elements(&text)?;
    let r = root(&elems, "settings")?;
    let tags = d.tags()?;
    if let Some(list) = children(&elems, r, Some(e.container)).first() {
        for x in children(&elems, list, Some(e.elem)) {
            let line = xml::line_of(&text, x.start);
            if tags[line] != Tag::User {
                continue;
            }
            if child_text(&text, &elems, x, "id") == Some(name) {
                return Err(format!(
                    "line {}: a <{}> with <id>{name}</id> that artoken did not write is already there; remove it, or name the repository differently in artoken.yml",
                    line + 1,
                    e.elem
                ));
            }
            also(&text, &elems, x, line)?;
        }
    }
    Ok(())
}

/// Adds `name`'s entry in its list (made when missing; the whole file when it is empty).
fn add(mut d: Doc, name: &str, e: &Entry) -> Result<String, String> {
    if d.render().trim().is_empty() {
        xml::skeleton(
            &mut d,
            &[
                "<settings>".into(),
                format!("  <{}>", e.container),
                format!("  </{}>", e.container),
                "</settings>".into(),
            ],
        );
        let at = d.len() - 3;
        d.insert(at, "    ", Some(name), e.elem, &e.lines("    ", "  ", name));
        return Ok(d.render());
    }
    let unit = xml::step(&d);
    let (at, indent) = xml::container(&mut d, "settings", e.container)?;
    d.insert(
        at,
        &indent,
        Some(name),
        e.elem,
        &e.lines(&indent, &unit, name),
    );
    let out = d.render();
    xml::check(&out, "settings", name)?;
    Ok(out)
}

/// Adds (or refreshes) the server `name`.
pub fn login(text: &str, name: &str, token: &str) -> Result<String, String> {
    let e = server_entry(token);
    let mut d = Doc::parse(text, XML);
    if let Some(b) = d.find(name, KIND)? {
        return refresh(d, &b, name, &e);
    }
    d.remove_named(name)?;
    // A `--serve` mirror of the same name went: its `<mirrors>` scaffold goes with it.
    d.remove_unneeded_scaffolds(&xml::needed)?;
    refuse_users(&d, name, &e, |_, _, _, _| Ok(()))?;
    add(d, name, &e)
}

/// Removes the server or the mirror of `name` (and the scaffolds nothing needs any more).
pub fn logout(text: &str, name: &str) -> Result<String, String> {
    xml::logout(text, name)
}

/// The mirror's URL for `--serve URL`: the proxy's base (`http://127.0.0.1:7353`, as `serve`
/// prints it on its first line) gets `NAME/`; a URL that already ends with `/NAME/` (the
/// repository line `serve` prints) is taken as it is. http(s) only, and nothing secret: no
/// user or password, query or fragment (the file holds no credential).
pub fn serve_url(url: &str, name: &str) -> Result<String, String> {
    // A password given here never reaches an error line.
    let shown = artoken_core::redact::redact(url);
    let bad = |why: &str| format!("--serve {shown:?}: {why}");
    let mut u = url::Url::parse(url.trim()).map_err(|e| {
        bad(&format!(
            "not a URL ({e}); give artoken serve's address, like http://127.0.0.1:7353"
        ))
    })?;
    if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
        return Err(bad(
            "not an http(s) URL with a host, like http://127.0.0.1:7353",
        ));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad(
            "holds a user or password; settings.xml gets no credential (the proxy adds the token)",
        ));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(bad(
            "has a query or fragment; give artoken serve's address, like http://127.0.0.1:7353",
        ));
    }
    let path = u.path().trim_end_matches('/').to_string();
    let last = path.rsplit('/').next().unwrap_or("");
    let path = if last == name {
        format!("{path}/")
    } else {
        format!("{path}/{name}/")
    };
    u.set_path(&path);
    Ok(u.to_string())
}

/// `login maven --serve`: a `<mirror>` with id `name` that sends every repository's requests
/// to `url` (`http://127.0.0.1:7353/NAME/`, where `artoken serve` runs), in `<mirrors>`. A
/// `<server>` artoken wrote for `name` goes: no token stays in the file. Refused when a mirror
/// of the user's would shadow it (Maven takes the first mirror that matches a repository) or
/// has the same id.
pub fn login_mirror(text: &str, name: &str, url: &str) -> Result<String, String> {
    let e = mirror_entry(url);
    let mut d = Doc::parse(text, XML);
    d.remove_kinds_except(name, &[MIRROR])?;
    d.remove_unneeded_scaffolds(&xml::needed)?;
    if let Some(b) = d.find(name, MIRROR)? {
        return refresh(d, &b, name, &e);
    }
    refuse_users(&d, name, &e, |text, elems, m, line| {
        let id = child_text(text, elems, m, "id").unwrap_or("");
        let of = child_text(text, elems, m, "mirrorOf").unwrap_or("");
        if of.contains('*') {
            return Err(format!(
                "line {}: <mirror> {id:?} already mirrors {of:?}, and Maven takes the first mirror that matches, so artoken's would never be used; remove it or narrow its <mirrorOf>",
                line + 1
            ));
        }
        Ok(())
    })?;
    add(d, name, &e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SETTINGS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<settings xmlns=\"http://maven.apache.org/SETTINGS/1.0.0\">\n    <!-- <servers> in a comment -->\n    <localRepository>/m2</localRepository>\n    <servers>\n        <server>\n            <id>other</id>\n        </server>\n    </servers>\n</settings>\n";

    #[test]
    fn roundtrips() {
        for t in [
            "",
            SETTINGS,
            &SETTINGS.replace('\n', "\r\n"),
            "<settings>\n  <offline>false</offline>\n</settings>",
        ] {
            let once = login(t, "a", "TKNONE").unwrap();
            assert!(once.contains("<password>TKNONE</password>"), "{once}");
            xml::elements(&once).unwrap();
            assert_eq!(login(&once, "a", "TKNONE").unwrap(), once);
            assert_eq!(
                login(&once, "a", "TKNTWO")
                    .unwrap()
                    .replace("TKNTWO", "TKNONE"),
                once
            );
            assert_eq!(logout(&once, "a").unwrap(), t);
            let both = login(&once, "b", "TKNONE").unwrap();
            assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), t);
            assert_eq!(logout(&logout(&both, "b").unwrap(), "a").unwrap(), t);
        }
    }

    #[test]
    fn goes_into_servers_with_the_files_indentation() {
        let once = login(SETTINGS, "a", "TKNONE").unwrap();
        assert!(once.contains("        </server>\n        <!-- >>> artoken:a server >>> -->\n        <server>\n            <id>a</id>\n"), "{once}");
        assert!(
            login(SETTINGS, "other", "t")
                .unwrap_err()
                .contains("<id>other</id>")
        );
        assert!(login("<settings><servers/></settings>", "a", "t").is_err());
        let e = login("<project/>", "a", "t").unwrap_err();
        assert!(e.contains("not <settings>"), "{e}");
    }

    const URL: &str = "http://127.0.0.1:7353/a/";

    #[test]
    fn serve_urls_take_the_base_or_the_printed_repository_line() {
        for (given, want) in [
            ("http://127.0.0.1:7353", URL),
            ("http://127.0.0.1:7353/", URL),
            ("http://127.0.0.1:7353/a/", URL),
            ("http://127.0.0.1:7353/a", URL),
            (
                "https://proxy.example/artoken",
                "https://proxy.example/artoken/a/",
            ),
        ] {
            assert_eq!(serve_url(given, "a").unwrap(), want, "{given}");
        }
        for (bad, why) in [
            ("127.0.0.1:7353", "not a URL"),
            ("ftp://h/", "http(s)"),
            ("http://aws:secret@h/", "user or password"),
            ("http://h/?t=1", "query"),
            ("nope", "not a URL"),
        ] {
            let e = serve_url(bad, "a").unwrap_err();
            assert!(
                e.starts_with("--serve ") && e.contains(why) && e.lines().count() == 1,
                "{bad}: {e}"
            );
            assert!(!e.contains("secret"), "the password is in {e}");
        }
    }

    #[test]
    fn a_mirror_holds_no_token_and_logout_gives_the_file_back() {
        for t in [
            "",
            SETTINGS,
            &SETTINGS.replace('\n', "\r\n"),
            "<settings>\n  <mirrors>\n    <mirror><id>c</id><mirrorOf>central</mirrorOf><url>file:///r</url></mirror>\n  </mirrors>\n</settings>\n",
        ] {
            let once = login_mirror(t, "a", URL).unwrap();
            xml::elements(&once).unwrap();
            assert!(once.contains(&format!("<url>{URL}</url>")), "{once}");
            assert!(once.contains("<mirrorOf>*</mirrorOf>"), "{once}");
            assert!(!once.contains("<password>"), "{once}");
            assert_eq!(login_mirror(&once, "a", URL).unwrap(), once);
            let moved = login_mirror(&once, "a", "http://127.0.0.1:9/a/").unwrap();
            assert_eq!(moved.replace("127.0.0.1:9/", "127.0.0.1:7353/"), once);
            assert_eq!(logout(&once, "a").unwrap(), t);
        }
    }

    #[test]
    fn serve_and_token_logins_replace_each_other() {
        let server = login(SETTINGS, "a", "TKNONE").unwrap();
        let mirror = login_mirror(&server, "a", URL).unwrap();
        assert!(!mirror.contains("TKNONE"), "the token stayed:\n{mirror}");
        assert_eq!(mirror, login_mirror(SETTINGS, "a", URL).unwrap());
        let back = login(&mirror, "a", "TKNONE").unwrap();
        assert_eq!(back, server);
        assert_eq!(logout(&back, "a").unwrap(), SETTINGS);
        // Another repository's server stays beside the mirror.
        let both = login_mirror(&login(SETTINGS, "b", "TKNONE").unwrap(), "a", URL).unwrap();
        assert!(both.contains("<password>TKNONE</password>"), "{both}");
        assert_eq!(logout(&logout(&both, "a").unwrap(), "b").unwrap(), SETTINGS);
    }

    #[test]
    fn a_users_mirror_that_would_win_is_refused() {
        for (mirror_of, id) in [("*", "all"), ("external:*", "ext"), ("*,!x", "most")] {
            let t = format!(
                "<settings>\n  <mirrors>\n    <mirror>\n      <id>{id}</id>\n      <mirrorOf>{mirror_of}</mirrorOf>\n      <url>https://m/</url>\n    </mirror>\n  </mirrors>\n</settings>\n"
            );
            let e = login_mirror(&t, "a", URL).unwrap_err();
            assert!(
                e.starts_with("line 3: ") && e.contains(id) && e.lines().count() == 1,
                "{e}"
            );
        }
        let t = "<settings>\n  <mirrors>\n    <mirror><id>a</id><mirrorOf>central</mirrorOf><url>https://m/</url></mirror>\n  </mirrors>\n</settings>\n";
        assert!(
            login_mirror(t, "a", URL)
                .unwrap_err()
                .contains("<id>a</id>")
        );
    }

    proptest! {
        #[test]
        fn logout_undoes_login(text in xml::tests::arb_xml("settings")) {
            let once = login(&text, "a", "TKNONE").unwrap();
            xml::elements(&once).unwrap();
            prop_assert_eq!(logout(&once, "a").unwrap(), text.clone());
            prop_assert_eq!(login(&once, "a", "TKNTWO").unwrap().replace("TKNTWO", "TKNONE"), once);
        }

        #[test]
        fn logout_undoes_a_mirror(text in xml::tests::arb_xml("settings")) {
            // A generated file may hold a mirror of every repository already: then it is refused.
            if let Ok(once) = login_mirror(&text, "a", URL) {
                xml::elements(&once).unwrap();
                prop_assert_eq!(logout(&once, "a").unwrap(), text.clone());
                prop_assert_eq!(login_mirror(&once, "a", URL).unwrap(), once);
            }
        }
    }
}
