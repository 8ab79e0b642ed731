//! What to send: a request relative to the FHIR base (or an absolute URL), its headers, body
//! and credentials, and how its query is written on the wire.

use super::exchange::ExchangeKind;

/// How the `X-Request-ID` header of a request is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RequestIdMode {
    /// A fresh UUID per request (NHS API platform convention).
    #[default]
    Fresh,
    Omit,
    Value(String),
}

/// What to send. Paths are relative to the FHIR base unless they are absolute URLs.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub method: String,
    pub target: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// Header names (lower-case) the request must not carry, even defaults.
    pub omit_headers: Vec<String>,
    pub body: Option<Vec<u8>>,
    pub with_credentials: bool,
    pub request_id: RequestIdMode,
    /// How the X-Request-ID header name is written (only visible on the wire with `raw`).
    pub request_id_header: String,
    /// Send through the hand-written HTTP/1.1 client: header names exactly as written.
    pub raw: bool,
    /// The bearer token to send when `with_credentials` (filled in by the run).
    pub bearer: Option<String>,
    /// What kind of API the request is for; FHIR-only rules skip the others.
    pub kind: ExchangeKind,
}

impl RequestSpec {
    pub fn get(target: impl Into<String>) -> Self {
        Self {
            method: "GET".into(),
            target: target.into(),
            query: Vec::new(),
            headers: vec![("Accept".into(), "application/fhir+json".into())],
            omit_headers: Vec::new(),
            body: None,
            with_credentials: true,
            request_id: RequestIdMode::Fresh,
            request_id_header: "X-Request-ID".into(),
            raw: false,
            bearer: None,
            kind: ExchangeKind::Fhir,
        }
    }

    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.omit_headers.retain(|n| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.into()));
    }

    pub fn omit_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.omit_headers.push(name.to_ascii_lowercase());
    }
}

/// Percent-encodes a query component, keeping the characters FHIR search values commonly use
/// readable in evidence (`|`, `:` and `/` are legal in a query).
pub(super) fn encode_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'|'
            | b':'
            | b'/'
            | b',' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
