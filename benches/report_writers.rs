//! How long the report writers take on a big run: 5,000 exchanges with 2 KiB FHIR bodies, the
//! whole catalogue judged, a fifth of it failing with evidence. Prints the median of 5 rounds per
//! format and for writing the whole folder, and the file sizes.
//!
//!     cargo bench --bench report_writers [-- EXCHANGES]
//!
//! The report folder of the last round is left in $TMPDIR/mts-bench-report (open report.html).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mts::catalogue::{Level, Profile, RequirementId, Status};
use mts::http::{ExchangeId, RecordedRequest};
use mts::report::{
    CatalogueInfo, ExchangeRecord, Failure, FailureRef, Format, Harness, Report, RequirementResult,
    ResponseRecord, RunSettingsRecord, RunVerdict, ScenarioRef, SourceRecord, Verdict,
};

fn body(n: usize) -> String {
    let names: Vec<String> = (0..12)
        .map(|i| format!(r#"{{"family":"Smith{i}","given":["Jane","Q"],"use":"official"}}"#))
        .collect();
    format!(
        r#"{{"resourceType":"Patient","id":"{n}","meta":{{"versionId":"2","lastUpdated":"2025-11-01T09:00:00+00:00"}},"identifier":[{{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}}],"name":[{}],"gender":"female","birthDate":"2010-10-22"}}"#,
        names.join(",")
    )
}

fn synthetic(exchanges: usize) -> Report {
    let records: Vec<ExchangeRecord> = (0..exchanges)
        .map(|n| ExchangeRecord {
            id: ExchangeId(format!("features/fhir/read.feature:{}#{}", n / 10, n % 10)),
            label: "read the test patient".into(),
            started: "2026-11-22T01:00:00.000Z".into(),
            elapsed_ms: 12,
            request: RecordedRequest {
                method: "GET".into(),
                url: format!("https://api.example.nhs.uk/FHIR/R4/Patient/{n}"),
                headers: vec![
                    ("Accept".into(), "application/fhir+json".into()),
                    ("Authorization".into(), "Bearer [REDACTED]".into()),
                    (
                        "X-Request-ID".into(),
                        "60e0b220-8136-4ca5-ae46-1d97ef59d068".into(),
                    ),
                ],
                body: None,
            },
            response: Some(ResponseRecord {
                status: 200,
                http_version: "HTTP/1.1".into(),
                headers: vec![
                    ("content-type".into(), "application/fhir+json".into()),
                    (
                        "x-request-id".into(),
                        "60e0b220-8136-4ca5-ae46-1d97ef59d068".into(),
                    ),
                    ("cache-control".into(), "no-store".into()),
                ],
                body: body(n),
                body_size: 2048,
                body_truncated: false,
            }),
            error: None,
            retried: None,
            kind: mts::http::ExchangeKind::Fhir,
        })
        .collect();
    let requirements: Vec<RequirementResult> = (0..90)
        .map(|n| {
            let failing = n % 5 == 0;
            let evidence: Vec<ExchangeId> = records
                .iter()
                .skip(n * 50)
                .take(50)
                .map(|r| r.id.clone())
                .collect();
            RequirementResult {
                id: format!("IOP-FHIR-{:03}", n + 1)
                    .parse::<RequirementId>()
                    .expect("id"),
                level: Level::Must,
                title: format!("Requirement {n}"),
                area: format!("Area {}", n % 12),
                statement: "The server has to do the right thing, as the source says.".into(),
                sources: vec![SourceRecord {
                    code: "S3".into(),
                    title: "Personal Demographics Service FHIR R4 API".into(),
                    url: "https://github.com/NHSDigital/personal-demographics-service-api".into(),
                    detail: "OpenAPI specification".into(),
                }],
                status: Status::Automated,
                verdict: if failing {
                    Verdict::Fail
                } else {
                    Verdict::Pass
                },
                blocking: failing,
                reason: failing.then(|| "answered 200, expected 400".to_owned()),
                reason_kind: None,
                evidence: failing
                    .then(|| format!("features/fhir/read.feature:{n}: GET /Patient/{n} → 200")),
                profile_rule: None,
                scenarios: vec![ScenarioRef {
                    name: "a scenario".into(),
                    location: format!("features/fhir/read.feature:{n}"),
                    verdict: if failing {
                        Verdict::Fail
                    } else {
                        Verdict::Pass
                    },
                    reason: None,
                    reason_kind: None,
                }],
                checks: Vec::new(),
                failures: if failing {
                    evidence
                        .iter()
                        .take(3)
                        .map(|e| FailureRef {
                            source: format!("features/fhir/read.feature:{n}"),
                            failure: Failure::new("answered 200, expected 400")
                                .expected("HTTP 400")
                                .actual("HTTP 200")
                                .exchange(e),
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                notes: Vec::new(),
                exchanges: evidence,
            }
        })
        .collect();
    let mut counts = BTreeMap::new();
    counts.insert("pass".to_owned(), 72);
    counts.insert("fail".to_owned(), 18);
    Report {
        schema_version: mts::report::REPORT_SCHEMA_VERSION,
        run_id: "4f1f7f40-6d0c-4b8e-9d7a-2a7c7f0e9b11".into(),
        verdict: RunVerdict::NonConformant,
        verdict_reason: "18 MUST requirement(s) failed".into(),
        target: "https://api.example.nhs.uk/FHIR/R4".into(),
        profile: Profile::Apim,
        harness: Harness {
            name: "mts".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        catalogue: CatalogueInfo {
            version: "bench".into(),
            digest: "sha256:0".into(),
        },
        coverage: mts::report::Coverage {
            judged: 90,
            applicable: 90,
        },
        target_model: None,
        test_data_kit: Vec::new(),
        started: "2026-11-22T01:00:00.000Z".into(),
        duration_ms: 60_000,
        settings: RunSettingsRecord {
            concurrency: 8,
            timeout_seconds: 30.0,
            allow_writes: false,
            requirements: None,
            tags: None,
            levels: Vec::new(),
            areas: Vec::new(),
            shard: None,
            strict: false,
            waivers: Vec::new(),
            attestations: Vec::new(),
            sandbox_faults: Vec::new(),
        },
        tls: None,
        counts,
        requirements,
        scenarios: Vec::new(),
        checks: Vec::new(),
        harness_errors: Vec::new(),
        exchanges: records,
        written: None,
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let exchanges: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5_000);
    let report = synthetic(exchanges);
    println!("report writers, {exchanges} exchanges, median of 5 rounds");
    for format in Format::ALL {
        let mut size = 0;
        let samples: Vec<Duration> = (0..5)
            .map(|_| {
                let clock = Instant::now();
                size = mts::report::render(&report, format).expect("render").len();
                clock.elapsed()
            })
            .collect();
        println!(
            "  {:<16} {:>8.1} ms  {:>8.1} MiB",
            format.file_name(),
            median(samples).as_secs_f64() * 1000.0,
            size as f64 / (1024.0 * 1024.0)
        );
    }
    let dir = std::env::temp_dir().join("mts-bench-report");
    let samples: Vec<Duration> = (0..5)
        .map(|_| {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("bench folder");
            let clock = Instant::now();
            mts::report::write_all(&report, &dir, &Format::ALL, None).expect("write_all");
            clock.elapsed()
        })
        .collect();
    println!(
        "  {:<16} {:>8.1} ms  (every format, atomic writes, manifest hashing) -> {}",
        "whole folder",
        median(samples).as_secs_f64() * 1000.0,
        dir.display()
    );
}
