//! A supplier's self-signed test certificate pinned with `--ca-cert`: made the usual way
//! (`openssl req -x509`, so CA:TRUE on the leaf, which webpki refuses as an end entity), served
//! by `mts sandbox --tls-cert --tls-key`, and trusted because it is pinned — but only that
//! certificate, only in date and only for the host it names. Needs the `openssl` command
//! (`.ci/run` installs it when missing).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Sandbox, run_with_env};

/// `openssl req -x509` exactly as the supplier ran it, in `dir`, with `san` as the
/// subjectAltName; returns (cert.pem, key.pem).
fn openssl_certificate(dir: &Path, san: &str) -> (PathBuf, PathBuf) {
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
            "-addext",
            &format!("subjectAltName={san}"),
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed");
    assert!(status.success(), "openssl req -x509 failed");
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// A self-signed CA:TRUE certificate for 127.0.0.1 and localhost that expired yesterday
/// (`openssl req -days` cannot date one in the past); returns (cert.pem, key.pem).
fn expired_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(31);
    params.not_after = now - time::Duration::days(1);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

fn serve(cert: &Path, key: &Path) -> Sandbox {
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    Sandbox::start(&["--tls-cert", &cert, "--tls-key", &key])
}

/// `mts run` against `sandbox`, pinning `pinned`, limited to `requirements` when given.
fn run_pinned(sandbox: &Sandbox, pinned: &Path, requirements: Option<&str>) -> common::Run {
    let dir = tempfile::tempdir().unwrap();
    let pinned = pinned.display().to_string();
    let mut args = vec!["--target", &sandbox.url, "--ca-cert", &pinned];
    if let Some(requirements) = requirements {
        args.extend(["--requirements", requirements]);
    }
    run_with_env(dir.path(), &args, &sandbox.client_env())
}

fn text_of(value: &serde_json::Value) -> String {
    value.to_string()
}

#[test]
fn a_pinned_openssl_self_signed_certificate_lets_the_api_be_judged() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = openssl_certificate(dir.path(), "DNS:localhost,IP:127.0.0.1");
    let sandbox = serve(&cert, &key);
    // The sandbox made no CA, so it names none.
    assert_eq!(sandbox.ca_cert, None);
    assert!(
        sandbox.url.starts_with("https://127.0.0.1:"),
        "{}",
        sandbox.url
    );
    let run = run_pinned(&sandbox, &cert, None);
    let report = text_of(run.report());
    assert!(!report.contains("CaUsedAsEndEntity"), "{}", run.stdout());
    let errors: Vec<String> = run.report()["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "error")
        .map(|r| format!("{}: {}", r["id"], r["reason"]))
        .collect();
    assert!(
        errors
            .iter()
            .all(|e| !e.contains("certificate") && !e.contains("TLS")),
        "{errors:?}"
    );
    assert_ne!(run.report()["verdict"], "incomplete", "{}", run.stdout());
    for id in ["IOP-FHIR-001", "IOP-FHIR-007", "SEC-TLS-002"] {
        assert_eq!(
            run.requirement(id)["verdict"],
            "pass",
            "{id}: {}",
            run.stdout()
        );
    }
    let tls = &run.report()["tls"];
    assert_eq!(tls["trust"], "pinned-certificate", "{tls}");
    assert_eq!(tls["chain"][0]["ca"], true, "{tls}");
    // Pass, with the reason it was trusted at all.
    let certificate = run.requirement("SEC-TLS-005");
    assert_eq!(certificate["verdict"], "pass", "{certificate}");
    let notes = text_of(&certificate["notes"]);
    assert!(
        notes.contains(
            "trusted only because it was pinned with --ca-cert (self-signed, CA:TRUE leaf)"
        ),
        "{notes}"
    );
}

#[test]
fn a_different_pinned_certificate_does_not_make_the_server_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (served, key) = openssl_certificate(dir.path(), "DNS:localhost,IP:127.0.0.1");
    let other_dir = tempfile::tempdir().unwrap();
    let (other, _) = openssl_certificate(other_dir.path(), "DNS:localhost,IP:127.0.0.1");
    let sandbox = serve(&served, &key);
    let run = run_pinned(&sandbox, &other, Some("IOP-FHIR-007,SEC-TLS-005"));
    assert_eq!(run.report()["verdict"], "incomplete", "{}", run.stdout());
    let api = run.requirement("IOP-FHIR-007");
    assert_eq!(api["verdict"], "error", "{api}");
    assert!(text_of(api).contains("certificate"), "{api}");
    let tls = &run.report()["tls"];
    assert!(tls["trust"].is_null(), "{tls}");
    let error = tls["verification_error"].as_str().unwrap_or_default();
    assert!(!error.is_empty() && !error.contains("pinned"), "{tls}");
    assert_eq!(run.requirement("SEC-TLS-005")["verdict"], "fail");
}

#[test]
fn an_expired_pinned_certificate_fails_sec_tls_005_naming_the_dates() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = expired_certificate(dir.path());
    let sandbox = serve(&cert, &key);
    let run = run_pinned(&sandbox, &cert, Some("SEC-TLS-005"));
    let certificate = run.requirement("SEC-TLS-005");
    assert_eq!(certificate["verdict"], "fail", "{certificate}");
    let reason = certificate["reason"].as_str().unwrap_or_default();
    let not_after = run.report()["tls"]["chain"][0]["not_after"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!not_after.is_empty());
    assert!(
        reason.starts_with(&format!("the certificate expired on {not_after}")),
        "{reason}"
    );
    let error = run.report()["tls"]["verification_error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.starts_with("pinned with --ca-cert, but"), "{error}");
}

#[test]
fn a_pinned_certificate_for_another_name_fails_sec_tls_005_naming_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = openssl_certificate(dir.path(), "DNS:other.example");
    let sandbox = serve(&cert, &key);
    let run = run_pinned(&sandbox, &cert, Some("SEC-TLS-005"));
    let certificate = run.requirement("SEC-TLS-005");
    assert_eq!(certificate["verdict"], "fail", "{certificate}");
    let reason = certificate["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("pinned with --ca-cert"), "{reason}");
    assert!(reason.contains("\"127.0.0.1\""), "{reason}");
    assert!(reason.contains("other.example"), "{reason}");
}
