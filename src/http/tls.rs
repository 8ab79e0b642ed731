//! TLS settings shared by every connection the harness makes: the platform's trust store plus
//! an optional private CA (`--ca-cert`), through rustls only (no OpenSSL).

use std::path::Path;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use super::client::HttpError;

/// ALPN for the main client: HTTP/2 where the server offers it, else HTTP/1.1.
const ALPN_ALL: &[&[u8]] = &[b"h2", b"http/1.1"];

/// Builds the client TLS configuration.
pub fn client_config(ca_cert: Option<&Path>, http2: bool) -> Result<Arc<ClientConfig>, HttpError> {
    let mut extra = Vec::new();
    if let Some(path) = ca_cert {
        let pem = std::fs::read(path).map_err(|source| HttpError::ReadCaCert {
            path: path.to_owned(),
            source,
        })?;
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            let certificate = certificate.map_err(|e| HttpError::InvalidCaCert {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
            extra.push(certificate);
        }
        if extra.is_empty() {
            return Err(HttpError::InvalidCaCert {
                path: path.to_owned(),
                message: "no certificate found".into(),
            });
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(|e| HttpError::Tls(e.to_string()))?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = if http2 {
        ALPN_ALL.iter().map(|p| p.to_vec()).collect()
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Arc::new(config))
}
