//! TLS settings shared by every connection the harness makes: the platform's trust store plus
//! an optional private CA (`--ca-cert`), through rustls only (no OpenSSL). A server certificate
//! that is itself in the `--ca-cert` file counts as pinned (see [`TrustBasis`]).

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// TLS settings mts cannot use.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("the CA certificate is not a PEM certificate: {message}")]
    InvalidCaCert { message: String },
    #[error("TLS settings: {0}")]
    Tls(String),
}

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// How the server certificate came to be trusted (report.json `tls.trust`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum TrustBasis {
    /// It chains to a root of the platform's trust store.
    PlatformRoots,
    /// It chains to a CA given with `--ca-cert`.
    PrivateCa,
    /// It is itself one of the certificates given with `--ca-cert`, byte for byte: trusted
    /// because it was pinned, and checked only for its dates and the host name.
    PinnedCertificate,
}

/// The certificate verifier: platform roots plus `ca_pem`, whose certificates also count as
/// pinned server certificates; with `insecure`, one that still checks handshake signatures but
/// accepts any certificate (for supplier test environments with broken certificates, whose
/// problems SEC-TLS-005 reports anyway).
pub fn verifier(ca_pem: Option<&[u8]>, insecure: bool) -> Result<Arc<Verifier>, TrustError> {
    let mut extra = Vec::new();
    if let Some(pem) = ca_pem {
        for certificate in CertificateDer::pem_slice_iter(pem) {
            extra.push(certificate.map_err(|e| TrustError::InvalidCaCert {
                message: e.to_string(),
            })?);
        }
        if extra.is_empty() {
            return Err(TrustError::InvalidCaCert {
                message: "no certificate found".into(),
            });
        }
    }
    let chain: Arc<dyn ServerCertVerifier> = Arc::new(
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra.clone(), provider())
            .map_err(|e| TrustError::Tls(e.to_string()))?,
    );
    let trust = Arc::new(Trust { chain, pins: extra });
    Ok(Arc::new(Verifier {
        trust,
        policy: if insecure {
            Policy::AcceptAny
        } else {
            Policy::Enforce
        },
    }))
}

/// A certificate chain and its private key: a client's identity for servers behind mutual TLS,
/// or a certificate a server serves. Neither `Debug` nor any error ever shows the key.
pub struct CertificateKey {
    pub chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

/// A client certificate and its key.
pub type ClientIdentity = CertificateKey;

impl Clone for CertificateKey {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl std::fmt::Debug for CertificateKey {
    // Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateKey")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl CertificateKey {
    /// A client certificate (and any intermediates) and its private key, from PEM text.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, String> {
        Self::from_pem_named(cert_pem, key_pem, "client certificate", "client key")
    }

    /// From PEM text, `certificate` and `key` naming the two in errors.
    pub fn from_pem_named(
        cert_pem: &[u8],
        key_pem: &[u8],
        certificate: &str,
        key: &str,
    ) -> Result<Self, String> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("the {certificate} is not PEM: {e}"))?;
        if chain.is_empty() {
            return Err(format!("no certificate found in the {certificate} file"));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|_| format!("the {key} is not a PEM private key"))?;
        Ok(Self { chain, key })
    }

    /// The private key, for a TLS configuration.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
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
            .with_client_auth_cert(identity.chain.clone(), identity.key())
            .map_err(|e| format!("the client certificate cannot be used: {e}")),
        None => Ok(builder.with_no_client_auth()),
    }
}

/// Builds the client TLS configuration.
pub fn client_config(
    verifier: Arc<dyn ServerCertVerifier>,
    http2: bool,
    identity: Option<&ClientIdentity>,
) -> Result<Arc<ClientConfig>, TrustError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = with_identity(builder, identity).map_err(TrustError::Tls)?;
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Arc::new(config))
}

/// The trust material: the platform verifier (with the `--ca-cert` certificates as extra
/// roots) and those same certificates as pins.
#[derive(Debug)]
struct Trust {
    chain: Arc<dyn ServerCertVerifier>,
    pins: Vec<CertificateDer<'static>>,
}

/// How a certificate passed: through a chain (to whichever root) or as a pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Passed {
    Chain,
    Pinned,
}

impl Trust {
    fn is_pinned(&self, end_entity: &CertificateDer<'_>) -> bool {
        self.pins
            .iter()
            .any(|pin| pin.as_ref() == end_entity.as_ref())
    }

    /// The chain's verdict; a certificate it refuses (a CA certificate as end entity, an
    /// unknown issuer…) that is one of the pins passes if it is in date and names the host.
    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<Passed, rustls::Error> {
        match self.chain.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(_) => Ok(Passed::Chain),
            Err(rustls::Error::InvalidCertificate(_)) if self.is_pinned(end_entity) => {
                check_pinned(end_entity, server_name, now)?;
                Ok(Passed::Pinned)
            }
            Err(error) => Err(error),
        }
    }

    /// What a certificate that passed was trusted through: only asked by the TLS facts probe,
    /// so ordinary connections do not pay for the second verification.
    fn basis(
        &self,
        passed: Passed,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> TrustBasis {
        if passed == Passed::Pinned {
            return TrustBasis::PinnedCertificate;
        }
        // The --ca-cert certificates other than the leaf itself: a leaf that chains to one of
        // them came through a private CA (a full-chain file passed as --ca-cert included).
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(
            self.pins
                .iter()
                .filter(|pin| pin.as_ref() != end_entity.as_ref())
                .cloned(),
        );
        let private = !roots.is_empty()
            && rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider(),
            )
            .build()
            .is_ok_and(|private| {
                private
                    .verify_server_cert(end_entity, intermediates, server_name, &[], now)
                    .is_ok()
            });
        if private {
            TrustBasis::PrivateCa
        } else if self.is_pinned(end_entity) && self_issued(end_entity) {
            // A self-signed leaf without CA:TRUE is its own trust anchor to webpki.
            TrustBasis::PinnedCertificate
        } else {
            TrustBasis::PlatformRoots
        }
    }
}

/// Whether a certificate names itself as its issuer.
fn self_issued(der: &CertificateDer<'_>) -> bool {
    x509_parser::parse_x509_certificate(der)
        .is_ok_and(|(_, cert)| cert.subject().as_raw() == cert.issuer().as_raw())
}

/// The checks a pinned certificate still gets: in date, and naming the host.
///
/// Names are matched as webpki matches every other server certificate: subjectAltName only
/// (DNS names, wildcards included, and IP addresses), with no fallback to the subject CN.
/// Browsers dropped that fallback years ago (Chrome 58, Firefox 48), RFC 6125 deprecates it,
/// and SEC-TLS-005 asks for a subjectAltName, so a pinned certificate is judged no more loosely
/// than an issued one.
fn check_pinned(
    end_entity: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<(), rustls::Error> {
    let (_, cert) = x509_parser::parse_x509_certificate(end_entity)
        .map_err(|_| CertificateError::BadEncoding)?;
    let at = |seconds: i64| {
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            u64::try_from(seconds).unwrap_or(0),
        ))
    };
    let time = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let validity = cert.validity();
    if time < validity.not_before.timestamp() {
        return Err(CertificateError::NotValidYetContext {
            time: now,
            not_before: at(validity.not_before.timestamp()),
        }
        .into());
    }
    if time > validity.not_after.timestamp() {
        return Err(CertificateError::ExpiredContext {
            time: now,
            not_after: at(validity.not_after.timestamp()),
        }
        .into());
    }
    let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
    rustls::client::verify_server_name(&parsed, server_name)
}

/// What a [`Verifier`] does with the trust verdict.
#[derive(Debug)]
enum Policy {
    /// Refuses what is not trusted.
    Enforce,
    /// Accepts any certificate (`--insecure`).
    AcceptAny,
    /// Accepts any certificate, remembering the verdict and its basis (the TLS facts probe).
    Record(Mutex<Option<Result<TrustBasis, String>>>),
}

/// The one server-certificate verifier: the trust material under a policy. Handshake
/// signatures are always checked, by the platform verifier's provider.
#[derive(Debug)]
pub struct Verifier {
    trust: Arc<Trust>,
    policy: Policy,
}

impl Verifier {
    /// The same trust, accepting any certificate but remembering what the trust said.
    pub fn recording(&self) -> Self {
        Self {
            trust: self.trust.clone(),
            policy: Policy::Record(Mutex::default()),
        }
    }

    /// The same trust, accepting any certificate.
    pub fn accepting_any(&self) -> Self {
        Self {
            trust: self.trust.clone(),
            policy: Policy::AcceptAny,
        }
    }

    /// What a recording verifier saw last: the trust basis, or why the certificate is not
    /// trusted.
    pub fn recorded(&self) -> Option<Result<TrustBasis, String>> {
        match &self.policy {
            Policy::Record(slot) => slot.lock().ok().and_then(|v| v.clone()),
            _ => None,
        }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verify = || {
            self.trust
                .verify(end_entity, intermediates, server_name, ocsp_response, now)
        };
        match &self.policy {
            Policy::Enforce => verify().map(|_| ServerCertVerified::assertion()),
            Policy::AcceptAny => Ok(ServerCertVerified::assertion()),
            Policy::Record(slot) => {
                let verdict = match verify() {
                    Ok(passed) => {
                        Ok(self
                            .trust
                            .basis(passed, end_entity, intermediates, server_name, now))
                    }
                    // Said, so a failing pinned certificate is not mistaken for an unknown one.
                    Err(error) if self.trust.is_pinned(end_entity) => {
                        Err(format!("pinned with --ca-cert, but {error}"))
                    }
                    Err(error) => Err(error.to_string()),
                };
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(verdict);
                }
                Ok(ServerCertVerified::assertion())
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.trust.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.trust.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.trust.chain.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    use time::{Duration, OffsetDateTime};

    /// A self-signed certificate as `openssl req -x509` makes one (CA:TRUE), for `names`,
    /// valid from `from` to `to` days from now; PEM.
    fn self_signed(names: &[&str], from: i64, to: i64, ca: bool) -> String {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*n).try_into().unwrap()),
            })
            .collect();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        if ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        let now = OffsetDateTime::now_utc();
        params.not_before = now + Duration::days(from);
        params.not_after = now + Duration::days(to);
        params
            .self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .pem()
    }

    fn der(pem: &str) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
    }

    /// What `verifier` says of `cert` presented for `host`: the basis, or the error.
    fn verdict(ca_pem: &str, cert: &str, host: &str) -> Result<TrustBasis, String> {
        let strict = verifier(Some(ca_pem.as_bytes()), false).unwrap();
        let name = ServerName::try_from(host.to_owned()).unwrap();
        let enforced = strict.verify_server_cert(&der(cert), &[], &name, &[], UnixTime::now());
        let recording = strict.recording();
        recording
            .verify_server_cert(&der(cert), &[], &name, &[], UnixTime::now())
            .unwrap();
        let recorded = recording.recorded().unwrap();
        // Enforcing and recording agree.
        assert_eq!(
            enforced.is_ok(),
            recorded.is_ok(),
            "{enforced:?} {recorded:?}"
        );
        recorded
    }

    #[test]
    fn a_pinned_ca_true_certificate_is_trusted_by_ip_and_dns_name() {
        let cert = self_signed(&["localhost", "127.0.0.1"], -1, 30, true);
        // webpki alone refuses it, even with it as a root: the CaUsedAsEndEntity.
        let plain = verifier(Some(cert.as_bytes()), false)
            .unwrap()
            .trust
            .chain
            .verify_server_cert(
                &der(&cert),
                &[],
                &ServerName::try_from("localhost").unwrap(),
                &[],
                UnixTime::now(),
            );
        let refused = plain.map(|_| ()).unwrap_err().to_string();
        assert!(refused.contains("CaUsedAsEndEntity"), "{refused}");
        for host in ["127.0.0.1", "localhost"] {
            assert_eq!(
                verdict(&cert, &cert, host),
                Ok(TrustBasis::PinnedCertificate)
            );
        }
    }

    #[test]
    fn only_a_byte_identical_certificate_is_pinned() {
        let pinned = self_signed(&["127.0.0.1"], -1, 30, true);
        let other = self_signed(&["127.0.0.1"], -1, 30, true);
        let error = verdict(&pinned, &other, "127.0.0.1").unwrap_err();
        assert!(!error.contains("pinned"), "{error}");
        // Any one certificate of the file is a pin.
        let both = format!("{other}{pinned}");
        assert_eq!(
            verdict(&both, &pinned, "127.0.0.1"),
            Ok(TrustBasis::PinnedCertificate)
        );
    }

    #[test]
    fn a_pinned_certificate_must_be_in_date() {
        let expired = self_signed(&["127.0.0.1"], -60, -1, true);
        let error = verdict(&expired, &expired, "127.0.0.1").unwrap_err();
        assert!(error.starts_with("pinned with --ca-cert, but"), "{error}");
        assert!(error.contains("certificate expired"), "{error}");
        let early = self_signed(&["127.0.0.1"], 1, 30, true);
        let error = verdict(&early, &early, "127.0.0.1").unwrap_err();
        assert!(error.contains("not valid yet"), "{error}");
    }

    #[test]
    fn a_pinned_certificate_must_name_the_host_in_its_subject_alt_name() {
        let other = self_signed(&["other.example"], -1, 30, true);
        let error = verdict(&other, &other, "127.0.0.1").unwrap_err();
        assert!(
            error.contains("not valid for name \"127.0.0.1\""),
            "{error}"
        );
        // No fallback to the subject CN (CN=localhost): browsers dropped it too.
        let error = verdict(&other, &other, "localhost").unwrap_err();
        assert!(
            error.contains("not valid for name \"localhost\""),
            "{error}"
        );
        let no_san = self_signed(&[], -1, 30, true);
        assert!(verdict(&no_san, &no_san, "localhost").is_err());
        // Wildcards match as for any certificate.
        let wildcard = self_signed(&["*.example.test"], -1, 30, true);
        assert_eq!(
            verdict(&wildcard, &wildcard, "api.example.test"),
            Ok(TrustBasis::PinnedCertificate)
        );
    }

    #[test]
    fn a_self_signed_leaf_without_ca_true_is_pinned_too() {
        let leaf = self_signed(&["127.0.0.1"], -1, 30, false);
        assert_eq!(
            verdict(&leaf, &leaf, "127.0.0.1"),
            Ok(TrustBasis::PinnedCertificate)
        );
    }

    #[test]
    fn a_certificate_from_a_private_ca_is_trusted_through_it() {
        use crate::tls::pki::{TestCa, Validity};
        let ca = TestCa::new("pin test CA").unwrap();
        let issued = ca.server(&["127.0.0.1"], Validity::Current).unwrap();
        assert_eq!(
            verdict(&ca.cert_pem, &issued.cert_pem, "127.0.0.1"),
            Ok(TrustBasis::PrivateCa)
        );
        // A full-chain file (leaf and CA) still says private CA, not pinned.
        let chain = format!("{}{}", issued.cert_pem, ca.cert_pem);
        assert_eq!(
            verdict(&chain, &issued.cert_pem, "127.0.0.1"),
            Ok(TrustBasis::PrivateCa)
        );
        // The pin does not loosen the CA's checks: an expired issued certificate fails.
        let expired = ca.server(&["127.0.0.1"], Validity::Expired).unwrap();
        assert!(verdict(&ca.cert_pem, &expired.cert_pem, "127.0.0.1").is_err());
    }

    #[test]
    fn insecure_accepts_any_certificate() {
        let pinned = self_signed(&["127.0.0.1"], -1, 30, true);
        let other = self_signed(&["other.example"], -60, -1, true);
        let lenient = verifier(Some(pinned.as_bytes()), true).unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        assert!(
            lenient
                .verify_server_cert(&der(&other), &[], &name, &[], UnixTime::now())
                .is_ok()
        );
    }
}
