//! `api.etag-version` (API-HDR-005): every successful read carries a weak ETag equal to
//! meta.versionId.

use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "api.etag-version",
    requirement: RequirementCode::new("API-HDR-005"),
    summary: "every successful read carries a weak ETag equal to meta.versionId",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, context: &PassiveContext) -> Option<Judged> {
    if !is_read(exchange, &context.base_url) {
        return None;
    }
    let response = exchange.response.as_ref()?;
    let version = response
        .resource()?
        .pointer("/meta/versionId")
        .and_then(Value::as_str);
    let etag = response.header("etag");
    let expected = version.map_or("an ETag W/\"<meta.versionId>\"".to_owned(), |v| {
        format!("ETag: W/\"{v}\"")
    });
    let inner = etag
        .and_then(|e| e.strip_prefix("W/\""))
        .and_then(|e| e.strip_suffix('"'));
    Some(match (inner, version) {
        (Some(inner), Some(version)) if inner == version => Judged::pass(),
        _ => Judged::fail(
            Failure::new(format!(
                "{} returned an ETag that does not carry meta.versionId",
                exchange.summary_request()
            ))
            .expected(expected)
            .actual(format!(
                "{}; meta.versionId {}",
                etag.map_or("no ETag".to_owned(), |e| format!("ETag: {e}")),
                version.unwrap_or("missing")
            )),
        ),
    })
}

/// A read is `GET [base]/<Type>/<id>` answered 200 with that type.
fn is_read(exchange: &Exchange, base_url: &str) -> bool {
    let path = exchange.request.url.split('?').next().unwrap_or("");
    let Some(rest) = path.strip_prefix(base_url.trim_end_matches('/')) else {
        return false;
    };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    exchange.request.method == "GET"
        && segments.len() == 2
        && segments[0]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase())
        && exchange
            .response
            .as_ref()
            .is_some_and(|r| r.status == 200 && r.resource_type() == Some(segments[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_need_an_etag_equal_to_the_version() {
        let body = r#"{"resourceType":"Patient","id":"1","meta":{"versionId":"2"}}"#;
        assert!(
            verdict(
                &CHECK,
                &exchange(200, &[FHIR_JSON, ("etag", "W/\"2\"")], body)
            )
            .unwrap()
            .is_ok()
        );
        assert!(
            verdict(
                &CHECK,
                &exchange(200, &[FHIR_JSON, ("etag", "\"2\"")], body)
            )
            .unwrap()
            .is_err(),
            "strong ETag"
        );
        assert!(
            verdict(
                &CHECK,
                &exchange(200, &[FHIR_JSON, ("etag", "W/\"3\"")], body)
            )
            .unwrap()
            .is_err()
        );
        assert!(
            verdict(&CHECK, &exchange(200, &[FHIR_JSON], body))
                .unwrap()
                .is_err()
        );
    }
}
