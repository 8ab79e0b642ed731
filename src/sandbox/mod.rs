//! The reference sandbox: a small NHS API-platform style FHIR R4 server on loopback, conformant
//! by default, with fault switches that each break one requirement on purpose. `mts run` with
//! no target tests it; `mts sandbox` serves it for people to explore.

mod auth;
pub mod data;
mod embedded;
mod faults;
mod hostile;
mod openapi;
mod server;
mod tls;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use embedded::EmbeddedSandbox;
pub use faults::Fault;
pub use hostile::{Hostile, start as start_hostile};
pub use server::PROVIDER_ASID;
pub use tls::{CONSUMER_NAME, ClientPki, OWN_CERTIFICATE_AND_FAULTS, OwnCertificate};

/// The base path of the FHIR API, as the NHS API platform names it.
pub const BASE_PATH: &str = "/FHIR/R4";

#[derive(Debug, Clone)]
pub struct SandboxOptions {
    pub faults: Vec<Fault>,
    /// Bearer token data endpoints require; `None` serves them without authentication.
    pub token: Option<String>,
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Serve HTTPS with a certificate from a CA made at start-up.
    pub tls: bool,
    /// Serve HTTPS with this certificate instead (implies `tls`).
    pub certificate: Option<OwnCertificate>,
    /// A token that may read but not write (for the low-privilege probes).
    pub read_only_token: Option<String>,
    /// The OAuth2 client the token endpoint accepts assertions from.
    pub client: Option<SandboxClient>,
    /// How long issued tokens last.
    pub token_lifetime: std::time::Duration,
    /// A token limited to this many requests per second (the rate-limit probe's application).
    pub load_token: Option<(String, u32)>,
    /// Require client certificates from the sandbox's client CA (with `tls`).
    pub mtls: bool,
    /// Extra clinical resources to serve beside the built-in data (`mts sandbox --seed`).
    pub seed: Vec<serde_json::Value>,
}

/// Resource types `--seed` may add: the ones the sandbox can read and search by patient.
pub const SEEDABLE_TYPES: &[&str] = &["AllergyIntolerance", "MedicationStatement"];

/// Reads seed resources from a JSON resource, a JSON array of resources, a Bundle (its entries'
/// resources) or NDJSON (one resource per line). Each needs an `id` and a seedable type.
pub fn parse_seed(text: &str) -> Result<Vec<serde_json::Value>, String> {
    use serde_json::Value;
    let documents: Vec<Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items,
        Ok(bundle) if bundle["resourceType"] == "Bundle" => bundle["entry"]
            .as_array()
            .map(|entries| entries.iter().map(|e| e["resource"].clone()).collect())
            .unwrap_or_default(),
        Ok(single) => vec![single],
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(number, line)| {
                serde_json::from_str(line)
                    .map_err(|e| format!("line {}: not a JSON resource: {e}", number + 1))
            })
            .collect::<Result<_, _>>()?,
    };
    for (index, resource) in documents.iter().enumerate() {
        let kind = resource["resourceType"].as_str().unwrap_or("");
        if !SEEDABLE_TYPES.contains(&kind) {
            return Err(format!(
                "resource {}: the sandbox serves seeded {} only, not `{kind}`",
                index + 1,
                SEEDABLE_TYPES.join(" and ")
            ));
        }
        if resource["id"].as_str().is_none_or(str::is_empty) {
            return Err(format!(
                "resource {}: a seeded {kind} needs an id",
                index + 1
            ));
        }
    }
    Ok(documents)
}

/// Requests per second the sandbox allows its load-test token.
pub const LOAD_RATE_LIMIT: u32 = 10;

/// The client registered with the sandbox's token endpoint.
#[derive(Debug, Clone)]
pub struct SandboxClient {
    pub client_id: String,
    pub kid: String,
    pub key: std::sync::Arc<crate::auth::ClientKey>,
}

impl SandboxClient {
    /// A fresh client with a new RSA key.
    pub fn generate() -> std::io::Result<Self> {
        Ok(Self {
            client_id: "mts-sandbox-client".into(),
            kid: "mts-sandbox-key-1".into(),
            key: std::sync::Arc::new(
                crate::auth::ClientKey::generate().map_err(std::io::Error::other)?,
            ),
        })
    }
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            faults: Vec::new(),
            token: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            certificate: None,
            read_only_token: None,
            client: None,
            token_lifetime: std::time::Duration::from_secs(599),
            load_token: None,
            mtls: false,
            seed: Vec::new(),
        }
    }
}

/// A sandbox serving in the background of the current runtime.
#[derive(Debug)]
pub struct RunningSandbox {
    address: SocketAddr,
    base_path: String,
    https: bool,
    ca_pem: Option<String>,
    client_pki: Option<tls::ClientPki>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningSandbox {
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The token endpoint, e.g. `https://127.0.0.1:40123/oauth2/token`.
    pub fn token_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}/oauth2/token", self.address)
    }

    /// The FHIR base URL, e.g. `https://127.0.0.1:40123/FHIR/R4`.
    pub fn base_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.address, self.base_path)
    }

    /// The PEM of the CA that issued the sandbox's certificate (HTTPS only, and not when it
    /// serves a certificate it was given).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Under mutual TLS: the client CA, an accepted certificate and a revoked one.
    pub fn client_pki(&self) -> Option<&tls::ClientPki> {
        self.client_pki.as_ref()
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Serves until the process is interrupted.
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

pub async fn start(mut options: SandboxOptions) -> std::io::Result<RunningSandbox> {
    // A certificate to serve implies HTTPS, for the server's links and HSTS as for the listener.
    options.tls |= options.certificate.is_some();
    let listener = TcpListener::bind(options.listen).await?;
    let address = listener.local_addr()?;
    let state = server::State::new(&options);
    let base_path = state.base_path.clone();
    let app = server::router(state);
    let (shutdown, signal) = oneshot::channel::<()>();
    let mut client_pki = None;
    let https = options.tls;
    let (task, ca_pem) = if https {
        let tls = std::sync::Arc::new(tls::SandboxTls::new(
            &options.faults,
            options.mtls,
            options.certificate.as_ref(),
        )?);
        let ca_pem = tls.ca_pem.clone();
        client_pki = tls.client_pki.clone();
        let faults = std::sync::Arc::new(options.faults.clone());
        let task = tokio::spawn(async move {
            tokio::select! {
                () = tls::serve(listener, tls, app, faults) => {}
                _ = signal => {}
            }
        });
        (task, ca_pem)
    } else {
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = signal.await;
                })
                .await;
        });
        (task, None)
    };
    Ok(RunningSandbox {
        address,
        base_path,
        https,
        ca_pem,
        client_pki,
        shutdown: Some(shutdown),
        task,
    })
}
