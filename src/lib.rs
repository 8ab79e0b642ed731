//! mts: tells a health-IT supplier, an NHS assurance team or a CI pipeline, with evidence,
//! whether an API meets the NHS minimum technical standards for interoperability and security.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod catalogue;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod exit;
pub mod features;
pub mod fhir;
pub mod fuzzing;
pub mod gpc;
pub mod http;
pub mod lint;
pub mod openapi;
pub mod report;
pub mod runner;
pub mod sandbox;
pub mod steps;
pub mod target;
pub mod tls;
pub mod util;
pub mod verdict;

/// Files embedded at build time by `build.rs`.
pub(crate) mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}
