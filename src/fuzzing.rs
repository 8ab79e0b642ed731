//! Fuzz targets: every piece of code that reads input mts does not control, each as a
//! `fn(&[u8])` that must return without panicking whatever the bytes are.
//!
//! `fuzz/` drives them with cargo-fuzz (libFuzzer, nightly; `scripts/fuzz.sh`), and
//! `tests/fuzz_corpus.rs` replays the committed seeds and every past crash on stable, so a
//! finding stays fixed.

use std::sync::{Arc, OnceLock};

use chrono::Utc;
use serde_json::Value;

use crate::catalogue::Profile;
use crate::checks::{assert, capability, content, passive, search};
use crate::fhir::path::JsonPath;
use crate::fhir::primitive::Primitive;
use crate::fhir::schema::{FhirSchema, SchemaIssue};
use crate::fhir::walk;
use crate::http::{
    Body, Exchange, ExchangeId, ExchangeKind, RecordedRequest, RecordedResponse, Redactor,
};

/// A fuzz target: any bytes in, no panic out.
pub type Target = fn(&[u8]);

/// The targets by name, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/` call them.
pub const TARGETS: &[(&str, Target)] = &[
    ("response", response),
    ("locator", locator),
    ("feature", feature),
    ("catalogue", catalogue),
    ("config", config),
    ("openapi", openapi),
    ("primitive", primitive),
];

/// A supplier's answer, judged by everything that judges answers. The input is a status line
/// (`200`), header lines (`name: value`), a blank line, then the body.
pub fn response(data: &[u8]) {
    let (head, body) = match memchr::memmem::find(data, b"\n\n") {
        Some(end) => (&data[..end], &data[end + 2..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.trim().parse::<u16>().ok())
        .unwrap_or(200);
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let exchange = Arc::new(Exchange {
        id: ExchangeId("fuzz.feature:1#1".into()),
        label: "fuzz".into(),
        started: Utc::now(),
        elapsed_ms: 1,
        request: RecordedRequest {
            method: "GET".into(),
            url: "http://127.0.0.1:1/FHIR/R4/Patient?identifier=x".into(),
            headers: vec![(
                "X-Request-ID".into(),
                "0b7ab2a6-5d84-4bd2-a1f8-3b4bd1b3d5a9".into(),
            )],
            body: None,
        },
        response: Some(RecordedResponse {
            status,
            http_version: "HTTP/1.1".into(),
            headers,
            body: Body::new(body.to_vec(), false, body.len()),
        }),
        error: None,
        retried: None,
        kind: ExchangeKind::Fhir,
    });

    if let Some(schema) = schema() {
        for profile in [Profile::Apim, Profile::Gpc] {
            let context = passive::PassiveContext {
                schema: schema.clone(),
                profile,
                base_url: "http://127.0.0.1:1/FHIR/R4".into(),
                openapi: None,
                json_declared: false,
                declared_profiles: Default::default(),
            };
            let _ =
                passive::run_passive_checks(std::slice::from_ref(&exchange), &context, |_| true);
        }
    }
    let _ = assert::fhir_resource(&exchange, Some("Patient"));
    let _ = assert::header_echoed(&exchange, "X-Request-ID", "X-Request-ID");
    let _ = assert::status_is_not_server_error(&exchange);
    let redactor = Redactor::new(["secret-token".to_owned()]);
    let _ = redactor.scrub(body);
    let _ = redactor.text(&String::from_utf8_lossy(body));

    let Some(Ok(json)) = exchange
        .response
        .as_ref()
        .map(|r| serde_json::from_slice::<Value>(r.body.bytes()))
    else {
        return;
    };
    let _ = walk::resources(&json);
    let _ = walk::codings(&json);
    let _ = walk::identifiers(&json);
    let _ = walk::systems(&json);
    let _ = search::searchset_problems(&json);
    let _ = search::entry_problems(&json);
    let _ = search::duplicate_entries(&json);
    let _ = search::references(&json);
    let _ = search::match_keys(&json);
    let _ = search::link(&json, "next").map(search::query_names);
    let _ = capability::r4_server_problems(&json);
    let _ = content::nhs_number_identifiers(&json);
    let _ = content::verification_status(&json);
    let _ = content::ods_identifiers(&json);
    let _ = content::identifier_systems(&json);
    let _ = content::snomed_codings(&json);
    let _ = content::medication_codes(&json);
    let _ = content::coding_displays(&json);
    let _ = content::resource_meta(&json);
    let _ = content::outcome_issues(&json);
    let _ = content::spine_coding(&json);
}

/// The FHIRPath-like locator: the first line is a JSON pointer (as a validator reports one),
/// the rest a JSON document, which the compiled schema rules and the general validator must
/// judge alike.
pub fn locator(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (pointer, document) = text.split_once('\n').unwrap_or((&text, "{}"));
    let Ok(document) = serde_json::from_str::<Value>(document) else {
        return;
    };
    let path = JsonPath::from_pointer(&document, pointer);
    let _ = path.fhirpath();
    let _ = path.pointer();
    let _ = path.with_missing("x").fhirpath();
    if let Some(schema) = schema() {
        let _ = path.fhirpath_with(schema.type_index());
        // The compiled rules and the general validator must find the same issues.
        let order = |a: &SchemaIssue, b: &SchemaIssue| {
            (&a.pointer, &a.message).cmp(&(&b.pointer, &b.message))
        };
        let mut compiled = schema.validate(&document);
        let mut general = schema.validate_with_general_validator(&document);
        compiled.sort_by(order);
        general.sort_by(order);
        assert_eq!(compiled, general, "on {document}");
    }
}

/// A string checked by every FHIR pattern matcher and by the regex engine: they must agree
/// (a disagreement panics, so the fuzzer reports it as a finding).
pub fn primitive(data: &[u8]) {
    static REGEXES: OnceLock<Vec<(Primitive, jsonschema::Validator)>> = OnceLock::new();
    let regexes = REGEXES.get_or_init(|| {
        Primitive::patterns()
            .filter_map(|(pattern, primitive)| {
                jsonschema::validator_for(&serde_json::json!({ "pattern": pattern }))
                    .ok()
                    .map(|regex| (primitive, regex))
            })
            .collect()
    });
    let text = Value::String(String::from_utf8_lossy(data).into_owned());
    for (primitive, regex) in regexes {
        let native = text.as_str().is_some_and(|t| primitive.matches(t));
        assert_eq!(native, regex.is_valid(&text), "{primitive:?} on {text}");
    }
}

/// A feature file, parsed and linted against the built-in catalogue and steps.
pub fn feature(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let Ok(suite) = crate::features::Suite::parse_all([("fuzz.feature".to_owned(), text)]) else {
        return;
    };
    let _ = suite.scenarios();
    if let Some(catalogue) = embedded_catalogue() {
        let _ = suite.lint(catalogue, steps());
    }
}

/// A requirement file, loaded beside the built-in catalogue index.
pub fn catalogue(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = crate::catalogue::load_with_requirement_files(vec![(
        "standards/requirements/fuzz.toml".to_owned(),
        text,
    )]);
}

/// An `mts.toml`.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(file) = crate::config::ConfigFile::parse(std::path::Path::new("mts.toml"), &text) {
        let _ = crate::config::TestData::from_section(&file.data);
    }
}

/// A supplier's OpenAPI document, parsed and used to judge one answer.
pub fn openapi(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(document) = crate::openapi::OpenApi::parse(&text) else {
        return;
    };
    let _ = document.problems();
}

fn schema() -> Option<Arc<FhirSchema>> {
    FhirSchema::embedded().ok()
}

/// Loaded once: parsing the catalogue on every input would leave no time for the feature.
fn embedded_catalogue() -> Option<&'static crate::catalogue::Catalogue> {
    static CATALOGUE: OnceLock<Option<crate::catalogue::Catalogue>> = OnceLock::new();
    CATALOGUE
        .get_or_init(|| crate::catalogue::load_embedded().ok())
        .as_ref()
}

fn steps() -> &'static crate::steps::StepLibrary {
    static STEPS: OnceLock<crate::steps::StepLibrary> = OnceLock::new();
    STEPS.get_or_init(crate::steps::StepLibrary::new)
}
