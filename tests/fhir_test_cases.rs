//! Agreement with HL7's Java validator on the offline R4 cases of fhir-test-cases
//! (tests/fixtures/fhir-test-cases/validator, chosen by scripts/corpus/vendor_fhir_test_cases.py:
//! R4 JSON cases needing no package, terminology server or validator option). A case agrees
//! when mts and the Java validator both find errors, or both find none. The figure is held here
//! so it can only go up; README.md publishes it with every disagreement read.
//!
//! Run with `-- --nocapture` to see each disagreement.

use std::path::Path;

use mts::fhir::definitions::Definitions;
use mts::fhir::profile::validate::{Expectations, Severity};
use serde_json::Value;

/// Cases agreeing when this was last measured.
const AGREEING_AT_LEAST: usize = 51;

#[test]
fn agreement_with_the_hl7_validator_on_offline_r4_cases() {
    let folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fhir-test-cases/validator");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(folder.join("cases.json")).expect("vendored cases"),
    )
    .expect("cases.json is JSON");
    let definitions = Definitions::core().expect("core definitions");
    let validator = mts::fhir::profile::validator(definitions);
    let cases = manifest["cases"].as_array().expect("cases");
    let (mut agreeing, mut same_count) = (0, 0);
    // Where HL7's validator finds a case valid, mts must too: a false failure is never
    // offset by another case coming to agree.
    let mut false_failures = Vec::new();
    let mut disagreements = Vec::new();
    for case in cases {
        let file = case["file"].as_str().expect("file");
        let expected = case["errors"].as_u64().expect("errors") as usize;
        let text = std::fs::read_to_string(folder.join(file)).expect("case file");
        let found: Vec<String> = match serde_json::from_str::<Value>(&text) {
            Err(error) => vec![format!("not JSON: {error}")],
            Ok(resource) => validator
                .validate_with(&resource, &Expectations::default())
                .into_iter()
                .filter(|i| i.severity == Severity::Error)
                .map(|i| format!("{} [{}] {}", i.location, i.rule, i.message))
                .collect(),
        };
        if expected == 0 && !found.is_empty() {
            false_failures.push(format!("{file}: {found:?}"));
        }
        if found.len() == expected {
            same_count += 1;
        }
        if found.is_empty() == (expected == 0) {
            agreeing += 1;
        } else {
            disagreements.push(format!(
                "{file}: HL7 {expected} error(s) {:?}; mts {} {:?}",
                case["error_messages"],
                found.len(),
                found
            ));
        }
    }
    for line in &disagreements {
        println!("{line}");
    }
    println!(
        "HL7 validator agreement: {agreeing} of {} cases on valid/invalid ({:.1}%), {same_count} with the same number of errors",
        cases.len(),
        100.0 * agreeing as f64 / cases.len() as f64
    );
    assert!(cases.len() >= 50, "the vendored cases were read");
    assert!(
        false_failures.is_empty(),
        "errors where HL7's validator finds none:\n{}",
        false_failures.join("\n")
    );
    assert!(
        agreeing >= AGREEING_AT_LEAST,
        "{agreeing} agree, fewer than the {AGREEING_AT_LEAST} measured before"
    );
}
