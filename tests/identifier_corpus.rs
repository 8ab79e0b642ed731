//! mts's check-digit and syntax rules held to real identifiers nobody on the project chose
//! (`tests/fixtures/identifier-corpus.json`, extracted by `scripts/corpus/extract_identifiers.py`
//! from UK Core 2.0.2, the PDS sandbox and specification, and the requirement research): every
//! real value is accepted, and every generated corruption a rule is built to catch is rejected.

use mts::fhir::nhs_number::{self, NhsNumberProblem};
use mts::fhir::primitive::Primitive;
use mts::fhir::{ods, terminology};
use serde_json::Value;

mod common;

fn corpus() -> Value {
    let text = include_str!("fixtures/identifier-corpus.json");
    serde_json::from_str(text).expect("the corpus is JSON")
}

fn values(kind: &str) -> Vec<(String, Option<String>)> {
    corpus()[kind]
        .as_array()
        .unwrap_or_else(|| panic!("the corpus has no {kind}"))
        .iter()
        .map(|entry| {
            (
                entry["value"].as_str().expect("value").to_owned(),
                entry["stated"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// Every number with one digit replaced by another.
fn substitutions(digits: &str) -> Vec<String> {
    let mut out = Vec::new();
    for position in 0..digits.len() {
        for replacement in b'0'..=b'9' {
            if digits.as_bytes()[position] != replacement {
                let mut bytes = digits.as_bytes().to_vec();
                bytes[position] = replacement;
                out.push(String::from_utf8(bytes).expect("ascii"));
            }
        }
    }
    out
}

/// Every number with two unequal neighbouring digits swapped.
fn transpositions(digits: &str) -> Vec<String> {
    let mut out = Vec::new();
    for position in 0..digits.len().saturating_sub(1) {
        let mut bytes = digits.as_bytes().to_vec();
        if bytes[position] != bytes[position + 1] {
            bytes.swap(position, position + 1);
            out.push(String::from_utf8(bytes).expect("ascii"));
        }
    }
    out
}

#[test]
fn every_snomed_and_dmd_code_in_uk_core_is_accepted_and_every_typing_error_rejected() {
    let mut accepted = 0;
    let mut corrupted = 0;
    for kind in ["snomed", "dmd"] {
        for (code, _) in values(kind) {
            assert_eq!(terminology::sctid_problem(&code), None, "{kind} {code}");
            assert!(terminology::verhoeff_valid(&code), "{kind} {code}");
            accepted += 1;
            // Verhoeff's scheme catches every single-digit error and every adjacent transposition.
            for wrong in substitutions(&code)
                .into_iter()
                .chain(transpositions(&code))
            {
                assert!(
                    !terminology::verhoeff_valid(&wrong),
                    "{wrong} (from {kind} {code}) passes the Verhoeff check"
                );
                assert!(terminology::sctid_problem(&wrong).is_some(), "{wrong}");
                corrupted += 1;
            }
        }
    }
    // UK Core 2.0.2 holds 1,918 SNOMED CT and 9 dm+d codes; a smaller corpus means the
    // extraction lost some.
    assert!(accepted >= 1900, "only {accepted} codes in the corpus");
    assert!(corrupted > 100 * accepted, "{corrupted} corruptions");
}

/// Published NHS numbers that fail modulus 11: they are in public example data, and mts must
/// say they are invalid, with the reason.
const PUBLISHED_INVALID: &[(&str, &str)] = &[
    // PDS sandbox mock PatientCompoundName.json: the first nine digits give check digit 7.
    (
        "9000000015",
        "check digit is 5, the first nine digits give 7",
    ),
    // UK Core example BabyPatient: 9·10+9·9+1·8+2·7+3·4+8·3+9·2 = 247, 247 mod 11 = 5, so the
    // check digit would be 11-5 = 6.
    (
        "9912003890",
        "check digit is 0, the first nine digits give 6",
    ),
];

#[test]
fn published_nhs_numbers_are_judged_as_their_sources_state_and_every_typing_error_rejected() {
    let mut valid = 0;
    for (number, stated) in values("nhs_numbers") {
        let verdict = nhs_number::check(&number);
        match stated.as_deref() {
            Some("valid") => assert_eq!(verdict, Ok(()), "{number} is stated valid"),
            Some("invalid") => assert!(verdict.is_err(), "{number} is stated invalid"),
            _ => match PUBLISHED_INVALID.iter().find(|(n, _)| *n == number) {
                Some((_, why)) => {
                    let problem = verdict.clone().expect_err(&number).to_string();
                    assert!(problem.contains(why), "{number}: {problem}");
                }
                None => assert_eq!(verdict, Ok(()), "{number}"),
            },
        }
        if verdict.is_err() {
            continue;
        }
        valid += 1;
        // Weights 10..2 and modulus 11 (a prime) catch every single-digit error and every
        // adjacent transposition.
        for wrong in substitutions(&number)
            .into_iter()
            .chain(transpositions(&number))
        {
            assert!(
                matches!(
                    nhs_number::check(&wrong),
                    Err(NhsNumberProblem::CheckDigitMismatch { .. }
                        | NhsNumberProblem::CheckDigitImpossible)
                ),
                "{wrong} (from {number}) passes modulus 11"
            );
        }
    }
    assert!(valid >= 10, "only {valid} valid NHS numbers in the corpus");
}

#[test]
fn every_published_ods_code_is_accepted_and_malformed_ones_rejected() {
    let codes = values("ods_codes");
    assert!(codes.len() >= 8, "only {} ODS codes", codes.len());
    for (code, _) in codes {
        assert_eq!(ods::code_problem(&code), None, "{code}");
        let corruptions = [
            code.to_ascii_lowercase(),
            format!("{code} "),
            format!(" {code}"),
            format!("{}-{}", &code[..1], &code[1..]),
            code[..2].to_owned(),
            format!("{code}{}", "0".repeat(11 - code.len())),
            String::new(),
        ];
        for wrong in corruptions {
            if wrong == code {
                continue; // an all-digit code has no lower case
            }
            assert!(
                ods::code_problem(&wrong).is_some(),
                "`{wrong}` (from {code}) is accepted"
            );
        }
    }
}

#[test]
fn every_published_uuid_is_a_fhir_uuid_and_malformed_ones_are_not() {
    let uuids = values("uuids");
    assert!(uuids.len() >= 10, "only {} UUIDs", uuids.len());
    for (uuid, _) in uuids {
        assert!(Primitive::Uuid.matches(&uuid), "{uuid}");
        let bare = uuid.trim_start_matches("urn:uuid:");
        let mut corruptions = vec![
            bare.to_owned(),
            // FHIR's uuid pattern is lower case only.
            format!("urn:uuid:{}", bare.to_ascii_uppercase()),
            format!("{uuid}0"),
            uuid[..uuid.len() - 1].to_owned(),
            uuid.replacen('-', "", 1),
            format!("urn:uuid:{{{bare}}}"),
        ];
        // Every character replaced by one outside the alphabet, every hyphen moved.
        for position in "urn:uuid:".len()..uuid.len() {
            let mut bytes = uuid.as_bytes().to_vec();
            bytes[position] = b'g';
            corruptions.push(String::from_utf8(bytes).expect("ascii"));
            if uuid.as_bytes()[position] == b'-' {
                let mut bytes = uuid.as_bytes().to_vec();
                bytes.swap(position, position + 1);
                corruptions.push(String::from_utf8(bytes).expect("ascii"));
            }
        }
        for wrong in corruptions.into_iter().filter(|w| *w != uuid) {
            assert!(
                !Primitive::Uuid.matches(&wrong),
                "`{wrong}` (from {uuid}) is accepted as a FHIR uuid"
            );
        }
    }
}

/// Seed resources carrying every code: SNOMED CT codes as allergies, dm+d codes as medicines under
/// both systems UK Core and older content use. The sandbox pages searches at 50 entries, so codes
/// share resources (50 codings each) to be served on the first page the clinical searches fetch.
fn coded_record(snomed: &[String], dmd: &[String]) -> Vec<Value> {
    let coding = |system: &str, code: &String| serde_json::json!({"system": system, "code": code, "display": "from UK Core 2.0.2"});
    let mut seed = Vec::new();
    for (index, codes) in snomed.chunks(50).enumerate() {
        let codings: Vec<Value> = codes
            .iter()
            .map(|c| coding("http://snomed.info/sct", c))
            .collect();
        seed.push(serde_json::json!({
            "resourceType": "AllergyIntolerance",
            "id": format!("corpus-snomed-{index}"),
            "code": {"coding": codings},
            "patient": {"reference": "Patient/9000000009"}
        }));
    }
    for (system, tag) in [
        ("https://dmd.nhs.uk", "dmd"),
        ("http://snomed.info/sct", "sct"),
    ] {
        let codings: Vec<Value> = dmd.iter().map(|c| coding(system, c)).collect();
        seed.push(serde_json::json!({
            "resourceType": "MedicationStatement",
            "id": format!("corpus-{tag}"),
            "status": "active",
            "medicationCodeableConcept": {"coding": codings},
            "subject": {"reference": "Patient/9000000009"}
        }));
    }
    assert!(
        seed.len() < 45,
        "one page holds the seed and the built-in records"
    );
    seed
}

/// Runs the clinical searches against a sandbox serving `seed`, judging the terminology rules.
fn judge_terminology(dir: &std::path::Path, seed: &[Value]) -> common::Run {
    let seed_file = dir.join(format!("seed-{}.json", seed.len()));
    std::fs::write(&seed_file, serde_json::to_vec(seed).unwrap()).unwrap();
    let sandbox = common::Sandbox::start(&["--seed", seed_file.to_str().unwrap()]);
    let mut args = sandbox.target_args();
    args.extend(
        [
            "--profile",
            "ukca",
            "--requirements",
            "IOP-TERM-001,IOP-TERM-002,IOP-SRCH-007",
        ]
        .map(str::to_owned),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::run(dir, &args, Some(&sandbox.token))
}

/// A record coded with every corpus code passes IOP-TERM-001 and 002; the same record with the
/// last code of each list mistyped fails both, naming those codes, which shows every code served
/// was judged.
#[test]
fn a_record_coded_with_every_corpus_code_passes_the_terminology_checks() {
    let snomed: Vec<String> = values("snomed").into_iter().map(|(c, _)| c).collect();
    let dmd: Vec<String> = values("dmd").into_iter().map(|(c, _)| c).collect();
    let dir = tempfile::tempdir().unwrap();

    let clean = judge_terminology(dir.path(), &coded_record(&snomed, &dmd));
    for id in ["IOP-TERM-001", "IOP-TERM-002"] {
        let requirement = clean.requirement(id);
        assert_eq!(requirement["verdict"], "pass", "{id}: {requirement}");
    }

    let mistype = |codes: &[String]| {
        let mut codes = codes.to_vec();
        let last = codes.last_mut().unwrap();
        *last = transpositions(last).remove(0);
        codes
    };
    let (bad_snomed, bad_dmd) = (mistype(&snomed), mistype(&dmd));
    let broken = judge_terminology(dir.path(), &coded_record(&bad_snomed, &bad_dmd));
    for (id, code) in [
        ("IOP-TERM-001", bad_snomed.last().unwrap()),
        ("IOP-TERM-002", bad_dmd.last().unwrap()),
    ] {
        let requirement = broken.requirement(id);
        assert_eq!(requirement["verdict"], "fail", "{id}: {requirement}");
        assert!(
            requirement.to_string().contains(code.as_str()),
            "{id} names {code}: {requirement}"
        );
    }
}
