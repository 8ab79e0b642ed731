//! Canned exchanges for unit tests of anything that judges one.

use chrono::Utc;

use super::{Body, Exchange, ExchangeId, RecordedRequest, RecordedResponse};

pub fn exchange(status: u16, headers: &[(&str, &str)], body: &str) -> Exchange {
    exchange_with_request(
        &[("X-Request-ID", "0b7ab2a6-5d84-4bd2-a1f8-3b4bd1b3d5a9")],
        status,
        headers,
        body,
    )
}

pub fn exchange_with_request(
    request_headers: &[(&str, &str)],
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
) -> Exchange {
    let pairs = |list: &[(&str, &str)]| {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    };
    Exchange {
        id: ExchangeId("t.feature:1#1".into()),
        label: "test".into(),
        started: Utc::now(),
        elapsed_ms: 1,
        request: RecordedRequest {
            method: "GET".into(),
            url: "http://127.0.0.1:1/FHIR/R4/Patient/1".into(),
            headers: pairs(request_headers),
            body: None,
        },
        response: Some(RecordedResponse {
            status,
            http_version: "HTTP/1.1".into(),
            headers: pairs(headers),
            body: Body::new(body.as_bytes().to_vec(), false, body.len()),
        }),
        error: None,
        retried: None,
        kind: crate::http::ExchangeKind::Fhir,
    }
}

pub const FHIR_JSON: (&str, &str) = ("content-type", "application/fhir+json; charset=utf-8");

/// A 200 with `headers` to a request over HTTPS.
pub fn exchange_over_https(headers: &[(&str, &str)]) -> Exchange {
    let mut e = exchange(200, headers, "");
    e.request.url = "https://api.example.nhs.uk/FHIR/R4/metadata".into();
    e
}
