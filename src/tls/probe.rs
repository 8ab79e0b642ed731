//! Handshakes with the target: the negotiated protocol, cipher and certificate facts (with the
//! verdict of the real certificate verifier recorded rather than enforced), forced TLS 1.2 or
//! strong-suite handshakes, and raw ClientHello offers for protocols and suites rustls refuses
//! to speak.

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::hello::{self, ServerAnswer};
use crate::tls::trust::{ClientIdentity, TrustBasis, Verifier, with_identity};

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct CertificateFacts {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    /// Days until `not_after` (negative once expired).
    pub days_left: i64,
    pub subject_alt_names: Vec<String>,
    /// `RSA`, `EC` or other, with the size in bits.
    pub key: String,
    pub key_bits: usize,
    pub signature_algorithm: String,
    /// basicConstraints CA:TRUE (as `openssl req -x509` makes): a server presenting a CA
    /// certificate as its own is trusted only when it is pinned.
    #[serde(default)]
    pub ca: bool,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct TlsFacts {
    pub protocol: String,
    pub cipher_suite: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    /// The trust store's verdict on the chain and host name (`None` when it verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_error: Option<String>,
    /// What the certificate was trusted through (`None` when it is not trusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<TrustBasis>,
    pub chain: Vec<CertificateFacts>,
}

/// Host and port of an https URL.
pub fn endpoint(url: &str) -> Option<(String, u16)> {
    let parsed = reqwest::Url::parse(url).ok()?;
    Some((
        parsed.host_str()?.trim_matches(['[', ']']).to_owned(),
        parsed.port_or_known_default()?,
    ))
}

async fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    tokio::time::timeout(timeout, TcpStream::connect((host, port)))
        .await
        .map_err(|_| "timed out connecting".to_owned())?
        .map_err(|e| format!("could not connect: {e}"))
}

fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_owned()).map_err(|e| format!("bad server name {host}: {e}"))
}

/// Where and as whom a rustls probe connects: endpoint, trust, client certificate, deadline.
pub struct Peer<'a> {
    pub host: &'a str,
    pub port: u16,
    pub verifier: Arc<Verifier>,
    pub identity: Option<&'a ClientIdentity>,
    pub timeout: Duration,
}

/// What a handshake with the target shows, trusting and presenting what the run's client does: the facts
/// a run records and `mts doctor` reports (`verifier` and `identity` from the run's client).
pub async fn target_facts(
    verifier: Arc<Verifier>,
    identity: Option<&ClientIdentity>,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<TlsFacts, String> {
    let peer = Peer {
        host,
        port,
        verifier,
        identity,
        timeout,
    };
    facts(&peer, super::trust::provider(), rustls::DEFAULT_VERSIONS).await
}

/// Handshakes with `config` and reports what was negotiated. Certificate problems do not stop
/// the handshake: they are recorded in `verification_error`.
pub async fn facts(
    peer: &Peer<'_>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<TlsFacts, String> {
    let (host, port, timeout) = (peer.host, peer.port, peer.timeout);
    // The handshake finishes whatever the certificate; the trust verdict is recorded.
    let recording = Arc::new(peer.verifier.recording());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recording.clone());
    let mut config = with_identity(builder, peer.identity)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let stream = connect(host, port, timeout).await?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tls = tokio::time::timeout(timeout, connector.connect(server_name(host)?, stream))
        .await
        .map_err(|_| "timed out during the TLS handshake".to_owned())?
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
    let (_, connection) = tls.get_ref();
    let protocol = connection.protocol_version().map_or("unknown".into(), |v| {
        format!("{v:?}")
            .replace("TLSv1_", "TLS 1.")
            .replace("TLSv1_3", "TLS 1.3")
    });
    let cipher_suite = connection
        .negotiated_cipher_suite()
        .map_or("unknown".into(), |s| format!("{:?}", s.suite()));
    let alpn = connection
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let chain = connection
        .peer_certificates()
        .unwrap_or(&[])
        .iter()
        .map(|c| certificate_facts(c))
        .collect();
    let (trust, verification_error) = match recording.recorded() {
        Some(Ok(basis)) => (Some(basis), None),
        Some(Err(error)) => (None, Some(error)),
        None => (None, None),
    };
    Ok(TlsFacts {
        protocol,
        cipher_suite,
        alpn,
        verification_error,
        trust,
        chain,
    })
}

/// Whether a handshake restricted to `versions` and `suites` (empty: provider default) succeeds.
pub async fn negotiates(
    peer: &Peer<'_>,
    mut provider: rustls::crypto::CryptoProvider,
    versions: &[&'static rustls::SupportedProtocolVersion],
    suites: &[rustls::CipherSuite],
) -> Result<String, String> {
    let (host, port, timeout) = (peer.host, peer.port, peer.timeout);
    if !suites.is_empty() {
        provider
            .cipher_suites
            .retain(|s| suites.contains(&s.suite()));
    }
    let builder = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(peer.verifier.accepting_any()));
    let config = with_identity(builder, peer.identity)?;
    let stream = connect(host, port, timeout).await?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tls = tokio::time::timeout(timeout, connector.connect(server_name(host)?, stream))
        .await
        .map_err(|_| "timed out during the TLS handshake".to_owned())?
        .map_err(|e| format!("{e}"))?;
    let (_, connection) = tls.get_ref();
    Ok(connection
        .negotiated_cipher_suite()
        .map_or("unknown".into(), |s| format!("{:?}", s.suite())))
}

/// What a raw offer got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    Accepted { version: u16, suite: u16 },
    Refused(String),
}

/// Sends a hand-built ClientHello offering `version` and `suites`, and reads the first answer.
pub async fn offer(
    host: &str,
    port: u16,
    version: u16,
    suites: &[u16],
    timeout: Duration,
) -> Result<Offer, String> {
    let mut stream = connect(host, port, timeout).await?;
    let mut random = [0u8; 32];
    random[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    random[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let hello = hello::client_hello(version, suites, Some(host), random);
    stream
        .write_all(&hello)
        .await
        .map_err(|e| format!("could not send the ClientHello: {e}"))?;
    let mut answer = Vec::new();
    let read = async {
        loop {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => {
                    answer.extend_from_slice(&chunk[..n]);
                    if let Some(parsed) = hello::parse_server_answer(&answer) {
                        return Some(parsed);
                    }
                    if answer.len() > 64 * 1024 {
                        return Some(ServerAnswer::Garbage);
                    }
                }
            }
        }
    };
    let parsed = tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| "no answer to the ClientHello".to_owned())?;
    Ok(match parsed {
        Some(ServerAnswer::Hello {
            version: chosen,
            suite,
        }) if chosen <= version => Offer::Accepted {
            version: chosen,
            suite,
        },
        Some(ServerAnswer::Hello {
            version: chosen, ..
        }) => Offer::Refused(format!(
            "the server answered with {} although only {} was offered",
            hello::version_name(chosen),
            hello::version_name(version)
        )),
        Some(ServerAnswer::Alert { description, .. }) => Offer::Refused(format!(
            "TLS alert {description} ({})",
            alert_name(description)
        )),
        Some(ServerAnswer::Garbage) => {
            Offer::Refused("the server answered with something other than TLS".into())
        }
        None => Offer::Refused("the server closed the connection".into()),
    })
}

fn alert_name(description: u8) -> &'static str {
    match description {
        40 => "handshake_failure",
        47 => "illegal_parameter",
        50 => "decode_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        _ => "other",
    }
}

fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "Ed25519",
        other => return other.to_owned(),
    }
    .to_owned()
}

/// Facts about one certificate (`DER`); unparseable certificates are reported as such.
pub fn certificate_facts(der: &CertificateDer<'_>) -> CertificateFacts {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return CertificateFacts {
            subject: "(unparseable certificate)".into(),
            issuer: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            days_left: 0,
            subject_alt_names: Vec::new(),
            key: "unknown".into(),
            key_bits: 0,
            signature_algorithm: String::new(),
            ca: false,
        };
    };
    let time = |t: &x509_parser::time::ASN1Time| {
        chrono::DateTime::from_timestamp(t.timestamp(), 0)
            .map_or_else(String::new, |d| d.to_rfc3339())
    };
    let not_after = cert.validity().not_after.timestamp();
    let days_left = (not_after - chrono::Utc::now().timestamp()).div_euclid(86_400);
    let subject_alt_names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .map(|name| match name {
                    x509_parser::extensions::GeneralName::DNSName(dns) => (*dns).to_owned(),
                    x509_parser::extensions::GeneralName::IPAddress(bytes) => match bytes.len() {
                        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])
                            .to_string(),
                        16 => <[u8; 16]>::try_from(*bytes)
                            .map(|b| std::net::Ipv6Addr::from(b).to_string())
                            .unwrap_or_default(),
                        _ => String::new(),
                    },
                    other => format!("{other}"),
                })
                .collect()
        })
        .unwrap_or_default();
    let (key, key_bits) = match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => ("RSA".to_owned(), rsa.key_size()),
        Ok(x509_parser::public_key::PublicKey::EC(ec)) => ("EC".to_owned(), ec.key_size()),
        Ok(other) => ("other".to_owned(), other.key_size()),
        Err(_) => ("unknown".to_owned(), 0),
    };
    CertificateFacts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: time(&cert.validity().not_before),
        not_after: time(&cert.validity().not_after),
        days_left,
        subject_alt_names,
        key,
        key_bits,
        signature_algorithm: signature_name(&cert.signature_algorithm.algorithm.to_id_string()),
        ca: cert
            .basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|constraints| constraints.value.ca),
    }
}

/// When `now` is outside the certificate's validity period, that in words with the dates.
pub fn validity_problem(
    leaf: &CertificateFacts,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<String> {
    let parse = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
    let (not_before, not_after) = (parse(&leaf.not_before)?, parse(&leaf.not_after)?);
    if now > not_after {
        Some(format!(
            "the certificate expired on {} (valid {} to {})",
            leaf.not_after, leaf.not_before, leaf.not_after
        ))
    } else if now < not_before {
        Some(format!(
            "the certificate is not valid before {} (valid {} to {})",
            leaf.not_before, leaf.not_before, leaf.not_after
        ))
    } else {
        None
    }
}

/// What is wrong with a leaf certificate beyond what the verifier checks: key strength and
/// signature hash (SEC-TLS-005). Returns (problems, notes).
pub fn certificate_strength(leaf: &CertificateFacts) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    match leaf.key.as_str() {
        "RSA" if leaf.key_bits < 2048 => problems.push(format!(
            "RSA key of {} bits (at least 2048 required)",
            leaf.key_bits
        )),
        "EC" if leaf.key_bits < 256 => problems.push(format!(
            "EC key of {} bits (at least 256 required)",
            leaf.key_bits
        )),
        _ => {}
    }
    let weak_hash = ["sha1", "SHA1", "md5"]
        .iter()
        .any(|w| leaf.signature_algorithm.contains(w));
    if weak_hash {
        problems.push(format!(
            "signed with {}, a hash no longer accepted (SHA-256 or better required)",
            leaf.signature_algorithm
        ));
    }
    if (0..30).contains(&leaf.days_left) {
        notes.push(format!(
            "the certificate expires in {} days",
            leaf.days_left
        ));
    }
    (problems, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_urls() {
        assert_eq!(
            endpoint("https://api.example.nhs.uk/FHIR/R4"),
            Some(("api.example.nhs.uk".into(), 443))
        );
        assert_eq!(
            endpoint("https://127.0.0.1:8443/FHIR/R4"),
            Some(("127.0.0.1".into(), 8443))
        );
    }

    #[test]
    fn weak_keys_and_hashes_are_reported() {
        let leaf = CertificateFacts {
            subject: String::new(),
            issuer: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            days_left: 10,
            subject_alt_names: vec![],
            key: "RSA".into(),
            key_bits: 1024,
            signature_algorithm: "sha1WithRSAEncryption".into(),
            ca: false,
        };
        let (problems, notes) = certificate_strength(&leaf);
        assert_eq!(problems.len(), 2);
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn facts_are_read_from_a_test_certificate() {
        use rustls::pki_types::pem::PemObject as _;
        let ca = crate::tls::pki::TestCa::new("facts CA").unwrap();
        let issued = ca
            .server(
                &["127.0.0.1", "localhost"],
                crate::tls::pki::Validity::Current,
            )
            .unwrap();
        let der = CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).unwrap();
        let facts = certificate_facts(&der);
        assert_eq!(facts.subject_alt_names, ["127.0.0.1", "localhost"]);
        assert_eq!((facts.key.as_str(), facts.key_bits), ("EC", 256));
        assert_eq!(facts.signature_algorithm, "ecdsa-with-SHA256");
        assert!(facts.days_left >= 88);
        assert!(facts.issuer.contains("facts CA"));
        assert!(!facts.ca);
        let ca_der = CertificateDer::from_pem_slice(ca.cert_pem.as_bytes()).unwrap();
        assert!(certificate_facts(&ca_der).ca);
    }

    #[test]
    fn dates_outside_the_validity_period_are_named() {
        let mut leaf = certificate_facts(&CertificateDer::from(Vec::new()));
        leaf.not_before = "2025-01-01T00:00:00+00:00".into();
        leaf.not_after = "2025-03-01T00:00:00+00:00".into();
        let at = |text: &str| {
            chrono::DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        assert_eq!(validity_problem(&leaf, at("2025-02-01T00:00:00Z")), None);
        let expired = validity_problem(&leaf, at("2025-03-02T00:00:00Z")).unwrap();
        assert!(
            expired.starts_with("the certificate expired on 2025-03-01T00:00:00+00:00"),
            "{expired}"
        );
        let early = validity_problem(&leaf, at("2024-12-31T00:00:00Z")).unwrap();
        assert!(early.contains("not valid before 2025-01-01"), "{early}");
        // An unparseable certificate has no dates to judge.
        let unparseable = certificate_facts(&CertificateDer::from(Vec::new()));
        assert_eq!(
            validity_problem(&unparseable, at("2025-02-01T00:00:00Z")),
            None
        );
    }
}
