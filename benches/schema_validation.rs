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
    let rounds_of =
        |tool: &str, corpus: &str, warmup: u32, count: usize, judge: &dyn Fn(usize) -> usize| {
            let line = time_rounds(rounds, warmup, count, judge);
            line.print(tool, corpus, rounds);
        };
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
            rounds_of(tool, corpus, warmup, documents.len(), &|i| {
                validate(&schema, &documents[i]).len()
            });
        }
    }
    // From bytes: parse each document, then validate it, as a run does with every body it
    // receives. Each parsed body is fresh in the cache, as in a run; the pre-parsed corpora
    // above walk 5,444 documents spread over the heap.
    for (corpus, file) in [
        ("valid-bytes", "valid.ndjson"),
        ("invalid-bytes", "invalid.ndjson"),
    ] {
        let text = std::fs::read_to_string(dir.join(file)).expect("the corpus");
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        rounds_of("mts", corpus, warmup, lines.len(), &|i| {
            let document: Value = serde_json::from_str(lines[i]).expect("a JSON line");
            schema.validate(&document).len()
        });
    }
}

/// What one tool did with one corpus.
struct Line {
    documents: usize,
    invalid: usize,
    errors: usize,
    seconds: f64,
}

impl Line {
    fn print(&self, tool: &str, corpus: &str, rounds: u32) {
        println!(
            "{}",
            serde_json::json!({
                "tool": format!("{tool} {}", env!("CARGO_PKG_VERSION")),
                "corpus": corpus,
                "documents": self.documents,
                "invalid_documents": self.invalid,
                "errors": self.errors,
                "rounds": rounds,
                "seconds": self.seconds,
            })
        );
    }
}

/// `warmup` untimed rounds, then `rounds` timed ones, of `judge` (which returns the number of
/// issues) over documents `0..count`; counts are per round.
fn time_rounds(rounds: u32, warmup: u32, count: usize, judge: &dyn Fn(usize) -> usize) -> Line {
    for _ in 0..warmup {
        for i in 0..count {
            judge(i);
        }
    }
    let (mut invalid, mut errors) = (0, 0);
    let clock = Instant::now();
    for _ in 0..rounds {
        (invalid, errors) = (0, 0);
        for i in 0..count {
            let found = judge(i);
            invalid += usize::from(found > 0);
            errors += found;
        }
    }
    Line {
        documents: count,
        invalid,
        errors,
        seconds: clock.elapsed().as_secs_f64(),
    }
}
