//! The HTTP layer: one shared client, a per-request deadline covering connect, headers and body,
//! bodies capped in size, no automatic redirects, and every exchange recorded as evidence.

mod client;
mod exchange;
mod raw;
mod redact;
mod request;
#[cfg(test)]
pub(crate) mod testing;

pub use crate::tls::trust::provider as tls_provider;
pub use client::{ClientOptions, HttpClient, HttpError, RequestIdMode, RequestSpec};
pub use exchange::{
    Body, Exchange, ExchangeId, ExchangeKind, ExchangeLog, RecordedRequest, RecordedResponse,
    TransportError, TransportErrorKind, natural_cmp, path_of as exchange_path,
};
pub use redact::{REDACTED, Redactor};
