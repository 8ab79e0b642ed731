use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use super::RunContext;
use crate::checks::Halt;
use crate::config::{PatientRole, TestData};
use crate::http::{Exchange, ExchangeId, RequestSpec};

/// Per-scenario state. A fresh world is made for every scenario and bound to the run by the
/// runner's before-hook.
#[derive(Default)]
pub struct MtsWorld {
    run: Option<Arc<RunContext>>,
    /// `features/x.feature:12`: prefix of this scenario's exchange ids.
    pub(crate) scenario: String,
    pub(crate) started: Option<Instant>,
    pub(crate) current_step: String,
    pub(crate) request: Option<RequestSpec>,
    pub(crate) last: Option<Arc<Exchange>>,
    pub(crate) exchanges: Vec<ExchangeId>,
    /// Observations for the report (e.g. which of two allowed behaviours the server chose).
    pub(crate) notes: Vec<String>,
    /// An earlier exchange a later step compares with (e.g. a search before it was narrowed).
    pub(crate) baseline: Option<Arc<Exchange>>,
    /// The exchanges of a rate-limit burst.
    pub(crate) burst: Vec<Arc<Exchange>>,
    /// How long the burst took, first request sent to last answer.
    pub(crate) burst_elapsed: std::time::Duration,
    /// What the scenario created (writes), for later steps.
    pub(crate) created: Option<Created>,
    /// The transaction or batch Bundle the scenario built, for the steps that judge its answer.
    pub(crate) sent_bundle: Option<serde_json::Value>,
    /// A resource the scenario's request may spoil if a lax server takes it: put back as it
    /// was when the request is answered with a success.
    pub(crate) restore_after_send: Option<Created>,
    /// The types this scenario searched by a test patient (`Type?patient=Patient/{patient:role}`),
    /// so that data it lacked can be matched with the test-data kit's promises.
    pub(crate) patient_searches: Vec<(PatientRole, String)>,
}

/// A resource a scenario created on the target, or the test patient it changes.
#[derive(Debug, Clone)]
pub struct Created {
    pub resource_type: String,
    pub id: String,
    pub version: String,
    pub body: serde_json::Value,
    /// How the target takes an update of it.
    pub how: Option<UpdateHow>,
}

/// How an update is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateHow {
    /// `PUT` of the whole resource.
    Put,
    /// `PATCH` with a JSON Patch, as the target takes one.
    Patch(crate::target::PatchStyle),
}

impl fmt::Debug for MtsWorld {
    // Kept small on purpose: cucumber may print worlds, and they must never carry secrets or bodies.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MtsWorld")
            .field("scenario", &self.scenario)
            .field("exchanges", &self.exchanges.len())
            .finish()
    }
}

impl cucumber::World for MtsWorld {
    type Error = std::convert::Infallible;

    async fn new() -> Result<Self, Self::Error> {
        Ok(Self::default())
    }
}

impl MtsWorld {
    pub(crate) fn bind(&mut self, run: Arc<RunContext>, scenario: String) {
        self.run = Some(run);
        self.scenario = scenario;
        self.started = Some(Instant::now());
    }

    /// What the test-data kit's preflight found missing of the data this scenario searched for.
    pub fn kit_shortfall(&self) -> Option<&super::KitShortfall> {
        let run = self.run.as_ref()?;
        // The latest search: the one whose answer the scenario was judging when data was missing.
        let (role, kind) = self.patient_searches.last()?;
        run.kit_shortfall(*role, Some(kind))
    }

    pub(crate) fn run(&self) -> Result<&Arc<RunContext>, Halt> {
        self.run
            .as_ref()
            .ok_or_else(|| Halt::Error("the scenario is not bound to a run (harness bug)".into()))
    }

    pub(crate) fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    pub(crate) fn data(&self) -> Result<&TestData, Halt> {
        Ok(&self.run()?.data)
    }

    pub(crate) fn request_mut(&mut self) -> Result<&mut RequestSpec, Halt> {
        self.request
            .as_mut()
            .ok_or_else(|| Halt::Error(format!("\"{}\" needs a request: start with a step such as Given a GET request to \"metadata\"", self.current_step)))
    }

    pub(crate) fn request_mut_ref(&self) -> Result<&RequestSpec, Halt> {
        self.request
            .as_ref()
            .ok_or_else(|| Halt::Error(format!("\"{}\" needs a request: start with a step such as Given a GET request to \"metadata\"", self.current_step)))
    }

    pub(crate) fn last(&self) -> Result<&Arc<Exchange>, Halt> {
        self.last.as_ref().ok_or_else(|| {
            Halt::Error(format!(
                "\"{}\" needs a response: send a request first",
                self.current_step
            ))
        })
    }

    /// The id the scenario's next exchange gets.
    pub(crate) fn next_exchange_id(&self) -> ExchangeId {
        ExchangeId(format!("{}#{}", self.scenario, self.exchanges.len() + 1))
    }

    /// Sends a request on behalf of this scenario and remembers the exchange.
    pub(crate) async fn send(&mut self, spec: &RequestSpec) -> Result<Arc<Exchange>, Halt> {
        let run = self.run()?.clone();
        let id = self.next_exchange_id();
        let exchange = run
            .send_as(id.clone(), &self.current_step, spec.clone())
            .await;
        self.exchanges.push(id);
        self.last = Some(exchange.clone());
        Ok(exchange)
    }
}

/// Replaces `{patient:<role>}` (logical id) and `{nhs-number:<role>}` in step text with the
/// configured test data.
pub fn expand_placeholders(text: &str, data: &TestData) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            return Err(format!("unclosed placeholder in `{text}`"));
        };
        let inner = &rest[start + 1..start + end];
        let (kind, role_name) = inner
            .split_once(':')
            .ok_or_else(|| format!("unknown placeholder {{{inner}}}"))?;
        if kind == "search" {
            match role_name {
                "family" => out.push_str(&data.search.family),
                // Derived from the target at run time (steps::search); kept as written here.
                "existing" | "nobody" => out.push_str(&format!("{{{inner}}}")),
                _ => {
                    return Err(format!(
                        "unknown placeholder {{{inner}}} (use {{search:family}}, {{search:existing}} or {{search:nobody}})"
                    ));
                }
            }
            rest = &rest[start + end + 1..];
            continue;
        }
        let role = PatientRole::parse(role_name).ok_or_else(|| {
            let roles: Vec<&str> = PatientRole::ALL.iter().map(|r| r.as_str()).collect();
            format!(
                "unknown test patient role `{role_name}` in {{{inner}}} (known: {})",
                roles.join(", ")
            )
        })?;
        let patient = data.patient(role);
        match kind {
            "patient" => out.push_str(patient.logical_id()),
            "nhs-number" => out.push_str(&patient.nhs_number),
            _ => {
                return Err(format!(
                    "unknown placeholder {{{inner}}} (use {{patient:<role>}} or {{nhs-number:<role>}})"
                ));
            }
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_expand_from_test_data() {
        let data = TestData::default();
        assert_eq!(
            expand_placeholders("Patient/{patient:existing}", &data).unwrap(),
            "Patient/9000000009"
        );
        assert_eq!(
            expand_placeholders(
                "https://fhir.nhs.uk/Id/nhs-number|{nhs-number:absent}",
                &data
            )
            .unwrap(),
            "https://fhir.nhs.uk/Id/nhs-number|9111231130"
        );
        assert_eq!(expand_placeholders("metadata", &data).unwrap(), "metadata");
        assert!(
            expand_placeholders("{patient:nobody}", &data)
                .unwrap_err()
                .contains("nobody")
        );
        assert!(expand_placeholders("{patient:existing", &data).is_err());
        assert!(expand_placeholders("{foo}", &data).is_err());
    }
}
