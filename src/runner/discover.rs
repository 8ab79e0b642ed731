//! Discovery, before planning: read what the target declares (its CapabilityStatement, the
//! OpenAPI document given, `[target.declares]` in `mts.toml`) into one target model.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::RunError;
use crate::config::DeclaredResource;
use crate::http::{Exchange, ExchangeId, HttpClient, RequestSpec};
use crate::openapi::OpenApi;
use crate::steps::RunContext;
use crate::target::{self, Declaration, Source, TargetModel};

/// Sends the GET that fetches an OpenAPI document (exchange `openapi#1`).
async fn fetch_openapi(http: &HttpClient, url: &str, label: &str, accept: &str) -> Arc<Exchange> {
    let mut spec = RequestSpec::get(url);
    spec.set_header("Accept", accept);
    http.send(ExchangeId("openapi#1".into()), label, &spec)
        .await
}

/// Reads the OpenAPI document given. A file that cannot be read is the user's error; a document
/// that cannot be fetched or parsed is the supplier's, judged by API-DOC-001.
pub(super) async fn load_openapi(
    http: &HttpClient,
    source: &str,
) -> Result<Result<Arc<OpenApi>, String>, RunError> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        let exchange = fetch_openapi(
            http,
            source,
            "fetch the OpenAPI document",
            "application/json, application/yaml;q=0.9, */*;q=0.5",
        )
        .await;
        match &exchange.response {
            Some(response) if response.status == 200 => response.body.text(),
            Some(response) => {
                return Ok(Err(format!(
                    "{} answered {}",
                    exchange.summary_request(),
                    response.status
                )));
            }
            None => {
                return Ok(Err(format!(
                    "{} failed: {}",
                    exchange.summary_request(),
                    exchange.error.as_ref().map_or("", |e| e.message.as_str())
                )));
            }
        }
    } else {
        std::fs::read_to_string(source).map_err(|e| RunError::OpenApiFile {
            path: source.to_owned(),
            source: e,
        })?
    };
    Ok(OpenApi::parse(&text)
        .map(Arc::new)
        .map_err(|e| e.to_string()))
}

/// The OpenAPI document at `url`, if one is published there: only a JSON object naming an
/// `openapi` version counts, anything else there (a 404, an HTML catch-all) is no document; one
/// that names itself OpenAPI and cannot be read is published broken (an error, for API-DOC-001).
pub(super) async fn probe_openapi(
    http: &HttpClient,
    url: &str,
) -> Option<Result<Arc<OpenApi>, String>> {
    let exchange = fetch_openapi(
        http,
        url,
        "look for an OpenAPI document at [base]/openapi.json",
        "application/json",
    )
    .await;
    let response = exchange.response.as_ref().filter(|r| r.status == 200)?;
    let document = response.body.json()?;
    document.get("openapi").and_then(|v| v.as_str())?;
    Some(
        OpenApi::parse(&response.body.text())
            .map(Arc::new)
            .map_err(|e| format!("{url}: {e}")),
    )
}

/// The model, and the exchange that asked for the CapabilityStatement (the evidence when a
/// required capability is missing). A bad `[target.declares]` is the user's error.
pub async fn discover(
    context: &RunContext,
    declares: &BTreeMap<String, DeclaredResource>,
    declares_complete: bool,
) -> Result<(TargetModel, ExchangeId), String> {
    let mut model = TargetModel::default();
    let (statement, exchange) = context.capability_exchange().await;
    model.declarations.push(Declaration {
        source: Source::CapabilityStatement,
        read: statement.is_some(),
        detail: match (&statement, exchange.status()) {
            (Some(_), _) => exchange.summary(),
            (None, Some(status)) => format!(
                "{} answered {status} without a CapabilityStatement",
                exchange.summary_request()
            ),
            (None, None) => format!(
                "{} failed: {}",
                exchange.summary_request(),
                exchange.error.as_ref().map_or("", |e| e.message.as_str())
            ),
        },
    });
    if let Some(statement) = &statement {
        target::capability::add(&mut model, statement);
    }
    match &context.openapi {
        Some(Ok(document)) => {
            target::openapi::add(&mut model, document);
            model.declarations.push(Declaration {
                source: Source::Openapi,
                read: true,
                detail: format!("{} operation(s)", document.declared_operations().len()),
            });
        }
        Some(Err(why)) => model.declarations.push(Declaration {
            source: Source::Openapi,
            read: false,
            detail: why.clone(),
        }),
        None => model.declarations.push(Declaration {
            source: Source::Openapi,
            read: false,
            detail: "none given (--openapi FILE|URL)".into(),
        }),
    }
    // What a CapabilityStatement or OpenAPI document leaves out, the target does not offer
    // (`TargetModel::add`); mts.toml only adds to them, unless it says it lists everything.
    model.complete |= declares_complete && !declares.is_empty();
    if !declares.is_empty() {
        target::config::add(&mut model, declares)?;
        model.declarations.push(Declaration {
            source: Source::Config,
            read: true,
            detail: format!("[target.declares] for {} type(s)", declares.len()),
        });
    }
    Ok((model, exchange.id.clone()))
}
