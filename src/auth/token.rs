//! Getting, caching and refreshing access tokens.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::jwt::{self, AssertionDefect, ClientKey};
use crate::http::{Exchange, ExchangeId, HttpClient, RequestIdMode, RequestSpec};

/// A token is fetched again when it has less than this left.
const REFRESH_MARGIN: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub token_url: String,
    pub client_id: String,
    pub kid: String,
    pub key: Arc<ClientKey>,
}

#[derive(Debug, Clone)]
pub enum Credentials {
    None,
    /// A token given as is (`MTS_TOKEN`).
    Bearer(String),
    /// OAuth2 client credentials with a signed JWT client assertion.
    ClientCredentials(ClientCredentials),
    /// GP Connect: a fresh unsigned provenance JWT for every request (built by the run, which
    /// knows the request and the test patient).
    GpcProvenance,
}

#[derive(Debug)]
pub struct TokenManager {
    pub credentials: Credentials,
    cached: tokio::sync::Mutex<Option<(String, Instant)>>,
    requests: AtomicUsize,
}

impl TokenManager {
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            cached: tokio::sync::Mutex::new(None),
            requests: AtomicUsize::new(0),
        }
    }

    /// The token to send now, fetched or refreshed when needed.
    pub async fn token(&self, http: &HttpClient) -> Result<Option<String>, String> {
        match &self.credentials {
            Credentials::None | Credentials::GpcProvenance => Ok(None),
            Credentials::Bearer(token) => Ok(Some(token.clone())),
            Credentials::ClientCredentials(client) => {
                let mut cached = self.cached.lock().await;
                if let Some((token, expires)) = cached.as_ref()
                    && Instant::now() + REFRESH_MARGIN < *expires
                {
                    return Ok(Some(token.clone()));
                }
                let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
                let (exchange, raw_body) = self
                    .request(
                        http,
                        client,
                        AssertionDefect::None,
                        None,
                        ExchangeId(format!("auth#{n}")),
                    )
                    .await?;
                let (token, lifetime) = issued_token(&exchange, &raw_body)?;
                http.redactor().add(token.clone());
                *cached = Some((token.clone(), Instant::now() + lifetime));
                Ok(Some(token))
            }
        }
    }

    /// Sends a client-credentials request with a (possibly defective) assertion. `jti` reuses
    /// a given id (the replay probe); otherwise a fresh one is used. `id` names the exchange:
    /// `auth#n` for the run's own tokens, the scenario's next id for a probe, so ids do not
    /// depend on which other scenarios ran (shards merge by id).
    pub async fn request(
        &self,
        http: &HttpClient,
        client: &ClientCredentials,
        defect: AssertionDefect,
        jti: Option<&str>,
        id: ExchangeId,
    ) -> Result<(Arc<Exchange>, Vec<u8>), String> {
        let jti = jti.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        let assertion = jwt::client_assertion(
            &client.client_id,
            &client.kid,
            &client.token_url,
            &client.key,
            defect,
            &jti,
        )?;
        http.redactor().add(assertion.clone());
        let body = format!(
            "grant_type=client_credentials&client_assertion_type={}&client_assertion={assertion}",
            "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
        );
        let mut spec = RequestSpec::get(client.token_url.clone());
        spec.method = "POST".into();
        spec.with_credentials = false;
        spec.request_id = RequestIdMode::Omit;
        spec.kind = crate::http::ExchangeKind::OAuth;
        spec.set_header("Content-Type", "application/x-www-form-urlencoded");
        spec.set_header("Accept", "application/json");
        spec.body = Some(body.into_bytes());
        Ok(http
            .send_keeping_secrets(id, "request an access token", &spec)
            .await)
    }
}

/// The access token and lifetime a token endpoint issued, or why there is none. `raw_body` is
/// the body as received (the recorded one is redacted).
pub fn issued_token(exchange: &Exchange, raw_body: &[u8]) -> Result<(String, Duration), String> {
    let response = exchange.response.as_ref().ok_or_else(|| {
        format!(
            "the token endpoint did not answer: {}",
            exchange.error.as_ref().map_or("", |e| e.message.as_str())
        )
    })?;
    if response.status != 200 {
        return Err(format!(
            "the token endpoint answered {}: {}",
            response.status,
            crate::util::preview(&response.body.text())
        ));
    }
    let body: Value = serde_json::from_slice(raw_body)
        .map_err(|_| "the token response is not JSON".to_owned())?;
    let token = body["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or("the token response has no access_token")?;
    // The NHS API platform sends expires_in as a string ("599").
    let seconds = body["expires_in"]
        .as_u64()
        .or_else(|| body["expires_in"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(300);
    Ok((token.to_owned(), Duration::from_secs(seconds)))
}
