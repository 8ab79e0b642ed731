//! The reference sandbox: a small NHS API-platform style FHIR R4 server on loopback, conformant
//! by default, with fault switches that each break one requirement on purpose. `mts run` with
//! no target tests it; `mts sandbox` serves it for people to explore.

mod data;
mod faults;
mod openapi;
mod server;
mod tls;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::Fault;
pub use server::PROVIDER_ASID;

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
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            faults: Vec::new(),
            token: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
        }
    }
}

/// A sandbox serving in the background of the current runtime.
#[derive(Debug)]
pub struct RunningSandbox {
    address: SocketAddr,
    base_path: String,
    ca_pem: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningSandbox {
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The FHIR base URL, e.g. `https://127.0.0.1:40123/FHIR/R4`.
    pub fn base_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}{}", self.address, self.base_path)
    }

    /// The PEM of the CA that issued the sandbox's certificate (HTTPS only).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
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

pub async fn start(options: SandboxOptions) -> std::io::Result<RunningSandbox> {
    let listener = TcpListener::bind(options.listen).await?;
    let address = listener.local_addr()?;
    let state = server::State::new(&options);
    let base_path = state.base_path.clone();
    let app = server::router(state);
    let (shutdown, signal) = oneshot::channel::<()>();
    let (task, ca_pem) = if options.tls {
        let tls = std::sync::Arc::new(tls::SandboxTls::new(&options.faults)?);
        let ca_pem = tls.ca_pem.clone();
        let faults = std::sync::Arc::new(options.faults.clone());
        let task = tokio::spawn(async move {
            tokio::select! {
                () = tls::serve(listener, tls, app, faults) => {}
                _ = signal => {}
            }
        });
        (task, Some(ca_pem))
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
        ca_pem,
        shutdown: Some(shutdown),
        task,
    })
}
