//! Replays every committed fuzz seed (`fuzz/corpus/<target>/`) and every past finding
//! (`fuzz/regressions/<target>/`) through its target on stable: a crash found once stays fixed.

use std::path::Path;

#[test]
fn every_seed_and_past_finding_runs_without_panicking() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for (name, target) in mts::fuzzing::TARGETS {
        let mut seeds = 0;
        for folder in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(folder).join(name)) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| target(&data));
                assert!(outcome.is_ok(), "{name} panicked on {}", path.display());
                seeds += 1;
            }
        }
        assert!(
            seeds > 0,
            "no seeds for the {name} target in fuzz/corpus/{name}/"
        );
        replayed += seeds;
    }
    assert!(replayed >= mts::fuzzing::TARGETS.len());
}

#[test]
fn every_target_has_a_cargo_fuzz_entry_point() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for (name, _) in mts::fuzzing::TARGETS {
        let source = std::fs::read_to_string(root.join(format!("fuzz_targets/{name}.rs")))
            .unwrap_or_else(|_| panic!("fuzz/fuzz_targets/{name}.rs is missing"));
        assert!(source.contains(&format!("mts::fuzzing::{name}(data)")));
        assert!(manifest.contains(&format!("name = \"{name}\"")));
    }
}
