//! The sandbox as a run's target: started with fresh credentials for each run (its own OAuth2
//! client, a read-only token, a load-probe token) and its faults switched on.

use crate::auth::{ClientCredentials, Credentials};
use crate::catalogue::Profile;
use crate::runner::{BoxFuture, StartTarget, StartedTarget};
use crate::steps::{LoadSettings, MutualTls};
use crate::tls::trust::ClientIdentity;

use super::{ClientPki, Fault, LOAD_RATE_LIMIT, SandboxClient, SandboxOptions};

/// The embedded sandbox with `faults` switched on.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedSandbox {
    pub faults: Vec<Fault>,
}

impl StartTarget for EmbeddedSandbox {
    fn start(&self, profile: Profile) -> BoxFuture<std::io::Result<StartedTarget>> {
        let faults = self.faults.clone();
        Box::pin(async move { start(faults, profile).await })
    }
}

async fn start(faults: Vec<Fault>, profile: Profile) -> std::io::Result<StartedTarget> {
    let client = SandboxClient::generate()?;
    let read_only = format!("mts-read-only-{}", uuid::Uuid::new_v4().simple());
    // Its own application, with a small limit, so the burst does not throttle the suite.
    let load_token = format!("mts-load-{}", uuid::Uuid::new_v4().simple());
    let running = super::start(SandboxOptions {
        faults: faults.clone(),
        tls: true,
        read_only_token: Some(read_only.clone()),
        client: Some(client.clone()),
        load_token: Some((load_token.clone(), LOAD_RATE_LIMIT)),
        // GP Connect providers sit behind Spine's mutual TLS.
        mtls: profile == Profile::Gpc,
        ..SandboxOptions::default()
    })
    .await?;
    let mtls = match running.client_pki() {
        Some(pki) => Some(mutual_tls(pki).map_err(std::io::Error::other)?),
        None => None,
    };
    // The whole OAuth2 flow is exercised: the sandbox's token endpoint issues the tokens.
    // GP Connect consumers send a provenance JWT instead.
    let credentials = if profile == Profile::Gpc {
        Credentials::GpcProvenance
    } else {
        Credentials::ClientCredentials(ClientCredentials {
            token_url: running.token_url(),
            client_id: client.client_id.clone(),
            kid: client.kid.clone(),
            key: client.key.clone(),
        })
    };
    let base_url = running.base_url();
    Ok(StartedTarget {
        label: format!("{base_url} (embedded sandbox)"),
        base_url,
        ca_pem: running.ca_pem().map(|pem| pem.as_bytes().to_vec()),
        credentials,
        low_privilege_token: Some(read_only),
        load: LoadSettings {
            rate_limit: LOAD_RATE_LIMIT,
            token: Some(load_token),
        },
        mtls,
        faults: faults.iter().map(|f| f.name().to_owned()).collect(),
        stop: Box::pin(running.stop()),
    })
}

/// The sandbox's client PKI as the run presents it: its accepted certificate, its CA, its
/// revoked one.
fn mutual_tls(pki: &ClientPki) -> Result<MutualTls, String> {
    let identity = |issued: &crate::tls::pki::Issued| {
        ClientIdentity::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes())
    };
    Ok(MutualTls {
        identity: Some(identity(&pki.valid)?),
        issuing_ca: Some(pki.ca.clone()),
        revoked: Some(identity(&pki.revoked)?),
    })
}
