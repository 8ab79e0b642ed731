//! `mts init`: survey a new target and write a commented `mts.toml` for it: the profile it looks
//! like, the test data found, and what could not be found with how to give it. Never a secret.

use std::fmt::Write as _;
use std::path::Path;

use crate::cli::InitArgs;
use crate::config::ConfigFile;
use crate::exit::ExitCode;
use crate::runner::{self, Survey};
use crate::target::Source;

use super::*;

/// A TOML string, quoted and escaped.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// `text` as comment lines (each starting `# `), cut into lines of at most 96 characters.
fn comment(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + word.len() + 1 > 96 && line.len() > 1 {
            let _ = writeln!(out, "{line}");
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    let _ = writeln!(out, "{line}");
}

/// The file's text. `openapi` and `ca_cert` are written as given (paths, never secrets).
pub(crate) fn render(
    survey: &Survey,
    openapi: Option<&str>,
    ca_cert: Option<&Path>,
    today: &str,
) -> String {
    let mut out = String::new();
    comment(
        &mut out,
        &format!(
            "mts.toml for {}, written by `mts init` on {today} (mts {}). Check it, then run `mts run`: credentials come from the environment (MTS_TOKEN) or [auth], never from this file. Every key is described by standards/schema/mts-config.schema.json.",
            survey.target,
            env!("CARGO_PKG_VERSION")
        ),
    );
    out.push_str("\n[target]\n");
    let _ = writeln!(out, "url = {}", quoted(&survey.target));
    if let Some(ca) = ca_cert {
        let _ = writeln!(out, "ca_cert = {}", quoted(&ca.display().to_string()));
    }

    out.push_str("\n[run]\n");
    comment(
        &mut out,
        &format!(
            "The {} profile, because {}.",
            survey.profile.as_str(),
            survey.profile_reason
        ),
    );
    let _ = writeln!(out, "profile = {}", quoted(survey.profile.as_str()));
    match openapi {
        Some(document) => {
            comment(
                &mut out,
                "The supplier's OpenAPI document, as given to mts init.",
            );
            let _ = writeln!(out, "openapi = {}", quoted(document));
        }
        None if survey.openapi_found_at_base => comment(
            &mut out,
            "An OpenAPI document was found at [base]/openapi.json; a run reads it from there, so nothing is set here.",
        ),
        None => comment(
            &mut out,
            "No OpenAPI document was given or found at [base]/openapi.json. Give one (openapi = \"FILE or URL\") if the supplier publishes it: what the API does not offer is then not applicable rather than failed.",
        ),
    }
    out.push('\n');
    comment(&mut out, "What the target declares:");
    for line in survey.model.summary_lines() {
        comment(&mut out, &format!("  {line}"));
    }
    if !survey
        .model
        .declarations
        .iter()
        .any(|d| d.read && d.source != Source::Config)
    {
        comment(
            &mut out,
            "Nothing was declared, so every scenario runs. Where the API serves only some of what a run asks for, list what it offers under [target.declares.<Type>] (interactions = [\"read\", \"search-type\"], search = [\"identifier\"]).",
        );
    }

    let existing = survey.patients.first();
    let with_records = survey.patients.iter().find(|p| !p.records.is_empty());
    for (role, patient) in [("existing", existing), ("with-records", with_records)] {
        // A section needs its NHS number: one not found is left commented out whole.
        let header = format!("[data.patient.{role}]");
        match patient {
            Some(_) => {
                let _ = writeln!(out, "\n{header}");
            }
            None => {
                let _ = writeln!(out, "\n# {header}");
            }
        }
        match patient {
            Some(found) => {
                let held = if found.records.is_empty() {
                    String::new()
                } else {
                    format!(" with records of {}", found.records.join(", "))
                };
                comment(&mut out, &format!("Found on the target{held}."));
                let _ = writeln!(out, "nhs_number = {}", quoted(&found.nhs_number));
                if let Some(id) = &found.id {
                    comment(
                        &mut out,
                        "It reads at this logical id, not at its NHS number (found by a search by NHS number).",
                    );
                    let _ = writeln!(out, "id = {}", quoted(id));
                }
            }
            None => {
                let why = if role == "existing" {
                    "No test patient was found (see below). Give the NHS number of one the target holds, here or with mts init --nhs-number N."
                } else if !survey.clinical_record {
                    "Not needed: the target declares no clinical record searchable by patient."
                } else {
                    "None of the patients found has clinical records the target lets mts search for. Give the NHS number of one who has (allergies, conditions, medications), so the clinical record is judged rather than skipped."
                };
                comment(&mut out, why);
                let _ = writeln!(out, "# nhs_number = \"…\"");
            }
        }
    }
    if survey.absent.1 {
        out.push_str("\n# [data.patient.absent]\n");
        comment(
            &mut out,
            &format!(
                "The target holds {}, the NHS number a run uses for a patient it does not hold. Give one it does not.",
                survey.absent.0
            ),
        );
        let _ = writeln!(out, "# nhs_number = \"…\"");
    }
    if let Some(family) = existing.and_then(|p| p.family.as_deref()) {
        out.push_str("\n[data.search]\n");
        comment(
            &mut out,
            "A family name searches use (from the existing patient's record); several test patients should share it for paging to be judged.",
        );
        let _ = writeln!(out, "family = {}", quoted(family));
    }

    let mut missing: Vec<String> = survey
        .not_found
        .iter()
        .map(|(nhs, answer)| {
            format!(
                "NHS number {nhs} was not found ({answer}) by a read or a search by NHS number."
            )
        })
        .collect();
    if let Some(answer) = &survey.needs_credentials {
        missing.push(format!(
            "The target asked for credentials ({answer}). Set MTS_TOKEN to a bearer token, or configure OAuth2 client credentials under [auth] (token_url, client_id, kid and the path of the private key); a token never goes in this file."
        ));
    }
    if !missing.is_empty() {
        out.push('\n');
        comment(&mut out, "What mts init could not find:");
        for item in missing {
            comment(&mut out, &format!("- {item}"));
        }
    }
    out
}

/// `mts init`: exit 0 when the file is written; 2 when it exists (without --force) or no target
/// is given; 3 when the target cannot be reached at all.
pub(crate) async fn init(args: InitArgs) -> Result<ExitCode, CmdError> {
    if args.file.exists() && !args.force {
        return Err(CmdError::usage(format!(
            "{} exists; pass --force to replace it",
            args.file.display()
        )));
    }
    let (config, settings) = load_settings(&args.run)?;
    let options = run_options(&args.run, &config, &settings, None)?;
    if options.target.url().is_none() {
        return Err(CmdError::usage(
            "mts init needs the target: --target URL (or MTS_TARGET)",
        ));
    }
    let openapi = options.openapi.clone();
    let ca_cert = options.ca_cert.clone();
    let survey = runner::survey(options, &args.nhs_numbers)
        .await
        .map_err(CmdError::invalid)?;
    if survey.model.declarations.iter().all(|d| !d.read) && survey.patients.is_empty() {
        let unreachable = survey
            .model
            .declarations
            .iter()
            .find(|d| d.source == Source::CapabilityStatement)
            .map(|d| d.detail.clone())
            .unwrap_or_default();
        if unreachable.contains("failed:") {
            return Err(CmdError::invalid(format!(
                "the target could not be reached: {unreachable}; nothing was written"
            )));
        }
    }
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let text = render(&survey, openapi.as_deref(), ca_cert.as_deref(), &today);
    // What is written must load as a configuration: a failure here is mts's own bug.
    if let Err(error) = toml::from_str::<ConfigFile>(&text) {
        return Err(CmdError::internal(format!(
            "mts init made a configuration it cannot read back: {error}"
        )));
    }
    std::fs::write(&args.file, &text).map_err(|error| {
        CmdError::internal(format!("failed to write {}: {error}", args.file.display()))
    })?;
    outln!(
        "wrote {}: profile {} ({}); {} test patient(s) found, {} not found{}",
        args.file.display(),
        survey.profile.as_str(),
        survey.profile_reason,
        survey.patients.len(),
        survey.not_found.len(),
        if survey.needs_credentials.is_some() {
            "; the target wants credentials (MTS_TOKEN or [auth])"
        } else {
            ""
        }
    );
    outln!("next: mts run --config {}", args.file.display());
    Ok(ExitCode::Success)
}
