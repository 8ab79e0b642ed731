//! `mts doctor`: says what stops a run, and what to do about it.

mod common;

use common::{Sandbox, mts};

fn doctor(args: &[String], env: &[(&str, &str)]) -> (i32, String) {
    let mut command = mts();
    command.arg("doctor").args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn a_ready_target_passes_and_each_problem_is_named_with_its_fix() {
    let sandbox = Sandbox::start(&["--tls"]);
    let token = sandbox.token.clone();

    let (code, out) = doctor(&sandbox.target_args(), &[("MTS_TOKEN", &token)]);
    assert_eq!(code, 0, "{out}");
    for line in [
        "ok   connect",
        "ok   tls",
        "ok   metadata",
        "ok   credentials",
        "ok   test patient",
        "ok   absent patient",
        "ready",
    ] {
        assert!(out.contains(line), "missing {line}:\n{out}");
    }

    // No CA: stops at TLS, with the flag to use.
    let (code, out) = doctor(
        &["--target".to_owned(), sandbox.url.clone()],
        &[("MTS_TOKEN", &token)],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL tls") && out.contains("--ca-cert"),
        "{out}"
    );
    assert!(
        !out.contains("metadata"),
        "nothing after a TLS failure:\n{out}"
    );

    // A refused token.
    let (code, out) = doctor(&sandbox.target_args(), &[("MTS_TOKEN", "not-a-token")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL credentials     the target refused the credentials (401)"),
        "{out}"
    );
    assert!(!out.contains("not-a-token"), "the token is never printed");

    // A test patient that is not there.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mts.toml");
    std::fs::write(
        &config,
        "[data.patient.existing]\nnhs_number = \"9449306680\"\n",
    )
    .unwrap();
    let mut args = sandbox.target_args();
    args.extend(["--config".to_owned(), config.display().to_string()]);
    let (code, out) = doctor(&args, &[("MTS_TOKEN", &token)]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL test patient    Patient/9449306680 is not on the target"),
        "{out}"
    );
}

#[test]
fn an_unreachable_target_is_a_connect_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let (code, out) = doctor(
        &[
            "--target".to_owned(),
            format!("http://127.0.0.1:{port}/FHIR/R4"),
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("FAIL connect") && out.contains("fix:"),
        "{out}"
    );
}

/// The kit the embedded sandbox meets: its patient with records (9000000009) holds two active
/// allergies, one active and one completed MedicationRequest, and 9000000025 is restricted.
const MET_KIT: &str = r#"
[data.patient.with-records]
nhs_number = "9000000009"

[[data.patient.with-records.promise]]
type = "AllergyIntolerance"
at-least = 2
search = "clinical-status=active"
says = "2 active allergies"

[[data.patient.with-records.promise]]
type = "MedicationRequest"
search = "status=active"

[data.patient.restricted]
nhs_number = "9000000025"
sensitive = true
"#;

/// The same kit, broken twice: more Conditions than the patient holds, and a patient that is
/// not restricted promised as sensitive.
const BROKEN: &str = r#"
[[data.patient.with-records.promise]]
type = "Condition"
at-least = 5
says = "5 problems"

[data.patient.existing]
nhs_number = "9000000009"
sensitive = true
"#;

fn doctor_with_config(sandbox: &Sandbox, text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mts.toml");
    std::fs::write(&config, text).unwrap();
    let mut args = sandbox.target_args();
    args.extend(["--config".to_owned(), config.display().to_string()]);
    doctor(&args, &[("MTS_TOKEN", &sandbox.token)])
}

fn kit_lines(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.get(5..8) == Some("kit")).collect()
}

#[test]
fn a_declared_kit_is_checked_item_by_item() {
    let sandbox = Sandbox::start(&["--tls"]);

    let (code, out) = doctor_with_config(&sandbox, MET_KIT);
    assert_eq!(code, 0, "{out}");
    let kit = kit_lines(&out);
    assert_eq!(kit.len(), 3, "one line per promise:\n{out}");
    assert!(kit.iter().all(|l| l.starts_with("ok   kit ")), "{out}");
    for said in [
        "with-records Patient/9000000009: promised 2 AllergyIntolerance (clinical-status=active) \"2 active allergies\"; found 2",
        "with-records Patient/9000000009: promised 1 MedicationRequest (status=active); found 1",
        "restricted Patient/9000000025: promised sensitive (meta.security R or V); found meta.security confidentiality R",
    ] {
        assert!(
            kit.iter().any(|l| l.contains(said)),
            "missing {said}:\n{out}"
        );
    }
    assert!(out.contains("ready"), "{out}");

    let (code, out) = doctor_with_config(&sandbox, &format!("{MET_KIT}{BROKEN}"));
    assert_eq!(code, 1, "{out}");
    let kit = kit_lines(&out);
    assert_eq!(kit.len(), 5, "{out}");
    let failed: Vec<&&str> = kit.iter().filter(|l| l.starts_with("FAIL kit ")).collect();
    assert_eq!(failed.len(), 2, "exactly the broken promises:\n{out}");
    assert!(
        failed.iter().any(|l| l.contains(
            "with-records Patient/9000000009: promised 5 Condition \"5 problems\"; missing: found 2 (Bundle.total)"
        )),
        "{out}"
    );
    assert!(
        failed.iter().any(|l| l.contains(
            "existing Patient/9000000009: promised sensitive (meta.security R or V); missing: found meta.security confidentiality U"
        )),
        "{out}"
    );
    assert_eq!(
        kit.iter().filter(|l| l.starts_with("ok   kit ")).count(),
        3,
        "the promises met are still met:\n{out}"
    );
    assert!(
        out.contains("fix: give a patient that holds it in [data.patient.with-records], or change the promise")
            && out.contains("fix: give a patient that holds it in [data.patient.existing], or change the promise"),
        "{out}"
    );
    // Every other check is as it was: only the kit fails.
    assert!(out.contains("ok   test patient"), "{out}");
    assert!(out.contains("2 problem(s) to fix"), "{out}");
}

#[test]
fn a_kit_the_target_cannot_answer_for_is_a_warning_not_a_failure() {
    let sandbox = Sandbox::start(&["--tls"]);
    // The sandbox serves no Immunization: the search is refused, so mts cannot tell.
    let (code, out) = doctor_with_config(
        &sandbox,
        "[data.patient.with-records]\nnhs_number = \"9000000009\"\n[[data.patient.with-records.promise]]\ntype = \"Immunization\"\n",
    );
    assert_eq!(code, 0, "{out}");
    let kit = kit_lines(&out);
    assert_eq!(kit.len(), 1, "{out}");
    assert!(
        kit[0].starts_with("warn kit ")
            && kit[0].contains(
                "could not tell: GET /FHIR/R4/Immunization?patient=Patient/9000000009 → 404"
            ),
        "{out}"
    );
}

/// The kit in a run: its promises are checked before the scenarios, kept in the report, and a
/// scenario lacking promised data says it is a missing prerequisite. Without the kit, a
/// restricted patient that is not restricted fails IOP-UKC-007; with the kit promising it is,
/// the preflight shows the test data is wrong and the requirement is skipped, saying so, and
/// the run is incomplete rather than conformant (a kit line cannot clear a failure).
#[test]
fn a_kit_shortfall_is_a_missing_prerequisite_in_the_run_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let wrong_data = "[data.patient.with-records]\nnhs_number = \"9000000025\"\n\n\
                      [data.patient.restricted]\nnhs_number = \"9000000009\"\n";
    std::fs::write(dir.path().join("mts.toml"), wrong_data).unwrap();
    let without = common::run_in(Some(dir.path()), dir.path(), &[], &[]);
    assert_eq!(without.requirement("IOP-UKC-007")["verdict"], "fail");
    assert!(without.report()["test_data_kit"].is_null());

    let kit = format!(
        "{wrong_data}sensitive = true\n\n[[data.patient.with-records.promise]]\n\
         type = \"AllergyIntolerance\"\nsays = \"an allergy\"\n"
    );
    std::fs::write(dir.path().join("mts.toml"), kit).unwrap();
    let with = common::run_in(Some(dir.path()), dir.path(), &[], &[]);
    // Skipped for want of its prerequisite, but never conformant: the run is incomplete until
    // the test data is what the kit promises.
    assert_eq!(with.report()["verdict"], "incomplete", "{}", with.stdout());
    assert!(
        with.report()["harness_errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e
                .as_str()
                .unwrap()
                .starts_with("test data missing: the test-data kit promises sensitive")),
        "{}",
        with.report()["harness_errors"]
    );
    let restricted = with.requirement("IOP-UKC-007");
    assert_eq!(restricted["verdict"], "skipped");
    assert_eq!(restricted["reason_kind"], "missing-data");
    assert!(
        restricted["reason"]
            .as_str()
            .unwrap()
            .contains("the test-data kit promises sensitive"),
        "{restricted}"
    );
    let tokens = with.requirement("IOP-SRCH-014");
    assert!(
        tokens["reason"]
            .as_str()
            .unwrap()
            .contains("promises 1 AllergyIntolerance \"an allergy\" for the with-records patient"),
        "{tokens}"
    );
    let kit = with.report()["test_data_kit"].as_array().unwrap();
    assert_eq!(kit.len(), 2);
    assert!(
        kit.iter().all(|item| item["status"] == "missing"),
        "{kit:?}"
    );
    assert!(
        with.stdout()
            .contains("test-data kit: 2 promised, 0 found, 2 missing"),
        "{}",
        with.stdout()
    );
    assert!(
        with.stderr()
            .contains("test data missing before the run: the test-data kit promises"),
        "{}",
        with.stderr()
    );
    let summary = std::fs::read_to_string(with.out.join("summary.md")).unwrap();
    assert!(summary.contains("Test-data kit: 2 of 2 promised item(s) not shown before the run"));
}
