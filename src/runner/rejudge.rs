//! `mts rejudge`: judge a run's recorded evidence again without contacting the supplier, for
//! an assurance team applying a fixed or newer catalogue (and checks) to submitted evidence.
//!
//! What can be judged again offline is what reads exchanges: every passive check runs anew over
//! the recorded exchanges. Scenario results are kept as recorded (a scenario is a conversation
//! with the live server), and the requirements are judged again from both under the catalogue
//! given. Bodies the report cut at its size limit are judged as cut, and the report says so.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::merge::{MergeError, RecordedRun, plan_for};
use super::verdict::assemble;
use crate::catalogue::{self, Catalogue};
use crate::checks::{PassiveContext, aggregate, judge_exchanges};
use crate::features::Suite;
use crate::fhir::schema::FhirSchema;
use crate::http::{Body, Exchange, RecordedResponse};
use crate::openapi::OpenApi;
use crate::report::{ExchangeRecord, Report};

/// A run judged again, and how many recorded bodies were cut at the report's limit.
pub struct Rejudged {
    pub report: Report,
    pub cut_bodies: usize,
}

/// Judges traffic captured by another tool (a HAR 1.2 file): the passive checks only, since
/// there are no scenario results; requirements only scenarios verify say so.
pub fn rejudge_har(
    har: &Path,
    target: &str,
    profile: crate::catalogue::Profile,
    catalogue_dir: Option<&Path>,
    openapi: Option<&str>,
    today: NaiveDate,
) -> Result<Rejudged, MergeError> {
    let text = std::fs::read(har).map_err(|source| MergeError::Read {
        path: har.display().to_string(),
        source,
    })?;
    let document: har_input::Har =
        serde_json::from_slice(&text).map_err(|e| MergeError::Invalid {
            path: har.display().to_string(),
            message: format!("not a HAR 1.2 file: {e}"),
        })?;
    let run = RecordedRun {
        target: target.to_owned(),
        profile,
        started: document
            .log
            .entries
            .first()
            .map(|e| e.started.clone())
            .unwrap_or_default(),
        duration_ms: 0,
        catalogue: super::merge::CatalogueDigest {
            digest: String::new(),
        },
        settings: crate::report::RunSettingsRecord {
            concurrency: 1,
            timeout_seconds: 30.0,
            ..Default::default()
        },
        tls: None,
        scenarios: Vec::new(),
        harness_errors: Vec::new(),
        target_model: None,
        test_data_kit: Vec::new(),
        written: None,
        exchanges: {
            // Other tools keep secrets in their captures: redact them as a run would, by name
            // and by the value of every credential the capture carries, before anything is
            // judged or written.
            let redactor = crate::http::Redactor::new(document.log.credentials());
            document
                .log
                .entries
                .iter()
                .enumerate()
                .map(|(n, entry)| entry.record(n + 1, &redactor))
                .collect()
        },
    };
    let mut rejudged = judge_again(run, catalogue_dir, openapi, today)?;
    for requirement in &mut rejudged.report.requirements {
        if requirement.verdict == crate::report::Verdict::Skipped && requirement.checks.is_empty() {
            requirement.reason = Some(
                "verified by scenarios, which need the live server: traffic from another tool can only be judged by the passive checks"
                    .into(),
            );
        }
    }
    Ok(rejudged)
}

/// Re-judges the run in `folder`. `catalogue_dir` replaces the built-in catalogue; `openapi` is
/// the supplier's OpenAPI document, for the response-conformance check.
pub fn rejudge(
    folder: &Path,
    catalogue_dir: Option<&Path>,
    openapi: Option<&str>,
    today: NaiveDate,
) -> Result<Rejudged, MergeError> {
    judge_again(RecordedRun::read(folder)?, catalogue_dir, openapi, today)
}

fn judge_again(
    run: RecordedRun,
    catalogue_dir: Option<&Path>,
    openapi: Option<&str>,
    today: NaiveDate,
) -> Result<Rejudged, MergeError> {
    let catalogue: Catalogue = match catalogue_dir {
        Some(dir) => catalogue::load_dir(dir),
        None => catalogue::load_embedded(),
    }
    .map_err(|e| MergeError::Mismatch(format!("the catalogue: {e}")))?;
    let suite = Suite::load_embedded().map_err(|e| MergeError::Mismatch(e.to_string()))?;
    let plan = plan_for(&run, &catalogue, &suite)?;
    let schema = FhirSchema::embedded().map_err(MergeError::Mismatch)?;
    let recorded = match openapi {
        Some(_) => None,
        None => recorded_openapi(&run)?,
    };
    let openapi = openapi
        .or(recorded.as_deref())
        .map(|text| OpenApi::parse(text).map(Arc::new))
        .transpose()
        .map_err(|e| MergeError::Mismatch(format!("the OpenAPI document: {e}")))?;
    let exchanges: Vec<Arc<Exchange>> = run.exchanges.iter().map(|r| Arc::new(live(r))).collect();
    let context = PassiveContext {
        schema,
        profile: run.profile,
        base_url: run
            .target
            .trim_end_matches(" (embedded sandbox)")
            .to_owned(),
        json_declared: crate::target::declares_json(run.target_model.as_ref()),
        declared_profiles: crate::target::declared_profiles(run.target_model.as_ref()),
        openapi: openapi.clone(),
    };
    let selected = |id: &str| plan.requirements.iter().any(|r| r.as_str() == id);
    let judgements = judge_exchanges(&exchanges, &context, selected);
    let openapi_use = if openapi.is_some() {
        crate::checks::OpenApiUse::Read
    } else {
        crate::checks::OpenApiUse::NotGiven
    };
    let checks = aggregate(&judgements, openapi_use, selected);
    let meta = run.meta(run.harness_errors.clone(), today);
    let cut_bodies = run
        .exchanges
        .iter()
        .filter(|e| e.response.as_ref().is_some_and(|r| r.body_truncated))
        .count();
    let scenarios = run.scenarios.clone();
    let mut report = assemble(&catalogue, &plan, scenarios, checks, run.exchanges, meta);
    // What the run wrote and cleaned up is a record of the live run, not a judgement.
    report.written = run.written;
    Ok(Rejudged { report, cut_bodies })
}

/// The OpenAPI document the run itself fetched or found (`openapi#1`), when its copy in the
/// report is whole; a copy cut at the report's body limit cannot stand in for it.
fn recorded_openapi(run: &RecordedRun) -> Result<Option<String>, MergeError> {
    let Some(response) = run
        .exchanges
        .iter()
        .find(|e| e.id.0 == "openapi#1")
        .and_then(|e| e.response.as_ref())
        .filter(|r| r.status == 200)
    else {
        return Ok(None);
    };
    // JSON or YAML, as the run read it; a body that names itself OpenAPI and cannot be read was
    // judged as a broken document, and rejudging without it would change verdicts.
    let names_openapi = serde_yaml_ng::from_str::<serde_json::Value>(&response.body)
        .ok()
        .is_some_and(|d| d.get("openapi").is_some());
    if !names_openapi {
        return Ok(None);
    }
    if response.body_truncated {
        return Err(MergeError::Mismatch(
            "the run held its responses to an OpenAPI document whose copy in report.json is cut at the report's body limit: give the document with --openapi".into(),
        ));
    }
    OpenApi::parse(&response.body).map_err(|e| {
        MergeError::Mismatch(format!(
            "the OpenAPI document the run fetched cannot be read ({e}): give a readable one with --openapi"
        ))
    })?;
    Ok(Some(response.body.clone()))
}

/// An exchange as the checks see it, rebuilt from its record.
fn live(record: &ExchangeRecord) -> Exchange {
    Exchange {
        id: record.id.clone(),
        label: record.label.clone(),
        started: DateTime::parse_from_rfc3339(&record.started)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now()),
        elapsed_ms: record.elapsed_ms,
        request: record.request.clone(),
        response: record.response.as_ref().map(|response| RecordedResponse {
            status: response.status,
            http_version: response.http_version.clone(),
            headers: response.headers.clone(),
            body: Body::new(
                response.body.clone().into_bytes(),
                response.body_truncated,
                response.body_size,
            ),
        }),
        error: record.error.clone(),
        retried: record.retried.clone(),
        kind: record.kind,
    }
}

/// The parts of a HAR 1.2 file the checks need; anything else is ignored.
mod har_input {
    use base64::Engine as _;
    use serde::Deserialize;

    use crate::http::{ExchangeId, ExchangeKind, RecordedRequest, Redactor};
    use crate::report::{ExchangeRecord, ResponseRecord};

    #[derive(Deserialize)]
    pub struct Har {
        pub log: Log,
    }

    #[derive(Deserialize)]
    pub struct Log {
        #[serde(default)]
        pub entries: Vec<Entry>,
    }

    impl Log {
        /// The credentials the captured requests sent (`Authorization: Bearer …` and the like).
        pub fn credentials(&self) -> Vec<String> {
            self.entries
                .iter()
                .flat_map(|e| e.request.headers.iter())
                .filter(|h| h.name.eq_ignore_ascii_case("authorization"))
                .filter_map(|h| h.value.split_once(' ').map(|(_, v)| v.trim().to_owned()))
                .filter(|v| !v.is_empty())
                .collect()
        }
    }

    #[derive(Deserialize)]
    pub struct Entry {
        #[serde(rename = "startedDateTime", default)]
        pub started: String,
        #[serde(default)]
        time: f64,
        request: Request,
        response: Response,
    }

    #[derive(Deserialize)]
    struct Header {
        name: String,
        value: String,
    }

    #[derive(Deserialize)]
    struct Request {
        method: String,
        url: String,
        #[serde(default)]
        headers: Vec<Header>,
        #[serde(rename = "postData")]
        post_data: Option<PostData>,
    }

    #[derive(Deserialize)]
    struct PostData {
        #[serde(default)]
        text: String,
    }

    #[derive(Deserialize)]
    struct Response {
        status: i64,
        #[serde(rename = "httpVersion", default)]
        http_version: String,
        #[serde(default)]
        headers: Vec<Header>,
        content: Content,
    }

    #[derive(Deserialize)]
    struct Content {
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        encoding: Option<String>,
    }

    fn pairs(headers: &[Header], redactor: &Redactor) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|h| (h.name.clone(), redactor.header(&h.name, &h.value)))
            .collect()
    }

    impl Entry {
        pub fn record(&self, n: usize, redactor: &Redactor) -> ExchangeRecord {
            let text = self.response.content.text.clone().unwrap_or_default();
            let body = if self.response.content.encoding.as_deref() == Some("base64") {
                base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                    .unwrap_or(text)
            } else {
                text
            };
            ExchangeRecord {
                id: ExchangeId(format!("har#{n}")),
                label: "captured by another tool".into(),
                started: self.started.clone(),
                elapsed_ms: self.time.max(0.0) as u64,
                request: RecordedRequest {
                    method: self.request.method.clone(),
                    url: redactor.text(&self.request.url),
                    headers: pairs(&self.request.headers, redactor),
                    body: self
                        .request
                        .post_data
                        .as_ref()
                        .map(|p| redactor.text(&p.text)),
                },
                // A HAR status of 0 means no response (aborted, blocked).
                response: (self.response.status > 0).then(|| ResponseRecord {
                    status: u16::try_from(self.response.status).unwrap_or(0),
                    http_version: self.response.http_version.clone(),
                    headers: pairs(&self.response.headers, redactor),
                    body_size: body.len(),
                    body: redactor.text(&body),
                    body_truncated: false,
                }),
                error: None,
                retried: None,
                kind: ExchangeKind::Fhir,
            }
        }
    }
}
