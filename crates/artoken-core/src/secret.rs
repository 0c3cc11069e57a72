//! The secret type: a token that never prints itself.

use std::fmt;

/// A CodeArtifact authorization token. `Debug` and `Display` print `***`; the value is only
/// reachable through [`Token::expose`], so it cannot end up in a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// The token, remembered by [`crate::redact`] so no output of this process shows it.
    pub fn new(value: impl Into<String>) -> Token {
        let t = Token(value.into());
        crate::redact::remember(&t.0);
        t
    }

    /// The token itself, for the places that must hand it over (a URL, an env var, a reply).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        // Best effort: overwrite the bytes before the allocation is freed.
        // SAFETY: zero bytes are valid UTF-8.
        unsafe { self.0.as_bytes_mut() }.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_itself() {
        let t = Token::new("eyJsecret");
        assert_eq!(format!("{t}"), "***");
        assert_eq!(format!("{t:?}"), "Token(***)");
        assert_eq!(format!("{:?}", Some(&t)), "Some(Token(***))");
        assert_eq!(t.expose(), "eyJsecret");
    }
}
