//! What a run tests: a supplier's API at a base URL, or a server started for the run alone (the
//! embedded sandbox). The runner sees only this: whoever starts a server hands back its address,
//! the trust and credentials to use with it, and how to stop it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::auth::Credentials;
use crate::catalogue::Profile;
use crate::steps::{LoadSettings, MutualTls};

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

#[derive(Clone)]
pub enum Target {
    /// A FHIR base URL, tested with the run's own settings.
    Remote(String),
    /// Started for the run and stopped after it.
    Started(Arc<dyn StartTarget>),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Remote(url) => f.debug_tuple("Remote").field(url).finish(),
            Self::Started(_) => f.write_str("Started"),
        }
    }
}

impl Target {
    /// The base URL of a remote target.
    pub fn url(&self) -> Option<&str> {
        match self {
            Self::Remote(url) => Some(url),
            Self::Started(_) => None,
        }
    }
}

/// A server started for one run.
pub trait StartTarget: Send + Sync {
    /// Starts it for a run under `profile`.
    fn start(&self, profile: Profile) -> BoxFuture<std::io::Result<StartedTarget>>;
}

/// A started server, and what the run uses with it instead of its own settings.
pub struct StartedTarget {
    pub base_url: String,
    /// How the report names it.
    pub label: String,
    /// Its CA, to trust.
    pub ca_pem: Option<Vec<u8>>,
    pub credentials: Credentials,
    pub low_privilege_token: Option<String>,
    pub load: LoadSettings,
    /// Client certificates, when it sits behind mutual TLS.
    pub mtls: Option<MutualTls>,
    /// The faults switched on in it, for the report.
    pub faults: Vec<String>,
    /// Stops it; awaited once the run is over.
    pub stop: BoxFuture<()>,
}
