//! UK Core 2.0.2 conformance, natively: every example NHS England publishes validates with no
//! error against the UK Core profile of its type, and a corpus of mutations generated from them
//! (a required element dropped, a code outside a required binding, an extension's value of a
//! type its definition does not allow) is caught in full.
//!
//! The examples are read from `../shared/data/uk-core/examples` (the workplace's copy of NHS
//! England's repository); without it the tests skip, unless `MTS_REQUIRE_SHARED` is set.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mts::fhir::definitions::Definitions;
use mts::fhir::ig;
use mts::fhir::profile::snapshot;
use mts::fhir::profile::validate::{Expectations, Issue, Severity, Validator};
use serde_json::{Value, json};

fn examples_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/uk-core/examples");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("MTS_REQUIRE_SHARED").is_none(),
        "MTS_REQUIRE_SHARED is set but ../shared/data/uk-core is not beside this repository"
    );
    eprintln!("skipped: ../shared/data/uk-core is not beside this repository");
    None
}

struct Setup {
    definitions: Arc<Definitions>,
    validator: Validator,
    expectations: Expectations,
    examples: Vec<(String, Value)>,
}

fn setup() -> Option<Setup> {
    let dir = examples_dir()?;
    let definitions = ig::uk_core().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    let examples = files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let json = ig::parse_document(text.as_bytes(), &definitions)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                json,
            )
        })
        .collect();
    let expectations = Expectations {
        by_type: mts::fhir::profile::uk_core_type_profiles(&definitions),
        ..Expectations::default()
    };
    let validator = mts::fhir::profile::validator(Arc::clone(&definitions));
    Some(Setup {
        definitions,
        validator,
        expectations,
        examples,
    })
}

fn errors(issues: &[Issue]) -> Vec<String> {
    issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| format!("{} [{}] {} ({})", i.location, i.rule, i.message, i.element))
        .collect()
}

#[test]
fn every_uk_core_example_validates_without_errors() {
    let Some(setup) = setup() else { return };
    assert_eq!(
        setup.examples.len(),
        140,
        "UK Core 2.0.2 publishes 140 examples"
    );
    let mut failing = Vec::new();
    let mut held_to_uk_core = 0;
    for (name, example) in &setup.examples {
        let kind = example["resourceType"].as_str().unwrap_or("");
        if setup.expectations.by_type.contains_key(kind) {
            held_to_uk_core += 1;
        }
        let issues = setup.validator.validate_with(example, &setup.expectations);
        // Every invariant these profiles carry (R4 core's and UK Core's) is evaluated: none
        // is listed as unsupported or as failing to evaluate.
        let unevaluated: Vec<&Issue> = issues
            .iter()
            .filter(|i| {
                i.message.contains("is not evaluated")
                    || i.message.contains("could not be evaluated")
            })
            .collect();
        assert!(unevaluated.is_empty(), "{name}: {unevaluated:?}");
        let found = errors(&issues);
        if !found.is_empty() {
            failing.push(format!("{name}:\n    {}", found.join("\n    ")));
        }
    }
    eprintln!(
        "{} examples, {held_to_uk_core} held to the UK Core profile of their type",
        setup.examples.len()
    );
    assert!(held_to_uk_core >= 130, "{held_to_uk_core}");
    assert!(
        failing.is_empty(),
        "{} example(s) with errors:\n{}",
        failing.len(),
        failing.join("\n")
    );
}

/// The profile an example is held to, with its snapshot.
fn profile_of(setup: &Setup, example: &Value) -> Option<(String, Vec<Value>)> {
    let kind = example["resourceType"].as_str()?;
    let url = setup.expectations.by_type.get(kind)?;
    Some((
        url.clone(),
        snapshot::snapshot(&setup.definitions, url).ok()?,
    ))
}

/// Top-level elements (`Observation.status`) of a snapshot, not slices.
fn top_level(snapshot: &[Value]) -> impl Iterator<Item = (&str, &Value)> {
    let root = snapshot
        .first()
        .and_then(|e| e["path"].as_str())
        .unwrap_or("");
    snapshot.iter().filter_map(move |element| {
        let id = element["id"].as_str()?;
        let name = id.strip_prefix(root)?.strip_prefix('.')?;
        (!name.contains('.') && !name.contains(':')).then_some((name, element))
    })
}

/// A required top-level element the example has, removed.
fn drop_required(example: &Value, snapshot: &[Value]) -> Option<(String, Value)> {
    for (name, element) in top_level(snapshot) {
        let key = name.strip_suffix("[x]").unwrap_or(name);
        if element["min"].as_u64().unwrap_or(0) == 0 {
            continue;
        }
        let present: Vec<String> = example
            .as_object()?
            .keys()
            .filter(|k| {
                *k == key
                    || (name.ends_with("[x]")
                        && k.strip_prefix(key)
                            .is_some_and(|rest| rest.starts_with(char::is_uppercase)))
            })
            .cloned()
            .collect();
        if present.is_empty() {
            continue;
        }
        let mut mutated = example.clone();
        for k in &present {
            mutated.as_object_mut()?.remove(k);
            mutated.as_object_mut()?.remove(&format!("_{k}"));
        }
        return Some((format!("dropped the required {name}"), mutated));
    }
    None
}

/// A `code` element bound (required) at the top level, given a code no value set holds.
fn break_required_code(example: &Value, snapshot: &[Value]) -> Option<(String, Value)> {
    for (name, element) in top_level(snapshot) {
        let is_code = element["type"]
            .as_array()
            .is_some_and(|t| t.len() == 1 && t[0]["code"] == "code");
        if !is_code || element["binding"]["strength"] != "required" {
            continue;
        }
        if !example[name].is_string() {
            continue;
        }
        let mut mutated = example.clone();
        mutated[name] = json!("mts-not-a-code");
        return Some((
            format!("{name} given a code outside its required binding"),
            mutated,
        ));
    }
    None
}

/// An extension of a known definition whose value is given a type the definition does not
/// allow (a boolean where the definition allows none, or only other types).
fn break_extension_type(setup: &Setup, example: &Value) -> Option<(String, Value)> {
    let extensions = example["extension"].as_array()?;
    for (index, extension) in extensions.iter().enumerate() {
        let url = extension["url"].as_str()?;
        let elements = snapshot::snapshot(&setup.definitions, url).ok()?;
        let value = elements.iter().find(|e| e["id"] == "Extension.value[x]")?;
        let allows_boolean = value["max"] != "0"
            && value["type"]
                .as_array()
                .is_some_and(|types| types.iter().any(|t| t["code"] == "boolean"));
        if allows_boolean {
            continue;
        }
        let mut mutated = example.clone();
        let target = mutated["extension"][index].as_object_mut()?;
        target.retain(|k, _| !k.starts_with("value"));
        target.insert("valueBoolean".into(), json!(true));
        return Some((format!("extension {url} given a valueBoolean"), mutated));
    }
    None
}

/// A contained resource nobody references: breaks dom-3, an invariant (FHIRPath) of every
/// DomainResource.
fn orphan_contained(example: &Value) -> Option<(String, Value)> {
    let mut mutated = example.clone();
    let contained = mutated
        .as_object_mut()?
        .entry("contained")
        .or_insert_with(|| json!([]))
        .as_array_mut()?;
    contained
        .push(json!({"resourceType": "Basic", "id": "mts-orphan", "code": {"text": "orphan"}}));
    Some((
        "a contained resource nobody references (dom-3)".into(),
        mutated,
    ))
}

#[test]
fn every_mutation_of_the_examples_is_caught() {
    let Some(setup) = setup() else { return };
    let mut generated = std::collections::BTreeMap::<&str, usize>::new();
    let mut missed = Vec::new();
    for (name, example) in &setup.examples {
        let Some((_, snapshot)) = profile_of(&setup, example) else {
            continue;
        };
        let before = errors(&setup.validator.validate_with(example, &setup.expectations));
        let mutations = [
            ("required element", drop_required(example, &snapshot)),
            ("required binding", break_required_code(example, &snapshot)),
            ("extension type", break_extension_type(&setup, example)),
            ("invariant", orphan_contained(example)),
        ];
        for (kind, mutation) in mutations {
            let Some((what, mutated)) = mutation else {
                continue;
            };
            *generated.entry(kind).or_default() += 1;
            let after = errors(&setup.validator.validate_with(&mutated, &setup.expectations));
            let new: Vec<&String> = after.iter().filter(|e| !before.contains(e)).collect();
            let caught = match kind {
                // Caught by the invariant itself, not by some other rule.
                "invariant" => new.iter().any(|e| e.contains("[dom-3]")),
                _ => !new.is_empty(),
            };
            if !caught {
                missed.push(format!("{name}: {what}"));
            }
        }
    }
    eprintln!(
        "mutations generated by kind: {generated:?}; missed {}",
        missed.len()
    );
    // The corpus README.md describes: every kind generated, and exactly as many as published.
    let published = [
        ("required element", 92),
        ("required binding", 75),
        ("extension type", 41),
        ("invariant", 137),
    ];
    for (kind, count) in published {
        assert_eq!(
            generated.get(kind).copied().unwrap_or(0),
            count,
            "{kind} mutations: {generated:?}"
        );
    }
    assert!(missed.is_empty(), "missed:\n{}", missed.join("\n"));
}

fn mts(args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mts"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn mts_validate_passes_the_examples_and_fails_a_broken_resource() {
    if let Some(dir) = examples_dir() {
        let (code, stdout, stderr) = mts(&["validate", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert!(
            stdout.contains("140 resource(s) in 140 file(s): 0 error(s), 145 warning(s)"),
            "{stdout}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    // Gender outside its required binding, and an NHS number slice with two values.
    let broken = dir.path().join("patient.json");
    std::fs::write(
        &broken,
        r#"{"resourceType": "Patient", "gender": "f",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"},
                           {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000017"}]}"#,
    )
    .unwrap();
    let (code, stdout, _) = mts(&["validate", broken.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("Patient.gender [binding]"), "{stdout}");
    assert!(stdout.contains("nhsNumber"), "{stdout}");
    // Without UK Core only the core rules apply: the binding, not the slice.
    let (code, stdout, _) = mts(&[
        "validate",
        "--no-uk-core",
        "--format",
        "json",
        broken.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let issues = report["files"][0]["issues"].as_array().unwrap();
    assert!(issues.iter().any(|i| i["rule"] == "binding"), "{stdout}");
    assert!(
        !issues
            .iter()
            .any(|i| i["element"].as_str().unwrap_or("").contains("nhsNumber")),
        "{stdout}"
    );
    // Unreadable input is said, per file; a missing path is invalid input.
    std::fs::write(dir.path().join("bad.json"), "{not json").unwrap();
    let (code, stdout, _) = mts(&["validate", dir.path().join("bad.json").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stdout.contains("[json] not JSON"), "{stdout}");
    let (code, _, stderr) = mts(&["validate", "/nonexistent/mts"]);
    assert_eq!(code, 3);
    assert!(stderr.contains("no such file or folder"), "{stderr}");
}

#[test]
fn every_uk_core_profile_and_extension_has_a_snapshot() {
    let definitions = ig::uk_core().unwrap();
    let core = Definitions::core().unwrap();
    let mut count = 0;
    let mut broken = Vec::new();
    for structure in definitions.structures() {
        let Some(url) = structure["url"].as_str() else {
            continue;
        };
        // UK Core's own: 71 under its prefix and 7 R5 cross-version extensions it defines.
        if core.structure(url).is_some() {
            continue;
        }
        count += 1;
        match snapshot::snapshot(&definitions, url) {
            Ok(elements) if !elements.is_empty() => {}
            Ok(_) => broken.push(format!("{url}: empty snapshot")),
            Err(why) => broken.push(format!("{url}: {why}")),
        }
    }
    assert_eq!(count, 78, "UK Core 2.0.2 has 78 StructureDefinitions");
    assert!(broken.is_empty(), "{broken:#?}");
}
