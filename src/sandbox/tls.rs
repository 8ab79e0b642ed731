//! The sandbox over HTTPS: a certificate from a CA made at start-up, rustls for the handshake,
//! and — only under faults — the first bytes of a handshake a badly configured server would
//! send (accepting TLS 1.0 or a weak cipher), or plain HTTP answered on the HTTPS port.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::Fault;
use crate::tls::hello::{self, TLS_1_1, TLS_1_2};
use crate::tls::pki::{Issued, TestCa, Validity};
use crate::tls::trust::CertificateKey;

/// The system name the sandbox expects on client certificates (Spine registers an FQDN per
/// consumer system).
pub const CONSUMER_NAME: &str = "consumer.mts.test";

/// Under mutual TLS: the CA the sandbox trusts for clients, a certificate it accepts and one it
/// has revoked.
#[derive(Debug, Clone)]
pub struct ClientPki {
    pub ca: Arc<TestCa>,
    pub valid: Issued,
    pub revoked: Issued,
}

impl ClientPki {
    fn new() -> io::Result<Self> {
        let ca = TestCa::new("mts sandbox client CA").map_err(io::Error::other)?;
        let valid = ca
            .client(CONSUMER_NAME, Validity::Current)
            .map_err(io::Error::other)?;
        let revoked = ca
            .client(CONSUMER_NAME, Validity::Current)
            .map_err(io::Error::other)?;
        Ok(Self {
            ca: Arc::new(ca),
            valid,
            revoked,
        })
    }

    /// Client-certificate verification as a Spine-style endpoint does it (trusted CA, in date,
    /// not revoked, certificate mandatory), loosened by faults.
    fn verifier(
        &self,
        faults: &[Fault],
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> io::Result<Arc<dyn ClientCertVerifier>> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(
                CertificateDer::from_pem_slice(self.ca.cert_pem.as_bytes())
                    .map_err(io::Error::other)?,
            )
            .map_err(io::Error::other)?;
        let mut builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
        if !faults.contains(&Fault::ClientCertRevocationIgnored) {
            let crl = self
                .ca
                .revocation_list(std::slice::from_ref(&self.revoked.serial))
                .map_err(io::Error::other)?;
            builder = builder.with_crls([CertificateRevocationListDer::from(crl)]);
        }
        if faults.contains(&Fault::ClientCertOptional) {
            builder = builder.allow_unauthenticated();
        }
        let strict = builder.build().map_err(io::Error::other)?;
        Ok(Arc::new(LaxClientVerifier {
            inner: strict,
            any_issuer: faults.contains(&Fault::ClientCertAnyIssuer),
            expired: faults.contains(&Fault::ClientCertExpiredAccepted),
        }))
    }
}

/// Client-certificate verification with the faults' holes in it.
#[derive(Debug)]
struct LaxClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    any_issuer: bool,
    expired: bool,
}

impl ClientCertVerifier for LaxClientVerifier {
    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        use rustls::CertificateError as E;
        match self
            .inner
            .verify_client_cert(end_entity, intermediates, now)
        {
            Err(rustls::Error::InvalidCertificate(E::Expired | E::ExpiredContext { .. }))
                if self.expired =>
            {
                Ok(ClientCertVerified::assertion())
            }
            Err(rustls::Error::InvalidCertificate(_)) if self.any_issuer => {
                Ok(ClientCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }
}

/// The names on the client certificate a connection presented, for the sandbox's check that
/// it belongs to the registered consumer system.
#[derive(Debug, Clone)]
pub struct PeerCertificate {
    pub names: Vec<String>,
}

/// A certificate chain and key the sandbox serves instead of minting its own (`mts sandbox
/// --tls-cert FILE --tls-key FILE`), e.g. a supplier's self-signed test certificate.
#[derive(Debug, Clone)]
pub struct OwnCertificate(CertificateKey);

impl OwnCertificate {
    /// From PEM text: the certificate (and any intermediates), then the private key. Errors
    /// never quote the key.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, String> {
        let own = CertificateKey::from_pem_named(cert_pem, key_pem, "certificate", "key file")?;
        // Checked now, so a mismatch is said as such rather than as a failure to listen.
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        rustls::sign::CertifiedKey::from_der(own.chain.clone(), own.key(), &provider).map_err(
            |e| match e {
                rustls::Error::InconsistentKeys(_) => {
                    "the key does not belong to the (first) certificate".to_owned()
                }
                other => format!("the certificate and key cannot be served: {other}"),
            },
        )?;
        Ok(Self(own))
    }
}

/// The sandbox's TLS material: the CA clients must trust, and the server configuration.
pub struct SandboxTls {
    /// The CA that issued the served certificate; `None` when serving an `OwnCertificate`.
    pub ca_pem: Option<String>,
    config: Arc<rustls::ServerConfig>,
    /// Suites rustls would accept, to recognise a weak-only offer.
    strong_suites: Vec<u16>,
    /// Under mutual TLS, the client PKI.
    pub client_pki: Option<ClientPki>,
}

impl SandboxTls {
    /// With `own`, that certificate as it is; otherwise one from a CA made now, bent by the
    /// certificate faults.
    pub fn new(faults: &[Fault], mtls: bool, own: Option<&OwnCertificate>) -> io::Result<Self> {
        let (chain, key, ca_pem) = match own {
            Some(own) => {
                if faults.contains(&Fault::WrongHostnameCertificate)
                    || faults.contains(&Fault::ExpiredCertificate)
                {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        OWN_CERTIFICATE_AND_FAULTS,
                    ));
                }
                (own.0.chain.clone(), own.0.key(), None)
            }
            None => {
                let (chain, key, ca_pem) = Self::issue(faults)?;
                (chain, key, Some(ca_pem))
            }
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let strong_suites = provider
            .cipher_suites
            .iter()
            .map(|s| u16::from(s.suite()))
            .collect();
        let versions: &[&rustls::SupportedProtocolVersion] = if faults.contains(&Fault::Tls13Only) {
            &[&rustls::version::TLS13]
        } else {
            &[&rustls::version::TLS13, &rustls::version::TLS12]
        };
        let client_pki = if mtls { Some(ClientPki::new()?) } else { None };
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .map_err(io::Error::other)?;
        let builder = match &client_pki {
            Some(pki) => builder.with_client_cert_verifier(pki.verifier(faults, provider)?),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(io::Error::other)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            ca_pem,
            config: Arc::new(config),
            strong_suites,
            client_pki,
        })
    }

    /// A chain (leaf, CA) and key from a CA made now, and that CA's PEM.
    fn issue(
        faults: &[Fault],
    ) -> io::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String)> {
        let ca = TestCa::new("mts sandbox CA").map_err(io::Error::other)?;
        let names: &[&str] = if faults.contains(&Fault::WrongHostnameCertificate) {
            &["api.example.invalid"]
        } else {
            &["127.0.0.1", "localhost"]
        };
        let validity = if faults.contains(&Fault::ExpiredCertificate) {
            Validity::Expired
        } else {
            Validity::Current
        };
        let issued = ca.server(names, validity).map_err(io::Error::other)?;
        let chain = vec![
            CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).map_err(io::Error::other)?,
            CertificateDer::from_pem_slice(ca.cert_pem.as_bytes()).map_err(io::Error::other)?,
        ];
        let key =
            PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).map_err(io::Error::other)?;
        Ok((chain, key, ca.cert_pem))
    }
}

/// Why the certificate faults cannot bend a certificate the sandbox was given.
pub const OWN_CERTIFICATE_AND_FAULTS: &str = "the faults expired-certificate and \
     wrong-hostname-certificate make the sandbox's own certificate, so they cannot be used with \
     --tls-cert";

/// A stream that replays bytes already read before reading on.
struct Prefixed {
    prefix: Vec<u8>,
    at: usize,
    inner: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.at < self.prefix.len() {
            let n = (self.prefix.len() - self.at).min(buf.remaining());
            let start = self.at;
            buf.put_slice(&self.prefix[start..start + n]);
            self.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

async fn serve_http<S>(stream: S, app: Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Accepts connections until the listener is dropped.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<SandboxTls>,
    app: Router,
    faults: Arc<Vec<Fault>>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config.clone());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (acceptor, tls, app, faults) =
            (acceptor.clone(), tls.clone(), app.clone(), faults.clone());
        tokio::spawn(async move {
            let _ = tokio::time::timeout(
                Duration::from_secs(120),
                connection(stream, acceptor, tls, app, faults),
            )
            .await;
        });
    }
}

async fn connection(
    mut stream: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    tls: Arc<SandboxTls>,
    app: Router,
    faults: Arc<Vec<Fault>>,
) {
    let mut prefix = Vec::new();
    // Enough of the first record to tell TLS from plain HTTP, and to read a ClientHello.
    loop {
        let mut chunk = [0u8; 4096];
        let read =
            match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => n,
                _ => return,
            };
        prefix.extend_from_slice(&chunk[..read]);
        if prefix[0] != 0x16
            || hello::parse_client_hello(&prefix).is_some()
            || prefix.len() > 16 * 1024
        {
            break;
        }
        if prefix.len() >= 5 {
            let record = 5 + u16::from_be_bytes([prefix[3], prefix[4]]) as usize;
            if prefix.len() >= record {
                break;
            }
        }
    }
    if prefix[0] != 0x16 {
        // Plain HTTP on the HTTPS port: refused by closing, unless the fault serves it.
        if faults.contains(&Fault::PlainHttpServed) {
            serve_http(
                Prefixed {
                    prefix,
                    at: 0,
                    inner: stream,
                },
                app,
            )
            .await;
        }
        return;
    }
    if let Some(offer) = hello::parse_client_hello(&prefix) {
        let legacy = offer.max_version <= TLS_1_1;
        let weak_only = !offer.suites.iter().any(|s| tls.strong_suites.contains(s));
        let first = offer.suites.first().copied().unwrap_or(0x002F);
        if legacy && faults.contains(&Fault::Tls10Accepted) {
            let _ = stream
                .write_all(&hello::server_hello(offer.max_version, first))
                .await;
            return;
        }
        if weak_only && !legacy && faults.contains(&Fault::WeakCipherAccepted) {
            let _ = stream.write_all(&hello::server_hello(TLS_1_2, first)).await;
            return;
        }
    }
    if let Ok(secured) = acceptor
        .accept(Prefixed {
            prefix,
            at: 0,
            inner: stream,
        })
        .await
    {
        let app = match secured
            .get_ref()
            .1
            .peer_certificates()
            .and_then(<[_]>::first)
        {
            Some(leaf) => app.layer(axum::Extension(PeerCertificate {
                names: crate::tls::probe::certificate_facts(leaf).subject_alt_names,
            })),
            None => app,
        };
        serve_http(secured, app).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_own_certificate_needs_its_own_key() {
        let ca = TestCa::new("own certificate CA").unwrap();
        let one = ca.server(&["127.0.0.1"], Validity::Current).unwrap();
        let other = ca.server(&["127.0.0.1"], Validity::Current).unwrap();
        let bundle = format!("{}{}", one.cert_pem, ca.cert_pem);
        let own = OwnCertificate::from_pem(bundle.as_bytes(), one.key_pem.as_bytes()).unwrap();
        assert_eq!(own.0.chain.len(), 2);
        assert!(!format!("{own:?}").contains("PRIVATE"));
        let mismatch = OwnCertificate::from_pem(one.cert_pem.as_bytes(), other.key_pem.as_bytes())
            .unwrap_err();
        assert!(mismatch.contains("does not belong"), "{mismatch}");
        // A key where the certificate should be: no certificate, and the key is not quoted.
        let swapped =
            OwnCertificate::from_pem(one.key_pem.as_bytes(), one.cert_pem.as_bytes()).unwrap_err();
        assert!(!swapped.contains("PRIVATE"), "{swapped}");
        // The sandbox serves it, and has no CA of its own to hand out.
        let tls = SandboxTls::new(&[], false, Some(&own)).unwrap();
        assert!(tls.ca_pem.is_none());
        assert!(SandboxTls::new(&[Fault::ExpiredCertificate], false, Some(&own)).is_err());
    }
}
