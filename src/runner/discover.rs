//! Discovery, before planning: read what the target declares (its CapabilityStatement, the
//! OpenAPI document given, `[target.declares]` in `mts.toml`) into one target model.

use std::collections::BTreeMap;

use super::context::RunContext;
use crate::config::DeclaredResource;
use crate::http::ExchangeId;
use crate::target::{self, Declaration, Source, TargetModel};

/// The model, and the exchange that asked for the CapabilityStatement (the evidence when a
/// required capability is missing). A bad `[target.declares]` is the user's error.
pub async fn discover(
    context: &RunContext,
    declares: &BTreeMap<String, DeclaredResource>,
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
