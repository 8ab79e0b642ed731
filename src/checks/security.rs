//! Security rules judged on every exchange: transport headers, caching, disclosure, content
//! types, CORS, and what error bodies give away (catalogue §2.2).

use std::sync::LazyLock;

use regex::Regex;

use crate::fhir::nhs_number;
use crate::http::{Exchange, RecordedResponse};

/// HSTS max-age below this fails (ASVS 4.0.3: about six months).
pub const HSTS_MINIMUM: u64 = 15_724_800;
/// HSTS max-age below this is reported (ASVS 5.0: a year).
pub const HSTS_RECOMMENDED: u64 = 31_536_000;

/// Headers that name server software.
const DISCLOSING_HEADERS: &[&str] = &[
    "server",
    "x-powered-by",
    "x-aspnet-version",
    "x-aspnetmvc-version",
    "x-generator",
    "x-runtime",
    "x-version",
];

static VERSION: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\d+\.\d+").ok());
static INTERNALS: LazyLock<Vec<(&'static str, Option<Regex>)>> = LazyLock::new(|| {
    [
        ("a Python traceback", r"Traceback \(most recent call last\)"),
        (
            "a Java/.NET stack frame",
            r"\bat [a-z][A-Za-z0-9_$]*(\.[A-Za-z0-9_$<>]+)+\(",
        ),
        ("a Java source location", r"\.java:\d+"),
        (
            ".NET internals",
            r"\bSystem\.[A-Z][A-Za-z]+(\.[A-Z][A-Za-z]+)*(Exception|Error)\b",
        ),
        ("a Java thread dump", r"Exception in thread"),
        (
            "an SQL error",
            r"SQLSTATE|\bORA-\d{4,5}\b|\bSQLException\b|syntax error at or near",
        ),
        (
            "a Unix file path",
            r"(^|[\s'(])/(usr|var|home|opt|srv|etc)/[A-Za-z0-9_.-]+",
        ),
        ("a Windows file path", r"\b[A-Z]:\\\\[A-Za-z]"),
        (
            "a Node.js stack frame",
            r"\(/[^)]+\.js:\d+:\d+\)|\bnode_modules/",
        ),
    ]
    .into_iter()
    .map(|(what, pattern)| (what, Regex::new(pattern).ok()))
    .collect()
});
static TEN_DIGITS: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\b\d{10}\b").ok());

fn is_https(exchange: &Exchange) -> bool {
    exchange.request.url.starts_with("https://")
}

/// SEC-HDR-001. Returns the problem, or a note for a max-age under a year.
pub fn hsts(
    exchange: &Exchange,
    response: &RecordedResponse,
) -> Option<Result<Option<String>, String>> {
    if !is_https(exchange) {
        return None;
    }
    let Some(value) = response.header("strict-transport-security") else {
        return Some(Err("no Strict-Transport-Security header".into()));
    };
    let max_age = value
        .split(';')
        .filter_map(|part| part.trim().split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("max-age"))
        .and_then(|(_, v)| v.trim().trim_matches('"').parse::<u64>().ok());
    Some(match max_age {
        None => Err(format!(
            "Strict-Transport-Security has no valid max-age: {value}"
        )),
        Some(age) if age < HSTS_MINIMUM => Err(format!(
            "HSTS max-age {age} is below {HSTS_MINIMUM} s (about six months)"
        )),
        Some(age) if age < HSTS_RECOMMENDED => Ok(Some(format!(
            "HSTS max-age {age} is below a year ({HSTS_RECOMMENDED} s, ASVS 5.0)"
        ))),
        Some(_) => Ok(None),
    })
}

/// SEC-HDR-002: every response forbids caching.
pub fn no_store(response: &RecordedResponse) -> Result<(), String> {
    let values: Vec<&str> = response.header_values("cache-control").collect();
    let joined = values.join(", ").to_ascii_lowercase();
    if joined.split(',').any(|d| d.trim() == "no-store") {
        Ok(())
    } else if values.is_empty() {
        Err("no Cache-Control header".into())
    } else {
        Err(format!(
            "Cache-Control is `{}`, without no-store",
            values.join(", ")
        ))
    }
}

/// SEC-HDR-003.
pub fn nosniff(response: &RecordedResponse) -> Result<(), String> {
    match response.header("x-content-type-options") {
        Some(v) if v.trim().eq_ignore_ascii_case("nosniff") => Ok(()),
        Some(v) => Err(format!("X-Content-Type-Options is `{v}`, not nosniff")),
        None => Err("no X-Content-Type-Options: nosniff".into()),
    }
}

/// SEC-HDR-004: no header names a component with a version.
pub fn version_disclosure(response: &RecordedResponse) -> Result<(), String> {
    let version = VERSION.as_ref();
    let found: Vec<String> = response
        .headers
        .iter()
        .filter(|(name, _)| DISCLOSING_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
        .filter(|(name, value)| {
            let lower = name.to_ascii_lowercase();
            // Version headers disclose by their presence; the others when they carry a version.
            lower.contains("version") || version.is_some_and(|v| v.is_match(value))
        })
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    if found.is_empty() {
        Ok(())
    } else {
        Err(found.join("; "))
    }
}

/// SEC-HDR-005: a body has a Content-Type that matches it. Returns a note for soft issues.
/// When FHIR JSON may be labelled with the generic `application/json`: the client asked for it
/// (FHIR R4 http.html: a server SHOULD answer a generic JSON Accept with that mime type), or
/// the supplier declares it.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLabel {
    pub asked_for_json: bool,
    pub declared: bool,
}

/// Whether the request asked for `application/json` rather than FHIR JSON (its Accept header
/// or `_format`).
pub fn asked_for_plain_json(exchange: &crate::http::Exchange) -> bool {
    let plain = |text: &str| {
        text.split(',').any(|part| {
            part.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
    };
    let format = url::Url::parse(&exchange.request.url).ok().and_then(|url| {
        url.query_pairs()
            .find(|(name, _)| name == "_format")
            .map(|(_, value)| value.into_owned())
    });
    match format {
        Some(format) => plain(&format),
        None => exchange.request.header("accept").is_some_and(plain),
    }
}

pub fn content_type(
    response: &RecordedResponse,
    json_label: JsonLabel,
) -> Option<Result<Option<String>, String>> {
    if response.body.is_empty() {
        return None;
    }
    let Some(header) = response.header("content-type") else {
        return Some(Err("a body without a Content-Type".into()));
    };
    let mut labels: Vec<&str> = response.header_values("content-type").collect();
    labels.dedup();
    if labels.len() > 1 {
        // RFC 9110 §8.3: Content-Type is a singleton; two labels leave the body ambiguous.
        return Some(Err(format!(
            "{} conflicting Content-Type headers: {}",
            labels.len(),
            labels.join(" | ")
        )));
    }
    let media = response.media_type().unwrap_or_default();
    let json_media = media == "application/json" || media.ends_with("+json");
    let parses = response.body.json().is_some();
    if json_media && !parses && !response.body.truncated {
        return Some(Err(format!(
            "Content-Type {media} but the body is not JSON"
        )));
    }
    if parses && !json_media {
        return Some(Err(format!("a JSON body labelled {media}")));
    }
    if response.resource().is_some() && media != "application/fhir+json" {
        // The catalogue's rule: application/json only where the client asked for it or the
        // supplier declares it; any other label for FHIR JSON is a mislabel.
        return Some(match (media.as_str(), json_label) {
            ("application/json", JsonLabel { asked_for_json: true, .. }) => Ok(Some(
                "FHIR JSON labelled application/json, as the client asked (FHIR R4 allows the generic type then)".into(),
            )),
            ("application/json", JsonLabel { declared: true, .. }) => Ok(Some(
                "FHIR JSON labelled application/json, which the supplier declares".into(),
            )),
            _ => Err(format!(
                "a FHIR resource labelled {media}, though the client did not ask for it and the supplier does not declare it (FHIR JSON is application/fhir+json)"
            )),
        });
    }
    let charset_utf8 = header
        .to_ascii_lowercase()
        .replace(' ', "")
        .contains("charset=utf-8");
    if json_media && !charset_utf8 {
        return Some(Ok(Some(format!(
            "Content-Type `{header}` does not state charset=utf-8"
        ))));
    }
    Some(Ok(None))
}

/// SEC-HDR-006 (passive part): never grant credentialed access to every origin.
pub fn cors(
    response: &RecordedResponse,
    request_origin: Option<&str>,
) -> Option<Result<(), String>> {
    let allow_origin = response.header("access-control-allow-origin")?;
    let credentials = response
        .header("access-control-allow-credentials")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let any_origin =
        allow_origin.trim() == "*" || request_origin.is_some_and(|o| o == allow_origin.trim());
    if any_origin && credentials {
        Some(Err(format!(
            "Access-Control-Allow-Origin `{allow_origin}` with Access-Control-Allow-Credentials: true"
        )))
    } else {
        Some(Ok(()))
    }
}

/// SEC-ERR-001: what an error body gives away. `sent` is the request (URL and body) so that
/// NHS numbers the client sent are not counted.
pub fn error_disclosure(body: &str, sent: &str) -> Vec<String> {
    let mut problems: Vec<String> = INTERNALS
        .iter()
        .filter_map(|(what, pattern)| {
            pattern
                .as_ref()?
                .find(body)
                .map(|m| format!("{what}: `{}`", crate::checks::assert::preview(m.as_str())))
        })
        .collect();
    if let Some(pattern) = TEN_DIGITS.as_ref() {
        for number in pattern.find_iter(body).map(|m| m.as_str()) {
            if nhs_number::is_valid(number) && !sent.contains(number) {
                problems.push(format!(
                    "the NHS number {number}, which the request did not mention"
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::exchange;

    use crate::http::testing::exchange_over_https as https;

    #[test]
    fn hsts_bands() {
        let check = |value: &str| {
            let e = https(&[("strict-transport-security", value)]);
            hsts(&e, e.response.as_ref().unwrap())
        };
        assert_eq!(check("max-age=31536000; includeSubDomains"), Some(Ok(None)));
        assert!(matches!(check("max-age=20000000"), Some(Ok(Some(_)))));
        assert!(matches!(check("max-age=300"), Some(Err(_))));
        assert!(matches!(check("includeSubDomains"), Some(Err(_))));
        let plain = exchange(200, &[], "");
        assert_eq!(
            hsts(&plain, plain.response.as_ref().unwrap()),
            None,
            "plain HTTP is judged by SEC-TLS-001"
        );
    }

    #[test]
    fn caching_sniffing_and_disclosure() {
        let response = |headers: &[(&str, &str)]| exchange(200, headers, "").response.unwrap();
        assert!(no_store(&response(&[("cache-control", "private, no-store")])).is_ok());
        assert!(no_store(&response(&[("cache-control", "max-age=60")])).is_err());
        assert!(nosniff(&response(&[("x-content-type-options", "NOSNIFF")])).is_ok());
        assert!(version_disclosure(&response(&[("server", "nginx")])).is_ok());
        assert!(version_disclosure(&response(&[("server", "nginx/1.25.3")])).is_err());
        assert!(version_disclosure(&response(&[("x-aspnet-version", "4")])).is_err());
    }

    #[test]
    fn content_types_must_match_bodies() {
        let response =
            |headers: &[(&str, &str)], body: &str| exchange(200, headers, body).response.unwrap();
        assert_eq!(
            content_type_of(&response(
                &[("content-type", "application/fhir+json; charset=utf-8")],
                r#"{"resourceType":"Patient"}"#
            )),
            Some(Ok(None))
        );
        assert!(matches!(
            content_type_of(&response(
                &[("content-type", "application/fhir+json")],
                r#"{"resourceType":"Patient"}"#
            )),
            Some(Ok(Some(_)))
        ));
        assert!(matches!(
            content_type_of(&response(&[("content-type", "text/html")], r#"{"a":1}"#)),
            Some(Err(_))
        ));
        assert!(matches!(
            content_type_of(&response(&[("content-type", "application/json")], "<html>")),
            Some(Err(_))
        ));
        assert!(matches!(content_type_of(&response(&[], "x")), Some(Err(_))));
        assert_eq!(content_type_of(&response(&[], "")), None);
        let twice = response(
            &[
                ("content-type", "application/fhir+json; charset=utf-8"),
                ("content-type", "text/html"),
            ],
            r#"{"resourceType":"Patient"}"#,
        );
        assert!(matches!(content_type_of(&twice), Some(Err(m)) if m.contains("conflicting")));
    }

    fn content_type_of(response: &RecordedResponse) -> Option<Result<Option<String>, String>> {
        content_type(response, JsonLabel::default())
    }

    /// SEC-HDR-005's own text: FHIR JSON as application/json only where the client asked for
    /// it or the supplier declares it.
    #[test]
    fn fhir_json_labelled_application_json_needs_a_request_or_a_declaration() {
        let patient = r#"{"resourceType":"Patient"}"#;
        let plain = exchange(200, &[("content-type", "application/json")], patient)
            .response
            .unwrap();
        assert!(matches!(
            content_type(&plain, JsonLabel::default()),
            Some(Err(m)) if m.contains("does not declare")
        ));
        for allowed in [
            JsonLabel {
                asked_for_json: true,
                declared: false,
            },
            JsonLabel {
                asked_for_json: false,
                declared: true,
            },
        ] {
            assert!(matches!(content_type(&plain, allowed), Some(Ok(Some(_)))));
        }
        let asked = |accept: &str, url: &str| {
            let mut probe = exchange(200, &[], "");
            probe.request.url = url.into();
            probe.request.headers = vec![("accept".into(), accept.into())];
            asked_for_plain_json(&probe)
        };
        assert!(asked("application/json", "http://x/Patient/1"));
        assert!(asked(
            "application/json;q=0.9, text/html",
            "http://x/Patient/1"
        ));
        assert!(!asked("application/fhir+json", "http://x/Patient/1"));
        assert!(!asked(
            "application/json",
            "http://x/Patient/1?_format=json"
        ));
        assert!(asked(
            "application/fhir+json",
            "http://x/Patient/1?_format=application/json"
        ));
    }

    #[test]
    fn credentialed_cors_for_any_origin_fails() {
        let response = |headers: &[(&str, &str)]| exchange(200, headers, "").response.unwrap();
        assert!(
            cors(
                &response(&[
                    ("access-control-allow-origin", "*"),
                    ("access-control-allow-credentials", "true")
                ]),
                None
            )
            .unwrap()
            .is_err()
        );
        assert!(
            cors(
                &response(&[
                    ("access-control-allow-origin", "https://evil.example"),
                    ("access-control-allow-credentials", "true")
                ]),
                Some("https://evil.example")
            )
            .unwrap()
            .is_err()
        );
        assert!(
            cors(&response(&[("access-control-allow-origin", "*")]), None)
                .unwrap()
                .is_ok()
        );
        assert_eq!(cors(&response(&[]), None), None);
    }

    #[test]
    fn error_bodies_must_not_leak_internals() {
        assert!(error_disclosure(r#"{"diagnostics":"Resource not found"}"#, "").is_empty());
        let java = "java.lang.NullPointerException\n\tat org.example.fhir.PatientDao.read(PatientDao.java:42)";
        assert_eq!(error_disclosure(java, "").len(), 2);
        assert!(
            !error_disclosure(
                "Traceback (most recent call last):\n  File \"/srv/app.py\"",
                ""
            )
            .is_empty()
        );
        assert!(
            !error_disclosure("ERROR: syntax error at or near \"'\" SQLSTATE 42601", "").is_empty()
        );
        assert!(error_disclosure("Patient 9000000009 not found", "/Patient/9000000009").is_empty());
        assert_eq!(
            error_disclosure("Patient 9000000017 not found", "/Patient/9000000009").len(),
            1
        );
    }
}
