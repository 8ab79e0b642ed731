//! Mutual TLS (SEC-TLS-006): the configured client certificate is served; no certificate, one
//! from an untrusted CA, an expired one, one for another system and a revoked one are refused
//! at the handshake or with 403/495/496 and no data.

use std::sync::Arc;

use super::library::{Args, StepDefinition, step};
use super::world::MtsWorld;
use crate::checks::{Halt, assert};
use crate::http::{Exchange, ExchangeId, RequestSpec, TransportErrorKind};
use crate::report::Failure;
use crate::tls::pki::{Issued, TestCa, Validity};
use crate::tls::trust::ClientIdentity;

/// Statuses that refuse a client certificate over HTTP: 403, and nginx's 495 (certificate
/// error) and 496 (no certificate).
const REFUSALS: [u16; 3] = [403, 495, 496];

/// The name minted certificates carry when they must belong to a system the target does not know.
const OTHER_SYSTEM: &str = "another-system.mts.invalid";

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Then,
        r#"^a request with the configured client certificate is served$"#,
        "a request with the configured client certificate is served",
        configured_served
    );
    step!(
        defs,
        Then,
        r#"^a request with (no client certificate|a client certificate from an untrusted CA|an expired client certificate|a client certificate for another system|a revoked client certificate) is refused$"#,
        "a request with an expired client certificate is refused",
        bad_certificate_refused
    );
}

/// The configured identity, or why mutual TLS cannot be judged.
fn configured(world: &MtsWorld) -> Result<ClientIdentity, Halt> {
    let run = world.run()?;
    if !run.http.base_url().starts_with("https://") {
        return Err(Halt::nothing_to_judge(
            "the target is plain HTTP, so there is no mutual TLS to judge",
        ));
    }
    run.mtls.identity.clone().ok_or_else(|| {
        Halt::missing_config(
            "needs the client certificate the target accepts (--client-cert and --client-key)",
        )
    })
}

/// Sends GET metadata presenting `identity` (or no certificate), recorded as evidence.
async fn probe(
    world: &mut MtsWorld,
    identity: Option<ClientIdentity>,
    label: &str,
) -> Result<Arc<Exchange>, Halt> {
    let run = world.run()?.clone();
    let http = run
        .http
        .with_client_identity(identity)
        .map_err(|e| Halt::Error(format!("cannot set up the client certificate: {e}")))?;
    let id = ExchangeId(format!("{}#{}", world.scenario, world.exchanges.len() + 1));
    let exchange = run
        .send_via(&http, id, label, RequestSpec::get("metadata"))
        .await;
    world.exchanges.push(exchange.id.clone());
    Ok(exchange)
}

async fn configured_served(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let identity = configured(world)?;
    let exchange = probe(
        world,
        Some(identity),
        "read metadata with the configured client certificate",
    )
    .await?;
    assert::status_is(&exchange, &[200])?;
    assert::fhir_resource(&exchange, Some("CapabilityStatement")).map(|_| ())
}

fn identity_of(issued: &Issued) -> Result<ClientIdentity, Halt> {
    ClientIdentity::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes())
        .map_err(|e| Halt::Error(format!("could not use a minted certificate: {e}")))
}

/// The certificate a probe presents, minted at run time where it has to be.
fn bad_identity(world: &MtsWorld, kind: &str) -> Result<Option<ClientIdentity>, Halt> {
    let configured = configured(world)?;
    let run = world.run()?;
    // The configured certificate's own name, so only the defect under test differs.
    let name = configured
        .chain
        .first()
        .map(|leaf| crate::tls::probe::certificate_facts(leaf).subject_alt_names)
        .and_then(|names| names.into_iter().next())
        .unwrap_or_else(|| OTHER_SYSTEM.to_owned());
    let mint_error = |e: crate::tls::pki::PkiError| Halt::Error(e.to_string());
    let trusted_ca = || {
        run.mtls.issuing_ca.clone().ok_or_else(|| {
            Halt::missing_config(format!(
                "to present {kind} the target would otherwise trust, mts needs the CA it trusts \
                 for clients (--client-ca-cert and --client-ca-key)"
            ))
        })
    };
    match kind {
        "no client certificate" => Ok(None),
        "a client certificate from an untrusted CA" => {
            let stranger = TestCa::new("mts untrusted client CA").map_err(mint_error)?;
            let issued = stranger
                .client(&name, Validity::Current)
                .map_err(mint_error)?;
            identity_of(&issued).map(Some)
        }
        "an expired client certificate" => {
            let issued = trusted_ca()?
                .client(&name, Validity::Expired)
                .map_err(mint_error)?;
            identity_of(&issued).map(Some)
        }
        "a client certificate for another system" => {
            let issued = trusted_ca()?
                .client(OTHER_SYSTEM, Validity::Current)
                .map_err(mint_error)?;
            identity_of(&issued).map(Some)
        }
        _ => run.mtls.revoked.clone().map(Some).ok_or_else(|| {
            Halt::missing_config(
                "needs a client certificate the target's CA has revoked \
                 (--revoked-client-cert and --revoked-client-key)",
            )
        }),
    }
}

async fn bad_certificate_refused(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let kind = args.get(0).to_owned();
    let identity = bad_identity(world, &kind)?;
    let exchange = probe(world, identity, &format!("read metadata with {kind}")).await?;
    judge_refusal(&exchange, &kind)
}

/// A refusal is a failed handshake (alert or closed connection) or 403/495/496 with no data.
fn judge_refusal(exchange: &Exchange, kind: &str) -> Result<(), Halt> {
    let Some(response) = &exchange.response else {
        let error = exchange.error.as_ref();
        return match error.map(|e| e.kind) {
            Some(TransportErrorKind::Tls | TransportErrorKind::Protocol) => Ok(()),
            _ => Err(Halt::Error(format!(
                "the probe with {kind} could not reach a verdict: {}",
                error.map_or("no answer", |e| e.message.as_str())
            ))),
        };
    };
    if REFUSALS.contains(&response.status) {
        if let Some(resource) = response
            .resource_type()
            .filter(|t| *t != "OperationOutcome")
        {
            return Err(
                Failure::new(format!("the refusal of {kind} still carries a {resource}"))
                    .expected("no FHIR data")
                    .actual(format!("a {resource}"))
                    .exchange(&exchange.id)
                    .into(),
            );
        }
        return Ok(());
    }
    Err(Failure::new(format!(
        "{} with {kind} was answered {}",
        exchange.summary_request(),
        response.status
    ))
    .expected("a failed handshake, or 403, 495 or 496 with no data")
    .actual(format!("HTTP {}", response.status))
    .exchange(&exchange.id)
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::TransportError;
    use crate::http::testing::exchange;

    fn failed(kind: TransportErrorKind) -> Exchange {
        let mut e = exchange(200, &[], "");
        e.response = None;
        e.error = Some(TransportError {
            kind,
            message: "received fatal alert: CertificateRequired".into(),
        });
        e
    }

    #[test]
    fn handshake_failures_and_refusal_statuses_count_as_refusals() {
        assert!(judge_refusal(&failed(TransportErrorKind::Tls), "x").is_ok());
        assert!(judge_refusal(&failed(TransportErrorKind::Protocol), "x").is_ok());
        let outcome = r#"{"resourceType":"OperationOutcome","issue":[]}"#;
        for status in REFUSALS {
            assert!(judge_refusal(&exchange(status, &[], outcome), "x").is_ok());
        }
    }

    #[test]
    fn being_served_or_an_unclear_answer_is_not_a_refusal() {
        let capability = r#"{"resourceType":"CapabilityStatement"}"#;
        assert!(matches!(
            judge_refusal(&exchange(200, &[], capability), "x"),
            Err(Halt::Fail(_))
        ));
        assert!(matches!(
            judge_refusal(&exchange(403, &[], capability), "x"),
            Err(Halt::Fail(_))
        ));
        assert!(matches!(
            judge_refusal(&exchange(401, &[], "{}"), "x"),
            Err(Halt::Fail(_))
        ));
        assert!(matches!(
            judge_refusal(&failed(TransportErrorKind::Timeout), "x"),
            Err(Halt::Error(_))
        ));
        assert!(matches!(
            judge_refusal(&failed(TransportErrorKind::Connect), "x"),
            Err(Halt::Error(_))
        ));
    }
}
