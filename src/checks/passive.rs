//! Passive checks: rules judged on every exchange of the run, not on one chosen request. A
//! server that gets a rule right on the happy path but wrong on an error path is caught.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use super::content::{self, Judgement};
use super::security;
use crate::catalogue::Profile;
use crate::fhir::path::JsonPath;
use crate::fhir::schema::FhirSchema;
use crate::fhir::{nhs_number, outcome};
use crate::http::{Exchange, ExchangeId};
use crate::openapi::OpenApi;
use crate::report::{CheckResult, Failure, ReasonKind, Verdict};

/// Most failures listed per check; the rest are counted.
const FAILURE_LIMIT: usize = 25;

pub struct PassiveContext {
    pub schema: Arc<FhirSchema>,
    pub profile: Profile,
    /// The FHIR base URL of the target, to relate request paths to documented operations.
    pub base_url: String,
    /// The supplier's OpenAPI document, when one was given.
    pub openapi: Option<Arc<OpenApi>>,
    /// The supplier's CapabilityStatement declares `application/json`, so FHIR JSON labelled so
    /// is not a mislabel (SEC-HDR-005); its OpenAPI document may declare it per response.
    pub json_declared: bool,
    /// The profile the target declares for every resource of a type (IOP-UKC-008).
    pub declared_profiles: std::collections::BTreeMap<String, String>,
}

/// What a check concluded about one exchange.
pub struct Judged {
    pub result: Result<(), Failure>,
    /// Something worth telling the reader that does not fail the rule.
    pub note: Option<String>,
}

impl Judged {
    pub fn pass() -> Self {
        Self {
            result: Ok(()),
            note: None,
        }
    }

    pub fn fail(failure: Failure) -> Self {
        Self {
            result: Err(failure),
            note: None,
        }
    }

    pub fn from_problems(
        exchange: &Exchange,
        what: &str,
        expected: &str,
        problems: Vec<String>,
    ) -> Self {
        if problems.is_empty() {
            return Self::pass();
        }
        let shown: Vec<&String> = problems.iter().take(5).collect();
        let more = if problems.len() > 5 {
            format!(" (+{} more)", problems.len() - 5)
        } else {
            String::new()
        };
        Self::fail(
            Failure::new(format!(
                "{} {what}: {}",
                exchange.summary_request(),
                problems[0]
            ))
            .expected(expected)
            .actual(format!(
                "{}{more}",
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        )
    }
}

/// A rule judged per exchange. `judge` returns `None` when the exchange is not one the rule is
/// about (e.g. a success response for an error-format rule).
pub struct PassiveCheck {
    pub id: &'static str,
    pub requirement: &'static str,
    pub summary: &'static str,
    pub judge: fn(&Exchange, &PassiveContext) -> Option<Judged>,
}

macro_rules! content_check {
    ($name:ident, $rule:path, $what:literal, $expected:literal) => {
        fn $name(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
            let body = exchange.response.as_ref()?.resource()?;
            let judgement: Judgement = $rule(body);
            judgement.map(|problems| Judged::from_problems(exchange, $what, $expected, problems))
        }
    };
}

content_check!(
    nhs_number_shape,
    content::nhs_number_identifiers,
    "returned a malformed NHS number identifier",
    "at most one NHS number identifier per Patient, 10 digits, no spaces"
);
content_check!(
    verification_status,
    content::verification_status,
    "returned an invalid NHS number verification status",
    "the UK Core verification status extension and code system"
);
content_check!(
    ods_codes,
    content::ods_identifiers,
    "returned an organisation not identified by an ODS code",
    "ODS code systems with upper-case alphanumeric codes"
);
content_check!(
    identifier_systems,
    content::identifier_systems,
    "returned a deprecated or unknown identifier system",
    "no http://fhir.nhs.net systems; national practitioner identifier systems"
);
content_check!(
    snomed,
    content::snomed_codings,
    "returned an invalid SNOMED CT coding",
    "system http://snomed.info/sct with valid SCTIDs"
);
content_check!(
    dmd,
    content::medication_codes,
    "returned a medicine not coded with dm+d",
    "medicines coded with valid dm+d identifiers"
);
content_check!(
    displays,
    content::coding_displays,
    "returned a coding without a display",
    "every SNOMED CT and dm+d coding has a display or text"
);
content_check!(
    meta,
    content::resource_meta,
    "returned a resource without full meta",
    "meta.versionId, meta.lastUpdated and meta.profile"
);

pub static PASSIVE_CHECKS: &[PassiveCheck] = &[
    PassiveCheck {
        id: "fhir.schema",
        requirement: "IOP-FHIR-006",
        summary: "every FHIR resource in every response (and every resource nested in it) is valid against the FHIR R4 JSON schema",
        judge: schema_valid,
    },
    PassiveCheck {
        id: "fhir.meta",
        requirement: "IOP-FHIR-008",
        summary: "every resource returned carries meta.versionId, meta.lastUpdated and meta.profile",
        judge: meta,
    },
    PassiveCheck {
        id: "ukcore.profiles",
        requirement: "IOP-UKC-008",
        summary: "every resource in every response conforms to the profiles it claims and, under ukca, to the UK Core profile of its type",
        judge: super::profiles::conform,
    },
    PassiveCheck {
        id: "ukcore.nhs-number-checksum",
        requirement: "IOP-UKC-002",
        summary: "every NHS number identifier in every response passes the modulus 11 check",
        judge: nhs_numbers_valid,
    },
    PassiveCheck {
        id: "ukcore.nhs-number-identifier",
        requirement: "IOP-UKC-001",
        summary: "every Patient carries at most one NHS number identifier, 10 digits with no spaces",
        judge: nhs_number_shape,
    },
    PassiveCheck {
        id: "ukcore.verification-status",
        requirement: "IOP-UKC-004",
        summary: "NHS number verification status uses the UK Core extension and code systems",
        judge: verification_status,
    },
    PassiveCheck {
        id: "ukcore.ods-codes",
        requirement: "IOP-UKC-005",
        summary: "organisations are identified by upper-case ODS codes in the ODS naming systems",
        judge: ods_codes,
    },
    PassiveCheck {
        id: "ukcore.identifier-systems",
        requirement: "IOP-UKC-006",
        summary: "no deprecated http://fhir.nhs.net systems; practitioners use national identifier systems",
        judge: identifier_systems,
    },
    PassiveCheck {
        id: "terminology.snomed",
        requirement: "IOP-TERM-001",
        summary: "SNOMED CT codings use http://snomed.info/sct and syntactically valid SCTIDs (Verhoeff, partition)",
        judge: snomed,
    },
    PassiveCheck {
        id: "terminology.dmd",
        requirement: "IOP-TERM-002",
        summary: "medicines are coded with valid dm+d identifiers, not free text",
        judge: dmd,
    },
    PassiveCheck {
        id: "terminology.display",
        requirement: "IOP-TERM-003",
        summary: "SNOMED CT and dm+d codings carry a display or text",
        judge: displays,
    },
    PassiveCheck {
        id: "api.error-operation-outcome",
        requirement: "API-ERR-001",
        summary: "every 4xx/5xx response carries an OperationOutcome as FHIR JSON, and no request causes a 5xx",
        judge: errors_are_operation_outcomes,
    },
    PassiveCheck {
        id: "api.error-issues",
        requirement: "API-ERR-002",
        summary: "every error OperationOutcome has issues with valid severities and IssueType codes, one of them error or fatal",
        judge: error_issues,
    },
    PassiveCheck {
        id: "api.spine-error-code",
        requirement: "API-ERR-003",
        summary: "every error OperationOutcome carries one Spine error code with a display, from a Spine code system",
        judge: spine_error_code,
    },
    PassiveCheck {
        id: "api.status-matches-code",
        requirement: "API-ERR-004",
        summary: "the HTTP status agrees with the Spine error code (catalogue table)",
        judge: status_matches_code,
    },
    PassiveCheck {
        id: "api.request-id-echo",
        requirement: "API-HDR-001",
        summary: "every response mirrors the X-Request-ID UUID its request carried",
        judge: request_id_echoed,
    },
    PassiveCheck {
        id: "api.etag-version",
        requirement: "API-HDR-005",
        summary: "every successful read carries a weak ETag equal to meta.versionId",
        judge: etag_matches_version,
    },
    PassiveCheck {
        id: "security.hsts",
        requirement: "SEC-HDR-001",
        summary: "every HTTPS response carries Strict-Transport-Security with max-age of at least six months (a year recommended)",
        judge: hsts,
    },
    PassiveCheck {
        id: "security.no-store",
        requirement: "SEC-HDR-002",
        summary: "every response, success and error, carries Cache-Control: no-store",
        judge: no_store,
    },
    PassiveCheck {
        id: "security.nosniff",
        requirement: "SEC-HDR-003",
        summary: "every response carries X-Content-Type-Options: nosniff",
        judge: nosniff,
    },
    PassiveCheck {
        id: "security.version-disclosure",
        requirement: "SEC-HDR-004",
        summary: "no response header names server software with its version",
        judge: version_disclosure,
    },
    PassiveCheck {
        id: "security.content-type",
        requirement: "SEC-HDR-005",
        summary: "every body has a Content-Type that matches it (FHIR as application/fhir+json; charset=utf-8)",
        judge: content_type,
    },
    PassiveCheck {
        id: "security.cors-credentials",
        requirement: "SEC-HDR-006",
        summary: "no response grants credentialed CORS access to any origin",
        judge: cors,
    },
    PassiveCheck {
        id: "security.error-disclosure",
        requirement: "SEC-ERR-001",
        summary: "no error body carries stack traces, internals, or NHS numbers the request did not mention",
        judge: error_disclosure,
    },
    PassiveCheck {
        id: "openapi.response-conformance",
        requirement: "API-DOC-002",
        summary: "every response matches the supplier's OpenAPI document: status, content type, body schema, required headers",
        judge: openapi_conformance,
    },
];

/// What became of the supplier's OpenAPI document, for why the openapi checks judged nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenApiUse {
    NotGiven,
    /// Given, but it could not be fetched or parsed (API-DOC-001 fails and says why).
    Unreadable,
    Read,
}

/// Runs the checks for the selected requirements over all exchanges.
pub fn run_passive_checks(
    exchanges: &[Arc<Exchange>],
    context: &PassiveContext,
    selected: impl Fn(&str) -> bool,
) -> Vec<CheckResult> {
    let judgements = judge_exchanges(exchanges, context, &selected);
    let openapi = if context.openapi.is_some() {
        OpenApiUse::Read
    } else {
        OpenApiUse::NotGiven
    };
    aggregate(&judgements, openapi, &selected)
}

/// One check's judgement of one exchange: what a shard keeps, so that shards merge into
/// exactly the check results of one unsharded run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckJudgement {
    pub check: String,
    pub exchange: ExchangeId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Every selected check over every exchange with a response, in exchange order.
pub fn judge_exchanges(
    exchanges: &[Arc<Exchange>],
    context: &PassiveContext,
    selected: impl Fn(&str) -> bool,
) -> Vec<CheckJudgement> {
    let mut judgements = Vec::new();
    for check in PASSIVE_CHECKS.iter().filter(|c| selected(c.requirement)) {
        for exchange in exchanges.iter().filter(|e| e.response.is_some()) {
            let Some(judged) = (check.judge)(exchange, context) else {
                continue;
            };
            judgements.push(CheckJudgement {
                check: check.id.to_owned(),
                exchange: exchange.id.clone(),
                failure: judged.result.err().map(|f| f.exchange(&exchange.id)),
                note: judged.note,
            });
        }
    }
    judgements
}

/// The check results from the judgements (each check's judgements in exchange order).
pub fn aggregate(
    judgements: &[CheckJudgement],
    openapi: OpenApiUse,
    selected: impl Fn(&str) -> bool,
) -> Vec<CheckResult> {
    let mut results = Vec::new();
    for check in PASSIVE_CHECKS.iter().filter(|c| selected(c.requirement)) {
        let Ok(requirement) = check.requirement.parse() else {
            continue;
        };
        let mut examined = 0;
        let mut failures = Vec::new();
        let mut failed = 0usize;
        let mut notes = BTreeSet::new();
        for judgement in judgements.iter().filter(|j| j.check == check.id) {
            examined += 1;
            if let Some(note) = &judgement.note {
                notes.insert(note.clone());
            }
            if let Some(failure) = &judgement.failure {
                failed += 1;
                if failures.len() < FAILURE_LIMIT {
                    failures.push(failure.clone());
                }
            }
        }
        if failed > failures.len() {
            failures.push(Failure::new(format!(
                "…and {} more failing exchanges",
                failed - failures.len()
            )));
        }
        let (verdict, reason, reason_kind) = match crate::verdict::of_check(examined, failed) {
            None => {
                let (kind, why) = unjudged_reason(check, openapi);
                (crate::verdict::unjudged(kind), Some(why), Some(kind))
            }
            Some(Verdict::Fail) => (
                Verdict::Fail,
                Some(format!("{failed} of {examined} exchanges break the rule")),
                None,
            ),
            Some(verdict) => (verdict, None, None),
        };
        results.push(CheckResult {
            check: check.id.to_owned(),
            requirement,
            verdict,
            examined,
            reason,
            reason_kind,
            failures,
            notes: notes.into_iter().take(10).collect(),
        });
    }
    results
}

/// Why a check judged nothing: no OpenAPI document to hold responses to (the supplier's to give),
/// or no exchange it is about.
fn unjudged_reason(check: &PassiveCheck, openapi: OpenApiUse) -> (ReasonKind, String) {
    if check.id.starts_with("openapi.") {
        match openapi {
            OpenApiUse::NotGiven => {
                return (
                    ReasonKind::MissingConfig,
                    "no OpenAPI document was given (--openapi FILE|URL)".into(),
                );
            }
            OpenApiUse::Unreadable => {
                return (
                    ReasonKind::NothingToJudge,
                    "the OpenAPI document given could not be read, so no response can be held to it (API-DOC-001 says why)".into(),
                );
            }
            OpenApiUse::Read => {}
        }
    }
    if check.id == "ukcore.profiles" {
        return (
            ReasonKind::NothingToJudge,
            "no resource returned claims a profile mts holds (meta.profile), and only the ukca profile holds every resource to UK Core: run with --profile ukca to judge UK Core conformance".into(),
        );
    }
    (
        ReasonKind::NothingToJudge,
        "no exchange of this run was one the check applies to".into(),
    )
}

fn schema_valid(exchange: &Exchange, context: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    let resource = response.resource()?;
    if context.schema.is_valid(resource) {
        return Some(Judged::pass());
    }
    let issues = context.schema.validate(resource);
    let first = issues.first()?;
    let listed: Vec<String> = issues
        .iter()
        .take(5)
        .map(|i| format!("{}: {}", i.location, i.message))
        .collect();
    Some(Judged::fail(
        Failure::new(format!(
            "{} returned a {} that breaks the FHIR R4 schema in {} place(s), first at {}",
            exchange.summary_request(),
            response.resource_type().unwrap_or("resource"),
            issues.len(),
            first.location
        ))
        .expected("valid against the FHIR R4 JSON schema")
        .actual(if issues.len() > 5 {
            format!("{} (+{} more)", listed.join("; "), issues.len() - 5)
        } else {
            listed.join("; ")
        }),
    ))
}

fn nhs_numbers_valid(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let body = exchange.response.as_ref()?.body.json()?;
    let found = nhs_number::find_identifiers(body, &JsonPath::resource_root(body));
    if found.is_empty() {
        return None;
    }
    let bad: Vec<String> = found
        .iter()
        .filter_map(|(path, value)| match value.as_str() {
            Some(text) => nhs_number::check(text)
                .err()
                .map(|p| format!("{} = {text} {p}", path.fhirpath())),
            None => Some(format!("{} has no string value", path.fhirpath())),
        })
        .collect();
    Some(Judged::from_problems(
        exchange,
        "returned an invalid NHS number",
        "every NHS number passes modulus 11",
        bad,
    ))
}

/// The error response's OperationOutcome, if the exchange is an error answered with one.
fn error_outcome(exchange: &Exchange) -> Option<&Value> {
    if exchange.kind != crate::http::ExchangeKind::Fhir {
        return None;
    }
    let response = exchange.response.as_ref()?;
    if response.status < 400 || matches!(response.status, 495 | 496) {
        return None;
    }
    response
        .resource()
        .filter(|r| outcome::is_operation_outcome(r))
}

fn errors_are_operation_outcomes(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    // Token endpoints answer OAuth errors (RFC 6749 §5.2), judged by SEC-JWT-004.
    if exchange.kind != crate::http::ExchangeKind::Fhir {
        return None;
    }
    let response = exchange.response.as_ref()?;
    // 495/496 are TLS-layer client-certificate answers; HEAD responses have no body by definition.
    if response.status < 400
        || matches!(response.status, 495 | 496)
        || exchange.request.method == "HEAD"
    {
        return None;
    }
    if response.status >= 500 {
        return Some(Judged::fail(
            Failure::new(format!(
                "{} caused a server error",
                exchange.summary_request()
            ))
            .expected("no client request causes a 5xx")
            .actual(format!("HTTP {}", response.status)),
        ));
    }
    let media_type = response.media_type();
    let is_fhir_json = matches!(
        media_type.as_deref(),
        Some("application/fhir+json" | "application/json")
    );
    if is_fhir_json && error_outcome(exchange).is_some() {
        return Some(Judged::pass());
    }
    let actual = match (media_type, response.resource_type()) {
        (None, _) if response.body.is_empty() => "an empty body with no Content-Type".to_owned(),
        (media, Some(kind)) => format!(
            "a {kind} as {}",
            media.unwrap_or_else(|| "no Content-Type".into())
        ),
        (media, None) => format!(
            "{} body: {}",
            media.unwrap_or_else(|| "untyped".into()),
            crate::checks::assert::preview(&response.body.text())
        ),
    };
    Some(Judged::fail(
        Failure::new(format!(
            "the {} error from {} is not a FHIR OperationOutcome",
            response.status,
            exchange.summary_request()
        ))
        .expected("an OperationOutcome as application/fhir+json")
        .actual(actual),
    ))
}

fn error_issues(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let outcome = error_outcome(exchange)?;
    Some(Judged::from_problems(
        exchange,
        "returned an OperationOutcome with invalid issues",
        "issues with a severity, an IssueType code, and at least one error or fatal",
        content::outcome_issues(outcome),
    ))
}

fn spine_error_code(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let outcome = error_outcome(exchange)?;
    let (problems, notes) = content::spine_coding(outcome);
    let mut judged = Judged::from_problems(
        exchange,
        "returned an OperationOutcome without a proper Spine error code",
        "one details.coding per error issue, from a Spine error code system, with code and display",
        problems,
    );
    judged.note = notes.into_iter().next();
    Some(judged)
}

fn status_matches_code(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let outcome = error_outcome(exchange)?;
    let status = exchange.status()?;
    let codes = outcome::spine_codes(outcome);
    let tabled: Vec<(String, Vec<u16>)> = codes
        .iter()
        .map(|c| (c.clone(), outcome::statuses_for(c)))
        .filter(|(_, statuses)| !statuses.is_empty())
        .collect();
    if tabled.is_empty() {
        return None;
    }
    let mismatched: Vec<String> = tabled
        .iter()
        .filter(|(_, statuses)| !statuses.contains(&status))
        .map(|(code, statuses)| {
            let expected: Vec<String> = statuses.iter().map(u16::to_string).collect();
            format!(
                "{code} belongs with HTTP {}, not {status}",
                expected.join(" or ")
            )
        })
        .collect();
    Some(Judged::from_problems(
        exchange,
        "returned a Spine code that contradicts its HTTP status",
        "the HTTP status the Spine code is documented for",
        mismatched,
    ))
}

fn request_id_echoed(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    // A CORS preflight is answered by the CORS layer for a browser that sends no custom
    // headers on it; the echo is owed to the request that follows, not to the preflight.
    if exchange.request.method == "OPTIONS"
        && exchange
            .request
            .header("access-control-request-method")
            .is_some()
    {
        return None;
    }
    let sent = exchange.request.header("x-request-id")?;
    // Only well-formed ids are owed an echo: a deliberately bad id is API-HDR-002's business.
    uuid::Uuid::parse_str(sent).ok()?;
    Some(match response.header("x-request-id") {
        Some(received) if received == sent => Judged::pass(),
        Some(received) => Judged::fail(
            Failure::new(format!(
                "{} changed X-Request-ID",
                exchange.summary_request()
            ))
            .expected(format!("X-Request-ID: {sent}"))
            .actual(format!("X-Request-ID: {received}")),
        ),
        None => Judged::fail(
            Failure::new(format!(
                "{} did not echo X-Request-ID",
                exchange.summary_request()
            ))
            .expected(format!("X-Request-ID: {sent}"))
            .actual("no X-Request-ID header"),
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

fn etag_matches_version(exchange: &Exchange, context: &PassiveContext) -> Option<Judged> {
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

fn fail_with(exchange: &Exchange, what: &str, expected: &str, problem: String) -> Judged {
    Judged::fail(
        Failure::new(format!("{} {what}: {problem}", exchange.summary_request()))
            .expected(expected)
            .actual(problem),
    )
}

fn hsts(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    Some(match security::hsts(exchange, response)? {
        Ok(note) => Judged {
            result: Ok(()),
            note,
        },
        Err(problem) => fail_with(
            exchange,
            "lacks strict transport security",
            "Strict-Transport-Security: max-age=31536000",
            problem,
        ),
    })
}

fn no_store(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    Some(match security::no_store(response) {
        Ok(()) => Judged::pass(),
        Err(problem) => fail_with(
            exchange,
            "may be cached",
            "Cache-Control: no-store",
            problem,
        ),
    })
}

fn nosniff(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    Some(match security::nosniff(response) {
        Ok(()) => Judged::pass(),
        Err(problem) => fail_with(
            exchange,
            "allows MIME sniffing",
            "X-Content-Type-Options: nosniff",
            problem,
        ),
    })
}

fn version_disclosure(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    Some(match security::version_disclosure(response) {
        Ok(()) => Judged::pass(),
        Err(problem) => fail_with(
            exchange,
            "discloses server software",
            "no Server/X-Powered-By version",
            problem,
        ),
    })
}

fn content_type(exchange: &Exchange, context: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    let allowed = security::JsonLabel {
        asked_for_json: security::asked_for_plain_json(exchange),
        declared: context.json_declared
            || context.openapi.as_ref().is_some_and(|o| {
                o.declares_response_media(exchange, &context.base_url, "application/json")
            }),
    };
    Some(match security::content_type(response, allowed)? {
        Ok(note) => Judged {
            result: Ok(()),
            note,
        },
        Err(problem) => fail_with(
            exchange,
            "has a Content-Type that does not match its body",
            "a Content-Type that matches the body",
            problem,
        ),
    })
}

fn cors(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    Some(
        match security::cors(response, exchange.request.header("origin"))? {
            Ok(()) => Judged::pass(),
            Err(problem) => fail_with(
                exchange,
                "grants credentialed access to any origin",
                "no credentials with a wildcard or echoed origin",
                problem,
            ),
        },
    )
}

fn error_disclosure(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    if response.status < 400 {
        return None;
    }
    let sent = format!(
        "{} {}",
        exchange.request.url,
        exchange.request.body.as_deref().unwrap_or("")
    );
    let problems = security::error_disclosure(&response.body.text(), &sent);
    Some(Judged::from_problems(
        exchange,
        "gives internals away in an error",
        "an error body with no stack trace, internals or other patients' NHS numbers",
        problems,
    ))
}

fn openapi_conformance(exchange: &Exchange, context: &PassiveContext) -> Option<Judged> {
    let openapi = context.openapi.as_ref()?;
    let problems = openapi.judge(exchange, &context.base_url)?;
    Some(Judged::from_problems(
        exchange,
        "does not match the OpenAPI document",
        "a response the OpenAPI document declares",
        problems,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::{FHIR_JSON, exchange, exchange_with_request};

    fn context() -> PassiveContext {
        PassiveContext {
            schema: FhirSchema::embedded().unwrap(),
            profile: Profile::Apim,
            base_url: "http://127.0.0.1:1/FHIR/R4".into(),
            openapi: None,
            json_declared: false,
            declared_profiles: Default::default(),
        }
    }

    fn judge(id: &str, exchange: &Exchange) -> Option<Result<(), Failure>> {
        let check = PASSIVE_CHECKS.iter().find(|c| c.id == id).unwrap();
        (check.judge)(exchange, &context()).map(|j| j.result)
    }

    #[test]
    fn every_check_names_a_well_formed_requirement() {
        for check in PASSIVE_CHECKS {
            assert!(
                check
                    .requirement
                    .parse::<crate::catalogue::RequirementId>()
                    .is_ok(),
                "{}",
                check.id
            );
        }
    }

    /// IOP-UKC-008 reads FHIR XML with mts's reader, and holds a resource to the profile the
    /// API declares for its type even under apim (where UK Core is not assumed).
    #[test]
    fn profiles_check_reads_xml_and_holds_declared_profiles() {
        let check = PASSIVE_CHECKS
            .iter()
            .find(|c| c.id == "ukcore.profiles")
            .unwrap();
        let uk_core_patient = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient";
        // UK Core's birth sex extension takes a CodeableConcept from a required value set.
        let xml = r#"<Patient xmlns="http://hl7.org/fhir"><meta><profile value="PROFILE"/></meta><extension url="https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-BirthSex"><valueCodeableConcept><coding><system value="http://hl7.org/fhir/administrative-gender"/><code value="mts-not-a-sex"/></coding></valueCodeableConcept></extension><gender value="female"/></Patient>"#;
        let as_xml = |body: &str| exchange(200, &[("content-type", "application/fhir+xml")], body);
        let claimed = as_xml(&xml.replace("PROFILE", uk_core_patient));
        let judged = (check.judge)(&claimed, &context()).expect("judged");
        let failure = format!(
            "{:?}",
            judged
                .result
                .expect_err("XML claiming UK Core, breaking it")
        );
        assert!(
            failure.contains("[binding]") && failure.contains("mts-not-a-sex"),
            "{failure}"
        );
        let unclaimed = as_xml(&xml.replace("<meta><profile value=\"PROFILE\"/></meta>", ""));
        assert!(
            (check.judge)(&unclaimed, &context()).is_none(),
            "nothing claimed or declared under apim: not judged"
        );
        let mut declaring = context();
        declaring
            .declared_profiles
            .insert("Patient".into(), uk_core_patient.into());
        let verdict = (check.judge)(&unclaimed, &declaring).map(|j| j.result.is_ok());
        assert_eq!(verdict, Some(false), "the declared profile is held to");
    }

    #[test]
    fn schema_check_judges_only_resources() {
        assert!(
            judge(
                "fhir.schema",
                &exchange(
                    200,
                    &[FHIR_JSON],
                    r#"{"resourceType":"Patient","gender":"female"}"#
                )
            )
            .unwrap()
            .is_ok()
        );
        let failure = judge(
            "fhir.schema",
            &exchange(
                200,
                &[FHIR_JSON],
                r#"{"resourceType":"Patient","gender":"F"}"#,
            ),
        )
        .unwrap()
        .unwrap_err();
        assert!(
            failure.message.contains("first at Patient.gender"),
            "{failure:?}"
        );
        assert!(judge("fhir.schema", &exchange(200, &[], "plain text")).is_none());
    }

    #[test]
    fn nhs_numbers_are_checked_wherever_they_are() {
        let good = r#"{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}]}"#;
        assert!(
            judge(
                "ukcore.nhs-number-checksum",
                &exchange(200, &[FHIR_JSON], good)
            )
            .unwrap()
            .is_ok()
        );
        let bad = good.replace("9000000009", "9000000001");
        let failure = judge(
            "ukcore.nhs-number-checksum",
            &exchange(200, &[FHIR_JSON], &bad),
        )
        .unwrap()
        .unwrap_err();
        assert!(
            failure
                .actual
                .unwrap()
                .contains("Patient.identifier[0] = 9000000001")
        );
        assert!(
            judge(
                "ukcore.nhs-number-checksum",
                &exchange(200, &[FHIR_JSON], r#"{"resourceType":"Patient"}"#)
            )
            .is_none()
        );
    }

    #[test]
    fn errors_must_be_operation_outcomes_and_never_5xx() {
        let outcome = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}"#;
        assert!(
            judge(
                "api.error-operation-outcome",
                &exchange(404, &[FHIR_JSON], outcome)
            )
            .unwrap()
            .is_ok()
        );
        assert!(
            judge(
                "api.error-operation-outcome",
                &exchange(404, &[("content-type", "text/plain")], "Not found")
            )
            .unwrap()
            .is_err()
        );
        assert!(
            judge(
                "api.error-operation-outcome",
                &exchange(500, &[FHIR_JSON], outcome)
            )
            .unwrap()
            .is_err()
        );
        assert!(
            judge(
                "api.error-operation-outcome",
                &exchange(200, &[FHIR_JSON], outcome)
            )
            .is_none()
        );
    }

    #[test]
    fn spine_codes_must_agree_with_status() {
        let outcome = |code: &str| {
            format!(
                r#"{{"resourceType":"OperationOutcome","issue":[{{"severity":"error","code":"not-found","details":{{"coding":[{{"system":"{}","code":"{code}","display":"x"}}]}}}}]}}"#,
                outcome::APIM_SPINE_SYSTEM
            )
        };
        assert!(
            judge(
                "api.status-matches-code",
                &exchange(404, &[FHIR_JSON], &outcome("RESOURCE_NOT_FOUND"))
            )
            .unwrap()
            .is_ok()
        );
        assert!(
            judge(
                "api.status-matches-code",
                &exchange(404, &[FHIR_JSON], &outcome("BAD_REQUEST"))
            )
            .unwrap()
            .is_err()
        );
        assert!(
            judge(
                "api.status-matches-code",
                &exchange(405, &[FHIR_JSON], &outcome("METHOD_NOT_ALLOWED"))
            )
            .is_none(),
            "codes outside the table are not judged"
        );
    }

    #[test]
    fn request_ids_must_come_back_when_they_were_uuids() {
        let id = "0b7ab2a6-5d84-4bd2-a1f8-3b4bd1b3d5a9";
        assert!(
            judge(
                "api.request-id-echo",
                &exchange(200, &[("X-Request-ID", id)], "")
            )
            .unwrap()
            .is_ok()
        );
        assert!(
            judge("api.request-id-echo", &exchange(200, &[], ""))
                .unwrap()
                .is_err()
        );
        let bad_id = exchange_with_request(&[("X-Request-ID", "1234")], 400, &[], "");
        assert!(judge("api.request-id-echo", &bad_id).is_none());
        let mut preflight = exchange_with_request(
            &[
                ("X-Request-ID", id),
                ("Access-Control-Request-Method", "GET"),
            ],
            200,
            &[],
            "",
        );
        assert!(judge("api.request-id-echo", &preflight).unwrap().is_err());
        preflight.request.method = "OPTIONS".into();
        assert!(
            judge("api.request-id-echo", &preflight).is_none(),
            "a CORS preflight owes no echo"
        );
    }

    #[test]
    fn reads_need_an_etag_equal_to_the_version() {
        let body = r#"{"resourceType":"Patient","id":"1","meta":{"versionId":"2"}}"#;
        assert!(
            judge(
                "api.etag-version",
                &exchange(200, &[FHIR_JSON, ("etag", "W/\"2\"")], body)
            )
            .unwrap()
            .is_ok()
        );
        assert!(
            judge(
                "api.etag-version",
                &exchange(200, &[FHIR_JSON, ("etag", "\"2\"")], body)
            )
            .unwrap()
            .is_err(),
            "strong ETag"
        );
        assert!(
            judge(
                "api.etag-version",
                &exchange(200, &[FHIR_JSON, ("etag", "W/\"3\"")], body)
            )
            .unwrap()
            .is_err()
        );
        assert!(
            judge("api.etag-version", &exchange(200, &[FHIR_JSON], body))
                .unwrap()
                .is_err()
        );
    }
}
