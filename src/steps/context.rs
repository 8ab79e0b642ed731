use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::auth::provenance::ProvenanceDefect;
use crate::auth::{Credentials, TokenManager};
use crate::catalogue::Profile;
use crate::config::{GpcSettings, PatientRole, TestData};
use crate::http::{Exchange, ExchangeId, HttpClient, RequestSpec};
use crate::openapi::OpenApi;
use crate::report::ScenarioResult;
use crate::tls::pki::TestCa;
use crate::tls::trust::ClientIdentity;

/// Mutual TLS: the client certificate every connection presents, and what the negative
/// client-certificate matrix (SEC-TLS-006) needs beyond it.
#[derive(Debug, Clone, Default)]
pub struct MutualTls {
    pub identity: Option<ClientIdentity>,
    /// The CA the target trusts for client certificates, to mint expired and wrong-name ones
    /// it would otherwise accept.
    pub issuing_ca: Option<Arc<TestCa>>,
    /// A certificate the target's CA has revoked.
    pub revoked: Option<ClientIdentity>,
}

/// The rate limit the supplier declares, and the token to probe it with.
#[derive(Debug, Clone)]
pub struct LoadSettings {
    pub rate_limit: u32,
    pub token: Option<String>,
}

impl Default for LoadSettings {
    fn default() -> Self {
        // The NHS API platform's default per-application limit.
        Self {
            rate_limit: 5,
            token: None,
        }
    }
}

/// A promise of the test-data kit that the target did not meet before the run.
#[derive(Debug, Clone)]
pub struct KitShortfall {
    pub role: PatientRole,
    /// The type promised; `None` for the promise that the patient is sensitive.
    pub resource_type: Option<String>,
    /// What was promised and what the preflight found, in a sentence.
    pub text: String,
}

/// What every scenario of one run shares.
#[derive(Debug)]
pub struct RunContext {
    pub http: HttpClient,
    pub data: TestData,
    pub profile: Profile,
    pub allow_writes: bool,
    pub gpc: GpcSettings,
    /// Where access tokens come from.
    pub tokens: TokenManager,
    /// Rate-limit probe settings.
    pub load: LoadSettings,
    pub mtls: MutualTls,
    /// A valid token without write rights, if one was given.
    pub low_privilege_token: Option<String>,
    /// The supplier's OpenAPI document: parsed, or why it could not be.
    pub openapi: Option<Result<Arc<OpenApi>, String>>,
    /// The exchange that fetched the OpenAPI document, when it came from a URL.
    pub openapi_exchange: Option<ExchangeId>,
    /// What the TLS handshake with the target showed (HTTPS targets only).
    pub tls_facts: Option<Result<crate::tls::TlsFacts, String>>,
    /// What the target declares (discovered before planning).
    pub model: Arc<crate::target::TargetModel>,
    /// Where writes go and with what body (`[target.write]`).
    pub write: Option<crate::config::WriteSection>,
    /// Promises of the test-data kit the preflight found unmet, so a scenario lacking that
    /// data says it is a missing prerequisite.
    pub kit_shortfalls: Vec<KitShortfall>,
    /// Test patients' own records, read once when a derived request needs them.
    pub(crate) records:
        tokio::sync::Mutex<std::collections::BTreeMap<PatientRole, Option<Arc<Value>>>>,
    /// The server's CapabilityStatement, read once for every scenario that needs it, and the
    /// exchange that read it.
    capability: tokio::sync::OnceCell<(Option<Arc<Value>>, Arc<Exchange>)>,
    pub(crate) results: Mutex<Vec<ScenarioResult>>,
}

impl RunContext {
    /// The kit's unmet promise about `role` (a `resource_type` it holds, or `None`: that it is
    /// sensitive), if the preflight found one.
    pub fn kit_shortfall(
        &self,
        role: PatientRole,
        resource_type: Option<&str>,
    ) -> Option<&KitShortfall> {
        self.kit_shortfalls
            .iter()
            .find(|s| s.role == role && s.resource_type.as_deref() == resource_type)
    }

    pub fn new(http: HttpClient, data: TestData, profile: Profile, allow_writes: bool) -> Self {
        Self {
            http,
            data,
            profile,
            allow_writes,
            gpc: GpcSettings::default(),
            tokens: TokenManager::new(Credentials::None),
            low_privilege_token: None,
            load: LoadSettings::default(),
            mtls: MutualTls::default(),
            openapi: None,
            openapi_exchange: None,
            tls_facts: None,
            model: Arc::default(),
            write: None,
            kit_shortfalls: Vec::new(),
            records: tokio::sync::Mutex::default(),
            capability: tokio::sync::OnceCell::new(),
            results: Mutex::default(),
        }
    }

    /// Sends a request with the headers the profile requires of every client (GP Connect's
    /// Spine Secure Proxy headers under gpc), unless the request sets or omits them itself.
    pub async fn send_as(&self, id: ExchangeId, label: &str, spec: RequestSpec) -> Arc<Exchange> {
        self.send_via(&self.http, id, label, spec).await
    }

    /// `send_as` through another client (one presenting a different client certificate).
    pub async fn send_via(
        &self,
        http: &HttpClient,
        id: ExchangeId,
        label: &str,
        mut spec: RequestSpec,
    ) -> Arc<Exchange> {
        if self.profile == Profile::Gpc {
            let interaction = crate::gpc::interaction_id(&spec.method, &spec.target);
            let defaults = [
                ("Ssp-TraceID", uuid::Uuid::new_v4().to_string()),
                ("Ssp-From", self.gpc.consumer_asid.clone()),
                ("Ssp-To", self.gpc.provider_asid.clone()),
                ("Ssp-InteractionID", interaction),
            ];
            for (name, value) in defaults {
                let chosen = spec
                    .headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name))
                    || spec
                        .omit_headers
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(name));
                if !chosen {
                    spec.headers.push((name.to_owned(), value));
                }
            }
        }
        if spec.with_credentials
            && spec.bearer.is_none()
            && matches!(self.tokens.credentials, Credentials::GpcProvenance)
        {
            spec.bearer =
                Some(self.provenance_jwt(&spec.method, &spec.target, &ProvenanceDefect::None));
        }
        if spec.with_credentials && spec.bearer.is_none() {
            match self.tokens.token(&self.http).await {
                Ok(token) => spec.bearer = token,
                // The request goes without a token; the answer shows the consequence, and the
                // reason is kept with the exchange's label.
                Err(why) => {
                    return http
                        .send(id, &format!("{label} (no access token: {why})"), &spec)
                        .await;
                }
            }
        }
        http.send(id, label, &spec).await
    }

    /// A GP Connect provenance JWT for a request (about the existing test patient), broken as
    /// `defect` says.
    pub fn provenance_jwt(&self, method: &str, target: &str, defect: &ProvenanceDefect) -> String {
        crate::auth::provenance::token(
            &self.gpc.requester(),
            self.http.base_url(),
            &crate::auth::provenance::scope_for(method, target),
            &self.data.patient(PatientRole::Existing).nhs_number,
            chrono::Utc::now().timestamp(),
            defect,
        )
    }

    /// The CapabilityStatement at `/metadata`, if the server publishes one.
    pub async fn capability(&self) -> Option<Arc<Value>> {
        self.capability_exchange().await.0
    }

    /// The CapabilityStatement (if any) and the exchange that asked for it.
    pub async fn capability_exchange(&self) -> (Option<Arc<Value>>, Arc<Exchange>) {
        self.capability
            .get_or_init(|| async {
                let exchange = self
                    .send_as(
                        ExchangeId("capability#1".into()),
                        "read the CapabilityStatement",
                        RequestSpec::get("metadata"),
                    )
                    .await;
                let statement = exchange.response.as_ref().and_then(|response| {
                    (response.status == 200
                        && response.resource_type() == Some("CapabilityStatement"))
                    .then(|| response.body.json().cloned())
                    .flatten()
                });
                (statement, exchange)
            })
            .await
            .clone()
    }

    /// A test patient's own record (read once; the preflight's read when there was one), from
    /// which searches and writes take their values. `None` when it cannot be read.
    pub async fn patient_record(&self, role: PatientRole) -> Option<Arc<Value>> {
        let mut records = self.records.lock().await;
        if let Some(known) = records.get(&role) {
            return known.clone();
        }
        let patient = self.data.patient(role);
        let exchange = self
            .send_as(
                ExchangeId(format!("record#{}", role.as_str())),
                &format!("read the {} test patient's record", role.as_str()),
                RequestSpec::get(format!("Patient/{}", patient.logical_id())),
            )
            .await;
        let record = Self::record_of(&exchange);
        records.insert(role, record.clone());
        record
    }

    /// Keeps a read of a test patient that was made anyway (the preflight).
    pub(crate) async fn remember_record(&self, role: PatientRole, exchange: &Exchange) {
        self.records
            .lock()
            .await
            .insert(role, Self::record_of(exchange));
    }

    fn record_of(exchange: &Exchange) -> Option<Arc<Value>> {
        let response = exchange.response.as_ref()?;
        (response.status == 200 && response.resource_type() == Some("Patient"))
            .then(|| response.body.json().cloned())
            .flatten()
    }

    pub(crate) fn record(&self, result: ScenarioResult) {
        if let Ok(mut results) = self.results.lock() {
            results.push(result);
        }
    }

    pub(crate) fn take_results(&self) -> Vec<ScenarioResult> {
        self.results
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }
}
