//! The supplier's OpenAPI document, held to every response (API-DOC).

pub(super) mod response_conformance;
