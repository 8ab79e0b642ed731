//! Secrets never reach a report: tokens, keys and client assertions are replaced before an
//! exchange is stored, so every writer downstream only ever sees redacted text.

use std::sync::Arc;

pub const REDACTED: &str = "[REDACTED]";

/// Header names whose values are always secret, whatever they contain.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "apikey",
    "x-api-key",
];

#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Arc<Vec<String>>,
}

impl Redactor {
    /// `secrets` are literal values (tokens, passwords, assertions) to scrub wherever they appear.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 4).collect();
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self {
            secrets: Arc::new(secrets),
        }
    }

    pub fn with_secret(&self, secret: impl Into<String>) -> Self {
        let mut all: Vec<String> = self.secrets.as_ref().clone();
        all.push(secret.into());
        Self::new(all)
    }

    /// Replaces every known secret in `text`.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in self.secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    /// Scrubs secrets from a body (a server may echo a token back, e.g. TRACE or a debug page).
    /// `None` when the body holds no secret, so the common case copies nothing.
    pub fn scrub(&self, body: &[u8]) -> Option<Vec<u8>> {
        let found = |haystack: &[u8], needle: &[u8]| {
            haystack.windows(needle.len()).position(|w| w == needle)
        };
        if !self
            .secrets
            .iter()
            .any(|s| found(body, s.as_bytes()).is_some())
        {
            return None;
        }
        let mut out = body.to_vec();
        for secret in self.secrets.iter() {
            let needle = secret.as_bytes();
            let mut replaced = Vec::with_capacity(out.len());
            let mut rest = out.as_slice();
            while let Some(at) = found(rest, needle) {
                replaced.extend_from_slice(&rest[..at]);
                replaced.extend_from_slice(REDACTED.as_bytes());
                rest = &rest[at + needle.len()..];
            }
            replaced.extend_from_slice(rest);
            out = replaced;
        }
        Some(out)
    }

    /// Redacts a header value: secret headers keep only their scheme (`Bearer [REDACTED]`).
    pub fn header(&self, name: &str, value: &str) -> String {
        if SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return match value.split_once(' ') {
                Some((scheme, rest)) if !rest.is_empty() && is_auth_scheme(scheme) => {
                    format!("{scheme} {REDACTED}")
                }
                _ if value.is_empty() => String::new(),
                _ => REDACTED.to_owned(),
            };
        }
        self.text(value)
    }
}

fn is_auth_scheme(word: &str) -> bool {
    ["bearer", "basic", "digest", "negotiate"].contains(&word.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_keeps_only_its_scheme() {
        let redactor = Redactor::default();
        assert_eq!(
            redactor.header("Authorization", "Bearer abc.def.ghi"),
            "Bearer [REDACTED]"
        );
        assert_eq!(redactor.header("authorization", "abc"), "[REDACTED]");
        assert_eq!(redactor.header("Authorization", ""), "");
        assert_eq!(redactor.header("X-Api-Key", "k-123456"), "[REDACTED]");
    }

    #[test]
    fn known_secrets_are_scrubbed_everywhere() {
        let redactor = Redactor::new(["s3cr3t-token".to_owned(), "abc".to_owned()]);
        assert_eq!(
            redactor.text("url?access_token=s3cr3t-token&x=abc"),
            "url?access_token=[REDACTED]&x=abc",
            "secrets shorter than 4 characters are ignored, they would redact everything"
        );
        assert_eq!(
            redactor.header("X-Echo", "got s3cr3t-token"),
            "got [REDACTED]"
        );
    }

    #[test]
    fn bodies_are_scrubbed() {
        let redactor = Redactor::new(["s3cr3t-token".to_owned()]);
        assert_eq!(
            redactor
                .scrub(b"Authorization: Bearer s3cr3t-token\r\n")
                .unwrap(),
            b"Authorization: Bearer [REDACTED]\r\n"
        );
        assert_eq!(redactor.scrub(b"nothing"), None);
    }

    #[test]
    fn longer_secrets_win() {
        let redactor = Redactor::new(["token".to_owned(), "token-and-more".to_owned()]);
        assert_eq!(redactor.text("token-and-more"), "[REDACTED]");
    }
}
