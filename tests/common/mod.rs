//! Helpers for tests that run the real `mts` binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// What a client reads from its environment: the sandbox prints these, and a developer's own
/// must never leak into a test run.
const CLIENT_VARIABLES: [&str; 22] = [
    "MTS_TOKEN",
    "MTS_TOKEN_URL",
    "MTS_CLIENT_ID",
    "MTS_KID",
    "MTS_CLIENT_KEY",
    "MTS_LOW_PRIVILEGE_TOKEN",
    "MTS_LOAD_TOKEN",
    "MTS_RATE_LIMIT",
    "MTS_TLS_CLIENT_CERT",
    "MTS_TLS_CLIENT_KEY",
    "MTS_TLS_CLIENT_CA_CERT",
    "MTS_TLS_CLIENT_CA_KEY",
    "MTS_TLS_REVOKED_CERT",
    "MTS_TLS_REVOKED_KEY",
    "MTS_TARGET",
    "MTS_PROFILE",
    "MTS_CONFIG_PROFILE",
    "MTS_CONCURRENCY",
    "MTS_TIMEOUT",
    "MTS_OPENAPI",
    "MTS_STRICT",
    "MTS_SHARD",
];

pub fn mts() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mts"));
    for key in CLIENT_VARIABLES {
        command.env_remove(key);
    }
    command.env("NO_COLOR", "1");
    // The console table fits COLUMNS when set: tests see the default width, every row shown
    // only where they ask for it.
    command.env_remove("COLUMNS");
    command
}

/// A `mts sandbox` process on a free loopback port, killed when dropped.
pub struct Sandbox {
    child: Child,
    pub url: String,
    pub token: String,
    /// The CA to trust (`--tls` sandboxes).
    pub ca_cert: Option<String>,
    /// Everything the sandbox printed (`MTS_*=value`).
    pub values: Vec<(String, String)>,
}

impl Sandbox {
    pub fn start(args: &[&str]) -> Sandbox {
        Self::start_with_env(args, &[])
    }

    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Sandbox {
        let mut command = mts();
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .args(["sandbox", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mts sandbox");
        let stdout = child.stdout.take().expect("sandbox stdout");
        let mut values = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("utf-8 line");
            if line == "MTS_READY=1" {
                break;
            }
            if let Some((key, value)) = line.split_once('=') {
                values.push((key.to_owned(), value.to_owned()));
            }
        }
        let get = |key: &str| {
            values
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let url = get("MTS_SANDBOX_URL").expect("the sandbox printed its URL");
        let token = get("MTS_TOKEN").unwrap_or_default();
        let ca_cert = get("MTS_CA_CERT");
        Sandbox {
            child,
            url,
            token,
            ca_cert,
            values,
        }
    }

    pub fn value(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `--target URL --ca-cert FILE`, for a run against this sandbox.
    pub fn target_args(&self) -> Vec<String> {
        let mut args = vec!["--target".to_owned(), self.url.clone()];
        if let Some(ca) = &self.ca_cert {
            args.extend(["--ca-cert".to_owned(), ca.clone()]);
        }
        args
    }

    /// The environment of a client configured the way the sandbox suggests: OAuth2 client
    /// credentials against its token endpoint, and its low-privilege token.
    pub fn client_env(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            // The OAuth2 client rather than the sandbox's static token.
            .filter(|(k, _)| k != "MTS_TOKEN" && CLIENT_VARIABLES.contains(&k.as_str()))
            .cloned()
            .collect()
    }
}

impl Drop for Sandbox {
    /// SIGTERM first, so the sandbox removes its key folder; SIGKILL if it lingers.
    fn drop(&mut self) {
        let terminated = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        if terminated {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
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
    let env: Vec<(String, String)> = token
        .map(|t| ("MTS_TOKEN".to_owned(), t.to_owned()))
        .into_iter()
        .collect();
    run_with_env(dir, args, &env)
}

/// Runs `mts run` with `args` and extra environment variables.
pub fn run_with_env(dir: &Path, args: &[&str], env: &[(String, String)]) -> Run {
    run_in(None, dir, args, env)
}

/// Runs `mts run` from the working directory `cwd` (where an `mts.toml` may be), its report
/// in a new folder under `dir`.
pub fn run_in(cwd: Option<&Path>, dir: &Path, args: &[&str], env: &[(String, String)]) -> Run {
    let out = dir.join(format!("run-{}", uuid_like()));
    let mut command = mts();
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    command.arg("run").arg("--out").arg(&out).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run mts");
    let report: Option<serde_json::Value> = std::fs::read(out.join("report.json"))
        .ok()
        .map(|b| serde_json::from_slice(&b).expect("report.json is JSON"));
    if let Some(written) = &report {
        // The one reader diff, merge, rejudge and --rerun-failed use reads every field back.
        let read = mts::report::read(&out).expect("report::read reads what mts wrote");
        assert!(
            serde_json::to_value(&read).unwrap() == *written,
            "report::read lost or changed a field of {}",
            out.display()
        );
    }
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

/// The parts of a report that must not depend on how its verdicts were reached (split into
/// shards, judged again offline): everything but times, ports and generated ids.
pub fn comparable(report: &serde_json::Value) -> serde_json::Value {
    let mut scenarios = report["scenarios"].clone();
    for scenario in scenarios.as_array_mut().unwrap() {
        scenario["duration_ms"] = serde_json::Value::Null;
    }
    let exchanges: Vec<&str> = report["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let text = serde_json::json!({
        "verdict": report["verdict"],
        "verdict_reason": report["verdict_reason"],
        "counts": report["counts"],
        "requirements": report["requirements"],
        "checks": report["checks"],
        "scenarios": scenarios,
        "exchanges": exchanges,
        "harness_errors": report["harness_errors"],
    })
    .to_string();
    serde_json::from_str(&mts::report::normalize_text(&text)).unwrap()
}

/// Copies a folder and everything below it.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Asserts that two reports agree on `keys` of their `comparable` parts; on a difference,
/// panics with the first lines of a diff of that part (written under `scratch`).
pub fn assert_same_parts(
    expected: &serde_json::Value,
    actual: &serde_json::Value,
    keys: &[&str],
    scratch: &std::path::Path,
    what: &str,
) {
    let (expected, actual) = (comparable(expected), comparable(actual));
    for key in keys {
        if actual[key] == expected[key] {
            continue;
        }
        let dump = |name: &str, value: &serde_json::Value| {
            let path = scratch.join(name);
            std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
            path.display().to_string()
        };
        let (a, b) = (
            dump("actual.json", &actual[key]),
            dump("expected.json", &expected[key]),
        );
        let diff = std::process::Command::new("diff")
            .args([&b, &a])
            .output()
            .unwrap();
        let shown: Vec<String> = String::from_utf8_lossy(&diff.stdout)
            .lines()
            .take(40)
            .map(|l| l.chars().take(200).collect())
            .collect();
        panic!("{key} differs {what}:\n{}", shown.join("\n"));
    }
}

/// `mts report --framework NAME DIR` in Markdown, HTML and CSV, each written to a file beside
/// the run (never inside it: the run folder stays as its manifest says).
pub fn framework_views(run_dir: &Path, framework: &str) -> (String, String, String) {
    let mut texts = Vec::new();
    for format in ["markdown", "html", "csv"] {
        let file = run_dir.with_extension(format!("{framework}.{format}"));
        let output = mts()
            .args([
                "report",
                "--framework",
                framework,
                "--format",
                format,
                "--out",
            ])
            .arg(&file)
            .arg(run_dir)
            .output()
            .expect("run mts report");
        assert!(
            output.status.success(),
            "mts report --format {format}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        texts.push(std::fs::read_to_string(&file).expect("the view was written"));
    }
    let csv = texts.pop().unwrap_or_default();
    let html = texts.pop().unwrap_or_default();
    let markdown = texts.pop().unwrap_or_default();
    (markdown, html, csv)
}

/// The rows of an RFC 4180 CSV text, fields unquoted.
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

/// Clause id → (status, why, failing exchanges) from a framework CSV, checking its header.
pub fn clause_statuses(csv: &str) -> std::collections::BTreeMap<String, (String, String, String)> {
    let rows = csv_rows(csv);
    assert_eq!(
        rows.first().map(|r| r.join(",")).as_deref(),
        Some(
            "framework,framework_version,clause,clause_title,http_testable,status,why,requirements,failing_exchanges,run_id,target"
        )
    );
    rows.iter()
        .skip(1)
        .map(|row| {
            assert_eq!(row.len(), 11, "{row:?}");
            (
                row[2].clone(),
                (row[5].clone(), row[6].clone(), row[8].clone()),
            )
        })
        .collect()
}

/// The headless browser the rendering tests use (`.ci/run` installs Chromium), if any.
pub fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}
