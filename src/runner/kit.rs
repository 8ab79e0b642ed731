//! The test-data kit: what `mts.toml` promises each test patient holds
//! (`[[data.patient.<role>.promise]]`, `sensitive = true`), checked against the target before a
//! run, so a missing prerequisite is named as such instead of surfacing as a failed requirement.
//!
//! A promise is `Missing` only when the target's own answer shows it unmet; an answer that cannot
//! tell (a refusal, a body that is not a Bundle, no answer at all) is `Unknown`.

use serde_json::Value;

use super::RunContext;
use crate::checks::search;
use crate::config::{PatientData, PatientRole, Promise, TestData};
use crate::http::{Exchange, ExchangeId, RequestSpec};
use crate::target::TargetModel;
use crate::target::derive::records_of_patient;

/// Pages followed at most while counting, so a looping `next` link cannot hold the preflight.
const MAX_PAGES: usize = 5;

use crate::fhir::{CONFIDENTIALITY_SYSTEM, RESTRICTED_CODES};

/// Whether a promise of the kit holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KitStatus {
    Found,
    /// The target's answer shows the promise unmet: a missing prerequisite.
    Missing,
    /// mts could not tell, and why.
    Unknown(String),
}

/// One promise of the kit, checked.
#[derive(Debug, Clone)]
pub struct KitItem {
    pub role: PatientRole,
    /// The type promised; `None` for `sensitive`.
    pub resource_type: Option<String>,
    /// The patient as the target knows it: `Patient/<logical id>`.
    pub patient: String,
    /// What was promised, in words.
    pub promised: String,
    /// What the target showed, in words (`2 (Bundle.total)`); empty when it could not tell.
    pub found: String,
    pub status: KitStatus,
    /// The exchanges that showed it, in order.
    pub exchanges: Vec<ExchangeId>,
}

/// Checks every promise of `data`'s kit against the target, in role order, each promise in the
/// order written and `sensitive` after them. Requests go through `context` (credentials,
/// redaction, recording), one at a time; patient searches take the form `model` calls for.
pub async fn preflight(context: &RunContext, data: &TestData, model: &TargetModel) -> Vec<KitItem> {
    let mut sent = 0;
    let mut items = Vec::new();
    for (role, patient) in data.kit() {
        for promise in &patient.promises {
            items.push(check_promise(context, model, role, patient, promise, &mut sent).await);
        }
        if patient.sensitive {
            items.push(check_sensitive(context, role, patient, &mut sent).await);
        }
    }
    items
}

async fn send(
    context: &RunContext,
    sent: &mut usize,
    label: &str,
    spec: RequestSpec,
) -> std::sync::Arc<Exchange> {
    *sent += 1;
    context
        .send_as(ExchangeId(format!("kit#{sent}")), label, spec)
        .await
}

/// Why an exchange shows nothing about the kit, if it does not: no answer, or not a 2xx.
fn unanswered(exchange: &Exchange) -> Option<String> {
    match exchange.status() {
        None => Some(format!(
            "no answer: {}",
            exchange.error.as_ref().map_or("", |e| e.message.as_str())
        )),
        Some(status) if !(200..300).contains(&status) => {
            Some(format!("{} (not a 2xx)", exchange.summary()))
        }
        Some(_) => None,
    }
}

/// The resource an exchange answered with, if it is of `kind`; else why not.
fn resource_of<'a>(exchange: &'a Exchange, kind: &str) -> Result<&'a Value, String> {
    let json = exchange.response.as_ref().and_then(|r| r.body.json());
    match json {
        Some(json) if json["resourceType"] == kind => Ok(json.as_ref()),
        Some(json) => Err(format!(
            "{}: the body is {}, not {kind}",
            exchange.summary(),
            json["resourceType"]
                .as_str()
                .unwrap_or("JSON that is no FHIR resource")
        )),
        None => Err(format!("{}: the body is not FHIR JSON", exchange.summary())),
    }
}

/// What one searchset page says about the records of `kind` it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageCount {
    /// `Bundle.total`, where given.
    pub total: Option<u64>,
    /// The entries that are matches (search mode `match` or none) of `kind`: `_include`d
    /// resources and OperationOutcomes are not counted.
    pub matched: usize,
    /// The `next` link, if any.
    pub next: Option<String>,
}

pub(crate) fn count_page(bundle: &Value, kind: &str) -> PageCount {
    PageCount {
        total: bundle["total"].as_u64(),
        matched: search::matches(bundle)
            .iter()
            .filter(|r| r["resourceType"] == kind)
            .count(),
        next: search::link(bundle, "next").map(str::to_owned),
    }
}

async fn check_promise(
    context: &RunContext,
    model: &TargetModel,
    role: PatientRole,
    patient: &PatientData,
    promise: &Promise,
    sent: &mut usize,
) -> KitItem {
    let kind = promise.resource_type.as_str();
    let mut item = KitItem {
        role,
        resource_type: Some(kind.to_owned()),
        patient: format!("Patient/{}", patient.logical_id()),
        promised: promise.describe(),
        found: String::new(),
        status: KitStatus::Found,
        exchanges: Vec::new(),
    };
    let wanted = u64::from(promise.at_least);
    let mut spec = RequestSpec::get(kind);
    spec.query = vec![records_of_patient(model, kind, patient.logical_id())];
    spec.query.extend(promise.query());
    let label = format!("kit: {} of the {} test patient", kind, role.as_str());
    let base = url::Url::parse(context.http.base_url()).ok();
    let mut counted: u64 = 0;
    let mut pages = 0;
    let outcome = loop {
        let exchange = send(context, sent, &label, spec.clone()).await;
        item.exchanges.push(exchange.id.clone());
        pages += 1;
        if let Some(why) = unanswered(&exchange) {
            break Err(why);
        }
        let bundle = match resource_of(&exchange, "Bundle") {
            Ok(bundle) => bundle,
            Err(why) => break Err(why),
        };
        let page = count_page(bundle, kind);
        // The first page's total counts every match; later pages' entries are counted instead.
        if pages == 1
            && let Some(total) = page.total
        {
            break Ok((total, "Bundle.total".to_owned()));
        }
        counted += page.matched as u64;
        let Some(next) = page.next.filter(|_| counted < wanted) else {
            break Ok((
                counted,
                format!(
                    "matches in {pages} page{}",
                    if pages == 1 { "" } else { "s" }
                ),
            ));
        };
        // A next link off the target's origin is not followed (nor sent credentials).
        let same_origin = url::Url::parse(&next)
            .ok()
            .zip(base.as_ref())
            .is_some_and(|(next, base)| next.origin() == base.origin());
        if !same_origin {
            break Err(format!(
                "{counted} counted, and the next page is off the target's origin ({next}); mts does not follow it"
            ));
        }
        if pages >= MAX_PAGES {
            break Err(format!(
                "{counted} counted in the first {MAX_PAGES} pages, and there are more"
            ));
        }
        let mut next_spec = RequestSpec::get(next);
        next_spec.headers = spec.headers.clone();
        spec = next_spec;
    };
    match outcome {
        Ok((count, how)) => {
            item.status = if count >= wanted {
                KitStatus::Found
            } else {
                KitStatus::Missing
            };
            item.found = format!("{count} ({how})");
        }
        Err(why) => {
            item.status = KitStatus::Unknown(why);
        }
    }
    item
}

async fn check_sensitive(
    context: &RunContext,
    role: PatientRole,
    patient: &PatientData,
    sent: &mut usize,
) -> KitItem {
    let target = format!("Patient/{}", patient.logical_id());
    let label = format!("kit: is the {} test patient restricted?", role.as_str());
    let exchange = send(context, sent, &label, RequestSpec::get(target.clone())).await;
    let mut item = KitItem {
        role,
        resource_type: None,
        patient: target,
        promised: "sensitive (meta.security R or V)".into(),
        found: String::new(),
        status: KitStatus::Found,
        exchanges: vec![exchange.id.clone()],
    };
    if matches!(exchange.status(), Some(404 | 410)) {
        item.found = "the patient is not on the target".into();
        item.status = KitStatus::Missing;
        return item;
    }
    let record = match unanswered(&exchange).map_or_else(|| resource_of(&exchange, "Patient"), Err)
    {
        Ok(record) => record,
        Err(why) => {
            item.status = KitStatus::Unknown(why);
            return item;
        }
    };
    let labels = confidentiality(record);
    let restricted = labels
        .iter()
        .any(|c| RESTRICTED_CODES.contains(&c.as_str()));
    item.found = if labels.is_empty() {
        "no confidentiality label in meta.security".into()
    } else {
        format!("meta.security confidentiality {}", labels.join(", "))
    };
    item.status = if restricted {
        KitStatus::Found
    } else {
        KitStatus::Missing
    };
    item
}

/// The v3-Confidentiality codes among a resource's security labels.
fn confidentiality(resource: &Value) -> Vec<String> {
    resource
        .pointer("/meta/security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|label| label["system"] == CONFIDENTIALITY_SYSTEM)
        .filter_map(|label| label["code"].as_str().map(str::to_owned))
        .collect()
}

impl KitItem {
    /// Says, for a scenario that lacked this data, that the preflight found it missing.
    pub fn shortfall_text(&self) -> String {
        format!(
            "the test-data kit promises {} for the {} patient ({}), and the preflight before the \
             run found {} ({}): a missing prerequisite, not a finding about the target",
            self.promised,
            self.role.as_str(),
            self.patient,
            if self.found.is_empty() {
                "nothing"
            } else {
                &self.found
            },
            self.exchanges
                .iter()
                .map(|e| e.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// The item as the report keeps it.
    pub fn record(&self) -> crate::report::KitRecord {
        use crate::report::KitFinding;
        let (status, why) = match &self.status {
            KitStatus::Found => (KitFinding::Found, None),
            KitStatus::Missing => (KitFinding::Missing, None),
            KitStatus::Unknown(why) => (KitFinding::Unknown, Some(why.clone())),
        };
        crate::report::KitRecord {
            role: self.role.as_str().to_owned(),
            patient: self.patient.clone(),
            resource_type: self.resource_type.clone(),
            promised: self.promised.clone(),
            found: self.found.clone(),
            status,
            why,
            exchanges: self.exchanges.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(kind: &str, mode: Option<&str>) -> Value {
        let mut entry = json!({"resource": {"resourceType": kind, "id": "x"}});
        if let Some(mode) = mode {
            entry["search"] = json!({"mode": mode});
        }
        entry
    }

    #[test]
    fn a_total_is_taken_as_given() {
        let bundle = json!({"resourceType": "Bundle", "type": "searchset", "total": 7,
            "entry": [entry("Condition", Some("match"))]});
        let page = count_page(&bundle, "Condition");
        assert_eq!(page.total, Some(7));
        assert_eq!(page.next, None);
    }

    #[test]
    fn without_a_total_matches_of_the_type_are_counted() {
        let bundle = json!({"resourceType": "Bundle", "type": "searchset",
        "link": [{"relation": "self", "url": "https://t/A"}, {"relation": "next", "url": "https://t/A?page=2"}],
        "entry": [
            entry("AllergyIntolerance", Some("match")),
            entry("AllergyIntolerance", None),
            // Included with the matches, not matches themselves.
            entry("Patient", Some("include")),
            entry("AllergyIntolerance", Some("include")),
            entry("OperationOutcome", Some("outcome")),
            // A match of another type (a server's mistake) is not one of the promised.
            entry("Condition", Some("match")),
        ]});
        assert_eq!(
            count_page(&bundle, "AllergyIntolerance"),
            PageCount {
                total: None,
                matched: 2,
                next: Some("https://t/A?page=2".into())
            }
        );
        let empty = json!({"resourceType": "Bundle", "type": "searchset"});
        assert_eq!(count_page(&empty, "AllergyIntolerance").matched, 0);
    }

    /// A loopback server that answers each request (one per connection) with `answer(path)`.
    async fn canned(answer: fn(&str, &str) -> (u16, String)) -> String {
        use tokio::io::AsyncWriteExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let own = origin.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let own = own.clone();
                tokio::spawn(async move {
                    let Some(request) = crate::util::read_request_head(&mut stream).await else {
                        return;
                    };
                    let text = String::from_utf8_lossy(&request);
                    let path = text.split(' ').nth(1).unwrap_or("/").to_owned();
                    let (status, body) = answer(&own, &path);
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(reply.as_bytes()).await;
                });
            }
        });
        format!("{origin}/FHIR/R4")
    }

    /// A searchset page: `matches` Conditions, and a next link to `next` if given.
    fn page(matches: usize, next: Option<String>) -> String {
        let entries: Vec<Value> = (0..matches).map(|_| entry("Condition", None)).collect();
        let mut bundle = json!({"resourceType": "Bundle", "type": "searchset", "entry": entries});
        if let Some(next) = next {
            bundle["link"] = json!([{"relation": "next", "url": next}]);
        }
        bundle.to_string()
    }

    async fn kit_against(base: &str, promise: &str) -> Vec<KitItem> {
        let text = format!(
            "[data.patient.with-records]\nnhs_number = \"9000000009\"\n[[data.patient.with-records.promise]]\n{promise}\n"
        );
        let config =
            crate::config::ConfigFile::parse(std::path::Path::new("mts.toml"), &text).unwrap();
        let data = TestData::from_section(&config.data);
        let http = crate::http::HttpClient::new(
            crate::http::ClientOptions {
                base_url: base.to_owned(),
                timeout: std::time::Duration::from_secs(5),
                body_limit: 1 << 20,
                ca_pem: None,
                insecure: false,
                max_in_flight: 1,
                redactor: crate::http::Redactor::default(),
                client_identity: None,
            },
            std::sync::Arc::new(crate::http::ExchangeLog::default()),
        )
        .unwrap();
        let context = RunContext::new(http, data.clone(), crate::catalogue::Profile::All, false);
        preflight(&context, &data, &TargetModel::default()).await
    }

    #[tokio::test]
    async fn pages_without_a_total_are_followed_a_few_times_on_the_target_only() {
        // Two pages of one match each, then the end.
        let base = canned(|origin, path| match path {
            p if p.ends_with("page=2") => (200, page(1, None)),
            p if p.starts_with("/FHIR/R4/Condition?patient=Patient/9000000009&code=x") => (
                200,
                page(1, Some(format!("{origin}/FHIR/R4/Condition?page=2"))),
            ),
            _ => (404, "{}".into()),
        })
        .await;
        let items = kit_against(
            &base,
            "type = \"Condition\"\nat-least = 2\nsearch = \"code=x\"",
        )
        .await;
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].status, KitStatus::Found, "{items:?}");
        assert_eq!(items[0].found, "2 (matches in 2 pages)");
        assert_eq!(items[0].exchanges.len(), 2);
        let items = kit_against(
            &base,
            "type = \"Condition\"\nat-least = 3\nsearch = \"code=x\"",
        )
        .await;
        assert_eq!(items[0].status, KitStatus::Missing, "{items:?}");
        // Enough on the first page: the next is not fetched.
        let items = kit_against(&base, "type = \"Condition\"\nsearch = \"code=x\"").await;
        assert_eq!(
            (&items[0].status, items[0].exchanges.len()),
            (&KitStatus::Found, 1)
        );

        // A next link that loops is given up after MAX_PAGES, as unknown.
        let looping = canned(|origin, _| {
            (
                200,
                page(0, Some(format!("{origin}/FHIR/R4/Condition?again"))),
            )
        })
        .await;
        let items = kit_against(&looping, "type = \"Condition\"").await;
        assert!(
            matches!(&items[0].status, KitStatus::Unknown(why) if why.contains("first 5 pages")),
            "{items:?}"
        );
        assert_eq!(items[0].exchanges.len(), MAX_PAGES);

        // A next link off the target's origin (another port here) is not followed.
        let leaving = canned(|_, _| {
            (
                200,
                page(
                    0,
                    Some("http://127.0.0.1:1/FHIR/R4/Condition?page=2".into()),
                ),
            )
        })
        .await;
        let items = kit_against(&leaving, "type = \"Condition\"").await;
        assert!(
            matches!(&items[0].status, KitStatus::Unknown(why) if why.contains("off the target's origin")),
            "{items:?}"
        );
        assert_eq!(items[0].exchanges.len(), 1);
    }

    #[tokio::test]
    async fn answers_that_cannot_tell_are_unknown_not_missing() {
        let base = canned(|_, path| match path {
            p if p.starts_with("/FHIR/R4/Condition") => (500, "{}".into()),
            p if p.starts_with("/FHIR/R4/Procedure") => (
                200,
                json!({"resourceType": "OperationOutcome", "issue": []}).to_string(),
            ),
            p if p.starts_with("/FHIR/R4/Encounter") => (200, "<html/>".into()),
            _ => (404, "{}".into()),
        })
        .await;
        for (kind, why) in [
            ("Condition", "→ 500 (not a 2xx)"),
            ("Procedure", "the body is OperationOutcome, not Bundle"),
            ("Encounter", "not FHIR JSON"),
        ] {
            let items = kit_against(&base, &format!("type = \"{kind}\"")).await;
            assert!(
                matches!(&items[0].status, KitStatus::Unknown(w) if w.contains(why)),
                "{kind}: {items:?}"
            );
        }
        // Nothing listening: no answer at all.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = format!("http://{}/FHIR/R4", listener.local_addr().unwrap());
        drop(listener);
        let items = kit_against(&closed, "type = \"Condition\"").await;
        assert!(
            matches!(&items[0].status, KitStatus::Unknown(w) if w.starts_with("no answer")),
            "{items:?}"
        );
    }

    #[test]
    fn only_r_and_v_confidentiality_labels_mark_a_restricted_record() {
        let labelled = |system: &str, code: &str| json!({"resourceType": "Patient", "meta": {"security": [{"system": system, "code": code}]}});
        let is_restricted = |record: &Value| {
            confidentiality(record)
                .iter()
                .any(|c| RESTRICTED_CODES.contains(&c.as_str()))
        };
        assert!(is_restricted(&labelled(CONFIDENTIALITY_SYSTEM, "R")));
        assert!(is_restricted(&labelled(CONFIDENTIALITY_SYSTEM, "V")));
        assert!(!is_restricted(&labelled(CONFIDENTIALITY_SYSTEM, "U")));
        assert!(!is_restricted(&labelled("https://example.org/other", "R")));
        assert!(!is_restricted(&json!({"resourceType": "Patient"})));
    }
}
