//! The layers only point down. Each top-level module of `src/` has a layer; a `crate::` path in
//! a module may name only modules of lower layers. A new upward import, or a new module nobody
//! placed, fails here, with the file and line.

use std::path::Path;

/// From the bottom up. Modules on one line are peers and may not name each other either: a
/// module that needs a peer belongs a layer above it.
const LAYERS: &[&[&str]] = &[
    // Helpers with no knowledge of the domain; the files embedded at build time.
    &["util", "exit", "embedded"],
    // Pure data: the requirement catalogue, GP Connect's constants.
    &["catalogue", "gpc"],
    // The Gherkin suite loader and the verdict rules: pure, over the catalogue.
    &["features", "verdict"],
    // Protocols and formats, no judgement.
    &["tls", "fhir"],
    &["http"],
    &["auth", "openapi"],
    // The user's configuration, then what the target declares.
    &["config"],
    &["target"],
    // The report model every judgement writes into.
    &["report"],
    // Judgements over exchanges, then the Gherkin steps that send and judge.
    &["checks"],
    &["steps"],
    // Discover, plan, execute, judge.
    &["runner"],
    // The reference server (started by the runner only through `runner::Target`).
    &["sandbox"],
    // Tools over all of the above, then the commands.
    &["lint", "fuzzing", "cli"],
    &["commands"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::name` paths in `line`: the name after each `crate::`.
fn crate_paths(line: &str) -> Vec<&str> {
    line.match_indices("crate::")
        .filter(|(at, _)| {
            // Not `mts_crate::` or the like.
            line[..*at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
        })
        .map(|(at, _)| {
            let rest = &line[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn imports_only_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_str().unwrap().trim_end_matches(".rs");
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = layer_of(module) else {
            problems.push(format!(
                "src/{module}: not placed in a layer (add it to LAYERS in tests/layers.rs)"
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            for named in crate_paths(line) {
                if named == module {
                    continue;
                }
                match layer_of(named) {
                    None => problems.push(format!(
                        "{}:{}: `crate::{named}` is not placed in a layer",
                        relative.display(),
                        number + 1
                    )),
                    Some(theirs) if theirs >= own => problems.push(format!(
                        "{}:{}: `{module}` names `crate::{named}`, which is {}",
                        relative.display(),
                        number + 1,
                        if theirs == own {
                            "its peer"
                        } else {
                            "above it"
                        }
                    )),
                    Some(_) => {}
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "imports that do not point down:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_scanner_finds_crate_paths() {
    assert_eq!(
        crate_paths("use crate::http::{Exchange}; let x = crate::util::preview(a);"),
        ["http", "util"]
    );
    assert!(crate_paths("use my_crate::thing;").is_empty());
}
