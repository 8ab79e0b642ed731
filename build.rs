//! Embeds the Gherkin features and the requirement catalogue into the binary, so a single `mts`
//! executable carries the whole suite. `--features-dir` / `--catalogue-dir` can still override them.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, extension, out);
        } else if path.extension().and_then(|e| e.to_str()) == Some(extension) {
            out.push(path);
        }
    }
}

fn table(name: &str, root: &Path, dir: &str, extension: &str, code: &mut String) {
    let base = root.join(dir);
    println!("cargo:rerun-if-changed={}", base.display());
    let mut files = Vec::new();
    collect(&base, extension, &mut files);
    writeln!(code, "pub static {name}: &[(&str, &str)] = &[").unwrap();
    for file in files {
        println!("cargo:rerun-if-changed={}", file.display());
        let relative = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            code,
            "    ({relative:?}, include_str!({:?})),",
            file.display().to_string()
        )
        .unwrap();
    }
    writeln!(code, "];").unwrap();
}

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let mut code = String::new();
    table("FEATURES", &root, "features", "feature", &mut code);
    table(
        "REQUIREMENT_FILES",
        &root,
        "standards/requirements",
        "toml",
        &mut code,
    );
    table(
        "FRAMEWORK_FILES",
        &root,
        "standards/frameworks",
        "toml",
        &mut code,
    );
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("embedded.rs");
    fs::write(out, code).unwrap();
    println!("cargo:rerun-if-changed=standards/catalogue.toml");
    println!("cargo:rerun-if-changed=standards/fhir-r4/fhir.schema.json");
}
