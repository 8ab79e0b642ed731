//! `mts explain`: one requirement, its sources and how it is verified.

use serde_json::json;

use crate::checks::PASSIVE_CHECKS;
use crate::cli::{ExplainArgs, ListFormat};
use crate::exit::ExitCode;
use crate::features::Suite;
use crate::sandbox::Fault;

use super::*;

pub(crate) fn explain(args: &ExplainArgs) -> Result<ExitCode, CmdError> {
    let catalogue = load_catalogue()?;
    let Some(requirement) = catalogue.get(&args.id.to_ascii_uppercase()) else {
        let hint = crate::util::did_you_mean(
            &args.id.to_ascii_uppercase(),
            catalogue.requirements.iter().map(|r| r.id.as_str()),
        )
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default();
        return Err(CmdError::usage(format!(
            "no requirement {} in the catalogue{hint}",
            args.id
        )));
    };
    let suite = Suite::load_embedded().map_err(CmdError::invalid)?;
    let scenarios: Vec<String> = suite
        .scenarios()
        .into_iter()
        .filter(|s| s.requirements.contains(&requirement.id))
        .map(|s| format!("{} {}", s.location(), s.name))
        .collect();
    let checks: Vec<String> = PASSIVE_CHECKS
        .iter()
        .filter(|c| c.requirement.as_str() == requirement.id.as_str())
        .map(|c| format!("{}: {}", c.id, c.summary))
        .collect();
    let faults: Vec<String> = Fault::ALL
        .iter()
        .filter(|f| f.breaks().contains(&requirement.id.as_str()))
        .map(|f| format!("{}: {}", f.name(), f.description()))
        .collect();
    if args.format == ListFormat::Json {
        let value = json!({"requirement": requirement, "scenarios": scenarios, "checks": checks, "sandbox_faults": faults});
        outln!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return Ok(ExitCode::Success);
    }
    let mut out = format!(
        "{} [{}] {}\n\n",
        requirement.id, requirement.level, requirement.title
    );
    for (profile, level) in &requirement.level_overrides {
        out.push_str(&format!("Level under the {profile} profile: {level}\n"));
    }
    let profiles: Vec<&str> = requirement.profiles.iter().map(|p| p.as_str()).collect();
    let needs: Vec<&str> = requirement.needs.iter().map(|n| n.as_str()).collect();
    out.push_str(&format!(
        "Profiles: {}\nNeeds: {}\nStatus: {}\n",
        profiles.join(", "),
        if needs.is_empty() {
            "nothing".into()
        } else {
            needs.join(", ")
        },
        requirement.status.as_str()
    ));
    if let Some(reason) = &requirement.reason {
        out.push_str(&format!("Why: {reason}\n"));
    }
    out.push_str(&format!(
        "\nRequirement:\n  {}\n\nHow it is verified:\n  {}\n\nSources:\n",
        requirement.statement.trim(),
        requirement.verification.trim()
    ));
    for source in &requirement.sources {
        let title = catalogue
            .source(&source.code)
            .map_or("", |s| s.title.as_str());
        let url = catalogue.source_url(source).unwrap_or_default();
        out.push_str(&format!(
            "  {} {title}: {}\n    {url}\n",
            source.code, source.detail
        ));
    }
    let section = |title: &str, items: &[String]| {
        if items.is_empty() {
            format!("\n{title}: none\n")
        } else {
            format!(
                "\n{title}:\n{}\n",
                items
                    .iter()
                    .map(|i| format!("  {i}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }
    };
    let clauses: Vec<String> = requirement
        .clauses
        .iter()
        .map(|reference| {
            let framework = catalogue.framework(&reference.framework);
            let clause = framework.and_then(|f| f.clause(&reference.clause));
            format!(
                "{reference}  {} {}: {}",
                framework.map_or("", |f| f.title.as_str()),
                framework.map_or("", |f| f.version.as_str()),
                clause.map_or("", |c| c.title.as_str())
            )
        })
        .chain(
            requirement
                .unmapped
                .iter()
                .map(|why| format!("none: {why}")),
        )
        .collect();
    out.push_str(&section(
        "Framework clauses it gives evidence for",
        &clauses,
    ));
    out.push_str(&section("Scenarios", &scenarios));
    out.push_str(&section("Checks over every exchange", &checks));
    out.push_str(&section("Sandbox faults it is proven to catch", &faults));
    out!("{out}");
    Ok(ExitCode::Success)
}
