//! Invariants of the requirement catalogue and the feature suite, in the spirit of ruff's
//! registry tests.

use std::collections::BTreeSet;

use mts::catalogue::{self, Status};
use mts::checks::PASSIVE_CHECKS;
use mts::features::Suite;
use mts::steps::StepLibrary;

/// Every requirement id of catalogue.md §2 (the research input), which must all be present.
const SECTION_2_IDS: &[&str] = &[
    "SEC-TLS-001",
    "SEC-TLS-002",
    "SEC-TLS-003",
    "SEC-TLS-004",
    "SEC-TLS-005",
    "SEC-TLS-006",
    "SEC-HDR-001",
    "SEC-HDR-002",
    "SEC-HDR-003",
    "SEC-HDR-004",
    "SEC-HDR-005",
    "SEC-HDR-006",
    "SEC-ERR-001",
    "SEC-AUTH-001",
    "SEC-AUTH-002",
    "SEC-AUTH-003",
    "SEC-AUTH-004",
    "SEC-AUTH-005",
    "SEC-AUTH-006",
    "SEC-JWT-001",
    "SEC-JWT-002",
    "SEC-JWT-003",
    "SEC-JWT-004",
    "SEC-INP-001",
    "SEC-INP-002",
    "SEC-INP-003",
    "SEC-INP-004",
    "SEC-INP-005",
    "SEC-INP-006",
    "SEC-INP-007",
    "SEC-HTTP-001",
    "SEC-RATE-001",
    "SEC-RATE-002",
    "API-HDR-001",
    "API-HDR-002",
    "API-HDR-003",
    "API-HDR-004",
    "API-HDR-005",
    "API-HDR-006",
    "API-HDR-007",
    "API-HDR-008",
    "API-ERR-001",
    "API-ERR-002",
    "API-ERR-003",
    "API-ERR-004",
    "API-VER-001",
    "API-DOC-001",
    "API-OPS-001",
    "IOP-FHIR-001",
    "IOP-FHIR-002",
    "IOP-FHIR-003",
    "IOP-FHIR-004",
    "IOP-FHIR-005",
    "IOP-FHIR-006",
    "IOP-FHIR-007",
    "IOP-FHIR-008",
    "IOP-SRCH-001",
    "IOP-SRCH-002",
    "IOP-SRCH-003",
    "IOP-SRCH-004",
    "IOP-SRCH-005",
    "IOP-SRCH-006",
    "IOP-SRCH-007",
    "IOP-SRCH-008",
    "IOP-SRCH-009",
    "IOP-UKC-001",
    "IOP-UKC-002",
    "IOP-UKC-003",
    "IOP-UKC-004",
    "IOP-UKC-005",
    "IOP-UKC-006",
    "IOP-UKC-007",
    "IOP-TERM-001",
    "IOP-TERM-002",
    "IOP-TERM-003",
    "GPC-SSP-001",
    "GPC-SSP-002",
    "GPC-SSP-003",
    "GPC-SSP-004",
];

#[test]
fn every_researched_requirement_is_in_the_catalogue() {
    assert_eq!(SECTION_2_IDS.len(), 79);
    let catalogue = catalogue::load_embedded().expect("the embedded catalogue loads");
    for id in SECTION_2_IDS {
        assert!(catalogue.get(id).is_some(), "{id} missing");
    }
}

#[test]
fn the_catalogue_files_match_their_json_schema() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("standards");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("schema/catalogue.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the catalogue schema compiles");
    let mut files = 0;
    for entry in std::fs::read_dir(root.join("requirements")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let value: toml::Value = toml::from_str(&text).unwrap();
        let json = serde_json::to_value(value).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        files += 1;
    }
    assert!(files >= 6);
    let index_schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("schema/catalogue-index.schema.json")).unwrap(),
    )
    .unwrap();
    let index: toml::Value =
        toml::from_str(&std::fs::read_to_string(root.join("catalogue.toml")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&index_schema).unwrap();
    assert!(validator.is_valid(&serde_json::to_value(index).unwrap()));
}

#[test]
fn the_vendored_fhir_schema_is_the_documented_file() {
    use sha2::Digest as _;
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/standards/fhir-r4/fhir.schema.json"
    ))
    .unwrap();
    let digest = format!("{:x}", sha2::Sha256::digest(&bytes));
    assert_eq!(
        digest,
        "f4a1a62ae17141fde2d9bb409526e3ed86c09ba2e76dad601b4882c2553816a9"
    );
}

#[test]
fn the_suite_is_sound() {
    let catalogue = catalogue::load_embedded().unwrap();
    let suite = Suite::load_embedded().expect("features parse");
    let problems = suite.lint(&catalogue, &StepLibrary::new());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_automated_requirement_is_verified_by_something_and_nothing_else_is() {
    let catalogue = catalogue::load_embedded().unwrap();
    let suite = Suite::load_embedded().unwrap();
    let tagged: BTreeSet<String> = suite
        .scenarios()
        .iter()
        .flat_map(|s| s.requirements.iter().map(|r| r.to_string()))
        .collect();
    let checked: BTreeSet<String> = PASSIVE_CHECKS
        .iter()
        .map(|c| c.requirement.as_str().to_owned())
        .collect();
    for requirement in &catalogue.requirements {
        let id = requirement.id.to_string();
        let verified = tagged.contains(&id) || checked.contains(&id);
        match requirement.status {
            Status::Automated => assert!(
                verified,
                "{id} is automated but no scenario or check verifies it"
            ),
            _ => assert!(
                !verified,
                "{id} is {} but scenarios or checks verify it: mark it automated",
                requirement.status.as_str()
            ),
        }
    }
}

#[test]
fn passive_checks_have_unique_ids() {
    let mut seen = BTreeSet::new();
    for check in PASSIVE_CHECKS {
        assert!(seen.insert(check.id), "duplicate check {}", check.id);
        assert!(check.id.contains('.'), "check ids are dotted: {}", check.id);
    }
}

/// Issue 17: the framework mapping is data a test holds. Every framework is one we know and
/// cites where its clauses were read; clause ids are unique and were seen in the research
/// (`standards/frameworks/research.md`), never made up; every automated requirement maps to a
/// clause or says why none applies.
#[test]
fn the_framework_mapping_is_sound() {
    let catalogue = mts::catalogue::load_embedded().unwrap();
    let mut ids: Vec<&str> = catalogue.frameworks.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "cyber-charter",
            "cyber-essentials",
            "dsic-s29",
            "dsic-s32",
            "dspt",
            "dtac",
            "scal"
        ]
    );
    let research = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("standards/frameworks/research.md"),
    )
    .unwrap();
    // Each framework's part of the research: its clause ids must be read there, whole (not
    // inside a longer id), never made up.
    let section = |framework: &str| -> &str {
        let (start, end) = match framework {
            "dtac" => ("## 1. DTAC", "**Cyber Security Charter for Suppliers"),
            "cyber-charter" => ("**Cyber Security Charter for Suppliers", "### 1d."),
            "dsic-s32" => ("### 2a. S32", "### 2b."),
            "dsic-s29" => ("### 2b. S29", "### 2c."),
            "scal" => ("## 3. SCAL", "## 4. DSPT"),
            "dspt" => ("## 4. DSPT", "## 5. Cyber Essentials"),
            "cyber-essentials" => ("## 5. Cyber Essentials", "## 6. Not public"),
            other => panic!("no research section for {other}"),
        };
        let from = research.find(start).unwrap_or_else(|| panic!("{start}"));
        let to = research[from..]
            .find(end)
            .map_or(research.len(), |n| from + n);
        &research[from..to]
    };
    // `id` as a whole token: not inside a longer id (`C4.2` in `C4.2.1`, `1` in `10`).
    let whole = |text: &str, id: &str| {
        text.match_indices(id).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let rest = &text[at + id.len()..];
            let mut after = rest.chars();
            let (next, then) = (after.next(), after.next());
            let extends = next.is_some_and(|c| c.is_ascii_alphanumeric())
                || (next == Some('.') && then.is_some_and(|c| c.is_ascii_digit()));
            let follows = before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.');
            !(extends || follows)
        })
    };
    for framework in &catalogue.frameworks {
        assert!(framework.url.starts_with("https://"), "{}", framework.id);
        assert!(!framework.version.trim().is_empty(), "{}", framework.id);
        assert!(!framework.text_source.trim().is_empty(), "{}", framework.id);
        let part = section(&framework.id);
        let mut seen = std::collections::BTreeSet::new();
        for clause in &framework.clauses {
            assert!(
                seen.insert(&clause.id),
                "{}:{} twice",
                framework.id,
                clause.id
            );
            assert!(
                !clause.source.trim().is_empty(),
                "{}:{}",
                framework.id,
                clause.id
            );
            let spoken = clause.id.replace('-', " ");
            assert!(
                whole(part, &clause.id) || whole(&part.to_lowercase(), &spoken.to_lowercase()),
                "{}:{} is not in its part of the research: where was it read?",
                framework.id,
                clause.id
            );
        }
    }
    for requirement in &catalogue.requirements {
        assert!(
            !requirement.clauses.is_empty() || requirement.unmapped.is_some(),
            "{} maps to no clause and does not say why",
            requirement.id
        );
    }
    // The clauses an HTTP test can show are decided by automated requirements alone.
    for framework in &catalogue.frameworks {
        for clause in &framework.clauses {
            if clause.http == mts::catalogue::Testability::Yes {
                assert!(
                    catalogue
                        .mapped_to(&framework.id, &clause.id)
                        .all(|r| r.status == mts::catalogue::Status::Automated),
                    "{}:{}",
                    framework.id,
                    clause.id
                );
            }
        }
    }
}
