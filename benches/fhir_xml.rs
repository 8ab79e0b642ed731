//! FHIR XML to JSON throughput of mts on UK Core's published examples, in the protocol of
//! `scripts/bench/fhirjs/xml_to_json.js` (FHIR.js, the peer): one JSON line per measure.
//!
//!     cargo bench --bench fhir_xml -- [DIR] [ROUNDS] [WARMUP]
//!
//! DIR defaults to `../shared/data/uk-core/examples`. Files are read before the clock starts; the
//! definitions are loaded once (their load time is printed). Each round converts every file
//! with `fhir::xml::to_json`; "to_string" also writes the JSON text, as FHIR.js's `xmlToJson`
//! does. Prints the median round as documents per second and MB of XML per second.

use std::time::Instant;

mod support;

use mts::fhir::definitions::Definitions;
use mts::fhir::xml;

fn main() {
    let Some(support::Examples {
        files,
        rounds,
        warmup,
    }) = support::examples(20, 3)
    else {
        return;
    };
    let documents: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
        .collect();
    let bytes: usize = documents.iter().map(String::len).sum();

    let clock = Instant::now();
    let definitions = Definitions::core().expect("the core definitions");
    let load_ms = clock.elapsed().as_secs_f64() * 1000.0;
    // The first conversion of each type builds its snapshot index.
    let clock = Instant::now();
    for document in &documents {
        xml::to_json(document, &definitions).expect("a UK Core example converts");
    }
    let first_round_ms = clock.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{}",
        serde_json::json!({
            "tool": format!("mts {}", env!("CARGO_PKG_VERSION")),
            "definitions_load_ms": load_ms,
            "first_round_ms": first_round_ms,
        })
    );

    for (measure, write_text) in [("to_json", false), ("to_string", true)] {
        let convert = || {
            for document in &documents {
                let json = xml::to_json(document, &definitions).expect("converts");
                if write_text {
                    std::hint::black_box(serde_json::to_string(&json).expect("serialises"));
                } else {
                    std::hint::black_box(json);
                }
            }
        };
        for _ in 0..warmup {
            convert();
        }
        let mut seconds: Vec<f64> = (0..rounds.max(1))
            .map(|_| {
                let clock = Instant::now();
                convert();
                clock.elapsed().as_secs_f64()
            })
            .collect();
        seconds.sort_by(f64::total_cmp);
        let median = seconds[seconds.len() / 2];
        println!(
            "{}",
            serde_json::json!({
                "tool": format!("mts {}", env!("CARGO_PKG_VERSION")),
                "measure": measure,
                "documents": documents.len(),
                "bytes": bytes,
                "rounds": seconds.len(),
                "median_round_ms": median * 1000.0,
                "documents_per_second": documents.len() as f64 / median,
                "mb_per_second": bytes as f64 / median / 1e6,
            })
        );
    }
}
