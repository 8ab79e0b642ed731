//! A hostile or broken supplier can never crash, hang or fool the harness: one test per
//! `mts sandbox --hostile` case. Each asserts that `mts run` exits 0, 1 or 4 (never a signal),
//! within its deadline budget, with a report.json valid against its schema, and that the
//! requirements the case breaks fail or error with a message naming the cause.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Run, Sandbox, run};

/// What one hostile case must produce for one requirement.
struct Expect {
    id: &'static str,
    verdict: &'static str,
    says: &'static str,
}

const fn expect(id: &'static str, verdict: &'static str, says: &'static str) -> Expect {
    Expect { id, verdict, says }
}

/// Runs the selected requirements against `target` with a `timeout` per request, into `dir`.
fn run_against(dir: &Path, target: &str, requirements: &str, timeout: u64) -> (Run, Duration) {
    let timeout = timeout.to_string();
    let clock = Instant::now();
    let run = run(
        dir,
        &[
            "--target",
            target,
            "--requirements",
            requirements,
            "--timeout",
            &timeout,
        ],
        None,
    );
    (run, clock.elapsed())
}

fn assert_survived(case: &str, run: &Run, elapsed: Duration, budget: Duration) {
    let stderr = run.stderr();
    assert!(
        !stderr.contains("panicked"),
        "{case}: mts panicked:\n{stderr}"
    );
    assert!(
        [0, 1, 4].contains(&run.code()),
        "{case}: exit {:?} (a signal is None)\n{stderr}",
        run.output.status
    );
    assert!(
        elapsed < budget,
        "{case}: took {elapsed:?}, over the {budget:?} budget"
    );
    assert_report_is_valid(case, run.report());
}

fn assert_report_is_valid(case: &str, report: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(mts::report::schema::COMMITTED_PATH),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .take(3)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{case}: report.json: {errors:?}");
}

fn assert_verdicts(case: &str, run: &Run, expectations: &[Expect]) {
    for Expect { id, verdict, says } in expectations {
        let requirement = run.requirement(id);
        let reason = requirement["reason"].as_str().unwrap_or_default();
        assert_eq!(
            requirement["verdict"], *verdict,
            "{case}: {id} is {}: {reason}",
            requirement["verdict"]
        );
        assert!(
            reason.contains(says),
            "{case}: {id} should say `{says}`, says: {reason}"
        );
    }
}

/// Starts `--hostile case`, runs the requirements named in `expectations` against it, and
/// checks the run survived and judged as expected.
fn hostile(case: &str, timeout: u64, budget_secs: u64, expectations: &[Expect]) {
    let sandbox = Sandbox::start(&["--hostile", case]);
    let dir = tempfile::tempdir().unwrap();
    let requirements: Vec<&str> = expectations.iter().map(|e| e.id).collect();
    let (run, elapsed) = run_against(dir.path(), &sandbox.url, &requirements.join(","), timeout);
    assert_survived(case, &run, elapsed, Duration::from_secs(budget_secs));
    assert_verdicts(case, &run, expectations);
}

// Bodies that are not what they claim.

#[test]
fn invalid_json() {
    hostile(
        "invalid-json",
        5,
        30,
        &[expect(
            "IOP-FHIR-007",
            "fail",
            "is not JSON (EOF while parsing",
        )],
    );
}

#[test]
fn byte_order_mark() {
    hostile(
        "bom",
        5,
        30,
        &[expect("IOP-FHIR-007", "fail", "byte order mark")],
    );
}

#[test]
fn non_utf8() {
    hostile(
        "non-utf8",
        5,
        30,
        &[expect("IOP-FHIR-007", "fail", "not UTF-8")],
    );
}

#[test]
fn content_type_mismatch() {
    hostile(
        "content-type-mismatch",
        5,
        30,
        &[
            expect("IOP-FHIR-007", "fail", "looks like HTML"),
            expect("SEC-HDR-005", "fail", "but the body is not JSON"),
        ],
    );
}

#[test]
fn body_shorter_than_its_content_length() {
    hostile(
        "short-body",
        5,
        30,
        &[expect(
            "IOP-FHIR-007",
            "error",
            "end of file before message length reached",
        )],
    );
}

// Bodies built to exhaust the harness.

#[test]
fn json_nested_100000_deep() {
    hostile(
        "deep-nesting",
        5,
        30,
        &[expect("IOP-FHIR-007", "fail", "recursion limit exceeded")],
    );
}

#[test]
fn a_1_gib_body_is_cut_at_the_body_limit() {
    hostile(
        "huge-body",
        20,
        60,
        &[expect(
            "IOP-FHIR-007",
            "fail",
            "larger than the configured limit",
        )],
    );
}

#[test]
fn a_gzip_bomb_is_inflated_only_up_to_the_body_limit() {
    hostile(
        "gzip-bomb",
        20,
        60,
        &[expect(
            "IOP-FHIR-007",
            "fail",
            "larger than the configured limit",
        )],
    );
}

#[test]
fn a_chunked_body_that_never_ends_is_cut_at_the_body_limit() {
    hostile(
        "endless-chunked",
        20,
        60,
        &[expect(
            "IOP-FHIR-007",
            "fail",
            "larger than the configured limit",
        )],
    );
}

// Slow servers: the overall per-request deadline, not an idle timeout, ends each exchange.

#[test]
fn a_server_that_never_answers() {
    hostile(
        "silent",
        2,
        30,
        &[expect(
            "IOP-FHIR-007",
            "error",
            "waiting for the response head",
        )],
    );
}

#[test]
fn headers_that_never_end() {
    hostile(
        "endless-headers",
        2,
        30,
        &[expect("IOP-FHIR-007", "error", "within the 2 s deadline")],
    );
}

#[test]
fn a_body_trickled_one_byte_a_second() {
    hostile(
        "trickle",
        2,
        30,
        &[expect(
            "IOP-FHIR-007",
            "error",
            "the body was still incomplete after",
        )],
    );
}

// Broken transport and framing.

#[test]
fn connection_reset_mid_body() {
    hostile(
        "reset-mid-body",
        5,
        30,
        &[expect("IOP-FHIR-007", "error", "reset")],
    );
}

#[test]
fn a_status_line_that_is_not_http() {
    hostile(
        "garbage-status",
        5,
        30,
        &[expect("IOP-FHIR-007", "error", "invalid HTTP status-code")],
    );
}

#[test]
fn an_http_0_9_answer() {
    hostile(
        "http09",
        5,
        30,
        &[expect("IOP-FHIR-007", "error", "invalid HTTP version")],
    );
}

#[test]
fn a_tls_handshake_with_a_server_that_does_not_speak_tls() {
    let sandbox = Sandbox::start(&["--hostile", "invalid-json"]);
    let https = sandbox.url.replacen("http://", "https://", 1);
    let dir = tempfile::tempdir().unwrap();
    let (run, elapsed) = run_against(dir.path(), &https, "IOP-FHIR-007", 5);
    assert_survived("not-tls", &run, elapsed, Duration::from_secs(30));
    assert_verdicts(
        "not-tls",
        &run,
        &[expect("IOP-FHIR-007", "error", "TLS failure")],
    );
}

#[test]
fn a_certificate_for_another_name() {
    let sandbox = Sandbox::start(&["--tls", "--fault", "wrong-hostname-certificate"]);
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = sandbox.target_args();
    args.extend(
        [
            "--requirements",
            "IOP-FHIR-007,SEC-TLS-005",
            "--timeout",
            "5",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let clock = Instant::now();
    let run = run(dir.path(), &args, Some(&sandbox.token));
    assert_survived("wrong-name", &run, clock.elapsed(), Duration::from_secs(30));
    assert_verdicts(
        "wrong-name",
        &run,
        &[
            expect("SEC-TLS-005", "fail", "127.0.0.1"),
            expect("IOP-FHIR-007", "error", "TLS failure"),
        ],
    );
}

// Redirects are never followed, so credentials never reach another origin.

#[test]
fn a_redirect_loop() {
    hostile(
        "redirect-loop",
        5,
        30,
        &[expect("IOP-FHIR-007", "fail", "answered 302")],
    );
}

#[test]
fn a_redirect_to_another_origin_is_not_followed() {
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let other_origin = format!("http://{}", elsewhere.local_addr().unwrap());
    let sandbox = Sandbox::start(&[
        "--hostile",
        "redirect-other-host",
        "--redirect-to",
        &other_origin,
    ]);
    let dir = tempfile::tempdir().unwrap();
    let (run, elapsed) = run_against(dir.path(), &sandbox.url, "IOP-FHIR-007,API-HDR-001", 5);
    assert_survived(
        "redirect-other-host",
        &run,
        elapsed,
        Duration::from_secs(30),
    );
    assert_verdicts(
        "redirect-other-host",
        &run,
        &[expect("IOP-FHIR-007", "fail", "answered 307")],
    );
    assert!(
        elsewhere.accept().is_err(),
        "a request left the target origin for {other_origin}"
    );
}

// Headers.

#[test]
fn ten_thousand_headers() {
    hostile(
        "many-headers",
        5,
        30,
        &[expect("IOP-FHIR-007", "error", "message head is too large")],
    );
}

#[test]
fn a_1_mib_header() {
    hostile(
        "huge-header",
        5,
        30,
        &[expect("IOP-FHIR-007", "error", "message head is too large")],
    );
}

#[test]
fn duplicate_conflicting_headers() {
    hostile(
        "duplicate-headers",
        5,
        30,
        &[
            expect("API-HDR-001", "fail", "appears 2 times"),
            expect("SEC-HDR-005", "fail", "conflicting Content-Type"),
        ],
    );
}

// Valid JSON, absurd FHIR.

#[test]
fn resources_without_a_resource_type() {
    hostile(
        "missing-resource-type",
        5,
        30,
        &[expect("IOP-FHIR-007", "fail", "has no resourceType")],
    );
}

#[test]
fn a_resource_of_the_wrong_type() {
    hostile(
        "wrong-resource-type",
        5,
        30,
        &[expect("IOP-FHIR-007", "fail", "not a Patient")],
    );
}

#[test]
fn an_id_of_10000_characters() {
    hostile(
        "long-id",
        5,
        30,
        &[expect("IOP-FHIR-007", "fail", "not the one requested")],
    );
}

#[test]
fn paging_that_never_ends_is_bounded() {
    hostile(
        "paging-loop",
        5,
        60,
        &[expect(
            "IOP-SRCH-006",
            "fail",
            "paging did not end after 50 pages",
        )],
    );
}
