use std::io::Read as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::header::{HeaderName, HeaderValue};
use tokio::sync::Semaphore;

use super::exchange::{
    Body, Exchange, ExchangeId, ExchangeLog, RecordedRequest, RecordedResponse, TransportError,
    TransportErrorKind,
};
use super::redact::Redactor;
use super::request::encode_query;
pub use super::request::{RequestIdMode, RequestSpec};

/// Problems with the harness's own HTTP settings (a bad CA file, a malformed target URL).
/// A failing supplier is never an `HttpError`: it is a recorded exchange.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("the target `{url}` is not an http(s) URL")]
    InvalidTarget { url: String },
    #[error(transparent)]
    Trust(#[from] crate::tls::trust::TrustError),
    #[error("failed to build the HTTP client")]
    Build(#[source] reqwest::Error),
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The FHIR base URL, e.g. `https://api.example.nhs.uk/FHIR/R4`.
    pub base_url: String,
    /// Deadline for a whole exchange: connect, headers and body.
    pub timeout: Duration,
    /// Bodies larger than this are cut off and reported, never buffered whole.
    pub body_limit: usize,
    /// PEM of extra CAs to trust (a private CA, or the embedded sandbox's).
    pub ca_pem: Option<Vec<u8>>,
    /// Accept any server certificate (the certificate is still judged by SEC-TLS-005).
    pub insecure: bool,
    /// Requests in flight at once against the target, whatever the scenario concurrency.
    pub max_in_flight: usize,
    pub redactor: Redactor,
    /// The client certificate for targets behind mutual TLS.
    pub client_identity: Option<crate::tls::trust::ClientIdentity>,
}

#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    /// A client that keeps no idle connection: requests that must not be sent twice go over a
    /// connection of their own, so a server closing a pooled connection cannot break them.
    fresh_client: reqwest::Client,
    base: String,
    options: Arc<ClientOptions>,
    log: Arc<ExchangeLog>,
    in_flight: Arc<Semaphore>,
    /// TLS for hand-written requests (HTTP/1.1 only).
    raw_tls: Arc<rustls::ClientConfig>,
    /// The certificate verifier that enforces trust, even when `--insecure` lets requests
    /// through: the TLS facts record its verdict.
    strict_verifier: Arc<crate::tls::trust::Verifier>,
}

impl HttpClient {
    pub fn new(options: ClientOptions, log: Arc<ExchangeLog>) -> Result<Self, HttpError> {
        let base = options.base_url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some());
        if parsed.is_none() {
            return Err(HttpError::InvalidTarget {
                url: options.base_url.clone(),
            });
        }
        let strict_verifier = crate::tls::trust::verifier(options.ca_pem.as_deref(), false)?;
        // One trust store for both: --insecure changes only what connections accept.
        let verifier = if options.insecure {
            Arc::new(strict_verifier.accepting_any())
        } else {
            strict_verifier.clone()
        };
        let identity = options.client_identity.as_ref();
        let tls = crate::tls::trust::client_config(verifier.clone(), true, identity)?;
        let raw_tls = crate::tls::trust::client_config(verifier.clone(), false, identity)?;
        let build = |idle_per_host: usize| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(options.timeout)
                .connect_timeout(options.timeout.min(Duration::from_secs(10)))
                .no_proxy()
                .user_agent(concat!("mts/", env!("CARGO_PKG_VERSION")))
                .pool_max_idle_per_host(idle_per_host)
                .tls_backend_preconfigured((*tls).clone())
                .build()
                .map_err(HttpError::Build)
        };
        let client = build(options.max_in_flight.max(1))?;
        let fresh_client = build(0)?;
        let in_flight = Arc::new(Semaphore::new(options.max_in_flight.max(1)));
        Ok(Self {
            client,
            fresh_client,
            base,
            options: Arc::new(options),
            log,
            in_flight,
            raw_tls,
            strict_verifier,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The client certificate every connection presents, if any.
    pub fn client_identity(&self) -> Option<&crate::tls::trust::ClientIdentity> {
        self.options.client_identity.as_ref()
    }

    /// The same client (target, trust, limits, evidence log, redaction) presenting another
    /// client certificate, or none: the mutual-TLS probes.
    pub fn with_client_identity(
        &self,
        identity: Option<crate::tls::trust::ClientIdentity>,
    ) -> Result<Self, HttpError> {
        let mut options = (*self.options).clone();
        options.client_identity = identity;
        let mut client = Self::new(options, self.log.clone())?;
        client.in_flight = self.in_flight.clone();
        Ok(client)
    }

    pub fn verifier(&self) -> Arc<crate::tls::trust::Verifier> {
        self.strict_verifier.clone()
    }

    pub fn timeout(&self) -> Duration {
        self.options.timeout
    }

    pub fn redactor(&self) -> &Redactor {
        &self.options.redactor
    }

    pub fn log(&self) -> &Arc<ExchangeLog> {
        &self.log
    }

    /// Resolves a target against the FHIR base: absolute URLs are kept, paths are appended.
    pub fn resolve(&self, target: &str) -> String {
        if target.starts_with("http://") || target.starts_with("https://") {
            target.to_owned()
        } else if target.is_empty() {
            self.base.clone()
        } else {
            format!("{}/{}", self.base, target.trim_start_matches('/'))
        }
    }

    /// Sends the request and records the exchange. Never fails: transport problems are part of
    /// the returned exchange, for the checks to judge.
    pub async fn send(&self, id: ExchangeId, label: &str, spec: &RequestSpec) -> Arc<Exchange> {
        self.exchange(id, label, spec, false).await.0
    }

    /// As `send`, also returning the response body as received, before redaction: for the one
    /// caller that must read a secret (the token manager). The recorded exchange is redacted.
    pub async fn send_keeping_secrets(
        &self,
        id: ExchangeId,
        label: &str,
        spec: &RequestSpec,
    ) -> (Arc<Exchange>, Vec<u8>) {
        self.exchange(id, label, spec, true).await
    }

    /// The exchange, and the body as received when `keep_raw` (else empty: copying every body
    /// for the one caller that needs it costs every exchange).
    async fn exchange(
        &self,
        id: ExchangeId,
        label: &str,
        spec: &RequestSpec,
        keep_raw: bool,
    ) -> (Arc<Exchange>, Vec<u8>) {
        let _permit = self.in_flight.acquire().await.ok();
        let started = Utc::now();
        let clock = Instant::now();
        let redactor = &self.options.redactor;

        let mut url = self.resolve(&spec.target);
        if !spec.query.is_empty() {
            let encoded: Vec<String> = spec
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", encode_query(k), encode_query(v)))
                .collect();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&encoded.join("&"));
        }
        let headers = self.request_headers(spec);
        let recorded_request = RecordedRequest {
            method: spec.method.clone(),
            url: redactor.text(&url),
            headers: headers
                .iter()
                .map(|(n, v)| (n.clone(), redactor.header(n, v)))
                .collect(),
            body: spec
                .body
                .as_ref()
                .map(|b| redactor.text(&String::from_utf8_lossy(&truncate(b, 64 * 1024)))),
        };

        // Servers close idle keep-alive connections when they please, and a request written
        // onto one the server has just closed fails before any answer. RFC 9110 §9.2.2 lets a
        // client resend only idempotent requests: those are sent once more on a new connection
        // (the exchange says so); the others never ride a pooled connection at all.
        let idempotent = matches!(
            spec.method.as_str(),
            "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE"
        );
        let mut outcome = self.attempt(spec, &url, &headers, !idempotent).await;
        let mut retried = None;
        if let Err(first) = &outcome
            && idempotent
            && is_stale_connection(first)
        {
            retried = Some(redactor.text(&first.message));
            outcome = self.attempt(spec, &url, &headers, true).await;
        }
        let (response, error) = match outcome {
            Ok(response) => (Some(response), None),
            Err(error) => (None, Some(error)),
        };
        let raw_body = response
            .as_ref()
            .filter(|_| keep_raw)
            .map(|r| r.body.bytes().to_vec())
            .unwrap_or_default();
        let response = response.map(|mut r| {
            if let Some(scrubbed) = redactor.scrub(r.body.bytes()) {
                r.body = Body::new(scrubbed, r.body.truncated, r.body.wire_size);
            }
            r.headers = r
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), redactor.header(n, v)))
                .collect();
            r
        });
        let error = error.map(|mut e| {
            e.message = redactor.text(&e.message);
            e
        });
        let exchange = Arc::new(Exchange {
            id,
            label: label.to_owned(),
            started,
            elapsed_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
            request: recorded_request,
            response,
            error,
            retried,
            kind: spec.kind,
        });
        self.log.push(exchange.clone());
        (exchange, raw_body)
    }

    /// One try at the exchange, under the overall deadline.
    async fn attempt(
        &self,
        spec: &RequestSpec,
        url: &str,
        headers: &[(String, String)],
        new_connection: bool,
    ) -> Result<RecordedResponse, TransportError> {
        let deadline = self.options.timeout + Duration::from_millis(250);
        // What the exchange was waiting for, so a timeout can say (headers never came, or a
        // body trickled).
        let stage = Progress::default();
        let work = async {
            if spec.raw {
                super::raw::exchange(
                    url,
                    &spec.method,
                    headers,
                    spec.body.as_deref(),
                    &self.raw_tls,
                    self.options.timeout,
                    self.options.body_limit,
                )
                .await
            } else {
                let client = if new_connection {
                    &self.fresh_client
                } else {
                    &self.client
                };
                self.perform(
                    client,
                    &spec.method,
                    url,
                    headers,
                    spec.body.clone(),
                    &stage,
                )
                .await
            }
        };
        tokio::time::timeout(deadline, work)
            .await
            .unwrap_or_else(|_| {
                Err(TransportError {
                    kind: TransportErrorKind::Timeout,
                    message: format!(
                        "no complete response within the {} s deadline ({})",
                        self.options.timeout.as_secs_f64(),
                        stage.describe()
                    ),
                })
            })
    }

    fn request_headers(&self, spec: &RequestSpec) -> Vec<(String, String)> {
        let omitted = |name: &str| {
            spec.omit_headers
                .iter()
                .any(|o| o.eq_ignore_ascii_case(name))
        };
        let mut headers = Vec::new();
        match &spec.request_id {
            RequestIdMode::Fresh if !omitted("x-request-id") => {
                headers.push((
                    spec.request_id_header.clone(),
                    uuid::Uuid::new_v4().to_string(),
                ));
            }
            RequestIdMode::Value(value) => {
                headers.push((spec.request_id_header.clone(), value.clone()))
            }
            _ => {}
        }
        if spec.with_credentials
            && !omitted("authorization")
            && let Some(token) = &spec.bearer
        {
            headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
        }
        for (name, value) in &spec.headers {
            if !omitted(name) {
                headers.retain(|(n, _): &(String, String)| !n.eq_ignore_ascii_case(name));
                headers.push((name.clone(), value.clone()));
            }
        }
        headers
    }

    async fn perform(
        &self,
        client: &reqwest::Client,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
        stage: &Progress,
    ) -> Result<RecordedResponse, TransportError> {
        let invalid = |message: String| TransportError {
            kind: TransportErrorKind::InvalidRequest,
            message,
        };
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| invalid(format!("`{method}` is not an HTTP method")))?;
        let mut request = client.request(method, url);
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("`{name}` is not a valid header name")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| invalid(format!("the value of {name} is not a valid header value")))?;
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let current_stage = || stage.describe();
        let mut response = request
            .send()
            .await
            .map_err(|e| classify(e, &current_stage(), self.options.timeout))?;
        stage.head_arrived(response.status().as_u16());
        let status = response.status().as_u16();
        let http_version = format!("{:?}", response.version());
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();

        let limit = self.options.body_limit;
        let mut raw = Vec::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    stage.body_received(raw.len() + chunk.len());
                    let room = limit.saturating_sub(raw.len());
                    if chunk.len() > room {
                        raw.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    raw.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) => return Err(classify(error, &current_stage(), self.options.timeout)),
            }
        }
        let wire_size = raw.len();
        let encoding = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-encoding"))
            .map(|(_, v)| v.trim().to_ascii_lowercase());
        let (bytes, truncated) = match encoding.as_deref() {
            Some("gzip" | "x-gzip") if !truncated => {
                decode_gzip(&raw, limit).map_err(|message| TransportError {
                    kind: TransportErrorKind::Protocol,
                    message,
                })?
            }
            _ => (raw, truncated),
        };
        Ok(RecordedResponse {
            status,
            http_version,
            headers,
            body: Body::new(bytes, truncated, wire_size),
        })
    }
}

/// How far an exchange got, for the message of a timeout (headers never came, or a body
/// trickled). Kept as numbers and worded only when needed: it changes with every chunk.
#[derive(Debug, Default)]
struct Progress {
    /// The status of the response head, once it arrived.
    status: std::sync::atomic::AtomicU32,
    /// Body bytes received so far.
    received: std::sync::atomic::AtomicUsize,
}

impl Progress {
    fn head_arrived(&self, status: u16) {
        self.status
            .store(u32::from(status), std::sync::atomic::Ordering::Relaxed);
    }

    fn body_received(&self, bytes: usize) {
        self.received
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    fn describe(&self) -> String {
        let status = self.status.load(std::sync::atomic::Ordering::Relaxed);
        let received = self.received.load(std::sync::atomic::Ordering::Relaxed);
        match (status, received) {
            (0, _) => "waiting for the response head".to_owned(),
            (status, 0) => format!("the head arrived ({status}); reading the body"),
            (_, received) => {
                format!("the head arrived; the body was still incomplete after {received} bytes")
            }
        }
    }
}

/// Decodes a gzip body, stopping at `limit` decoded bytes (a gzip bomb is cut off, not inflated).
fn decode_gzip(raw: &[u8], limit: usize) -> Result<(Vec<u8>, bool), String> {
    let mut decoded = Vec::new();
    // Multi-member: RFC 1952 allows a gzip file of several members, decoded back to back.
    let mut decoder = flate2::read::MultiGzDecoder::new(raw).take(limit as u64 + 1);
    decoder
        .read_to_end(&mut decoded)
        .map_err(|e| format!("the body claims gzip content-coding but does not decode: {e}"))?;
    let truncated = decoded.len() > limit;
    decoded.truncate(limit);
    Ok((decoded, truncated))
}

fn truncate(bytes: &[u8], limit: usize) -> Vec<u8> {
    bytes[..bytes.len().min(limit)].to_vec()
}

/// A connection that died before any answer: closed, reset or broken, not refused or timed out.
fn is_stale_connection(error: &TransportError) -> bool {
    let message = error.message.to_ascii_lowercase();
    error.kind == TransportErrorKind::Protocol
        && [
            "connection closed",
            "connection reset",
            "broken pipe",
            "incomplete message",
            "unexpected eof",
            // hyper's word for a connection that closed between being opened and carrying the
            // request: a TLS 1.3 server that refuses the client after the handshake (no client
            // certificate) races the request this way; a fresh connection gets the real alert.
            "connection was not ready",
        ]
        .iter()
        .any(|m| message.contains(m))
}

/// Turns a reqwest error into a transport error a supplier can act on; `stage` says what the
/// exchange was waiting for, so a timeout tells a silent server from a trickling body.
fn classify(error: reqwest::Error, stage: &str, deadline: Duration) -> TransportError {
    let chain = error_chain(&error);
    let lower = chain.to_ascii_lowercase();
    let kind = if error.is_timeout() || lower.contains("timed out") {
        TransportErrorKind::Timeout
    } else if lower.contains("certificate")
        // rustls's words for a peer that does not speak TLS at all.
        || lower.contains("corrupt message")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("fatal alert")
        || lower.contains("rustls")
    {
        TransportErrorKind::Tls
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else {
        TransportErrorKind::Protocol
    };
    let message = match kind {
        TransportErrorKind::Timeout => format!(
            "no complete response within the {} s deadline ({stage}): {chain}",
            deadline.as_secs_f64()
        ),
        TransportErrorKind::Connect => format!("could not connect: {chain}"),
        TransportErrorKind::Tls => format!("TLS failure: {chain}"),
        _ => format!("HTTP protocol failure: {chain}"),
    };
    TransportError { kind, message }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests;
