//! Issue 17: a run seen through the assessors' frameworks, and the supplier's attestations.
//! The DTAC view of a sandbox run renders in Markdown, HTML and CSV; clause statuses follow
//! the requirements mapped to them (a fault makes a clause not met, naming its exchanges);
//! attestations are checked, their evidence sealed under the manifest, and shown as attested.

mod common;

use common::{clause_statuses, framework_views, mts, run};

fn attestations(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::write(dir.join("ce-certificate.pdf"), b"%PDF certificate 1234").unwrap();
    let today = chrono::Utc::now().date_naive();
    let recent = today - chrono::Duration::days(10);
    let stale = today - chrono::Duration::days(400);
    let path = dir.join("attestations.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[[attestation]]
requirement = "GOV-ASR-006"
statement = "Cyber Essentials Plus certificate 1234 covers the hosting platform"
evidence = ["ce-certificate.pdf"]
by = "A. Person, CISO"
date = "{recent}"

[[attestation]]
requirement = "GOV-ASR-007"
statement = "CREST test of the API, no finding at CVSS 7 or above"
evidence = ["https://example.org/pentest-summary"]
by = "A. Person"
date = "{stale}"
"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn the_dtac_view_of_a_sandbox_run_holds_every_clause_in_three_formats() {
    let dir = tempfile::tempdir().unwrap();
    let file = attestations(dir.path());
    let run = run(
        dir.path(),
        &["--attestations", file.to_str().unwrap()],
        None,
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());

    // Attested, never passed; a stale answer is still owed, and says why.
    assert_eq!(run.requirement("GOV-ASR-006")["verdict"], "attested");
    let stale = run.requirement("GOV-ASR-007");
    assert_eq!(stale["verdict"], "attestation");
    assert!(
        stale["reason"].as_str().unwrap().contains("renew it"),
        "{stale}"
    );
    assert_eq!(run.requirement("GOV-ASR-001")["verdict"], "attestation");
    // The evidence file is in the run folder, under the manifest.
    let copy = "attestation-GOV-ASR-006-1-ce-certificate.pdf";
    assert_eq!(
        std::fs::read(run.out.join(copy)).unwrap(),
        b"%PDF certificate 1234"
    );
    let manifest = std::fs::read_to_string(run.out.join("manifest.json")).unwrap();
    assert!(manifest.contains(copy), "{manifest}");
    let verify = mts().arg("verify").arg(&run.out).output().unwrap();
    assert!(verify.status.success());

    let (markdown, html, csv) = framework_views(&run.out, "dtac");
    let statuses = clause_statuses(&csv);
    let catalogue = mts::catalogue::load_embedded().unwrap();
    let dtac = catalogue.framework("dtac").unwrap();
    assert_eq!(
        statuses.keys().collect::<Vec<_>>(),
        {
            let mut ids: Vec<&String> = dtac.clauses.iter().map(|c| &c.id).collect();
            ids.sort();
            ids
        },
        "one row per clause"
    );
    let status = |clause: &str| statuses[clause].0.as_str();
    assert_eq!(status("C4.1"), "met");
    assert_eq!(status("C4.2.1"), "met");
    assert_eq!(status("C3.1"), "attested");
    assert!(statuses["C3.1"].1.contains("A. Person, CISO"));
    // The penetration test's answer is stale, so C3.3 is still owed whatever mts saw.
    assert_eq!(status("C3.3"), "evidence owed");
    assert!(statuses["C3.3"].1.contains("GOV-ASR-007"));
    assert_eq!(status("C4.2"), "not covered");
    assert_eq!(status("C3.6"), "evidence owed");

    for clause in &dtac.clauses {
        assert!(
            markdown.contains(&format!("| {} | **", clause.id)),
            "{} not in the Markdown",
            clause.id
        );
        assert!(
            html.contains(&format!("<td>{}</td>", clause.id)),
            "{} not in the HTML",
            clause.id
        );
    }
    assert!(markdown.contains("| C4.1 | **met** |"), "{markdown}");
    assert!(html.contains("<tr class=\"met\"><td>C4.1</td>"));
    // Links reach the run's report.html from where the view was written (beside the folder).
    let folder = run.out.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        html.contains(&format!("href=\"{folder}/report.html#req-IOP-FHIR-007\"")),
        "{html}"
    );
    assert!(!html.contains("<script"));
    assert!(html.trim_end().ends_with("</html>"));

    // A report of schema version 1 (before `attested`) still reads.
    let older = dir.path().join("version-1");
    std::fs::create_dir_all(&older).unwrap();
    let text = std::fs::read_to_string(run.out.join("report.json"))
        .unwrap()
        .replace("\"schema_version\": 2", "\"schema_version\": 1")
        .replace("\"attested\"", "\"attestation\"");
    std::fs::write(older.join("report.json"), text).unwrap();
    assert_eq!(mts::report::read(&older).unwrap().schema_version, 1);

    // Judged again offline, the answers and their sealed evidence carry over.
    let again = dir.path().join("rejudged");
    let output = mts()
        .args(["rejudge", "--quiet", "--out"])
        .arg(&again)
        .arg(&run.out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rejudged = mts::report::read(&again).unwrap();
    let verdict = |id: &str| {
        rejudged
            .requirements
            .iter()
            .find(|r| r.id.as_str() == id)
            .map(|r| r.verdict.as_str())
    };
    assert_eq!(verdict("GOV-ASR-006"), Some("attested"));
    assert_eq!(verdict("GOV-ASR-007"), Some("attestation"));
    assert!(again.join(copy).is_file());
    assert!(
        mts()
            .arg("verify")
            .arg(&again)
            .output()
            .unwrap()
            .status
            .success()
    );

    // Evidence changed after the run is not carried into a new, freshly sealed folder.
    std::fs::write(run.out.join(copy), b"%PDF another certificate").unwrap();
    let output = mts()
        .args(["rejudge", "--quiet", "--out"])
        .arg(dir.path().join("rejudged-after-change"))
        .arg(&run.out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("does not match its manifest"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_failing_must_makes_its_clause_not_met_and_names_the_exchanges() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &[
            "--fault",
            "bad-nhs-number",
            "--fault",
            "no-cache-control-on-errors",
        ],
        None,
    );
    assert_eq!(run.code(), 1, "{}", run.stdout());
    let (_, _, csv) = framework_views(&run.out, "dtac");
    let statuses = clause_statuses(&csv);
    // C3.3 asks for a penetration test report: a failing security requirement is named beside
    // it for the assessor, and the clause waits on the supplier's attestation.
    let (status, why, _) = &statuses["C3.3"];
    assert_eq!(status, "evidence owed");
    assert!(
        why.contains("owed: GOV-ASR-007 attestation")
            && why.contains(
                "supporting results that failed, for the assessor to weigh: SEC-HDR-002 fail"
            ),
        "{why}"
    );
    let (status, why, exchanges) = &statuses["C4.2.1"];
    assert_eq!(status, "not met");
    assert!(why.contains("IOP-UKC-002 fail"), "{why}");
    let har = std::fs::read_to_string(run.out.join("evidence.har")).unwrap();
    // `IOP-UKC-001: 17#1, 18#2 and 23 more; IOP-UKC-002: …`
    let named: Vec<&str> = exchanges
        .split(';')
        .filter_map(|part| part.split_once(": ").map(|(_, ids)| ids))
        .flat_map(|ids| ids.split(", "))
        .map(|id| id.split(" and ").next().unwrap_or(id).trim())
        .collect();
    assert!(!named.is_empty(), "no exchange named: {exchanges}");
    for id in named {
        assert!(har.contains(id), "{id} is not in evidence.har");
    }
    // Clauses the fault does not touch keep their status.
    assert_eq!(statuses["C4.1"].0, "met");

    // A folder changed after the run is flagged in every view.
    let report = run.out.join("report.json");
    let text = std::fs::read_to_string(&report).unwrap();
    std::fs::write(&report, text.replace("\"fail\"", "\"pass\"")).unwrap();
    let (markdown, html, _) = framework_views(&run.out, "dtac");
    assert!(
        markdown.contains("does not match its manifest"),
        "{markdown}"
    );
    assert!(html.contains("class=\"notice\""));
}

#[test]
fn attestation_files_that_cannot_mean_anything_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("attestations.toml");
    std::fs::write(
        &file,
        "[[attestation]]\nrequirement = \"SEC-TLS-001\"\nstatement = \"s\"\nevidence = [\"https://example.org\"]\nby = \"b\"\ndate = \"2026-01-01\"\n",
    )
    .unwrap();
    let run = run(
        dir.path(),
        &["--attestations", file.to_str().unwrap()],
        None,
    );
    assert_eq!(run.code(), 3, "{}", run.stderr());
    assert!(
        run.stderr().contains("not an attestation"),
        "{}",
        run.stderr()
    );
    assert!(run.report.is_none());
}

#[test]
fn frameworks_are_listed_with_their_clauses_and_unknown_ones_refused() {
    let output = mts()
        .args(["list", "--framework", "dsic"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for expected in ["ISNFR02", "ES1.0", "GOV-ASR-016", "S32 v18.1.0"] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    let output = mts()
        .args(["list", "--framework", "iso27001"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("known: cyber-charter"));
    let output = mts().args(["explain", "IOP-UKC-001"]).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("dtac:C4.2.1"));
}

#[test]
fn the_scal_view_lists_every_requirement_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(dir.path(), &["--requirements", "IOP-FHIR-001"], None);
    let (markdown, _, csv) = framework_views(&run.out, "scal");
    assert!(markdown.contains("not public"), "{markdown}");
    let rows = common::csv_rows(&csv);
    let requirements = run.report()["requirements"].as_array().unwrap().len();
    assert_eq!(rows.len(), requirements + 1);
}

#[test]
fn doctor_says_which_attestations_are_complete_and_what_the_others_lack() {
    let sandbox = common::Sandbox::start(&["--tls"]);
    let dir = tempfile::tempdir().unwrap();
    let file = attestations(dir.path());
    let output = mts()
        .arg("doctor")
        .args(sandbox.target_args())
        .args(["--attestations", file.to_str().unwrap()])
        .env("MTS_TOKEN", &sandbox.token)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("ok   attestation     GOV-ASR-006 attested by A. Person, CISO"),
        "{text}"
    );
    assert!(
        text.contains("warn attestation     GOV-ASR-007 incomplete: dated"),
        "{text}"
    );
}

/// DTAC C3.2: a signed Cyber Security Charter makes the form skip C3.3 to C3.6; a charter not
/// signed (the one yes-or-no attestation that may be answered no) leaves them, and the
/// charter's own principles then bind nothing.
#[test]
fn the_charter_answer_decides_what_the_form_skips() {
    let dir = tempfile::tempdir().unwrap();
    let statuses = |answer: &str| {
        let file = dir.path().join(format!("charter-{answer}.toml"));
        std::fs::write(
            &file,
            format!(
                "[[attestation]]\nrequirement = \"GOV-ASR-009\"\nanswer = \"{answer}\"\n\
                 statement = \"The charter, as signed by the CEO\"\n\
                 evidence = [\"https://example.org/charter\"]\nby = \"A. Person\"\ndate = \"{}\"\n",
                chrono::Utc::now().date_naive()
            ),
        )
        .unwrap();
        let run = run(
            dir.path(),
            &[
                "--requirements",
                "IOP-FHIR-001",
                "--attestations",
                file.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(run.requirement("GOV-ASR-009")["verdict"], "attested");
        let (_, _, dtac) = framework_views(&run.out, "dtac");
        let (_, _, charter) = framework_views(&run.out, "cyber-charter");
        (clause_statuses(&dtac), clause_statuses(&charter))
    };
    let (dtac, charter) = statuses("yes");
    assert_eq!(dtac["C3.2"].0, "attested");
    for skipped in ["C3.3", "C3.4", "C3.5", "C3.5.1", "C3.6"] {
        assert_eq!(
            dtac[skipped].0, "not covered",
            "{skipped}: {:?}",
            dtac[skipped]
        );
        assert!(dtac[skipped].1.contains("the form skips it"));
    }
    // Principle 1 is answered by its own attestation (patching), owed here; 5 to 7 have none.
    assert_eq!(charter["1"].0, "evidence owed");
    assert_eq!(charter["5"].0, "not covered");
    let (dtac, charter) = statuses("no");
    assert_eq!(dtac["C3.2"].0, "attested");
    assert_eq!(dtac["C3.3"].0, "evidence owed");
    assert!(
        charter
            .values()
            .all(|(status, _, _)| status == "not covered"),
        "{charter:?}"
    );
}
