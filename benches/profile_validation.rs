//! Profile validation throughput of mts on UK Core's published examples, in the protocol of
//! `scripts/bench/fhirjs/validate.js` (FHIR.js, the peer): one JSON line per measure.
//!
//!     cargo bench --bench profile_validation -- [DIR] [ROUNDS] [WARMUP]
//!
//! DIR defaults to `../shared/data/uk-core/examples`. The examples are converted to JSON before
//! the clock starts (the peer is given the same JSON). Measures:
//! - `core`: each resource against its core type only (what FHIR.js validates);
//! - `uk-core`: each resource against its core type, its claims and the UK Core profile of its
//!   type (`mts validate`);
//! - `bundle-N`: one searchset Bundle of N entries (the examples over and over) held to UK
//!   Core, for N = 1,000 and 10,000, to show the cost stays linear. The 10,000-entry Bundle is
//!   also written to `$MTS_BENCH_DIR/bundle-10000.json` (default /tmp/mts-bench) so peak memory
//!   can be measured on the binary: `/usr/bin/time -v target/release/mts validate FILE`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

mod support;

use mts::fhir::ig;
use mts::fhir::profile::validate::{Expectations, Validator};
use serde_json::{Value, json};

fn median_seconds(rounds: usize, warmup: usize, mut work: impl FnMut()) -> (f64, usize) {
    for _ in 0..warmup {
        work();
    }
    let mut seconds: Vec<f64> = (0..rounds.max(1))
        .map(|_| {
            let clock = Instant::now();
            work();
            clock.elapsed().as_secs_f64()
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    (seconds[seconds.len() / 2], seconds.len())
}

fn main() {
    let Some(support::Examples {
        files,
        rounds,
        warmup,
    }) = support::examples(10, 2)
    else {
        return;
    };
    let clock = Instant::now();
    let definitions = ig::uk_core().expect("the core and UK Core definitions");
    let load_ms = clock.elapsed().as_secs_f64() * 1000.0;
    let resources: Vec<Value> = files
        .iter()
        .map(|f| {
            let text = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            ig::parse_document(&text, &definitions).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let out = std::env::var("MTS_BENCH_DIR").unwrap_or_else(|_| "/tmp/mts-bench".into());
    let _ = std::fs::create_dir_all(&out);
    let _ = std::fs::write(
        Path::new(&out).join("uk-core-examples.json"),
        serde_json::to_string(&resources).expect("serialises"),
    );
    let validator: Validator = mts::fhir::profile::validator(Arc::clone(&definitions));
    let expectations = Expectations {
        by_type: mts::fhir::profile::uk_core_type_profiles(&definitions),
        ..Expectations::default()
    };
    // The first pass compiles every profile's snapshot and expands its value sets.
    let clock = Instant::now();
    for resource in &resources {
        std::hint::black_box(validator.validate_with(resource, &expectations));
    }
    let first_round_ms = clock.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{}",
        json!({
            "tool": format!("mts {}", env!("CARGO_PKG_VERSION")),
            "definitions_load_ms": load_ms,
            "first_round_ms": first_round_ms,
        })
    );

    let report = |measure: &str, count: usize, (median, rounds): (f64, usize)| {
        println!(
            "{}",
            json!({
                "tool": format!("mts {}", env!("CARGO_PKG_VERSION")),
                "measure": measure,
                "resources": count,
                "rounds": rounds,
                "median_round_ms": median * 1000.0,
                "resources_per_second": count as f64 / median,
            })
        );
    };
    report(
        "core",
        resources.len(),
        median_seconds(rounds, warmup, || {
            for resource in &resources {
                let kind = resource["resourceType"].as_str().unwrap_or("");
                std::hint::black_box(validator.validate(resource, kind));
            }
        }),
    );
    report(
        "uk-core",
        resources.len(),
        median_seconds(rounds, warmup, || {
            for resource in &resources {
                std::hint::black_box(validator.validate_with(resource, &expectations));
            }
        }),
    );
    for size in [1_000usize, 10_000] {
        let entries: Vec<Value> = resources
            .iter()
            .filter(|r| r["resourceType"] != "Bundle")
            .cycle()
            .take(size)
            .enumerate()
            .map(|(i, r)| json!({"fullUrl": format!("urn:uuid:00000000-0000-4000-8000-{i:012}"), "resource": r, "search": {"mode": "match"}}))
            .collect();
        let bundle =
            json!({"resourceType": "Bundle", "type": "searchset", "total": size, "entry": entries});
        if size == 10_000 {
            let _ = std::fs::write(
                Path::new(&out).join("bundle-10000.json"),
                serde_json::to_string(&bundle).expect("serialises"),
            );
        }
        report(
            &format!("bundle-{size}"),
            size,
            median_seconds(rounds.min(3), 1, || {
                std::hint::black_box(validator.validate_with(&bundle, &expectations));
            }),
        );
    }
}
