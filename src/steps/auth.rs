//! Authentication and authorisation probes (SEC-AUTH) and the token endpoint's negative matrix
//! (SEC-JWT-004).

use super::library::{Args, StepDefinition, step};
use super::world::MtsWorld;
use crate::auth::provenance::ProvenanceDefect;
use crate::auth::{AssertionDefect, Credentials, issued_token};
use crate::catalogue::Profile;
use crate::checks::{Halt, assert};
use crate::config::PatientRole;
use crate::report::Failure;

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Given,
        r#"^the request carries (an empty bearer token|a made-up bearer token|Basic credentials|a tampered copy of the access token)$"#,
        "the request carries a made-up bearer token",
        bad_credential
    );
    step!(
        defs,
        Given,
        r#"^the access token is sent as the access_token query parameter instead$"#,
        "the access token is sent as the access_token query parameter instead",
        token_in_query
    );
    step!(
        defs,
        Given,
        r#"^the request carries the low-privilege token$"#,
        "the request carries the low-privilege token",
        low_privilege
    );
    step!(
        defs,
        Then,
        r#"^the request is refused as unauthenticated, with no data$"#,
        "the request is refused as unauthenticated, with no data",
        unauthenticated
    );
    step!(
        defs,
        Then,
        r#"^the refusal challenges with WWW-Authenticate: Bearer$"#,
        "the refusal challenges with WWW-Authenticate: Bearer",
        challenge
    );
    step!(
        defs,
        Then,
        r#"^the request is refused as forbidden$"#,
        "the request is refused as forbidden",
        forbidden
    );
    step!(
        defs,
        When,
        r#"^a client assertion with (.+) is sent to the token endpoint$"#,
        "a client assertion with alg none is sent to the token endpoint",
        send_assertion
    );
    step!(
        defs,
        When,
        r#"^a valid client assertion is sent twice with the same jti$"#,
        "a valid client assertion is sent twice with the same jti",
        replay_assertion
    );
    step!(
        defs,
        Then,
        r#"^the token endpoint refuses it$"#,
        "the token endpoint refuses it",
        token_refused
    );
    step!(
        defs,
        Then,
        r#"^the token endpoint issues a bearer token$"#,
        "the token endpoint issues a bearer token",
        token_issued
    );
    step!(
        defs,
        Given,
        r#"^the request carries a provenance JWT (.+)$"#,
        "the request carries a provenance JWT without requested_scope",
        provenance
    );
}

async fn current_token(world: &MtsWorld) -> Result<String, Halt> {
    let run = world.run()?.clone();
    if matches!(run.tokens.credentials, Credentials::GpcProvenance) {
        let target = format!(
            "Patient/{}",
            run.data.patient(PatientRole::Existing).logical_id()
        );
        return Ok(run.provenance_jwt("GET", &target, &ProvenanceDefect::None));
    }
    run.tokens
        .token(&run.http)
        .await
        .map_err(|why| Halt::Error(format!("no access token to probe with: {why}")))?
        .ok_or_else(|| Halt::missing_config("no credentials are configured (MTS_TOKEN or [auth])"))
}

/// Changes one character in the middle of the signature (or the token), so it looks right but is not.
fn tamper(token: &str) -> String {
    let target = token
        .rfind('.')
        .filter(|i| i + 4 < token.len())
        .map_or(token.len() / 2, |dot| dot + (token.len() - dot) / 2);
    token
        .char_indices()
        .map(|(i, c)| {
            if i == target {
                if c == 'A' { 'B' } else { 'A' }
            } else {
                c
            }
        })
        .collect()
}

async fn bad_credential(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let value = match args.get(0) {
        "an empty bearer token" => "Bearer ".to_owned(),
        "a made-up bearer token" => "Bearer mts-made-up-token-1234567890".to_owned(),
        "Basic credentials" => "Basic bXRzOm10cy1wYXNzd29yZA==".to_owned(),
        _ if matches!(world.run()?.tokens.credentials, Credentials::GpcProvenance) => {
            return Err(Halt::excluded_by_profile(
                "the GP Connect provenance JWT is unsigned by design (mutual TLS and the Spine \
                 Secure Proxy authenticate the consumer), so a tampered copy is just another \
                 claim set; SEC-JWT-001..003 judge its content",
            ));
        }
        _ => format!("Bearer {}", tamper(&current_token(world).await?)),
    };
    let request = world.request_mut()?;
    request.with_credentials = false;
    request.set_header("Authorization", value);
    Ok(())
}

/// A provenance JWT with one deliberate defect (or none), as GP Connect consumers send it.
async fn provenance(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let wording = args.get(0);
    let defect = ProvenanceDefect::parse(wording)
        .ok_or_else(|| Halt::Error(format!("no provenance JWT defect is called \"{wording}\"")))?;
    let run = world.run()?.clone();
    let request = world.request_mut()?;
    let token = run.provenance_jwt(&request.method, &request.target, &defect);
    request.with_credentials = false;
    request.set_header("Authorization", format!("Bearer {token}"));
    Ok(())
}

async fn token_in_query(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let token = current_token(world).await?;
    let request = world.request_mut()?;
    request.with_credentials = false;
    request.query.push(("access_token".into(), token));
    Ok(())
}

async fn low_privilege(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let token = world.run()?.low_privilege_token.clone().ok_or_else(|| {
        Halt::missing_config("needs a valid token without write rights (MTS_LOW_PRIVILEGE_TOKEN)")
    })?;
    let request = world.request_mut()?;
    request.with_credentials = false;
    request.set_header("Authorization", format!("Bearer {token}"));
    Ok(())
}

async fn unauthenticated(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let allowed: &[u16] = if world.run()?.profile == Profile::Gpc {
        &[400, 401, 403]
    } else {
        &[401]
    };
    assert::status_is(&exchange, allowed)?;
    let response = assert::response(&exchange)?;
    if let Some(kind) = response
        .resource_type()
        .filter(|k| *k != "OperationOutcome")
    {
        return Err(Failure::new(format!("the refusal still carries a {kind}"))
            .expected("an OperationOutcome and no data")
            .actual(format!("a {kind}"))
            .exchange(&exchange.id)
            .into());
    }
    assert::operation_outcome(&exchange).map(|_| ())
}

async fn challenge(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    if exchange.status() != Some(401) {
        return Err(Halt::nothing_to_judge(format!(
            "no 401 to inspect ({})",
            exchange.summary()
        )));
    }
    let response = assert::response(&exchange)?;
    let value = response.header("www-authenticate").unwrap_or("");
    let token_sent = exchange
        .request
        .header("authorization")
        .is_some_and(|a| a.trim().len() > "Bearer".len());
    let bearer = value
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("bearer");
    let names_error = value.contains("invalid_token");
    if bearer && (!token_sent || names_error) {
        return Ok(());
    }
    Err(Failure::new(if bearer {
        "the 401 for a bad token does not say error=\"invalid_token\""
    } else {
        "the 401 carries no Bearer challenge"
    })
    .expected(if token_sent {
        "WWW-Authenticate: Bearer error=\"invalid_token\""
    } else {
        "WWW-Authenticate: Bearer"
    })
    .actual(if value.is_empty() {
        "no WWW-Authenticate header".to_owned()
    } else {
        format!("WWW-Authenticate: {value}")
    })
    .exchange(&exchange.id)
    .into())
}

async fn forbidden(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    assert::status_is(&exchange, &[403])?;
    let outcome = assert::operation_outcome(&exchange)?;
    if !crate::fhir::outcome::issues(outcome)
        .iter()
        .any(|i| i["code"] == "forbidden")
    {
        world.note("the 403 OperationOutcome's issue code is not forbidden");
    }
    Ok(())
}

fn client(world: &MtsWorld) -> Result<crate::auth::ClientCredentials, Halt> {
    match &world.run()?.tokens.credentials {
        Credentials::ClientCredentials(client) => Ok(client.clone()),
        // mts cannot tell a supplier without a token endpoint of its own from a user who did
        // not configure it: skipped, as the requirement is owed where one exists.
        _ => Err(Halt::missing_config(
            "no OAuth2 token endpoint is configured ([auth] kind = \"client-credentials\"): the requirement applies to suppliers who run their own",
        )),
    }
}

async fn send_assertion(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let defect = AssertionDefect::parse(args.get(0))
        .ok_or_else(|| Halt::Error(format!("unknown assertion defect `{}`", args.get(0))))?;
    let client = client(world)?;
    let run = world.run()?.clone();
    let (exchange, _) = run
        .tokens
        .request(&run.http, &client, defect, None, world.next_exchange_id())
        .await
        .map_err(Halt::Error)?;
    world.exchanges.push(exchange.id.clone());
    world.last = Some(exchange);
    Ok(())
}

async fn replay_assertion(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let client = client(world)?;
    let run = world.run()?.clone();
    let jti = uuid::Uuid::new_v4().to_string();
    let (first, raw) = run
        .tokens
        .request(
            &run.http,
            &client,
            AssertionDefect::None,
            Some(&jti),
            world.next_exchange_id(),
        )
        .await
        .map_err(Halt::Error)?;
    world.exchanges.push(first.id.clone());
    if let Err(why) = issued_token(&first, &raw) {
        return Err(Halt::Error(format!(
            "the first, valid assertion was refused, so a replay cannot be judged: {why}"
        )));
    }
    let (second, _) = run
        .tokens
        .request(
            &run.http,
            &client,
            AssertionDefect::None,
            Some(&jti),
            world.next_exchange_id(),
        )
        .await
        .map_err(Halt::Error)?;
    world.exchanges.push(second.id.clone());
    world.last = Some(second);
    Ok(())
}

async fn token_refused(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let response = assert::response(&exchange)?;
    if matches!(response.status, 400 | 401) {
        let error = serde_json::from_slice::<serde_json::Value>(response.body.bytes())
            .ok()
            .and_then(|b| b["error"].as_str().map(str::to_owned));
        world.note(format!(
            "refused with {} {}",
            response.status,
            error.unwrap_or_default()
        ));
        return Ok(());
    }
    Err(Failure::new(format!(
        "the token endpoint answered {} to a defective client assertion",
        response.status
    ))
    .expected("400 or 401 with an OAuth error")
    .actual(format!(
        "HTTP {} {}",
        response.status,
        assert::preview(&response.body.text())
    ))
    .exchange(&exchange.id)
    .into())
}

async fn token_issued(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let response = assert::response(&exchange)?;
    let body: serde_json::Value = serde_json::from_slice(response.body.bytes()).unwrap_or_default();
    let expires = body["expires_in"].as_u64().is_some()
        || body["expires_in"]
            .as_str()
            .is_some_and(|s| s.parse::<u64>().is_ok());
    let bearer = body["token_type"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case("bearer"));
    if response.status == 200 && body.get("access_token").is_some() && expires && bearer {
        return Ok(());
    }
    Err(
        Failure::new("a valid client assertion did not get a bearer token")
            .expected("200 with access_token, expires_in and token_type Bearer")
            .actual(format!(
                "HTTP {} {}",
                response.status,
                assert::preview(&response.body.text())
            ))
            .exchange(&exchange.id)
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tampering_changes_exactly_one_character() {
        let token = "eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz";
        let tampered = tamper(token);
        assert_eq!(tampered.len(), token.len());
        assert_eq!(
            tampered
                .chars()
                .zip(token.chars())
                .filter(|(a, b)| a != b)
                .count(),
            1
        );
        assert!(
            tampered.starts_with("eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJ4In0."),
            "the signature is what changes"
        );
        assert_ne!(tamper("opaque-token-value"), "opaque-token-value");
    }
}
