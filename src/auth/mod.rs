//! Credentials as NHS suppliers deploy them: a static bearer token (`MTS_TOKEN`), OAuth2
//! client credentials with a signed JWT client assertion (private_key_jwt, RS512, the NHS API
//! platform pattern), refreshed when it nears expiry; and the JWT pieces the sandbox's token
//! endpoint and the SEC-JWT probes share.

pub mod jwt;
pub mod provenance;
mod token;

pub use jwt::{AssertionDefect, ClientKey};
pub use token::{ClientCredentials, Credentials, TokenManager, issued_token};
