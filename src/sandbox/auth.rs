//! The sandbox's OAuth2 token endpoint (NHS API platform signed-JWT pattern) and the tokens it
//! accepts: a static token, tokens it issued (until they expire), and a read-only token for the
//! low-privilege probes.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Fault;
use crate::auth::ClientKey;
use crate::auth::jwt;

/// The client the sandbox knows: its id, key id and public key.
pub struct RegisteredClient {
    pub client_id: String,
    pub kid: String,
    pub public_key: Vec<u8>,
}

/// What a presented token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Full,
    ReadOnly,
}

pub struct AuthState {
    pub static_token: Option<String>,
    pub read_only_token: Option<String>,
    pub client: Option<RegisteredClient>,
    pub lifetime: Duration,
    issued: Mutex<HashMap<String, Instant>>,
    used_jti: Mutex<HashSet<String>>,
    /// The rate-limited token and its token bucket.
    load: Option<RateLimitedToken>,
}

/// A token limited to `per_second` requests, metered by a token bucket.
struct RateLimitedToken {
    token: String,
    per_second: u32,
    /// Allowance left and when it was last refilled.
    bucket: Mutex<(f64, Instant)>,
}

/// An OAuth error answer: status and body.
pub type OAuthError = (u16, Value);

fn oauth_error(status: u16, error: &str, description: &str) -> OAuthError {
    (
        status,
        json!({"error": error, "error_description": description}),
    )
}

impl AuthState {
    pub fn new(
        static_token: Option<String>,
        read_only_token: Option<String>,
        client: Option<(&str, &str, &Arc<ClientKey>)>,
        lifetime: Duration,
    ) -> Self {
        Self {
            static_token,
            read_only_token,
            client: client.map(|(id, kid, key)| RegisteredClient {
                client_id: id.to_owned(),
                kid: kid.to_owned(),
                public_key: key.public_key_der(),
            }),
            lifetime,
            issued: Mutex::default(),
            used_jti: Mutex::default(),
            load: None,
        }
    }

    pub fn with_load_token(mut self, load: Option<(String, u32)>) -> Self {
        self.load = load.map(|(token, per_second)| RateLimitedToken {
            token,
            per_second,
            bucket: Mutex::new((f64::from(per_second), Instant::now())),
        });
        self
    }

    /// Whether a request with `token` is within its rate limit (always, for unlimited tokens).
    pub fn within_limit(&self, token: Option<&str>) -> bool {
        let Some(limited) = &self.load else {
            return true;
        };
        if token != Some(limited.token.as_str()) {
            return true;
        }
        let limit = &limited.per_second;
        let Ok(mut bucket) = limited.bucket.lock() else {
            return true;
        };
        let (allowance, last) = &mut *bucket;
        let now = Instant::now();
        *allowance = (*allowance + now.duration_since(*last).as_secs_f64() * f64::from(*limit))
            .min(f64::from(*limit));
        *last = now;
        if *allowance >= 1.0 {
            *allowance -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether authentication is switched on at all.
    pub fn enabled(&self) -> bool {
        self.static_token.is_some() || self.client.is_some()
    }

    /// What `token` allows, if anything.
    pub fn grant(&self, token: &str) -> Option<Grant> {
        if self.static_token.as_deref() == Some(token) {
            return Some(Grant::Full);
        }
        if self.read_only_token.as_deref() == Some(token) {
            return Some(Grant::ReadOnly);
        }
        if self
            .load
            .as_ref()
            .is_some_and(|limited| limited.token == token)
        {
            return Some(Grant::Full);
        }
        let issued = self.issued.lock().ok()?;
        issued
            .get(token)
            .filter(|expires| Instant::now() < **expires)
            .map(|_| Grant::Full)
    }

    /// `POST /oauth2/token` with `grant_type=client_credentials` and a client assertion.
    pub fn token(
        &self,
        form: &[(String, String)],
        token_url: &str,
        faults: &[Fault],
    ) -> Result<Value, OAuthError> {
        let field = |name: &str| {
            form.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        if field("grant_type") != Some("client_credentials") {
            return Err(oauth_error(
                400,
                "unsupported_grant_type",
                "grant_type must be client_credentials",
            ));
        }
        if field("client_assertion_type")
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return Err(oauth_error(
                400,
                "invalid_request",
                "client_assertion_type must be jwt-bearer",
            ));
        }
        let assertion = field("client_assertion")
            .ok_or_else(|| oauth_error(400, "invalid_request", "client_assertion is missing"))?;
        let decoded = jwt::decode(assertion)
            .map_err(|e| oauth_error(400, "invalid_request", &format!("Malformed JWT: {e}")))?;
        let client = self
            .client
            .as_ref()
            .ok_or_else(|| oauth_error(401, "invalid_client", "no client is registered"))?;
        let lenient_alg = faults.contains(&Fault::AlgNoneAccepted);
        match decoded.header["alg"].as_str() {
            Some("RS512") => {}
            _ if lenient_alg => {}
            other => {
                return Err(oauth_error(
                    400,
                    "invalid_request",
                    &format!(
                        "Invalid 'alg' header in JWT - {} (RS512 required)",
                        other.unwrap_or("missing")
                    ),
                ));
            }
        }
        let Some(kid) = decoded.header["kid"].as_str() else {
            return Err(oauth_error(
                400,
                "invalid_request",
                "Missing 'kid' header in JWT",
            ));
        };
        if kid != client.kid {
            return Err(oauth_error(
                401,
                "invalid_request",
                "Invalid 'kid' header in JWT - no matching public key",
            ));
        }
        let signed_right = decoded.header["alg"] == "RS512"
            && jwt::verify_rs512(
                &client.public_key,
                decoded.signing_input.as_bytes(),
                &decoded.signature,
            );
        if !signed_right && !lenient_alg {
            return Err(oauth_error(
                401,
                "invalid_request",
                "Unable to verify JWT signature",
            ));
        }
        let claims = &decoded.claims;
        if claims["iss"] != claims["sub"] {
            return Err(oauth_error(
                400,
                "invalid_request",
                "Missing or non-matching 'iss'/'sub' claims in JWT",
            ));
        }
        if claims["iss"] != client.client_id.as_str() {
            return Err(oauth_error(401, "invalid_client", "Unknown client"));
        }
        if claims["aud"] != token_url {
            return Err(oauth_error(
                401,
                "invalid_request",
                "Missing or invalid 'aud' claim in JWT",
            ));
        }
        let Some(jti) = claims["jti"].as_str() else {
            return Err(oauth_error(
                400,
                "invalid_request",
                "Missing 'jti' claim in JWT",
            ));
        };
        let now = chrono::Utc::now().timestamp();
        let Some(exp) = claims["exp"].as_i64() else {
            return Err(oauth_error(
                400,
                "invalid_request",
                "Missing 'exp' claim in JWT",
            ));
        };
        if exp <= now {
            return Err(oauth_error(
                400,
                "invalid_request",
                "Invalid 'exp' claim in JWT - JWT has expired",
            ));
        }
        // At most five minutes ahead, with thirty seconds' grace for clock skew.
        if exp >= now + 330 && !faults.contains(&Fault::LongExpiryAccepted) {
            return Err(oauth_error(
                400,
                "invalid_request",
                "Invalid 'exp' claim in JWT - more than 5 minutes in future",
            ));
        }
        if let Ok(mut used) = self.used_jti.lock()
            && !used.insert(jti.to_owned())
            && !faults.contains(&Fault::JtiReplayAccepted)
        {
            return Err(oauth_error(
                400,
                "invalid_request",
                "Non-unique 'jti' claim in JWT",
            ));
        }
        let token = format!("mts-issued-{}", uuid::Uuid::new_v4().simple());
        if let Ok(mut issued) = self.issued.lock() {
            issued.insert(token.clone(), Instant::now() + self.lifetime);
        }
        Ok(json!({
            "access_token": token,
            "expires_in": self.lifetime.as_secs().to_string(),
            "token_type": "Bearer",
            "issued_at": (now * 1000).to_string()
        }))
    }
}
