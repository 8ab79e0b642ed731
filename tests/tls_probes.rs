//! The TLS probes against real OpenSSL servers, not only the sandbox's emulation: one that
//! really accepts TLS 1.0, one that only offers a static-RSA suite, and a modern one. Needs the
//! `openssl` command (`.ci/run` installs it when missing).

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::run;

struct OpenSslServer {
    child: Child,
    port: u16,
}

impl Drop for OpenSslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn certificate(dir: &Path) -> (String, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed");
    assert!(status.success());
    (cert.display().to_string(), key.display().to_string())
}

fn serve(dir: &Path, options: &[&str]) -> OpenSslServer {
    let (cert, key) = certificate(dir);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
            &cert,
            "-key",
            &key,
            "-www",
        ])
        .args(options)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_server");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "openssl s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    OpenSslServer { child, port }
}

fn verdicts(server: &OpenSslServer, requirements: &str) -> common::Run {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("https://127.0.0.1:{}/FHIR/R4", server.port);
    run(
        dir.path(),
        &[
            "--target",
            &target,
            "--requirements",
            requirements,
            "--insecure",
        ],
        None,
    )
}

#[test]
fn a_server_that_really_accepts_tls_1_0_fails_sec_tls_003() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"]);
    let run = verdicts(&server, "SEC-TLS-003");
    assert_eq!(
        run.requirement("SEC-TLS-003")["verdict"],
        "fail",
        "{}",
        run.stdout()
    );
    let reason = run.requirement("SEC-TLS-003")["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("accepted TLS 1.0"), "{reason}");
}

#[test]
fn a_server_offering_only_static_rsa_fails_sec_tls_004() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &["-tls1_2", "-cipher", "AES128-SHA256:@SECLEVEL=0"],
    );
    let run = verdicts(&server, "SEC-TLS-004");
    assert_eq!(
        run.requirement("SEC-TLS-004")["verdict"],
        "fail",
        "{}",
        run.stdout()
    );
    let failures = run.requirement("SEC-TLS-004")["failures"].to_string();
    assert!(
        failures.contains("TLS_RSA_WITH_AES_128_CBC_SHA256"),
        "{failures}"
    );
}

#[test]
fn openssl_defaults_still_accept_static_rsa_and_fail_sec_tls_004() {
    // OpenSSL 3's default list keeps TLS_RSA_* suites (no forward secrecy), which NHS guidance
    // (GP Connect's cipher scenarios) refuses: the verdict is the standard's, not the default's.
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let run = verdicts(&server, "SEC-TLS-004");
    assert_eq!(
        run.requirement("SEC-TLS-004")["verdict"],
        "fail",
        "{}",
        run.stdout()
    );
}

#[test]
fn a_hardened_server_passes_the_protocol_and_cipher_probes() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["-cipher", "ECDHE+AESGCM"]);
    let run = verdicts(&server, "SEC-TLS-002,SEC-TLS-003,SEC-TLS-004");
    for id in ["SEC-TLS-002", "SEC-TLS-003", "SEC-TLS-004"] {
        assert_eq!(
            run.requirement(id)["verdict"],
            "pass",
            "{id}: {}",
            run.stdout()
        );
    }
    // The self-signed certificate is reported, not trusted, even with --insecure.
    let tls = &run.report()["tls"];
    assert!(tls["verification_error"].as_str().is_some(), "{tls}");
    assert_eq!(tls["chain"][0]["key"], "RSA");
}
