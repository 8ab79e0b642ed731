//! Verdicts on real FHIR servers nobody on this project wrote, held to truth files written from
//! their raw exchanges (`tests/truth/<server>.toml`): NHS Digital's PDS FHIR sandbox (from
//! `../shared/targets/`), node-fhir-server-core, fhirsnake and Medplum's FHIR router (from
//! `scripts/third-party/`).
//!
//! For each server, every automated MUST requirement of the run's profile must get the verdict
//! the truth file gives, and each entry is tied to its evidence: a failure to the request that
//! shows it (`METHOD path → status`, one of the failure's exchanges), a requirement not judged to
//! the kind of its reason, and every entry to the catalogue text it quotes (a substring of the
//! requirement's statement or verification, so a changed catalogue text sends the entry back to
//! be read again). Servers are installed once from the npm registry or PyPI under
//! `target/real-servers/` and listen on loopback only.
//!
//! Without `../shared` (a checkout outside the workplace) the PDS test says so and does nothing;
//! with `../shared` present but the PDS sandbox missing, it fails.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

/// How long a first start may take (it installs the server's packages).
const START_DEADLINE: Duration = Duration::from_secs(420);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where servers are installed: kept between runs, inside the build folder.
fn install_dir() -> PathBuf {
    let dir = repo().join("target").join("real-servers");
    std::fs::create_dir_all(&dir).expect("create target/real-servers");
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A server process, stopped when dropped.
struct Server {
    child: Option<Child>,
    /// A pid the start script left running in the background (the PDS sandbox's).
    pid: Option<u32>,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(pid) = self.pid {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

impl Server {
    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// Waits until `url` answers HTTP at all (any status), or panics with the server's log.
fn wait_for(server: &mut Server, url: &str) {
    let started = Instant::now();
    let address = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    while started.elapsed() < START_DEADLINE {
        if let Some(child) = &mut server.child
            && let Ok(Some(status)) = child.try_wait()
        {
            panic!(
                "the server stopped ({status}) before answering:\n{}",
                server.log_tail()
            );
        }
        if std::net::TcpStream::connect(&address).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!(
        "the server did not answer at {url} within {START_DEADLINE:?}:\n{}",
        server.log_tail()
    );
}

/// Runs a start script in the foreground (it `exec`s the server).
fn foreground(script: &Path, port: u16, log_name: &str) -> Server {
    let log = install_dir().join(format!("{log_name}.log"));
    let file = std::fs::File::create(&log).expect("server log");
    let child = Command::new("bash")
        .arg(script)
        .arg(port.to_string())
        .env("MTS_THIRD_PARTY_DIR", install_dir())
        .stdout(Stdio::from(file.try_clone().expect("log")))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", script.display()));
    Server {
        child: Some(child),
        pid: None,
        log,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Truth {
    /// What the server is, and where it comes from.
    server: String,
    profile: String,
    /// `mts run` arguments besides --target, --profile and --out (`{shared}` is ../shared).
    #[serde(default)]
    args: Vec<String>,
    must: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    verdict: String,
    /// For a failure: the request that shows it, as `METHOD path → status`.
    request: Option<String>,
    /// What mts said (its first failure, or its reason), as read when the entry was written.
    observed: Option<String>,
    /// For a requirement not judged: the kind of reason.
    reason_kind: Option<String>,
    /// The catalogue's words the verdict rests on.
    catalogue: String,
    /// Why that verdict is right for this server, from the raw exchange.
    why: String,
}

fn load_truth(name: &str) -> Truth {
    let path = repo()
        .join("tests")
        .join("truth")
        .join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every disagreement between the run and the truth file. Requests are compared with generated
/// ids (UUIDs) and loopback ports normalised, since they change from run to run.
/// A request as a truth file names it: times and ports normalised, and ids a server mints anew
/// each run (UUIDs) written `<uuid>`.
fn request_text(text: &str) -> String {
    let uuid = regex::Regex::new(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    )
    .expect("uuid pattern");
    uuid.replace_all(&mts::report::normalize_text(text), "<uuid>")
        .into_owned()
}

fn disagreements(run: &common::Run, truth: &Truth) -> Vec<String> {
    let catalogue = mts::catalogue::load_embedded().expect("catalogue");
    let report = run.report();
    let exchanges: BTreeMap<&str, &serde_json::Value> = report["exchanges"]
        .as_array()
        .expect("exchanges")
        .iter()
        .map(|e| (e["id"].as_str().unwrap_or(""), e))
        .collect();
    let summary = |id: &str| -> Option<String> {
        let e = exchanges.get(id)?;
        let url = e["request"]["url"].as_str()?;
        let path = url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or(url);
        let outcome = match e["response"]["status"].as_u64() {
            Some(status) => status.to_string(),
            None => e["error"]["message"].as_str().unwrap_or("").to_owned(),
        };
        Some(request_text(&format!(
            "{} {path} → {outcome}",
            e["request"]["method"].as_str()?
        )))
    };
    let judged: BTreeMap<&str, &serde_json::Value> = report["requirements"]
        .as_array()
        .expect("requirements")
        .iter()
        .filter(|r| {
            matches!(r["level"].as_str(), Some("MUST" | "MUST NOT"))
                && r["status"] == "automated"
                && r["reason_kind"] != "excluded-by-profile"
        })
        .map(|r| (r["id"].as_str().unwrap_or(""), r))
        .collect();
    let mut problems = Vec::new();
    let listed: BTreeSet<&str> = truth.must.iter().map(|e| e.id.as_str()).collect();
    for id in judged.keys().filter(|id| !listed.contains(*id)) {
        problems.push(format!(
            "{id}: a MUST requirement the truth file does not cover (mts says {})",
            judged[id]["verdict"]
        ));
    }
    for entry in &truth.must {
        let Some(requirement) = judged.get(entry.id.as_str()) else {
            problems.push(format!(
                "{}: in the truth file but not an automated MUST of this run",
                entry.id
            ));
            continue;
        };
        let verdict = requirement["verdict"].as_str().unwrap_or("");
        if verdict != entry.verdict {
            problems.push(format!(
                "{}: mts says {verdict}, the truth file {} ({}); mts's reason: {}",
                entry.id, entry.verdict, entry.why, requirement["reason"]
            ));
            continue;
        }
        if entry.why.trim().is_empty() {
            problems.push(format!("{}: the truth file gives no reason", entry.id));
        }
        if let Some(known) = catalogue.get(&entry.id) {
            let texts = format!("{} {}", flat(&known.statement), flat(&known.verification));
            if !texts.contains(&flat(&entry.catalogue)) {
                problems.push(format!(
                    "{}: the quoted catalogue text is not the catalogue's: {:?}",
                    entry.id, entry.catalogue
                ));
            }
        }
        match verdict {
            "fail" => {
                let requests: Vec<String> = requirement["failures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["exchange"].as_str())
                    .filter_map(summary)
                    .collect();
                match entry.request.as_deref().map(request_text) {
                    Some(request) if requests.contains(&request) => {}
                    Some(request) => problems.push(format!(
                        "{}: the failing request {request:?} is not among the failure's exchanges {requests:?}",
                        entry.id
                    )),
                    None if requests.is_empty() => {}
                    None => problems.push(format!(
                        "{}: the truth file names no request; the failure's are {requests:?}",
                        entry.id
                    )),
                }
            }
            "pass" => {}
            _ => {
                let kind = requirement["reason_kind"].as_str();
                if kind != entry.reason_kind.as_deref() {
                    problems.push(format!(
                        "{}: mts's reason is {kind:?}, the truth file says {:?}",
                        entry.id, entry.reason_kind
                    ));
                }
            }
        }
        // What the truth file saw must still be what mts says: the reason, or one failure's
        // message (times and ports normalised).
        if let Some(observed) = entry.observed.as_deref() {
            let observed = mts::report::normalize_text(observed);
            let said: Vec<String> = std::iter::once(&requirement["reason"])
                .chain(
                    requirement["failures"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|f| &f["message"]),
                )
                .filter_map(Value::as_str)
                .map(mts::report::normalize_text)
                .collect();
            if !said.iter().any(|text| text.contains(&observed)) {
                problems.push(format!(
                    "{}: the truth file observed {observed:?}, mts says {said:?}",
                    entry.id
                ));
            }
        }
    }
    problems
}

/// Runs mts against `base` as the truth file says, and compares.
fn judge(name: &str, base: &str, shared: Option<&Path>, dir: &Path) {
    let truth = load_truth(name);
    let shared_text = shared.map(|s| s.display().to_string()).unwrap_or_default();
    let mut args = vec![
        "--target".to_owned(),
        base.to_owned(),
        "--profile".to_owned(),
        truth.profile.clone(),
    ];
    args.extend(
        truth
            .args
            .iter()
            .map(|a| a.replace("{shared}", &shared_text)),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = common::run(dir, &args, None);
    let problems = disagreements(&run, &truth);
    assert!(
        problems.is_empty(),
        "{} ({}): {} disagreement(s) with tests/truth/{name}.toml:\n{}\n(report: {})",
        truth.server,
        base,
        problems.len(),
        problems.join("\n"),
        run.out.display()
    );
}

/// `../shared`, when this checkout sits in the workplace.
fn shared() -> Option<PathBuf> {
    let shared = repo().join("..").join("shared");
    shared.is_dir().then_some(shared)
}

#[test]
fn the_pds_sandbox_is_judged_as_its_truth_file_says() {
    let Some(shared) = shared() else {
        // CI runs beside ../shared and sets MTS_REQUIRE_SHARED, so a missing target fails there.
        assert!(
            std::env::var_os("MTS_REQUIRE_SHARED").is_none(),
            "MTS_REQUIRE_SHARED is set but there is no ../shared beside this checkout"
        );
        eprintln!("no ../shared beside this checkout: the PDS sandbox is not here to test");
        return;
    };
    let script = shared.join("targets/pds-sandbox/start.sh");
    assert!(
        script.is_file(),
        "{} is missing, though ../shared is here",
        script.display()
    );
    let port = free_port();
    let pds_dir = install_dir().join("pds-sandbox");
    let log = install_dir().join("pds-sandbox-start.log");
    // The script installs once, starts node in the background and prints its pid file.
    let output = Command::new("bash")
        .arg(&script)
        .arg(port.to_string())
        .env("PDS_DIR", &pds_dir)
        .output()
        .expect("run the PDS sandbox's start.sh");
    std::fs::write(&log, [&output.stdout[..], &output.stderr[..]].concat()).ok();
    assert!(
        output.status.success(),
        "the PDS sandbox did not start: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pid = std::fs::read_to_string(pds_dir.join("server.pid"))
        .ok()
        .and_then(|p| p.trim().parse().ok());
    let mut server = Server {
        child: None,
        pid,
        log: pds_dir.join("server.log"),
    };
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&mut server, &base);
    let dir = tempfile::tempdir().unwrap();
    judge("pds-sandbox", &base, Some(&shared), dir.path());

    // `mts init` with the target and its OpenAPI document writes an mts.toml under which a run
    // given nothing but its permissions is judged as the truth file says.
    let spec = shared.join("targets/pds-sandbox/specification/personal-demographics.yaml");
    let init = common::mts()
        .current_dir(dir.path())
        .args(["init", "--target", &base, "--openapi"])
        .arg(&spec)
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let run = common::run_in(
        Some(dir.path()),
        dir.path(),
        &["--allow-writes", "--allow-load"],
        &[],
    );
    let problems = disagreements(&run, &load_truth("pds-sandbox"));
    assert!(
        problems.is_empty(),
        "under the mts.toml mts init wrote: {}\n{}",
        problems.join("\n"),
        std::fs::read_to_string(dir.path().join("mts.toml")).unwrap_or_default()
    );
    // Issue 17: the DTAC view of the PDS run, in all three formats. PDS carries NHS numbers
    // as UK Core says (IOP-UKC-001 to 003 pass in its truth file), answers reads (IOP-FHIR-007),
    // and is served here over plain HTTP without credentials (SEC-TLS-001, SEC-AUTH-001 fail).
    let (markdown, html, csv) = common::framework_views(&run.out, "dtac");
    let statuses = common::clause_statuses(&csv);
    assert_eq!(statuses["C4.2.1"].0, "met", "{:?}", statuses["C4.2.1"]);
    assert_eq!(statuses["C4.1"].0, "met", "{:?}", statuses["C4.1"]);
    // C3.3 asks for a penetration test report: the attestation decides it, and mts's failing
    // security results are named beside it for the assessor, never deciding it.
    assert_eq!(
        statuses["C3.3"].0, "evidence owed",
        "{:?}",
        statuses["C3.3"]
    );
    for named in [
        "GOV-ASR-007 attestation",
        "SEC-TLS-001 fail",
        "SEC-AUTH-001 fail",
    ] {
        assert!(statuses["C3.3"].1.contains(named), "{:?}", statuses["C3.3"]);
    }
    assert!(markdown.contains("| C4.2.1 | **met** |"), "{markdown}");
    assert!(html.contains("<tr class=\"owed\"><td>C3.3</td>"), "{html}");
}

#[test]
fn node_fhir_server_core_is_judged_as_its_truth_file_says() {
    let port = free_port();
    let mut server = foreground(
        &repo().join("scripts/third-party/node-fhir-server-core/start.sh"),
        port,
        "node-fhir-server-core",
    );
    let base = format!("http://127.0.0.1:{port}/4_0_1");
    wait_for(&mut server, &base);
    let dir = tempfile::tempdir().unwrap();
    judge("node-fhir-server-core", &base, None, dir.path());
}

#[test]
fn fhirsnake_is_judged_as_its_truth_file_says() {
    let port = free_port();
    let mut server = foreground(
        &repo().join("scripts/third-party/fhirsnake/start.sh"),
        port,
        "fhirsnake",
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&mut server, &base);
    let dir = tempfile::tempdir().unwrap();
    judge("fhirsnake", &base, None, dir.path());
}

/// Node's version as (major, minor), or None when `node` cannot be run.
fn node_version() -> Option<(u32, u32)> {
    let output = Command::new("node").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[test]
fn medplum_is_judged_as_its_truth_file_says() {
    // @medplum/* 4.5.2 declare engines ^20.19.0 || >=22.12.0; say so plainly rather than let an
    // older Node fail somewhere inside the router.
    let node = node_version();
    assert!(
        matches!(node, Some((major, minor)) if (major == 20 && minor >= 19) || (major == 22 && minor >= 12) || major >= 23),
        "Medplum's FHIR router needs Node ^20.19 or >=22.12 (node --version gives {node:?}); \
         see scripts/third-party/medplum/README.md"
    );
    let port = free_port();
    let mut server = foreground(
        &repo().join("scripts/third-party/medplum/start.sh"),
        port,
        "medplum",
    );
    let base = format!("http://127.0.0.1:{port}/fhir/R4");
    wait_for(&mut server, &base);
    let dir = tempfile::tempdir().unwrap();
    judge("medplum", &base, None, dir.path());
}
