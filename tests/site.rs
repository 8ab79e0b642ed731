//! `mts site`: twenty real runs of three targets (the embedded sandbox under changing faults
//! and profiles, and two `mts sandbox` processes), some signed, one tampered with, two folders
//! unreadable, built into one site that is then read in headless Chromium.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use common::{Sandbox, mts};

/// Enough requirements to see faults come and go, few enough to keep each run under a second.
const REQUIREMENTS: &str = "SEC-HDR,API-HDR-001,IOP-FHIR-001,API-ERR";

/// One `mts run` into `reports/<group>/<name>`; named so that the folders' alphabetical order
/// is the reverse of their start times (the site must order by time, not by name).
fn run_into(reports: &Path, group: &str, sequence: usize, args: &[&str], env: &[(&str, &str)]) {
    let out = reports
        .join(group)
        .join(format!("run-{:02}", 99 - sequence));
    let mut command = mts();
    command
        .args(["run", "--quiet", "--requirements", REQUIREMENTS, "--out"])
        .arg(&out)
        .args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run mts");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "mts run {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn site(args: &[&Path], extra: &[&str]) -> Output {
    mts()
        .arg("site")
        .args(args)
        .args(extra)
        .output()
        .expect("run mts site")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Every relative `href` of a page, resolved against the page's folder: each must name an
/// existing file or folder, and an anchor into another page must exist in it.
fn assert_links_resolve(page: &Path) {
    let html = std::fs::read_to_string(page).unwrap();
    let folder = page.parent().unwrap();
    let mut checked = 0;
    for piece in html.split("href=\"").skip(1) {
        let href = piece.split('"').next().unwrap().replace("&amp;", "&");
        assert!(
            !href.starts_with("http") && !href.starts_with("//"),
            "{}: an external link {href}",
            page.display()
        );
        let (file, anchor) = href.split_once('#').unwrap_or((&href, ""));
        let target = if file.is_empty() {
            page.to_owned()
        } else {
            folder.join(file)
        };
        assert!(
            target.exists(),
            "{}: {href} does not resolve",
            page.display()
        );
        if !anchor.is_empty() && !anchor.starts_with("q=") {
            let linked = std::fs::read_to_string(&target).unwrap();
            assert!(
                linked.contains(&format!("id=\"{anchor}\"")),
                "{}: {href}: no such anchor",
                page.display()
            );
        }
        checked += 1;
    }
    assert!(checked > 0, "{} has no links", page.display());
}

/// A page loaded in headless Chromium with console logging on: (the DOM after scripts ran,
/// the console messages).
fn headless(browser: &str, args: &[&str], url: &str) -> (String, Vec<String>) {
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .args(args)
        .arg(url)
        .output()
        .expect("run headless chromium");
    let console = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        console,
    )
}

/// The number the filter box reports as shown.
fn shown(dom: &str) -> String {
    dom.split("id=\"shown\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or("")
        .to_owned()
}

fn site_json(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("site.json")).unwrap()).unwrap()
}

#[test]
fn a_site_over_twenty_runs_of_three_targets_shows_history_regressions_waivers_and_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let started = Instant::now();

    let key = dir.path().join("signing.pem");
    let keygen = mts().args(["keygen", "--out"]).arg(&key).output().unwrap();
    assert!(keygen.status.success(), "{}", text(&keygen));
    let public_key = PathBuf::from(format!("{}.pub", key.display()));
    let key_text = key.display().to_string();
    let sign: [&str; 2] = ["--sign-key", &key_text];

    // A waiver ending in ten days (listed), and one ending in ninety (not listed). The
    // justification is supplier-side text: it must reach the page escaped.
    let today = chrono::Utc::now().date_naive();
    let waiver_config = |days: i64, name: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "[[waiver]]\nrequirement = \"SEC-HDR-001\"\njustification = \"<script>alert('waiver')</script> NHS-123: HSTS at the gateway\"\nexpires = \"{}\"\n",
                today + chrono::Duration::days(days)
            ),
        )
        .unwrap();
        path.display().to_string()
    };
    let soon = waiver_config(10, "soon.toml");
    let later = waiver_config(90, "later.toml");

    // Target 1, the embedded sandbox: eight signed runs, faults coming and going.
    let embedded: [&[&str]; 8] = [
        &[],
        &["--profile", "ukca"],
        &["--fault", "no-hsts"],
        &["--fault", "no-hsts", "--fault", "no-request-id-echo"],
        &["--fault", "no-request-id-echo"],
        &[],
        &["--profile", "all"],
        &["--fault", "no-hsts"],
    ];
    for (sequence, faults) in embedded.iter().enumerate() {
        let args: Vec<&str> = sign.iter().chain(faults.iter()).copied().collect();
        run_into(&reports, "embedded", sequence, &args, &[]);
    }

    // Target 2: a sandbox without HSTS, unsigned; its URL written two ways (one API, one
    // target); the latest run waives the failure until ten days from now.
    let hstsless = Sandbox::start(&["--tls", "--fault", "no-hsts"]);
    let ca = hstsless.ca_cert.clone().unwrap();
    let with_slash = format!("{}/", hstsless.url);
    for sequence in 0..6 {
        let url = if sequence % 2 == 0 {
            hstsless.url.as_str()
        } else {
            with_slash.as_str()
        };
        let mut args = vec!["--target", url, "--ca-cert", &ca];
        if sequence == 5 {
            args.extend(["--config", &soon]);
        }
        run_into(
            &reports,
            "hstsless",
            sequence,
            &args,
            &[("MTS_TOKEN", &hstsless.token)],
        );
    }

    // Target 3: a conformant sandbox, signed, two profiles; a waiver far off.
    let conformant = Sandbox::start(&["--tls"]);
    let ca = conformant.ca_cert.clone().unwrap();
    for sequence in 0..6 {
        let profile = if sequence < 3 { "apim" } else { "ukca" };
        let mut args = vec![
            "--target",
            &conformant.url,
            "--ca-cert",
            &ca,
            "--profile",
            profile,
        ];
        args.extend(sign);
        if sequence == 5 {
            args.extend(["--config", &later]);
        }
        run_into(
            &reports,
            "conformant",
            sequence,
            &args,
            &[("MTS_TOKEN", &conformant.token)],
        );
    }
    let runs_took = started.elapsed();

    // One signed run tampered with after the fact; two folders that cannot be read.
    let tampered = reports.join("embedded/run-98");
    let summary = tampered.join("summary.md");
    let mut words = std::fs::read_to_string(&summary).unwrap();
    words.push_str("\nAll requirements passed.\n");
    std::fs::write(&summary, words).unwrap();
    std::fs::create_dir_all(reports.join("broken")).unwrap();
    std::fs::write(reports.join("broken/report.json"), "{not json").unwrap();
    std::fs::create_dir_all(reports.join("lost")).unwrap();
    std::fs::copy(
        reports.join("embedded/run-99/manifest.json"),
        reports.join("lost/manifest.json"),
    )
    .unwrap();

    // Without a key: signatures are checked only against the keys they name.
    let out = dir.path().join("site");
    let building = Instant::now();
    let built = site(&[&reports], &["--out", out.to_str().unwrap()]);
    let build_took = building.elapsed();
    assert_eq!(built.status.code(), Some(0), "{}", text(&built));
    assert!(
        text(&built).contains(
            "site: 3 target(s), 20 run(s), 1 failed verification (flagged), 2 unreadable"
        ),
        "{}",
        text(&built)
    );
    let listing = site_json(&out);
    let integrity = |listing: &serde_json::Value| -> Vec<(String, Vec<String>)> {
        listing["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let runs = t["runs"].as_array().unwrap();
                let seals = runs
                    .iter()
                    .map(|r| r["integrity"].as_str().unwrap().to_owned())
                    .collect();
                (t["target"].as_str().unwrap().to_owned(), seals)
            })
            .collect()
    };
    let seals = integrity(&listing);
    let keys: Vec<&str> = seals.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(
        keys[0], "embedded sandbox",
        "every embedded run is one target"
    );
    let target_of = |url: &str| {
        seals
            .iter()
            .position(|(k, _)| k == url)
            .unwrap_or_else(|| panic!("{url} is not one target: {keys:?}"))
    };
    let (hstsless_at, conformant_at) = (target_of(&hstsless.url), target_of(&conformant.url));
    let counts: Vec<usize> = seals.iter().map(|(_, s)| s.len()).collect();
    assert_eq!(counts[0], 8);
    assert_eq!((counts[hstsless_at], counts[conformant_at]), (6, 6));
    let mut expected = vec!["signer-not-checked"; 8];
    expected[1] = "tampered";
    assert_eq!(seals[0].1, expected, "run #2 (run-98) was tampered with");
    assert!(seals[hstsless_at].1.iter().all(|s| s == "unsigned"));
    assert!(
        seals[conformant_at]
            .1
            .iter()
            .all(|s| s == "signer-not-checked")
    );
    for target in listing["targets"].as_array().unwrap() {
        let started: Vec<&str> = target["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["started"].as_str().unwrap())
            .collect();
        let mut sorted = started.clone();
        sorted.sort();
        assert_eq!(started, sorted, "runs oldest first");
    }
    let unreadable: Vec<&str> = listing["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["reason"].as_str().unwrap())
        .collect();
    assert_eq!(unreadable.len(), 2, "{unreadable:?}");
    assert!(
        unreadable[0].contains("not an mts report"),
        "{unreadable:?}"
    );
    assert!(unreadable[1].contains("report.json"), "{unreadable:?}");

    // Rebuilt in place with the key: signed runs are verified, the tampered one still flagged.
    let rebuilt = site(
        &[&reports],
        &[
            "--out",
            out.to_str().unwrap(),
            "--verify-key",
            public_key.to_str().unwrap(),
        ],
    );
    assert_eq!(rebuilt.status.code(), Some(0), "{}", text(&rebuilt));
    let listing = site_json(&out);
    let seals = integrity(&listing);
    expected.iter_mut().for_each(|s| {
        if *s != "tampered" {
            *s = "verified";
        }
    });
    assert_eq!(seals[0].1, expected);
    assert!(seals[conformant_at].1.iter().all(|s| s == "verified"));
    // With a key, an unsigned run is suspect, as `mts verify --public-key` fails it.
    assert!(
        seals[hstsless_at].1.iter().all(|s| s == "not-signed"),
        "{:?}",
        seals[hstsless_at].1
    );
    let tamper_details = listing["targets"][0]["runs"][1]["integrity_details"].to_string();
    assert!(
        tamper_details.contains("summary.md has changed"),
        "{tamper_details}"
    );

    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    let pages: Vec<PathBuf> = listing["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| out.join(t["page"].as_str().unwrap()))
        .collect();
    // The tampered run, and with the key the six unsigned ones.
    assert!(
        index.contains("7 run folder(s) failed verification"),
        "{index}"
    );
    assert!(index.contains("Waivers lapsed or expiring within 30 days"));
    assert!(index.contains("NHS-123"), "the waiver ending in ten days");
    assert_eq!(
        index.matches("NHS-123").count(),
        1,
        "the waiver ending in ninety days is not listed"
    );
    assert_eq!(index.matches("<script>").count(), 1, "only the page's own");
    assert!(index.contains("&lt;script&gt;alert(&#39;waiver&#39;)"));
    let shared = index.split("id=\"shared-table\"").nth(1).unwrap_or("");
    assert!(
        shared.contains("SEC-HDR-001") && shared.contains("2 of 3"),
        "HSTS fails in the latest run of two targets of three"
    );
    assert!(index.contains("Unreadable run folders (2)"));
    let embedded_page = std::fs::read_to_string(&pages[0]).unwrap();
    let regressions = embedded_page
        .matches("<tr class=\"regression\"><td>new failure</td>")
        .count();
    // no-hsts in #3, no-request-id-echo in #4, no-hsts again in #8 (all fail SEC-HDR-001 or
    // API-HDR-001 where the run before passed it).
    assert!(regressions >= 3, "{regressions} regressions shown");
    assert!(embedded_page.contains("SEC-HDR-001"));
    for page in pages.iter().chain([&out.join("index.html")]) {
        assert_links_resolve(page);
    }
    // The copies are whole run folders: `mts verify` holds for each copy as for its source.
    let copy = out.join(listing["targets"][0]["runs"][0]["folder"].as_str().unwrap());
    let verified = mts()
        .arg("verify")
        .arg(&copy)
        .arg("--public-key")
        .arg(&public_key)
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", text(&verified));

    // Nothing readable: exit 3 and no site; --out holding other files: exit 2.
    let nothing = dir.path().join("nothing");
    let failed = site(
        &[&reports.join("broken"), &dir.path().join("absent")],
        &["--out", nothing.to_str().unwrap()],
    );
    assert_eq!(failed.status.code(), Some(3), "{}", text(&failed));
    assert!(text(&failed).contains("no run folder could be read"));
    assert!(!nothing.exists());
    let occupied = site(&[&reports], &["--out", reports.to_str().unwrap()]);
    assert_eq!(occupied.status.code(), Some(2), "{}", text(&occupied));
    let not_a_key = site(
        &[&reports],
        &[
            "--out",
            nothing.to_str().unwrap(),
            "--verify-key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(not_a_key.status.code(), Some(3), "{}", text(&not_a_key));
    assert!(!nothing.exists());

    eprintln!(
        "20 runs took {:.1} s; the site over them {:.2} s",
        runs_took.as_secs_f64(),
        build_took.as_secs_f64()
    );

    if std::env::var_os("MTS_SKIP_BROWSER_TESTS").is_some() {
        return;
    }
    let browser = common::chromium().expect(
        "headless Chromium is needed for this test (.ci/run installs Debian's chromium); set MTS_SKIP_BROWSER_TESTS=1 to skip it",
    );
    let url = format!("file://{}", out.join("index.html").display());
    let dump = ["--dump-dom", "--virtual-time-budget=2000"];
    let (dom, console) = headless(browser, &dump, &url);
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(
        dom.contains("embedded sandbox"),
        "{}",
        &dom[..dom.len().min(500)]
    );
    assert_eq!(shown(&dom), "3", "every target shown unfiltered");
    // The filter, from the URL: one target, two targets, none.
    for (filter, expected) in [
        ("embedded", "1"),
        ("127.0.0.1", "2"),
        ("no-such-target", "0"),
    ] {
        let (dom, console) = headless(browser, &dump, &format!("{url}#q={filter}"));
        assert!(console.is_empty(), "console messages: {console:?}");
        assert_eq!(shown(&dom), expected, "targets shown for {filter}");
    }
    for page in &pages {
        let (dom, console) = headless(browser, &dump, &format!("file://{}", page.display()));
        assert!(console.is_empty(), "{}: {console:?}", page.display());
        assert!(dom.contains("Runs, oldest first"));
    }

    let shot = dir.path().join("site.png");
    headless(
        browser,
        &[
            "--window-size=1280,1000",
            &format!("--screenshot={}", shot.display()),
        ],
        &url,
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    // MTS_WRITE_SCREENSHOT=1 refreshes the one examples/README.md shows.
    if std::env::var_os("MTS_WRITE_SCREENSHOT").is_some() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/site-screenshot.png");
        std::fs::write(example, png).unwrap();
    }
}
