//! The harness's HTTP layer alone: N GETs of one URL through mts's `HttpClient` (the client
//! every scenario uses: keep-alive pool, per-request deadline, body cap, secret redaction, the
//! exchange recorded as evidence), C at a time. Compare with a raw load tool on the same URL.
//!
//!     cargo bench --bench http_client -- URL [REQUESTS] [CONCURRENCY]
//!
//! Prints one JSON line per client: requests, seconds, and how many answered 2xx. The second is
//! reqwest alone with the same pool, headers and full body read, and nothing of mts: what the
//! HTTP library costs, so that the rest is what mts adds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use mts::http::{ClientOptions, ExchangeId, ExchangeLog, HttpClient, Redactor, RequestSpec};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let url = args
        .first()
        .expect("usage: http_client URL [REQUESTS] [CONCURRENCY]");
    let requests: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(8);
    let (base, path) = url.rsplit_once("/FHIR/R4/").expect("a URL under /FHIR/R4/");
    let log = Arc::new(ExchangeLog::default());
    let client = HttpClient::new(
        ClientOptions {
            base_url: format!("{base}/FHIR/R4"),
            timeout: Duration::from_secs(30),
            body_limit: 32 * 1024 * 1024,
            ca_pem: None,
            insecure: false,
            max_in_flight: concurrency,
            redactor: Redactor::new(["mts-benchmark-secret".to_owned()]),
            client_identity: None,
        },
        log.clone(),
    )
    .expect("client");
    let spec = RequestSpec::get(path);
    let clock = Instant::now();
    let exchanges: Vec<_> = futures::stream::iter(0..requests)
        .map(|n| {
            let (client, spec) = (client.clone(), spec.clone());
            async move {
                client
                    .send(ExchangeId(format!("bench#{n}")), "benchmark read", &spec)
                    .await
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let seconds = clock.elapsed().as_secs_f64();
    let ok = exchanges
        .iter()
        .filter(|e| e.status().is_some_and(|s| (200..300).contains(&s)))
        .count();
    println!(
        "{}",
        serde_json::json!({"tool": "mts HttpClient", "requests": requests, "concurrency": concurrency, "seconds": seconds, "ok": ok, "recorded": log.snapshot().len()})
    );

    let raw = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let clock = Instant::now();
    let statuses: Vec<u16> = futures::stream::iter(0..requests)
        .map(|_| {
            let raw = raw.clone();
            async move {
                let response = raw
                    .get(url)
                    .header("Accept", "application/fhir+json")
                    .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
                    .send()
                    .await
                    .expect("an answer");
                let status = response.status().as_u16();
                let _ = response.bytes().await.expect("a body");
                status
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let seconds = clock.elapsed().as_secs_f64();
    let ok = statuses.iter().filter(|s| (200..300).contains(*s)).count();
    println!(
        "{}",
        serde_json::json!({"tool": "reqwest alone", "requests": requests, "concurrency": concurrency, "seconds": seconds, "ok": ok})
    );
}
