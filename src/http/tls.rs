//! TLS settings shared by every connection the harness makes: the platform's trust store plus
//! an optional private CA (`--ca-cert`), through rustls only (no OpenSSL).

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::client::HttpError;

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The certificate verifier: platform roots plus `ca_pem`; with `insecure`, one that still checks
/// handshake signatures but accepts any certificate (for supplier test environments with broken
/// certificates, whose problems SEC-TLS-005 reports anyway).
pub fn verifier(
    ca_pem: Option<&[u8]>,
    insecure: bool,
) -> Result<Arc<dyn ServerCertVerifier>, HttpError> {
    let mut extra = Vec::new();
    if let Some(pem) = ca_pem {
        for certificate in CertificateDer::pem_slice_iter(pem) {
            extra.push(certificate.map_err(|e| HttpError::InvalidCaCert {
                message: e.to_string(),
            })?);
        }
        if extra.is_empty() {
            return Err(HttpError::InvalidCaCert {
                message: "no certificate found".into(),
            });
        }
    }
    let verifier: Arc<dyn ServerCertVerifier> = Arc::new(
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider())
            .map_err(|e| HttpError::Tls(e.to_string()))?,
    );
    Ok(if insecure {
        Arc::new(AcceptAnyCertificate { inner: verifier })
    } else {
        verifier
    })
}

/// Builds the client TLS configuration.
pub fn client_config(
    verifier: Arc<dyn ServerCertVerifier>,
    http2: bool,
) -> Result<Arc<ClientConfig>, HttpError> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Arc::new(config))
}

#[derive(Debug)]
struct AcceptAnyCertificate {
    inner: Arc<dyn ServerCertVerifier>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
