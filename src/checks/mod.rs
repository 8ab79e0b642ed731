//! The judgements: assertion helpers that Gherkin steps call (`assert`), domain checks on FHIR
//! content (`capability`, `resource`), and passive checks run over every exchange (`passive`).
//! All of them are plain functions over recorded exchanges, unit-tested without a network.

pub mod assert;
pub mod capability;
pub mod content;
pub mod need;
pub mod passive;
mod rules;
pub mod search;
pub mod security;

pub use assert::Halt;
pub use passive::{
    CheckJudgement, OpenApiUse, PASSIVE_CHECKS, PassiveCheck, PassiveContext, aggregate,
    judge_exchanges, run_passive_checks,
};
