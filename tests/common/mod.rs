//! Helpers for tests that run the real `mts` binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub fn mts() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mts"));
    command.env_remove("MTS_TOKEN").env("NO_COLOR", "1");
    command
}

/// A `mts sandbox` process on a free loopback port, killed when dropped.
pub struct Sandbox {
    child: Child,
    pub url: String,
    pub token: String,
    /// The CA to trust (`--tls` sandboxes).
    pub ca_cert: Option<String>,
}

impl Sandbox {
    pub fn start(args: &[&str]) -> Sandbox {
        let mut child = mts()
            .args(["sandbox", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mts sandbox");
        let stdout = child.stdout.take().expect("sandbox stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut value = |key: &str| {
            let line = lines
                .next()
                .expect("sandbox printed a line")
                .expect("utf-8 line");
            line.strip_prefix(&format!("{key}="))
                .unwrap_or_else(|| panic!("expected {key}=…, got {line}"))
                .to_owned()
        };
        let url = value("MTS_SANDBOX_URL");
        let token = value("MTS_TOKEN");
        let ca_cert = args.contains(&"--tls").then(|| value("MTS_CA_CERT"));
        Sandbox {
            child,
            url,
            token,
            ca_cert,
        }
    }
}

impl Sandbox {
    /// `--target URL --ca-cert FILE`, for a run against this sandbox.
    pub fn target_args(&self) -> Vec<String> {
        let mut args = vec!["--target".to_owned(), self.url.clone()];
        if let Some(ca) = &self.ca_cert {
            args.extend(["--ca-cert".to_owned(), ca.clone()]);
        }
        args
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Run {
    pub output: Output,
    pub report: Option<serde_json::Value>,
    pub out: PathBuf,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn report(&self) -> &serde_json::Value {
        self.report
            .as_ref()
            .unwrap_or_else(|| panic!("no report.json; stderr: {}", self.stderr()))
    }

    /// Requirement ids with the given verdict.
    pub fn with_verdict(&self, verdict: &str) -> Vec<String> {
        self.report()["requirements"]
            .as_array()
            .expect("requirements")
            .iter()
            .filter(|r| r["verdict"] == verdict)
            .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    pub fn requirement(&self, id: &str) -> &serde_json::Value {
        self.report()["requirements"]
            .as_array()
            .expect("requirements")
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} not in report"))
    }
}

/// Runs `mts run` with `args` into a fresh folder under `dir`, with an optional token.
pub fn run(dir: &Path, args: &[&str], token: Option<&str>) -> Run {
    let out = dir.join(format!("run-{}", uuid_like()));
    let mut command = mts();
    command.arg("run").arg("--out").arg(&out).args(args);
    if let Some(token) = token {
        command.env("MTS_TOKEN", token);
    }
    let output = command.output().expect("run mts");
    let report = std::fs::read(out.join("report.json"))
        .ok()
        .map(|b| serde_json::from_slice(&b).expect("report.json is JSON"));
    Run {
        output,
        report,
        out,
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}
