//! A throwaway test PKI: a CA made at start-up, and server or client certificates it issues,
//! good or deliberately bad (expired, wrong name). Used by the HTTPS sandbox and by the
//! client-certificate matrix.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

#[cfg(test)]
use rustls::pki_types::pem::PemObject as _;

#[derive(Debug, thiserror::Error)]
#[error("could not make a test certificate: {0}")]
pub struct PkiError(String);

impl From<rcgen::Error> for PkiError {
    fn from(error: rcgen::Error) -> Self {
        PkiError(error.to_string())
    }
}

/// A certificate with its private key, both PEM, and its serial number (to revoke it).
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
    pub serial: SerialNumber,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}

/// When a certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From yesterday for 90 days.
    Current,
    /// Ended yesterday.
    Expired,
}

pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pub cert_pem: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

fn window(validity: Validity) -> (OffsetDateTime, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    match validity {
        Validity::Current => (now - Duration::days(1), now + Duration::days(90)),
        Validity::Expired => (now - Duration::days(60), now - Duration::days(1)),
    }
}

impl TestCa {
    pub fn new(common_name: &str) -> Result<Self, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, common_name);
        name.push(DnType::OrganizationName, "mts test PKI");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let (not_before, not_after) = window(Validity::Current);
        params.not_before = not_before;
        params.not_after = not_after + Duration::days(275);
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A CA someone else made (the one a target trusts for client certificates), to mint
    /// deliberately bad certificates it would otherwise accept.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        let key = KeyPair::from_pem(key_pem)?;
        Ok(Self {
            cert_pem: cert_pem.to_owned(),
            issuer: Issuer::from_ca_cert_pem(cert_pem, key)?,
        })
    }

    /// The CA's private key, PEM (for handing the sandbox's client CA to a harness run).
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// A CRL, signed by this CA, revoking `serials`; DER.
    pub fn revocation_list(&self, serials: &[SerialNumber]) -> Result<Vec<u8>, PkiError> {
        let now = OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            this_update: now - Duration::hours(1),
            next_update: now + Duration::days(30),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|serial| RevokedCertParams {
                    serial_number: serial.clone(),
                    revocation_time: now - Duration::hours(1),
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuer)?.der().to_vec())
    }

    fn issue(
        &self,
        names: &[&str],
        common_name: &str,
        validity: Validity,
        usage: ExtendedKeyUsagePurpose,
    ) -> Result<Issued, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => Ok(SanType::DnsName((*n).try_into()?)),
            })
            .collect::<Result<Vec<_>, rcgen::Error>>()?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, common_name);
        params.distinguished_name = name;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![usage];
        let (not_before, not_after) = window(validity);
        params.not_before = not_before;
        params.not_after = not_after;
        // Random positive serials, so certificates minted in one run never collide.
        let mut serial = uuid::Uuid::new_v4().as_bytes().to_vec();
        serial[0] &= 0x7f;
        let serial = SerialNumber::from_slice(&serial);
        params.serial_number = Some(serial.clone());
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            serial,
        })
    }

    /// A server certificate for `names` (DNS names or IP addresses).
    pub fn server(&self, names: &[&str], validity: Validity) -> Result<Issued, PkiError> {
        self.issue(
            names,
            names.first().copied().unwrap_or("localhost"),
            validity,
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A client certificate for `common_name` (the FQDN of the calling system in Spine terms).
    pub fn client(&self, common_name: &str, validity: Validity) -> Result<Issued, PkiError> {
        self.issue(
            &[common_name],
            common_name,
            validity,
            ExtendedKeyUsagePurpose::ClientAuth,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_issues_parseable_certificates() {
        let ca = TestCa::new("mts test CA").unwrap();
        assert!(ca.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let server = ca
            .server(&["127.0.0.1", "localhost"], Validity::Current)
            .unwrap();
        assert!(server.key_pem.contains("PRIVATE KEY"));
        let expired = ca
            .client("consumer.example.nhs.uk", Validity::Expired)
            .unwrap();
        let der =
            rustls::pki_types::CertificateDer::from_pem_slice(expired.cert_pem.as_bytes()).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert!(
            parsed.validity().not_after.timestamp() < OffsetDateTime::now_utc().unix_timestamp()
        );
    }
}
