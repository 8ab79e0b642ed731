//! `evidence.har`: every HTTP exchange of the run in HAR 1.2, which browser developer tools and
//! HAR viewers open. Secrets were redacted when the exchange was recorded. Each entry carries
//! its exchange id (`_id`, as in report.json) and the requirements it is evidence for.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::model::{ExchangeRecord, Report};

pub fn render(report: &Report) -> Value {
    let mut requirements_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for requirement in &report.requirements {
        for exchange in &requirement.exchanges {
            requirements_of
                .entry(exchange.0.as_str())
                .or_default()
                .push(requirement.id.as_str());
        }
    }
    let entries: Vec<Value> = report
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
        .collect();
    json!({
        "log": {
            "version": "1.2",
            "creator": { "name": report.harness.name, "version": report.harness.version },
            "comment": format!("{} against {} ({} profile)", report.verdict.as_str(), report.target, report.profile),
            "pages": [],
            "entries": entries,
        }
    })
}

fn pairs(list: &[(String, String)]) -> Vec<Value> {
    list.iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect()
}

fn header<'a>(list: &'a [(String, String)], name: &str) -> Option<&'a str> {
    list.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn entry(exchange: &ExchangeRecord, requirements: Vec<&str>) -> Value {
    let request = &exchange.request;
    let query: Vec<Value> = url::Url::parse(&request.url)
        .map(|url| {
            url.query_pairs()
                .map(|(name, value)| json!({ "name": name, "value": value }))
                .collect()
        })
        .unwrap_or_default();
    let mut har_request = json!({
        "method": request.method,
        "url": request.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": pairs(&request.headers),
        "queryString": query,
        "headersSize": -1,
        "bodySize": request.body.as_ref().map_or(0, String::len),
    });
    if let Some(body) = &request.body {
        har_request["postData"] = json!({
            "mimeType": header(&request.headers, "content-type").unwrap_or(""),
            "text": body,
        });
    }
    let response = match &exchange.response {
        Some(response) => {
            let mut content = json!({
                "size": response.body_size,
                "mimeType": header(&response.headers, "content-type").unwrap_or(""),
                "text": response.body,
            });
            if response.body_truncated {
                content["comment"] = json!("body cut at the report's limit");
            }
            json!({
                "status": response.status,
                "statusText": "",
                "httpVersion": response.http_version,
                "cookies": [],
                "headers": pairs(&response.headers),
                "content": content,
                "redirectURL": header(&response.headers, "location").unwrap_or(""),
                "headersSize": -1,
                "bodySize": response.body_size,
            })
        }
        // No answer: HAR has no place for transport errors, so status 0 (as browsers record a
        // failed request) and the error in `_error`.
        None => json!({
            "status": 0,
            "statusText": "",
            "httpVersion": "",
            "cookies": [],
            "headers": [],
            "content": { "size": 0, "mimeType": "" },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_error": exchange.error.as_ref().map(|e| e.message.clone()),
        }),
    };
    let mut entry = json!({
        "startedDateTime": exchange.started,
        "time": exchange.elapsed_ms,
        "request": har_request,
        "response": response,
        "cache": {},
        "timings": { "send": 0, "wait": exchange.elapsed_ms, "receive": 0 },
        "comment": exchange.label,
        "_id": exchange.id.0,
        "_requirements": requirements,
    });
    if let Some(retried) = &exchange.retried {
        entry["_retried"] = json!(retried);
    }
    entry
}
