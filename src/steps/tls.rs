//! Transport security steps: plain HTTP refused, protocol versions, cipher suites, certificate.

use std::time::Duration;

use super::library::{Args, StepDefinition, step};
use super::world::MtsWorld;
use crate::checks::Halt;
use crate::http::RequestSpec;
use crate::report::Failure;
use crate::tls::TrustBasis;
use crate::tls::hello::{self, SSL_3_0, TLS_1_0, TLS_1_1, WEAK_SUITES};
use crate::tls::probe::{self, CertificateFacts, Offer};

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Then,
        r#"^plain HTTP is refused or redirected to HTTPS$"#,
        "plain HTTP is refused or redirected to HTTPS",
        plain_http_refused
    );
    step!(
        defs,
        Then,
        r#"^a TLS 1.2 handshake succeeds$"#,
        "a TLS 1.2 handshake succeeds",
        tls12_negotiable
    );
    step!(
        defs,
        Then,
        r#"^an? (SSLv3|TLS 1.0|TLS 1.1) handshake is refused$"#,
        "a TLS 1.0 handshake is refused",
        legacy_refused
    );
    step!(
        defs,
        Then,
        r#"^a handshake with ECDHE and AES-GCM succeeds$"#,
        "a handshake with ECDHE and AES-GCM succeeds",
        strong_suite_negotiated
    );
    step!(
        defs,
        Then,
        r#"^a TLS 1.2 handshake offering only the weak cipher suites is refused$"#,
        "a TLS 1.2 handshake offering only the weak cipher suites is refused",
        weak_suites_refused
    );
    step!(
        defs,
        Then,
        r#"^the server certificate is trusted, in date, names the host and has a strong key$"#,
        "the server certificate is trusted, in date, names the host and has a strong key",
        certificate_valid
    );
}

/// Host and port of the target, or not-applicable when it is plain HTTP (SEC-TLS-001 judges that).
fn https_endpoint(world: &MtsWorld) -> Result<(String, u16, Duration), Halt> {
    let run = world.run()?;
    let base = run.http.base_url();
    if !base.starts_with("https://") {
        return Err(Halt::nothing_to_judge(
            "the target is plain HTTP, so there is no TLS to judge (SEC-TLS-001 fails instead)",
        ));
    }
    let (host, port) = probe::endpoint(base)
        .ok_or_else(|| Halt::Error(format!("cannot read host and port from {base}")))?;
    Ok((host, port, run.http.timeout()))
}

fn tls_failure(message: impl Into<String>, expected: &str, actual: impl Into<String>) -> Halt {
    Failure::new(message)
        .expected(expected)
        .actual(actual)
        .into()
}

async fn plain_http_refused(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let base = world.run()?.http.base_url().to_owned();
    if base.starts_with("http://") {
        return Err(tls_failure(
            "the API is served over plain HTTP",
            "an https:// base URL",
            base,
        ));
    }
    let parsed = reqwest::Url::parse(&base).map_err(|e| Halt::Error(e.to_string()))?;
    let host = parsed.host_str().unwrap_or("").to_owned();
    // A TLS port answering plain HTTP, or port 80 when the API is on the default 443.
    let authority = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    let plain = format!(
        "http://{authority}{}/metadata",
        parsed.path().trim_end_matches('/')
    );
    let mut spec = RequestSpec::get(plain.clone());
    // Credentials never travel over plain HTTP, even to test it.
    spec.with_credentials = false;
    let exchange = world.send(&spec).await?;
    let Some(response) = &exchange.response else {
        world.note(format!(
            "plain HTTP to {plain} was refused: {}",
            exchange.error.as_ref().map_or("", |e| e.message.as_str())
        ));
        return Ok(());
    };
    match response.status {
        301 | 302 | 307 | 308 => {
            let location = response.header("location").unwrap_or("");
            if location.starts_with("https://") {
                world.note(format!("plain HTTP redirects to {location}"));
                return Ok(());
            }
            Err(Failure::new("plain HTTP is redirected, but not to HTTPS")
                .expected("a redirect to https://")
                .actual(format!("Location: {location}"))
                .exchange(&exchange.id)
                .into())
        }
        200..=299 => Err(
            Failure::new(format!("plain HTTP to {plain} was answered with data"))
                .expected("connection refused or closed, or a redirect to https://")
                .actual(format!(
                    "HTTP {} {}",
                    response.status,
                    crate::checks::assert::preview(&response.body.text())
                ))
                .exchange(&exchange.id)
                .into(),
        ),
        status
            if response
                .resource()
                .is_some_and(|r| r["resourceType"] != "OperationOutcome") =>
        {
            Err(
                Failure::new(format!("plain HTTP was answered {status} with FHIR data"))
                    .expected("no data over plain HTTP")
                    .actual(format!(
                        "a {}",
                        response.resource_type().unwrap_or("resource")
                    ))
                    .exchange(&exchange.id)
                    .into(),
            )
        }
        status => {
            world.note(format!("plain HTTP was refused with {status}"));
            Ok(())
        }
    }
}

async fn tls12_negotiable(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let (host, port, timeout) = https_endpoint(world)?;
    let identity = world.run()?.http.client_identity().cloned();
    let peer = probe::Peer {
        host: &host,
        port,
        verifier: world.run()?.http.verifier(),
        identity: identity.as_ref(),
        timeout,
    };
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    match probe::negotiates(&peer, provider.clone(), &[&rustls::version::TLS12], &[]).await {
        Ok(suite) => {
            world.note(format!("TLS 1.2 negotiated with {suite}"));
            if probe::negotiates(&peer, provider, &[&rustls::version::TLS13], &[])
                .await
                .is_ok()
            {
                world.note("TLS 1.3 is also offered");
            }
            Ok(())
        }
        Err(why) => Err(tls_failure(
            "a TLS 1.2 handshake failed",
            "TLS 1.2 negotiable",
            why,
        )),
    }
}

async fn legacy_refused(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let (host, port, timeout) = https_endpoint(world)?;
    let version = match args.get(0) {
        "SSLv3" => SSL_3_0,
        "TLS 1.0" => TLS_1_0,
        _ => TLS_1_1,
    };
    let suites = hello::LEGACY_SUITES;
    match probe::offer(&host, port, version, suites, timeout)
        .await
        .map_err(Halt::Error)?
    {
        Offer::Refused(how) => {
            world.note(format!("{} refused: {how}", args.get(0)));
            Ok(())
        }
        Offer::Accepted {
            version: chosen,
            suite,
        } => Err(tls_failure(
            format!("the server accepted {}", hello::version_name(chosen)),
            &format!("{} refused (alert or closed connection)", args.get(0)),
            format!(
                "ServerHello {} with {}",
                hello::version_name(chosen),
                hello::suite_name(suite)
            ),
        )),
    }
}

async fn strong_suite_negotiated(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    use rustls::CipherSuite as S;
    let (host, port, timeout) = https_endpoint(world)?;
    let identity = world.run()?.http.client_identity().cloned();
    let peer = probe::Peer {
        host: &host,
        port,
        verifier: world.run()?.http.verifier(),
        identity: identity.as_ref(),
        timeout,
    };
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let strong = [
        S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        S::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        S::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        S::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ];
    match probe::negotiates(&peer, provider.clone(), &[&rustls::version::TLS12], &strong).await {
        Ok(suite) => {
            world.note(format!("TLS 1.2 with {suite}"));
            Ok(())
        }
        Err(tls12) => {
            match probe::negotiates(&peer, provider, &[&rustls::version::TLS13], &[]).await {
                // TLS 1.3 suites are all AEAD and forward secret.
                Ok(suite) => {
                    world.note(format!(
                        "no TLS 1.2 ECDHE+AES-GCM suite ({tls12}); TLS 1.3 with {suite}"
                    ));
                    Ok(())
                }
                Err(tls13) => Err(tls_failure(
                    "no strong forward-secret suite could be negotiated",
                    "ECDHE with AES-GCM (TLS 1.2) or TLS 1.3",
                    format!("TLS 1.2: {tls12}; TLS 1.3: {tls13}"),
                )),
            }
        }
    }
}

async fn weak_suites_refused(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let (host, port, timeout) = https_endpoint(world)?;
    let mut accepted = Vec::new();
    for suite in WEAK_SUITES {
        if let Offer::Accepted { suite: chosen, .. } =
            probe::offer(&host, port, hello::TLS_1_2, &[*suite], timeout)
                .await
                .map_err(Halt::Error)?
        {
            accepted.push(hello::suite_name(chosen));
        }
    }
    if accepted.is_empty() {
        let names: Vec<String> = WEAK_SUITES.iter().map(|s| hello::suite_name(*s)).collect();
        world.note(format!("refused: {}", names.join(", ")));
        return Ok(());
    }
    Err(tls_failure(
        format!(
            "the server accepts weak cipher suites: {}",
            accepted.join(", ")
        ),
        "NULL, RC4, 3DES, anonymous and static-RSA suites refused",
        accepted.join(", "),
    ))
}

async fn certificate_valid(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    https_endpoint(world)?;
    let facts = match world.run()?.tls_facts.clone() {
        Some(Ok(facts)) => facts,
        Some(Err(why)) => {
            return Err(Halt::Error(format!(
                "no TLS handshake with the target: {why}"
            )));
        }
        None => return Err(Halt::Error("the TLS handshake was not recorded".into())),
    };
    let Some(leaf) = facts.chain.first() else {
        return Err(tls_failure(
            "the server presented no certificate",
            "a certificate chain",
            "none",
        ));
    };
    let mut problems = Vec::new();
    // First, as the dates are what the supplier has to fix (the verifier's words give them as
    // UNIX seconds).
    if let Some(problem) = probe::validity_problem(leaf, chrono::Utc::now()) {
        problems.push(problem);
    }
    if let Some(error) = &facts.verification_error {
        problems.push(format!("the certificate does not verify: {error}"));
    }
    let (strength, notes) = probe::certificate_strength(leaf);
    problems.extend(strength);
    for note in notes {
        world.note(note);
    }
    if problems.is_empty() {
        // A pinned certificate passes, with a note. SEC-TLS-005 asks for a chain to a trusted
        // root, and its verification makes the harness trust store configurable: --ca-cert is
        // that configuration, for a private CA as for a pinned certificate, and a supplier
        // pins one only for an environment of its own choosing. What a pin cannot show is that
        // the certificate would be trusted anywhere else, so the note says so; it is still
        // checked for dates, host name, key and hash, and fails on any of them.
        if facts.trust == Some(TrustBasis::PinnedCertificate) {
            world.note(pinned_note(leaf));
        }
        world.note(format!(
            "{} issued by {}, {} {} bits, {}, valid until {}",
            leaf.subject,
            leaf.issuer,
            leaf.key,
            leaf.key_bits,
            leaf.signature_algorithm,
            leaf.not_after
        ));
        return Ok(());
    }
    Err(tls_failure(
        problems[0].clone(),
        "a trusted, in-date certificate naming the host, RSA ≥ 2048 or EC ≥ 256 bits, SHA-256 or better",
        format!(
            "{}; subject {}, SAN {:?}, valid {} to {}",
            problems.join("; "),
            leaf.subject,
            leaf.subject_alt_names,
            leaf.not_before,
            leaf.not_after
        ),
    ))
}

/// What SEC-TLS-005 notes about a certificate trusted only because `--ca-cert` pinned it.
fn pinned_note(leaf: &CertificateFacts) -> String {
    let mut kind = Vec::new();
    if leaf.subject == leaf.issuer {
        kind.push("self-signed");
    }
    if leaf.ca {
        kind.push("CA:TRUE leaf");
    }
    let kind = if kind.is_empty() {
        String::new()
    } else {
        format!(" ({})", kind.join(", "))
    };
    format!(
        "trusted only because it was pinned with --ca-cert{kind}; clients that have not pinned \
         it refuse it, so a public deployment could not use it"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_note_says_what_the_certificate_is() {
        let mut leaf =
            probe::certificate_facts(&rustls::pki_types::CertificateDer::from(Vec::new()));
        leaf.subject = "CN=localhost".into();
        leaf.issuer = "CN=localhost".into();
        leaf.ca = true;
        assert_eq!(
            pinned_note(&leaf),
            "trusted only because it was pinned with --ca-cert (self-signed, CA:TRUE leaf); \
             clients that have not pinned it refuse it, so a public deployment could not use it"
        );
        leaf.issuer = "CN=private CA".into();
        leaf.ca = false;
        assert!(
            pinned_note(&leaf).starts_with("trusted only because it was pinned with --ca-cert;")
        );
    }
}
