//! Configuration layering: defaults → file → `[profile.NAME]` → MTS_* environment → flags;
//! unknown keys rejected with a line and a suggestion; `mts config show` with secrets masked;
//! the committed JSON Schema of `mts.toml` matches the types.

mod common;

use std::path::Path;

use common::{mts, run_with_env};

const FILE: &str = r#"
[run]
profile = "all"
concurrency = 8

[profile.ci.run]
concurrency = 2
timeout_seconds = 5

[profile.ci.gate]
strict = true
"#;

fn write(dir: &Path, text: &str) -> String {
    let path = dir.join("mts.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn show(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = mts();
    command.args(["config", "show"]).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_profile_overrides_the_file_key_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), FILE);
    let (code, plain, _) = show(&["--config", &path], &[]);
    assert_eq!(code, 0);
    assert!(plain.contains("concurrency = 8"), "{plain}");
    assert!(plain.contains("# profiles in the file: ci"), "{plain}");
    let (code, ci, _) = show(&["--config", &path, "--config-profile", "ci"], &[]);
    assert_eq!(code, 0);
    for expected in [
        "concurrency = 2",
        "timeout_seconds = 5",
        "profile = \"all\"",
        "strict = true",
    ] {
        assert!(ci.contains(expected), "missing {expected}:\n{ci}");
    }
    // The same profile chosen through the environment.
    let (_, from_env, _) = show(&["--config", &path], &[("MTS_CONFIG_PROFILE", "ci")]);
    assert!(from_env.contains("concurrency = 2"), "{from_env}");

    let (code, _, stderr) = show(&["--config", &path, "--config-profile", "cj"], &[]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("no [profile.cj] (did you mean `ci`?)"),
        "{stderr}"
    );
}

#[test]
fn unknown_keys_name_the_line_and_suggest_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "[run]\nconcurency = 3\n");
    let (code, _, stderr) = show(&["--config", &path], &[]);
    assert_eq!(code, 3);
    assert!(stderr.contains("mts.toml:2:"), "{stderr}");
    assert!(stderr.contains("did you mean `concurrency`?"), "{stderr}");

    let path = write(
        dir.path(),
        "[run]\nconcurrency = 3\n\n[profile.ci.run]\ntimeout = 5\n",
    );
    let (code, _, stderr) = show(&["--config", &path], &[]);
    assert_eq!(code, 3);
    assert!(stderr.contains("mts.toml:4:"), "{stderr}");
    assert!(stderr.contains("in [profile.ci]"), "{stderr}");
    assert!(
        stderr.contains("did you mean `timeout_seconds`?"),
        "{stderr}"
    );
}

#[test]
fn secrets_in_the_environment_are_masked() {
    let (code, out, _) = show(
        &[],
        &[
            ("MTS_TOKEN", "very-secret-token-value"),
            ("MTS_TARGET", "https://api.example/FHIR/R4"),
        ],
    );
    assert_eq!(code, 0);
    assert!(!out.contains("very-secret-token-value"), "{out}");
    assert!(out.contains("MTS_TOKEN=[REDACTED]"), "{out}");
    assert!(
        out.contains("MTS_TARGET=https://api.example/FHIR/R4"),
        "{out}"
    );
}

#[test]
fn config_show_says_where_each_setting_comes_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "[run]\nconcurrency = 8\ntimeout_seconds = 12.0\n[auth]\ntoken_url = \"https://file/token\"\n",
    );
    let (code, out, _) = show(
        &["--config", &path],
        &[
            ("MTS_CONCURRENCY", "4"),
            ("MTS_TOKEN_URL", "https://env/token"),
        ],
    );
    assert_eq!(code, 0);
    for expected in [
        "concurrency = 4  # environment MTS_CONCURRENCY",
        "timeout_seconds = 12  # file [run] timeout_seconds",
        "token_url = https://env/token  # environment MTS_TOKEN_URL",
        "profile = apim  # default",
    ] {
        assert!(out.contains(expected), "missing {expected}:\n{out}");
    }
    let (code, _, stderr) = show(&["--config", &path], &[("MTS_CONCURRENCY", "0")]);
    assert_eq!(code, 2, "a bad variable is a usage error, as a bad flag is");
    assert!(stderr.contains("MTS_CONCURRENCY=0: "), "{stderr}");
}

#[test]
fn the_environment_overrides_the_file_and_flags_override_both() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "[run]\nprofile = \"all\"\n");
    let profile_of = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["--config", path.as_str(), "--requirements", "IOP-FHIR-001"];
        args.extend_from_slice(extra);
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let run = run_with_env(dir.path(), &args, &env);
        run.report()["profile"].as_str().unwrap().to_owned()
    };
    assert_eq!(profile_of(&[], &[]), "all", "the file");
    assert_eq!(
        profile_of(&[], &[("MTS_PROFILE", "gpc")]),
        "gpc",
        "the environment"
    );
    assert_eq!(
        profile_of(&["--profile", "ukca"], &[("MTS_PROFILE", "gpc")]),
        "ukca",
        "the flag"
    );
}

#[test]
fn the_committed_config_schema_matches_the_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(mts::config::SCHEMA_PATH);
    let generated = mts::config::config_schema_text();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date: run UPDATE_SNAPSHOTS=1 cargo test --test config",
        mts::config::SCHEMA_PATH
    );
    // And every example configuration in the README is valid against it, and loads.
    let schema: serde_json::Value = serde_json::from_str(&committed).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let examples: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    assert!(examples.len() >= 2);
    for example in examples {
        if example.trim_start().starts_with("[[attestation]]") {
            // An attestations file, not an mts.toml: it loads as one (its evidence file is not
            // here, which is a problem the run reports, not an error).
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("attestations.toml");
            std::fs::write(&file, example).unwrap();
            let catalogue = mts::catalogue::load_embedded().unwrap();
            mts::runner::attest::Attestations::load(&file, &catalogue).unwrap();
            continue;
        }
        mts::config::ConfigFile::parse(Path::new("README.md"), example).unwrap();
        let table: toml::Table = toml::from_str(example).unwrap();
        let json = serde_json::to_value(table).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{example}");
    }
}
