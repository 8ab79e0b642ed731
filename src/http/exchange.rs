use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// Stable id of an exchange: `<scenario or check>#<n>`, independent of scheduling order, so two
/// runs of the same suite name their evidence the same way.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct ExchangeId(pub String);

impl fmt::Display for ExchangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl RecordedRequest {
    /// First value of a header, compared case-insensitively as HTTP requires.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// A response body as the harness read it: decoded, and capped at the configured limit.
#[derive(Debug, Clone)]
pub struct Body {
    bytes: Arc<[u8]>,
    /// True when the server sent more than the limit and the harness stopped reading.
    pub truncated: bool,
    /// Bytes received on the wire (before content decoding).
    pub wire_size: usize,
    json: Arc<OnceLock<Option<Arc<Value>>>>,
}

impl Body {
    pub fn new(bytes: Vec<u8>, truncated: bool, wire_size: usize) -> Self {
        Self {
            bytes: bytes.into(),
            truncated,
            wire_size,
            json: Arc::default(),
        }
    }

    pub fn empty() -> Self {
        Self::new(Vec::new(), false, 0)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The body parsed as JSON, once per exchange however many checks ask. A truncated body
    /// is never parsed: it would be judged on a prefix.
    pub fn json(&self) -> Option<&Arc<Value>> {
        self.json
            .get_or_init(|| {
                if self.truncated {
                    return None;
                }
                serde_json::from_slice::<Value>(&self.bytes)
                    .ok()
                    .map(Arc::new)
            })
            .as_ref()
    }

    /// Why the body is not JSON, for failure messages.
    pub fn json_error(&self) -> Option<String> {
        if self.truncated {
            return Some(
                "the body was larger than the configured limit and was not read in full".into(),
            );
        }
        let error = serde_json::from_slice::<Value>(&self.bytes)
            .err()?
            .to_string();
        let bytes = self.bytes();
        let cause = if bytes.starts_with(b"\xEF\xBB\xBF") {
            "it starts with a byte order mark, which RFC 8259 forbids in JSON sent over a network"
                .to_owned()
        } else if let Err(invalid) = std::str::from_utf8(bytes) {
            format!(
                "it is not UTF-8: invalid bytes at offset {}",
                invalid.valid_up_to()
            )
        } else if bytes.trim_ascii_start().starts_with(b"<") {
            "it looks like HTML or XML".to_owned()
        } else if bytes.trim_ascii().is_empty() {
            "it is empty".to_owned()
        } else {
            return Some(error);
        };
        Some(format!("{cause}; {error}"))
    }
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&String::from_utf8_lossy(&self.bytes))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub http_version: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl RecordedResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type without parameters, lower-cased (`application/fhir+json`).
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }

    pub fn is_json_media_type(&self) -> bool {
        self.media_type().is_some_and(|m| {
            m == "application/json" || m == "application/fhir+json" || m.ends_with("+json")
        })
    }

    /// The FHIR resource in the body, if the body is a JSON object with a `resourceType`.
    pub fn resource(&self) -> Option<&Value> {
        self.body
            .json()
            .map(|v| v.as_ref())
            .filter(|v| v.get("resourceType").and_then(Value::as_str).is_some())
    }

    pub fn resource_type(&self) -> Option<&str> {
        self.resource()
            .and_then(|r| r.get("resourceType"))
            .and_then(Value::as_str)
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum TransportErrorKind {
    Timeout,
    Connect,
    Tls,
    BodyTooLarge,
    Protocol,
    InvalidRequest,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct TransportError {
    pub kind: TransportErrorKind,
    pub message: String,
}

/// One HTTP request and what came back: the evidence behind every verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub id: ExchangeId,
    /// What the exchange was for, e.g. the step that sent it.
    pub label: String,
    #[serde(serialize_with = "serialize_time")]
    pub started: DateTime<Utc>,
    pub elapsed_ms: u64,
    pub request: RecordedRequest,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<TransportError>,
    /// Why the request was sent a second time (a stale pooled connection), if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retried: Option<String>,
    pub kind: ExchangeKind,
}

/// What an exchange talked to: the FHIR API, or an OAuth2 token endpoint (whose errors are
/// OAuth JSON by design, not OperationOutcomes).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ExchangeKind {
    #[default]
    Fhir,
    #[serde(rename = "oauth")]
    OAuth,
}

fn serialize_time<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

impl Exchange {
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }

    /// One line naming the exchange for messages: `GET /Patient/1 → 404`.
    pub fn summary(&self) -> String {
        let path = path_of(&self.request.url);
        match (&self.response, &self.error) {
            (Some(response), _) => {
                format!("{} {} → {}", self.request.method, path, response.status)
            }
            (None, Some(error)) => format!("{} {} → {}", self.request.method, path, error.message),
            (None, None) => format!("{} {}", self.request.method, path),
        }
    }
}

/// The path and query of a URL, for compact messages.
pub fn path_of(url: &str) -> &str {
    match url.split_once("://") {
        // A base URL served at the root (`http://host:8080`) has the path `/`.
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Every exchange of a run, in the order they completed.
#[derive(Debug, Default)]
pub struct ExchangeLog {
    exchanges: Mutex<Vec<Arc<Exchange>>>,
}

impl ExchangeLog {
    pub fn push(&self, exchange: Arc<Exchange>) {
        if let Ok(mut exchanges) = self.exchanges.lock() {
            exchanges.push(exchange);
        }
    }

    /// All exchanges, ordered by id so that reports do not depend on scheduling.
    pub fn snapshot(&self) -> Vec<Arc<Exchange>> {
        let mut all = self.exchanges.lock().map(|e| e.clone()).unwrap_or_default();
        all.sort_by(|a, b| natural_cmp(&a.id.0, &b.id.0));
        all
    }

    pub fn len(&self) -> usize {
        self.exchanges.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Compares strings with embedded numbers numerically (`x:9#2` before `x:10#1`).
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let mut a = a.as_bytes();
    let mut b = b.as_bytes();
    loop {
        match (a.first(), b.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (trim_zeros(&a[..na]), trim_zeros(&b[..nb]));
                let order = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
                if order != std::cmp::Ordering::Equal {
                    return order;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|d| **d == b'0').count();
    &digits[zeros.min(digits.len().saturating_sub(1))..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_sorts_numbers_by_value() {
        let mut ids = vec![
            "a.feature:10#1",
            "a.feature:9#2",
            "a.feature:9#10",
            "a.feature:9#1",
        ];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            ids,
            [
                "a.feature:9#1",
                "a.feature:9#2",
                "a.feature:9#10",
                "a.feature:10#1"
            ]
        );
    }

    #[test]
    fn truncated_bodies_are_never_parsed() {
        let body = Body::new(br#"{"resourceType":"Patient"}"#.to_vec(), true, 10);
        assert!(body.json().is_none());
        assert!(body.json_error().unwrap().contains("limit"));
        let body = Body::new(br#"{"resourceType":"Patient"}"#.to_vec(), false, 10);
        assert_eq!(body.json().unwrap()["resourceType"], "Patient");
    }

    #[test]
    fn why_a_body_is_not_json_names_the_cause() {
        let why = |bytes: &[u8]| Body::new(bytes.to_vec(), false, bytes.len()).json_error();
        assert!(why(b"\xEF\xBB\xBF{}").unwrap().contains("byte order mark"));
        assert!(why(b"{\"a\":\"\xFF\"}").unwrap().contains("not UTF-8"));
        assert!(why(b"  <html></html>").unwrap().contains("HTML"));
        assert!(why(b"").unwrap().contains("empty"));
        assert!(why(b"{\"a\":").unwrap().contains("EOF"));
        assert_eq!(why(b"{}"), None);
    }

    #[test]
    fn deeply_nested_json_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        let body = Body::new(deep.into_bytes(), false, 100_000);
        assert!(body.json().is_none());
    }

    #[test]
    fn paths_are_extracted_from_urls() {
        assert_eq!(
            path_of("http://h:1/FHIR/R4/Patient?x=1"),
            "/FHIR/R4/Patient?x=1"
        );
        assert_eq!(path_of("http://h:1"), "/");
        assert_eq!(path_of("Patient/1"), "Patient/1");
    }
}
