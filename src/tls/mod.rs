//! TLS as a supplier deploys it, probed without OpenSSL: the negotiated protocol, cipher and
//! certificate (rustls), legacy protocols and weak cipher suites (hand-built ClientHellos, since
//! rustls cannot offer them), and a small test PKI for the sandbox and the client-certificate
//! matrix.

pub mod hello;
pub mod pki;
pub mod probe;
pub mod trust;

pub use probe::{CertificateFacts, TlsFacts};
pub use trust::TrustBasis;
