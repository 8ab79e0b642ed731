//! TLS settings shared by every connection the harness makes: the platform's trust store plus
//! an optional private CA (`--ca-cert`), through rustls only (no OpenSSL).

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
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

/// A client certificate chain and its private key, for servers behind mutual TLS.
pub struct ClientIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for ClientIdentity {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl std::fmt::Debug for ClientIdentity {
    // Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl ClientIdentity {
    /// From PEM text: the certificate (and any intermediates) and the private key.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, String> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("the client certificate is not PEM: {e}"))?;
        if chain.is_empty() {
            return Err("no certificate found in the client certificate file".into());
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|_| "the client key is not a PEM private key".to_owned())?;
        Ok(Self { chain, key })
    }

    /// From a certificate file and a key file.
    pub fn load(cert: &std::path::Path, key: &std::path::Path) -> Result<Self, String> {
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        Self::from_pem(&read(cert)?, &read(key)?)
            .map_err(|e| format!("{} / {}: {e}", cert.display(), key.display()))
    }
}

/// Finishes a client configuration with the client certificate, if there is one.
pub fn with_identity(
    builder: rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>,
    identity: Option<&ClientIdentity>,
) -> Result<ClientConfig, String> {
    match identity {
        Some(identity) => builder
            .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            .map_err(|e| format!("the client certificate cannot be used: {e}")),
        None => Ok(builder.with_no_client_auth()),
    }
}

/// Builds the client TLS configuration.
pub fn client_config(
    verifier: Arc<dyn ServerCertVerifier>,
    http2: bool,
    identity: Option<&ClientIdentity>,
) -> Result<Arc<ClientConfig>, HttpError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = with_identity(builder, identity).map_err(HttpError::Tls)?;
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
