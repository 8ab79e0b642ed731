//! `evidence.har`: every HTTP exchange of the run in HAR 1.2, which browser developer tools and
//! HAR viewers open. Secrets were redacted when the exchange was recorded. Each entry carries
//! its exchange id (`_id`, as in report.json) and the requirements it is evidence for.
//! The HAR is written from borrowed, typed records: on a run of thousands of exchanges it is
//! the biggest file, and building a `serde_json::Value` tree first would double its cost.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{ExchangeRecord, Report};

#[derive(Serialize)]
struct Har<'a> {
    log: Log<'a>,
}

#[derive(Serialize)]
struct Log<'a> {
    version: &'static str,
    creator: Creator<'a>,
    comment: String,
    pages: [(); 0],
    entries: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Creator<'a> {
    name: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct Pair<'a> {
    name: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct OwnedPair {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    method: &'a str,
    url: &'a str,
    http_version: &'static str,
    cookies: [(); 0],
    headers: Vec<Pair<'a>>,
    query_string: Vec<OwnedPair>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_data: Option<PostData<'a>>,
    headers_size: i64,
    body_size: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostData<'a> {
    mime_type: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    status: u16,
    status_text: &'static str,
    http_version: &'a str,
    cookies: [(); 0],
    headers: Vec<Pair<'a>>,
    content: Content<'a>,
    #[serde(rename = "redirectURL")]
    redirect_url: &'a str,
    headers_size: i64,
    body_size: i64,
    /// No answer: HAR has no place for transport errors, so status 0 (as browsers record a
    /// failed request) and the error here.
    #[serde(rename = "_error", skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Content<'a> {
    size: usize,
    mime_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'static str>,
}

#[derive(Serialize)]
struct Timings {
    send: u64,
    wait: u64,
    receive: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    started_date_time: &'a str,
    time: u64,
    request: Request<'a>,
    response: Response<'a>,
    cache: BTreeMap<(), ()>,
    timings: Timings,
    comment: &'a str,
    #[serde(rename = "_id")]
    id: &'a str,
    #[serde(rename = "_requirements")]
    requirements: Vec<&'a str>,
    #[serde(rename = "_retried", skip_serializing_if = "Option::is_none")]
    retried: Option<&'a str>,
}

fn pairs(list: &[(String, String)]) -> Vec<Pair<'_>> {
    list.iter()
        .map(|(name, value)| Pair { name, value })
        .collect()
}

fn header<'a>(list: &'a [(String, String)], name: &str) -> Option<&'a str> {
    list.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn entry<'a>(exchange: &'a ExchangeRecord, requirements: Vec<&'a str>) -> Entry<'a> {
    let request = &exchange.request;
    let query_string = url::Url::parse(&request.url)
        .map(|url| {
            url.query_pairs()
                .map(|(name, value)| OwnedPair {
                    name: name.into_owned(),
                    value: value.into_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let response = match &exchange.response {
        Some(response) => Response {
            status: response.status,
            status_text: "",
            http_version: &response.http_version,
            cookies: [],
            headers: pairs(&response.headers),
            content: Content {
                size: response.body_size,
                mime_type: header(&response.headers, "content-type").unwrap_or(""),
                text: Some(&response.body),
                comment: response
                    .body_truncated
                    .then_some("body cut at the report's limit"),
            },
            redirect_url: header(&response.headers, "location").unwrap_or(""),
            headers_size: -1,
            body_size: i64::try_from(response.body_size).unwrap_or(i64::MAX),
            error: None,
        },
        None => Response {
            status: 0,
            status_text: "",
            http_version: "",
            cookies: [],
            headers: Vec::new(),
            content: Content {
                size: 0,
                mime_type: "",
                text: None,
                comment: None,
            },
            redirect_url: "",
            headers_size: -1,
            body_size: -1,
            error: Some(
                exchange
                    .error
                    .as_ref()
                    .map_or("no response", |e| e.message.as_str()),
            ),
        },
    };
    Entry {
        started_date_time: &exchange.started,
        time: exchange.elapsed_ms,
        request: Request {
            method: &request.method,
            url: &request.url,
            http_version: "HTTP/1.1",
            cookies: [],
            headers: pairs(&request.headers),
            query_string,
            post_data: request.body.as_deref().map(|text| PostData {
                mime_type: header(&request.headers, "content-type").unwrap_or(""),
                text,
            }),
            headers_size: -1,
            body_size: request.body.as_ref().map_or(0, String::len),
        },
        response,
        cache: BTreeMap::new(),
        timings: Timings {
            send: 0,
            wait: exchange.elapsed_ms,
            receive: 0,
        },
        comment: &exchange.label,
        id: &exchange.id.0,
        requirements,
        retried: exchange.retried.as_deref(),
    }
}

/// The HAR document, pretty-printed.
pub fn render(report: &Report) -> std::io::Result<Vec<u8>> {
    let mut requirements_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for requirement in &report.requirements {
        for exchange in &requirement.exchanges {
            requirements_of
                .entry(exchange.0.as_str())
                .or_default()
                .push(requirement.id.as_str());
        }
    }
    let har = Har {
        log: Log {
            version: "1.2",
            creator: Creator {
                name: &report.harness.name,
                version: &report.harness.version,
            },
            comment: format!(
                "{} against {} ({} profile)",
                report.verdict.as_str(),
                report.target,
                report.profile
            ),
            pages: [],
            entries: report
                .exchanges
                .iter()
                .map(|exchange| {
                    entry(
                        exchange,
                        requirements_of
                            .get(exchange.id.0.as_str())
                            .cloned()
                            .unwrap_or_default(),
                    )
                })
                .collect(),
        },
    };
    let mut bytes = serde_json::to_vec_pretty(&har).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}
