//! `mts doctor`: before a run, check what a run needs from the target (it answers, its
//! certificate is trusted, the credentials work, the test patients are there) and say what to
//! fix. Each check is one small request; nothing is written and no load is sent.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::{RunContext, RunError, RunOptions};
use crate::auth::{Credentials, TokenManager};
use crate::config::PatientRole;
use crate::http::{ClientOptions, ExchangeId, ExchangeLog, HttpClient, Redactor, RequestSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Ok,
    /// Works, but something will limit the run.
    Warn,
    /// The run would be mostly errors until this is fixed.
    Fail,
}

#[derive(Debug, Clone)]
pub struct DoctorCheck {
    pub name: &'static str,
    pub health: Health,
    pub detail: String,
    /// What to do about it.
    pub fix: Option<String>,
}

fn check(name: &'static str, health: Health, detail: String, fix: Option<&str>) -> DoctorCheck {
    DoctorCheck {
        name,
        health,
        detail,
        fix: fix.map(str::to_owned),
    }
}

/// A client for one request at a time to `target`, as the run would make it (its CA, its
/// client certificate), redacting the bearer token.
pub(super) fn client(options: &RunOptions, target: &str) -> Result<HttpClient, RunError> {
    let ca_pem = match &options.ca_cert {
        Some(path) => Some(std::fs::read(path).map_err(|source| RunError::CaFile {
            path: path.display().to_string(),
            source,
        })?),
        None => None,
    };
    let mut secrets = Vec::new();
    if let Credentials::Bearer(token) = &options.credentials {
        secrets.push(token.clone());
    }
    Ok(HttpClient::new(
        ClientOptions {
            base_url: target.to_owned(),
            timeout: options.timeout,
            body_limit: options.body_limit,
            ca_pem,
            insecure: options.insecure,
            max_in_flight: 1,
            redactor: Redactor::new(secrets),
            client_identity: options.mtls.identity.clone(),
        },
        Arc::new(ExchangeLog::default()),
    )?)
}

/// The context a survey of the target sends through: test data, credentials, GP Connect
/// settings, and the OpenAPI document given (or found at `[base]/openapi.json`).
pub(super) async fn context(
    options: &RunOptions,
    target: &str,
    http: HttpClient,
) -> Result<RunContext, RunError> {
    let mut context = RunContext::new(http, options.data.clone(), options.profile, false);
    context.gpc = options.gpc.clone();
    context.tokens = TokenManager::new(options.credentials.clone());
    context.openapi = match &options.openapi {
        Some(source) => Some(super::discover::load_openapi(&context.http, source).await?),
        None => {
            super::discover::probe_openapi(
                &context.http,
                &format!("{}/openapi.json", target.trim_end_matches('/')),
            )
            .await
        }
    };
    Ok(context)
}

/// Runs the checks in order; later ones are skipped once the target cannot be reached.
pub async fn doctor(options: RunOptions) -> Result<Vec<DoctorCheck>, RunError> {
    let mut checks = Vec::new();
    let Some(target) = options.target.url().map(str::to_owned) else {
        checks.push(check(
            "target",
            Health::Fail,
            "no target: doctor checks a supplier's API".into(),
            Some("pass --target URL, set MTS_TARGET, or [target] url in mts.toml"),
        ));
        return Ok(checks);
    };
    let Ok(url) = url::Url::parse(&target) else {
        checks.push(check(
            "target",
            Health::Fail,
            format!("`{target}` is not a URL"),
            Some("give the FHIR base URL, e.g. https://api.example.nhs.uk/FHIR/R4"),
        ));
        return Ok(checks);
    };
    let connect_timeout = options.timeout.min(Duration::from_secs(10));

    // 1. Reachable at all.
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let connected = tokio::time::timeout(
        connect_timeout,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await;
    match connected {
        Ok(Ok(_)) => checks.push(check(
            "connect",
            Health::Ok,
            format!("{host}:{port} accepts connections"),
            None,
        )),
        Ok(Err(error)) => {
            checks.push(check(
                "connect",
                Health::Fail,
                format!("cannot connect to {host}:{port}: {error}"),
                Some("check the URL, DNS, VPN and firewall rules from this machine"),
            ));
            return Ok(checks);
        }
        Err(_) => {
            checks.push(check(
                "connect",
                Health::Fail,
                format!(
                    "{host}:{port} did not accept a connection within {} s",
                    connect_timeout.as_secs()
                ),
                Some("check the URL, VPN and firewall; a silent drop usually means a firewall"),
            ));
            return Ok(checks);
        }
    }

    let http = client(&options, &target)?;

    // 2. TLS: the certificate is trusted and in date.
    if url.scheme() == "https" {
        let facts = crate::tls::probe::target_facts(
            http.verifier(),
            http.client_identity(),
            &host,
            port,
            options.timeout,
        )
        .await;
        match facts {
            Ok(facts) if facts.verification_error.is_some() => checks.push(check(
                "tls",
                Health::Fail,
                format!(
                    "{} negotiated, but the certificate is not trusted: {}",
                    facts.protocol,
                    facts.verification_error.unwrap_or_default()
                ),
                Some("for a private CA pass --ca-cert FILE (PEM); --insecure only to look around"),
            )),
            Ok(facts) => checks.push(check(
                "tls",
                Health::Ok,
                format!(
                    "{} with {}; certificate trusted{}",
                    facts.protocol,
                    facts.cipher_suite,
                    match facts.trust {
                        Some(crate::tls::TrustBasis::PinnedCertificate) =>
                            " only because --ca-cert pins it",
                        Some(crate::tls::TrustBasis::PrivateCa) => " through the --ca-cert CA",
                        _ => "",
                    }
                ),
                None,
            )),
            Err(error) => checks.push(check(
                "tls",
                Health::Fail,
                format!("TLS handshake failed: {error}"),
                Some(
                    "for a private CA pass --ca-cert FILE; behind mutual TLS pass --client-cert and --client-key",
                ),
            )),
        }
        if checks.last().is_some_and(|c| c.health == Health::Fail) {
            // Every request would fail the same way.
            return Ok(checks);
        }
    } else {
        checks.push(check(
            "tls",
            Health::Warn,
            "the target is plain HTTP: SEC-TLS requirements will fail".into(),
            Some("test the HTTPS endpoint a consumer would use"),
        ));
    }

    let context = Arc::new(context(&options, &target, http).await?);
    let mut sequence = 0;
    let mut send = |spec: RequestSpec, label: &'static str| {
        sequence += 1;
        let context = context.clone();
        let id = ExchangeId(format!("doctor#{sequence}"));
        async move { context.send_as(id, label, spec).await }
    };

    // 3. A FHIR server answers at the base URL.
    let mut metadata = RequestSpec::get("metadata");
    metadata.with_credentials = false;
    let exchange = send(metadata, "doctor: CapabilityStatement").await;
    let is_capability = exchange
        .response
        .as_ref()
        .and_then(|r| r.body.json())
        .is_some_and(|json| json["resourceType"] == "CapabilityStatement");
    checks.push(match (exchange.status(), is_capability) {
        (Some(200), true) => check(
            "metadata",
            Health::Ok,
            "GET metadata returns a CapabilityStatement".into(),
            None,
        ),
        (Some(status), _) => check(
            "metadata",
            Health::Warn,
            format!("GET metadata answered {status} without a CapabilityStatement"),
            Some("is the URL the FHIR base (ending in /FHIR/R4 or similar)?"),
        ),
        (None, _) => check(
            "metadata",
            Health::Fail,
            format!(
                "GET metadata failed: {}",
                exchange.error.as_ref().map_or("", |e| e.message.as_str())
            ),
            Some("see the TLS and connect checks above"),
        ),
    });

    // What the target declares: what a run will plan from (and how the kit's searches go).
    let mut declared = crate::target::TargetModel::default();
    match super::discover::discover(&context, &options.declares, options.declares_complete).await {
        Ok((model, _)) => {
            declared = model.clone();
            let lines = model.summary_lines();
            let declares = model.is_complete();
            for (index, line) in lines.into_iter().enumerate() {
                checks.push(check(
                    "declares",
                    if declares { Health::Ok } else { Health::Warn },
                    line,
                    (!declares && index == 0).then_some(
                        "give the OpenAPI document (--openapi) or [target.declares] in mts.toml, so scenarios for what the API does not offer are not applicable rather than failed",
                    ),
                ));
            }
        }
        Err(why) => checks.push(check(
            "declares",
            Health::Fail,
            why,
            Some("fix [target.declares] in mts.toml"),
        )),
    }

    // 4 and 5. The credentials work, and the test patients are what the suite expects.
    let existing = options.data.patient(PatientRole::Existing).clone();
    let exchange = send(
        RequestSpec::get(format!("Patient/{}", existing.logical_id())),
        "doctor: the existing test patient, with credentials",
    )
    .await;
    let credentials_named = !matches!(options.credentials, Credentials::None);
    checks.push(match exchange.status() {
        Some(status) if (200..300).contains(&status) || status == 404 => check(
            "credentials",
            if credentials_named {
                Health::Ok
            } else {
                Health::Warn
            },
            if credentials_named {
                format!("an authenticated read was accepted ({status})")
            } else {
                format!("no credentials configured, and the read answered {status}")
            },
            (!credentials_named).then_some(
                "set MTS_TOKEN, or [auth] / MTS_TOKEN_URL, MTS_CLIENT_ID, MTS_KID, MTS_CLIENT_KEY",
            ),
        ),
        Some(status @ (401 | 403)) => check(
            "credentials",
            Health::Fail,
            format!("the target refused the credentials ({status})"),
            Some(if credentials_named {
                "check the token or client registration (and its scopes) for this environment"
            } else {
                "set MTS_TOKEN, or [auth] / MTS_TOKEN_URL, MTS_CLIENT_ID, MTS_KID, MTS_CLIENT_KEY"
            }),
        ),
        Some(status) => check(
            "credentials",
            Health::Warn,
            format!("an authenticated read answered {status}"),
            None,
        ),
        None => check(
            "credentials",
            Health::Fail,
            format!(
                "the authenticated read failed: {}",
                exchange.error.as_ref().map_or("", |e| e.message.as_str())
            ),
            Some("for OAuth2, check MTS_TOKEN_URL and that the key matches the registered kid"),
        ),
    });
    let found_id = exchange
        .response
        .as_ref()
        .and_then(|r| r.body.json())
        .and_then(|json| json.get("id").and_then(Value::as_str).map(str::to_owned));
    checks.push(match exchange.status() {
        Some(200) if found_id.as_deref() == Some(existing.logical_id()) => check(
            "test patient",
            Health::Ok,
            format!("Patient/{} exists", existing.logical_id()),
            None,
        ),
        Some(200) => check(
            "test patient",
            Health::Warn,
            format!(
                "Patient/{} returned a resource with id {:?}",
                existing.logical_id(),
                found_id.unwrap_or_default()
            ),
            Some("IOP-FHIR-007 will fail: the read must return the id asked for"),
        ),
        Some(404 | 410) => DoctorCheck {
            name: "test patient",
            health: Health::Fail,
            detail: format!("Patient/{} is not on the target", existing.logical_id()),
            fix: Some(
                "give a patient that exists there in [data.patient.existing] (nhs_number, id)"
                    .into(),
            ),
        },
        _ => check(
            "test patient",
            Health::Warn,
            "could not tell whether the test patient exists (see credentials)".into(),
            None,
        ),
    });
    let absent = options.data.patient(PatientRole::Absent).clone();
    let exchange = send(
        RequestSpec::get(format!("Patient/{}", absent.logical_id())),
        "doctor: the absent test patient",
    )
    .await;
    checks.push(match exchange.status() {
        Some(404 | 410) => check(
            "absent patient",
            Health::Ok,
            format!(
                "Patient/{} is absent, as the not-found checks need",
                absent.logical_id()
            ),
            None,
        ),
        Some(200) => check(
            "absent patient",
            Health::Fail,
            format!(
                "Patient/{} exists, but the suite uses it as a patient that does not",
                absent.logical_id()
            ),
            Some("choose another checksum-valid NHS number in [data.patient.absent]"),
        ),
        _ => check(
            "absent patient",
            Health::Warn,
            "could not tell whether the absent test patient is absent".into(),
            None,
        ),
    });

    // 6. The test-data kit: what mts.toml promises the test patients hold.
    for item in super::kit::preflight(&context, &options.data, &declared).await {
        checks.push(kit_check(item));
    }

    // 7. The attestations given (`--attestations`): complete ones, and what each other lacks.
    // An incomplete answer does not stop a run (the requirement is reported owed): a warning.
    let today = options.gate.today;
    for record in &options.attestations.records {
        let problems = super::attest::problems_on(record, today);
        checks.push(if problems.is_empty() {
            check(
                "attestation",
                Health::Ok,
                format!("{} attested by {} on {}", record.requirement, record.by, record.date),
                None,
            )
        } else {
            check(
                "attestation",
                Health::Warn,
                format!("{} incomplete: {}", record.requirement, problems.join("; ")),
                Some("complete it in the attestations file: statement, evidence, by, a date within the last year"),
            )
        });
    }
    Ok(checks)
}

/// One kit item as a doctor line: a missing prerequisite fails (the run's scenarios that need
/// it would have nothing to judge), an answer that cannot tell warns.
fn kit_check(item: super::KitItem) -> DoctorCheck {
    use super::KitStatus;
    let role = item.role.as_str();
    let said = format!("{role} {}: promised {}", item.patient, item.promised);
    match item.status {
        KitStatus::Found => check(
            "kit",
            Health::Ok,
            format!("{said}; found {}", item.found),
            None,
        ),
        KitStatus::Missing => DoctorCheck {
            name: "kit",
            health: Health::Fail,
            detail: format!("{said}; missing: found {}", item.found),
            fix: Some(format!(
                "give a patient that holds it in [data.patient.{role}], or change the promise"
            )),
        },
        KitStatus::Unknown(why) => DoctorCheck {
            name: "kit",
            health: Health::Warn,
            detail: format!("{said}; could not tell: {why}"),
            fix: Some(
                "check that the target offers this search to these credentials; the promise is unchecked"
                    .into(),
            ),
        },
    }
}
