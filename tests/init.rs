//! `mts init` against the sandbox: the file it writes is a valid configuration holding no
//! secret, and the next `mts run` in that folder needs nothing but the token.

mod common;

use std::path::Path;

use common::{Sandbox, mts};

fn init(dir: &Path, args: &[&str], token: Option<&str>) -> std::process::Output {
    let mut command = mts();
    command.current_dir(dir).arg("init").args(args);
    if let Some(token) = token {
        command.env("MTS_TOKEN", token);
    }
    command.output().expect("run mts init")
}

/// The file loads as `mts.toml` and matches the committed JSON Schema editors use.
fn assert_valid_config(text: &str) {
    let parsed: toml::Table = toml::from_str(text).expect("mts.toml is TOML");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("standards/schema/mts-config.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let instance = serde_json::to_value(&parsed).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{text}");
}

#[test]
fn init_writes_a_config_the_next_run_needs_nothing_but_the_token_for() {
    let sandbox = Sandbox::start(&["--tls"]);
    let ca = sandbox.ca_cert.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = init(
        dir.path(),
        &["--target", &sandbox.url, "--ca-cert", &ca],
        Some(&sandbox.token),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("mts.toml")).unwrap();
    assert_valid_config(&text);
    assert!(
        !text.contains(&sandbox.token),
        "a secret was written:\n{text}"
    );
    let config: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(config["target"]["url"].as_str(), Some(sandbox.url.as_str()));
    assert_eq!(config["run"]["profile"].as_str(), Some("apim"), "{text}");
    assert_eq!(
        config["data"]["patient"]["with-records"]["nhs_number"].as_str(),
        Some("9000000009"),
        "{text}"
    );
    assert!(
        text.contains("found at [base]/openapi.json"),
        "the sandbox's own OpenAPI document is found: {text}"
    );

    // The next run, from that folder, with the token alone.
    let run = common::run_in(
        Some(dir.path()),
        dir.path(),
        &["--quiet"],
        &[("MTS_TOKEN".to_owned(), sandbox.token.clone())],
    );
    assert_eq!(run.code(), 0, "{}{}", run.stdout(), run.stderr());
    assert_eq!(run.report()["target"], sandbox.url.as_str());
    assert_eq!(run.report()["profile"], "apim");
    assert_eq!(run.report()["verdict"], "conformant");

    // An existing file is kept unless --force says otherwise.
    let again = init(
        dir.path(),
        &["--target", &sandbox.url, "--ca-cert", &ca],
        None,
    );
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mts.toml")).unwrap(),
        text
    );
}

#[test]
fn init_names_what_it_could_not_find_and_how_to_give_it() {
    let sandbox = Sandbox::start(&["--tls"]);
    let ca = sandbox.ca_cert.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // No token: the target asks for one. One NHS number it does not hold, one it does.
    let args = [
        "--target",
        &sandbox.url,
        "--ca-cert",
        &ca,
        "--nhs-number",
        "9111231130",
        "--nhs-number",
        "9000000017",
        "--file",
        "supplier.toml",
    ];
    let output = init(dir.path(), &args, None);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("supplier.toml")).unwrap();
    assert_valid_config(&text);
    assert!(text.contains("The target asked for credentials"), "{text}");
    assert!(text.contains("MTS_TOKEN"), "{text}");

    // With the token the patients are seen: 9111231130 is not held, 9000000017 is.
    let output = init(
        dir.path(),
        &[&args[..], &["--force"]].concat(),
        Some(&sandbox.token),
    );
    assert_eq!(output.status.code(), Some(0));
    let text = std::fs::read_to_string(dir.path().join("supplier.toml")).unwrap();
    assert_valid_config(&text);
    let config: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(
        config["data"]["patient"]["existing"]["nhs_number"].as_str(),
        Some("9000000017"),
        "{text}"
    );
    assert!(
        text.contains("NHS number 9111231130 was not found"),
        "{text}"
    );
}

#[test]
fn a_target_that_cannot_be_reached_gets_no_file() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let output = init(
        dir.path(),
        &["--target", &format!("http://127.0.0.1:{port}/FHIR/R4")],
        None,
    );
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!dir.path().join("mts.toml").exists());
}
