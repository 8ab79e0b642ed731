//! HL7's FHIRPath test suite (fhir-test-cases r4/fhirpath/tests-fhir-r4.xml, vendored in
//! tests/fixtures/fhir-test-cases/fhirpath) run through mts's engine. The pass rate is held
//! here so it can only go up; README.md publishes it with what is not supported.
//!
//! Run with `-- --nocapture` to see every test that does not pass, and why.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mts::fhir::definitions::Definitions;
use mts::fhir::fhirpath::{Engine, EvalError, Item};
use serde_json::Value;

/// Tests passed when this was last measured; a change that loses one fails here.
const PASSING_AT_LEAST: usize = 844;

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fhir-test-cases/fhirpath")
}

struct Case {
    group: String,
    name: String,
    input: Option<String>,
    expression: String,
    /// `syntax`, `semantic`, `execution` (or `true`): an error is expected.
    invalid: Option<String>,
    predicate: bool,
    outputs: Vec<(String, String)>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(folder().join("tests-fhir-r4.xml")).expect("vendored suite");
    let document = roxmltree::Document::parse(&text).expect("the suite is XML");
    let mut cases = Vec::new();
    for group in document
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("group"))
    {
        for test in group.children().filter(|n| n.has_tag_name("test")) {
            let expression = test
                .children()
                .find(|n| n.has_tag_name("expression"))
                .expect("every test has an expression");
            cases.push(Case {
                group: group.attribute("name").unwrap_or("").to_owned(),
                name: test.attribute("name").unwrap_or("").to_owned(),
                input: test.attribute("inputfile").map(str::to_owned),
                expression: expression.text().unwrap_or("").to_owned(),
                invalid: expression.attribute("invalid").map(str::to_owned),
                predicate: test.attribute("predicate") == Some("true"),
                outputs: test
                    .children()
                    .filter(|n| n.has_tag_name("output"))
                    .map(|n| {
                        (
                            n.attribute("type").unwrap_or("").to_owned(),
                            n.text().unwrap_or("").to_owned(),
                        )
                    })
                    .collect(),
            });
        }
    }
    cases
}

fn load(name: &str, definitions: &Definitions) -> Value {
    let text = std::fs::read_to_string(folder().join(name)).expect("vendored input");
    if name.ends_with(".json") {
        serde_json::from_str(&text).expect("input JSON")
    } else {
        mts::fhir::xml::to_json(&text, definitions).expect("input XML converts")
    }
}

/// Whether one result item is the expected output.
fn matches_output(item: &Item<'_>, kind: &str, expected: &str) -> bool {
    let system = item.system();
    let text = item.to_text();
    match kind {
        "boolean" => matches!(system, Item::Boolean(b) if b.to_string() == expected),
        "integer" => matches!(system, Item::Integer(i) if expected.parse() == Ok(i)),
        "decimal" => {
            matches!(system, Item::Decimal(_) | Item::Integer(_))
                && text
                    .and_then(|t| t.parse::<f64>().ok())
                    .zip(expected.parse::<f64>().ok())
                    .is_some_and(|(a, b)| (a - b).abs() < 1e-9)
        }
        "date" | "dateTime" => {
            text.as_deref() == Some(expected.trim_start_matches('@'))
                && matches!(system, Item::Date(_) | Item::DateTime(_))
        }
        "time" => {
            matches!(system, Item::Time(_))
                && text.as_deref() == Some(expected.trim_start_matches("@T"))
        }
        "Quantity" => {
            let Item::Quantity(value, unit) = system else {
                return false;
            };
            let (number, expected_unit) = expected.split_once(' ').unwrap_or((expected, "'1'"));
            number
                .parse::<f64>()
                .is_ok_and(|n| (n - value).abs() < 1e-9)
                && expected_unit.trim_matches('\'') == unit
        }
        _ => text.as_deref() == Some(expected),
    }
}

/// `Ok` when the case passes, else why not.
fn run(case: &Case, engine: &Engine, inputs: &BTreeMap<String, Value>) -> Result<(), String> {
    let resource = case
        .input
        .as_ref()
        .and_then(|name| inputs.get(name))
        .cloned()
        .unwrap_or(Value::Null);
    let parsed = engine.compile(&case.expression);
    let evaluated = parsed
        .as_ref()
        .map_err(|e| format!("parse: {e}"))
        .and_then(|expr| {
            engine.evaluate(expr, &resource, None).map_err(|e| match e {
                EvalError::Unsupported(what) => format!("unsupported: {what}"),
                EvalError::Failed(why) => format!("error: {why}"),
            })
        });
    if let Some(invalid) = &case.invalid {
        return match (&evaluated, invalid.as_str()) {
            (Err(message), _) if message.starts_with("unsupported") => Err(message.clone()),
            (Err(_), _) => Ok(()),
            (Ok(_), kind) => Err(format!("expected a {kind} error, got a result")),
        };
    }
    let result = evaluated?;
    let described: Vec<String> = result
        .iter()
        .map(|i| i.to_text().unwrap_or_else(|| "<node>".into()))
        .collect();
    if case.predicate {
        let answer = !result.is_empty();
        return match case.outputs.first() {
            Some((_, expected)) if expected == &answer.to_string() => Ok(()),
            _ => Err(format!("predicate gave {answer}")),
        };
    }
    if result.len() != case.outputs.len() {
        return Err(format!("expected {:?}, got {described:?}", case.outputs));
    }
    for (item, (kind, expected)) in result.iter().zip(&case.outputs) {
        if !matches_output(item, kind, expected) {
            return Err(format!(
                "expected {:?}, got {described:?} ({:?})",
                case.outputs,
                result.iter().map(|i| i.type_name().1).collect::<Vec<_>>()
            ));
        }
    }
    Ok(())
}

#[test]
fn hl7_fhirpath_suite_pass_rate() {
    let definitions: Arc<Definitions> = Definitions::core().expect("core definitions");
    let engine = Engine::new(Arc::clone(&definitions));
    let cases = cases();
    let mut inputs = BTreeMap::new();
    for name in cases.iter().filter_map(|c| c.input.clone()) {
        inputs
            .entry(name)
            .or_insert_with_key(|name| load(name, &definitions));
    }
    let mut passed = 0;
    let mut failures_by_group: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for case in &cases {
        // A panic is a bug to find, not a failed case to count.
        match run(case, &engine, &inputs) {
            Ok(()) => passed += 1,
            Err(why) => failures_by_group
                .entry(&case.group)
                .or_default()
                .push(format!("  {}: {} -> {why}", case.name, case.expression)),
        }
    }
    for (group, failures) in &failures_by_group {
        println!("{group}: {} not passed", failures.len());
        for failure in failures {
            println!("{failure}");
        }
    }
    println!(
        "FHIRPath suite: {passed} of {} tests pass ({:.1}%)",
        cases.len(),
        100.0 * passed as f64 / cases.len() as f64
    );
    assert!(cases.len() > 800, "the whole suite was read");
    assert!(
        passed >= PASSING_AT_LEAST,
        "{passed} pass, fewer than the {PASSING_AT_LEAST} measured before"
    );
}
