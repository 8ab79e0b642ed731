//! Secrets never reach a report: tokens, keys and client assertions are replaced before an
//! exchange is stored, so every writer downstream only ever sees redacted text. Secrets are
//! known by value (the configured token, every token fetched during the run, every client
//! assertion signed) and by name (`access_token`, `client_assertion`… in JSON and forms).

use std::sync::{Arc, LazyLock, RwLock};

use regex::bytes::Regex;

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

/// JSON members and form fields whose values are secret wherever they appear.
static SECRET_FIELDS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let names =
        r"access_token|refresh_token|id_token|client_assertion|client_secret|password|private_key";
    Regex::new(&format!(
        r#"(?P<json>"(?:{names})"\s*:\s*")[^"]*"|(?P<form>(?:^|[?&])(?:{names})=)[^&\s]*"#
    ))
    .ok()
});

#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

impl Redactor {
    /// `secrets` are literal values (tokens, passwords, assertions) to scrub wherever they appear.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let redactor = Self::default();
        for secret in secrets {
            redactor.add(secret);
        }
        redactor
    }

    /// Learns a secret during the run (a fetched token, a signed assertion). Shared by every
    /// clone, so the client and the reports see it at once.
    pub fn add(&self, secret: impl Into<String>) {
        let secret = secret.into();
        // Very short values would redact ordinary text.
        if secret.len() < 8 {
            return;
        }
        if let Ok(mut secrets) = self.secrets.write()
            && !secrets.contains(&secret)
        {
            secrets.push(secret);
            // Longest first, so a secret containing another is replaced whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    fn known(&self) -> Vec<String> {
        self.secrets.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Replaces every known secret, and every secret-named field, in `text`.
    pub fn text(&self, text: &str) -> String {
        match self.scrub(text.as_bytes()) {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => text.to_owned(),
        }
    }

    /// Scrubs a body (a server may echo a token back: TRACE, a debug page, a token response).
    /// `None` when there is nothing to scrub, so the common case copies nothing.
    pub fn scrub(&self, body: &[u8]) -> Option<Vec<u8>> {
        let find = |haystack: &[u8], needle: &[u8]| memchr::memmem::find(haystack, needle);
        let secrets = self.known();
        let by_value = secrets.iter().any(|s| find(body, s.as_bytes()).is_some());
        let by_name = SECRET_FIELDS.as_ref().is_some_and(|r| r.is_match(body));
        if !by_value && !by_name {
            return None;
        }
        let mut out = body.to_vec();
        for secret in &secrets {
            let needle = secret.as_bytes();
            let mut replaced = Vec::with_capacity(out.len());
            let mut rest = out.as_slice();
            while let Some(at) = find(rest, needle) {
                replaced.extend_from_slice(&rest[..at]);
                replaced.extend_from_slice(REDACTED.as_bytes());
                rest = &rest[at + needle.len()..];
            }
            replaced.extend_from_slice(rest);
            out = replaced;
        }
        if let Some(fields) = SECRET_FIELDS.as_ref() {
            out = fields
                .replace_all(&out, |captures: &regex::bytes::Captures| {
                    let mut kept = captures
                        .name("json")
                        .or_else(|| captures.name("form"))
                        .map(|m| m.as_bytes().to_vec())
                        .unwrap_or_default();
                    kept.extend_from_slice(REDACTED.as_bytes());
                    if captures.name("json").is_some() {
                        kept.push(b'"');
                    }
                    kept
                })
                .into_owned();
        }
        Some(out)
    }

    /// Redacts a header value: secret headers keep only their scheme (`Bearer [REDACTED]`).
    pub fn header(&self, name: &str, value: &str) -> String {
        if SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return match value.split_once(' ') {
                Some((scheme, rest)) if !rest.trim().is_empty() && is_auth_scheme(scheme) => {
                    format!("{scheme} {REDACTED}")
                }
                _ if value.trim().is_empty() || is_auth_scheme(value.trim()) => value.to_owned(),
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
        assert_eq!(redactor.header("authorization", "abcdefgh"), "[REDACTED]");
        assert_eq!(redactor.header("Authorization", ""), "");
        assert_eq!(
            redactor.header("Authorization", "Bearer "),
            "Bearer ",
            "an empty token is shown as empty"
        );
        assert_eq!(redactor.header("X-Api-Key", "k-123456"), "[REDACTED]");
    }

    #[test]
    fn known_secrets_are_scrubbed_everywhere() {
        let redactor = Redactor::new(["s3cr3t-token".to_owned(), "abc".to_owned()]);
        assert_eq!(
            redactor.text("url?token=s3cr3t-token&x=abc"),
            "url?token=[REDACTED]&x=abc",
            "short values are not secrets"
        );
        assert_eq!(
            redactor.header("X-Echo", "got s3cr3t-token"),
            "got [REDACTED]"
        );
        let later = redactor.clone();
        later.add("fetched-token-123");
        assert_eq!(
            redactor.text("Bearer fetched-token-123"),
            "Bearer [REDACTED]",
            "clones share what is learnt"
        );
    }

    #[test]
    fn secret_fields_are_scrubbed_by_name() {
        let redactor = Redactor::default();
        assert_eq!(
            redactor.text(r#"{"access_token": "eyJabc", "expires_in": "599"}"#),
            r#"{"access_token": "[REDACTED]", "expires_in": "599"}"#
        );
        assert_eq!(
            redactor.text(
                "grant_type=client_credentials&client_assertion=eyJ.eyJ.sig&client_assertion_type=x"
            ),
            "grant_type=client_credentials&client_assertion=[REDACTED]&client_assertion_type=x"
        );
        assert_eq!(
            redactor.text("GET /Patient?access_token=abc"),
            "GET /Patient?access_token=[REDACTED]"
        );
        assert_eq!(redactor.scrub(b"nothing to hide"), None);
    }

    #[test]
    fn longer_secrets_win() {
        let redactor = Redactor::new(["token-12".to_owned(), "token-12-and-more".to_owned()]);
        assert_eq!(redactor.text("token-12-and-more"), "[REDACTED]");
    }
}
