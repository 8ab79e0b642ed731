//! FHIR R4 schema validation throughput of mts on the benchmark corpus, in the same protocol as
//! the peer validators in scripts/bench (ajv, python jsonschema): one JSON line per corpus.
//!
//!     cargo bench --bench schema_validation -- CORPUS_DIR [ROUNDS] [WARMUP]
//!
//! Documents are parsed before the clock starts; the schema is compiled once (its compile time
//! is printed too). Each document goes through `FhirSchema::validate`, the function every run
//! uses: per-resource-type validation, nested resources on their own, every error collected
//! with a FHIRPath-like location.

use std::path::Path;
use std::time::Instant;

use mts::fhir::schema::{FhirSchema, SchemaIssue};
use serde_json::Value;

fn load(dir: &Path, name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()));
    if name.ends_with(".ndjson") {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    } else {
        vec![serde_json::from_str(&text).expect("a JSON document")]
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let dir = Path::new(args.first().map_or("/tmp/mts-bench/corpus", String::as_str)).to_owned();
    let rounds: u32 = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    // Untimed rounds first, as the peers get (a JIT needs them; here they compile the per-type
    // validators and warm the caches). At least one, for the compilation.
    let warmup: u32 = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(1).max(1);
    let clock = Instant::now();
    let schema = mts::fhir::schema::FhirSchema::embedded().expect("the embedded schema");
    let compile_ms = clock.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{}",
        serde_json::json!({"tool": format!("mts {}", env!("CARGO_PKG_VERSION")), "compile_ms": compile_ms})
    );
    for (corpus, file) in [
        ("valid", "valid.ndjson"),
        ("invalid", "invalid.ndjson"),
        ("bundles", "bundles.ndjson"),
        ("big-bundle", "big-bundle.json"),
    ] {
        let documents = load(&dir, file);
        // The first untimed round compiles the per-type validators the corpus needs, as the
        // first exchanges of a run do; the big Bundle gets that round only, as in the peers.
        let warmup = if corpus == "big-bundle" { 1 } else { warmup };
        // The compiled rules (what runs use), then the general JSON Schema validator they fall
        // back to, on the same documents: the gain of compiling, measured in the same run.
        type Validate = fn(&FhirSchema, &Value) -> Vec<SchemaIssue>;
        let engines: [(&str, Validate); 2] = [
            ("mts", FhirSchema::validate),
            ("mts-general", FhirSchema::validate_with_general_validator),
        ];
        for (tool, validate) in engines {
            for _ in 0..warmup {
                for document in &documents {
                    validate(&schema, document);
                }
            }
            let mut invalid = 0;
            let mut errors = 0;
            let clock = Instant::now();
            for _ in 0..rounds {
                invalid = 0;
                errors = 0;
                for document in &documents {
                    let issues = validate(&schema, document);
                    invalid += usize::from(!issues.is_empty());
                    errors += issues.len();
                }
            }
            let seconds = clock.elapsed().as_secs_f64();
            println!(
                "{}",
                serde_json::json!({
                    "tool": format!("{tool} {}", env!("CARGO_PKG_VERSION")),
                    "corpus": corpus,
                    "documents": documents.len(),
                    "invalid_documents": invalid,
                    "errors": errors,
                    "rounds": rounds,
                    "seconds": seconds,
                })
            );
        }
    }
}
