//! `mts list`: the catalogue's requirements, as a table or JSON.

use serde_json::json;
use tabled::settings::{Style, Width, object::Columns};
use tabled::{Table, Tabled};

use crate::catalogue::{self};
use crate::cli::{ListArgs, ListFormat};
use crate::exit::ExitCode;

use super::*;

#[derive(Tabled)]
pub(crate) struct ListRow {
    #[tabled(rename = "Requirement")]
    id: String,
    #[tabled(rename = "Level")]
    level: String,
    #[tabled(rename = "Status")]
    status: String,
    #[tabled(rename = "Profiles")]
    profiles: String,
    #[tabled(rename = "Title")]
    title: String,
}

pub(crate) fn list(args: &ListArgs) -> Result<ExitCode, CmdError> {
    let catalogue = load_catalogue()?;
    if let Some(name) = &args.framework {
        return list_framework(&catalogue, name, args);
    }
    let requirements: Vec<&catalogue::Requirement> = catalogue
        .requirements
        .iter()
        .filter(|r| args.profile.is_none_or(|p| r.applies_to(p)))
        .collect();
    match args.format {
        ListFormat::Json => {
            let value = json!({
                "catalogue": {"version": catalogue.version, "digest": catalogue.digest, "title": catalogue.title},
                "requirements": requirements,
            });
            outln!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        }
        ListFormat::Table => {
            let rows: Vec<ListRow> = requirements
                .iter()
                .map(|r| ListRow {
                    id: r.id.to_string(),
                    level: match args.profile {
                        Some(p) => r.level_for(p).to_string(),
                        None => r.level.to_string(),
                    },
                    status: r.status.as_str().to_owned(),
                    profiles: r
                        .profiles
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    title: r.title.clone(),
                })
                .collect();
            let mut table = Table::new(rows);
            table
                .with(Style::sharp())
                .modify(Columns::new(4..5), Width::wrap(60));
            outln!("{table}");
            let automated = requirements
                .iter()
                .filter(|r| r.status == catalogue::Status::Automated)
                .count();
            outln!(
                "{} requirements ({automated} automated), catalogue {} {}",
                requirements.len(),
                catalogue.version,
                catalogue.digest
            );
        }
    }
    Ok(ExitCode::Success)
}

#[derive(Tabled)]
struct ClauseRow {
    #[tabled(rename = "Clause")]
    id: String,
    #[tabled(rename = "HTTP")]
    http: String,
    #[tabled(rename = "Title")]
    title: String,
    #[tabled(rename = "Evidence from")]
    requirements: String,
}

/// `mts list --framework NAME`: the framework's clauses, each with what gives evidence for it.
fn list_framework(
    catalogue: &catalogue::Catalogue,
    name: &str,
    args: &ListArgs,
) -> Result<ExitCode, CmdError> {
    let frameworks = selected_frameworks(catalogue, name)?;
    let mapped = |framework: &str, clause: &str| -> Vec<String> {
        catalogue
            .mapped_to(framework, clause)
            .filter(|r| args.profile.is_none_or(|p| r.applies_to(p)))
            .map(|r| r.id.to_string())
            .collect()
    };
    if args.format == ListFormat::Json {
        let value: Vec<_> = frameworks
            .iter()
            .map(|f| {
                let clauses: Vec<_> = f
                    .clauses
                    .iter()
                    .map(|c| json!({"clause": c, "requirements": mapped(&f.id, &c.id)}))
                    .collect();
                json!({
                    "id": f.id, "family": f.family, "title": f.title, "version": f.version,
                    "publisher": f.publisher, "url": f.url, "text_source": f.text_source,
                    "caveat": f.caveat, "no_clauses": f.no_clauses, "clauses": clauses,
                })
            })
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "catalogue": {"version": catalogue.version, "digest": catalogue.digest},
                "frameworks": value,
            }))
            .unwrap_or_default()
        );
        return Ok(ExitCode::Success);
    }
    for framework in frameworks {
        outln!(
            "{} {} ({})\n{}\nClause text: {}",
            framework.title,
            framework.version,
            framework.publisher,
            framework.url,
            framework.text_source.trim()
        );
        if let Some(caveat) = &framework.caveat {
            outln!("Caveat: {}", caveat.trim());
        }
        if let Some(why) = &framework.no_clauses {
            outln!("No clauses: {}\n", why.trim());
            continue;
        }
        let rows: Vec<ClauseRow> = framework
            .clauses
            .iter()
            .map(|c| ClauseRow {
                id: c.id.clone(),
                http: c.http.as_str().to_owned(),
                title: c.title.clone(),
                requirements: match &c.not_covered {
                    Some(why) => format!("not covered: {why}"),
                    None => mapped(&framework.id, &c.id).join(" "),
                },
            })
            .collect();
        let mut table = Table::new(rows);
        table
            .with(Style::sharp())
            .modify(Columns::new(2..3), Width::wrap(50).keep_words(true))
            .modify(Columns::new(3..4), Width::wrap(50).keep_words(true));
        outln!("{table}\n");
    }
    Ok(ExitCode::Success)
}

/// The frameworks `name` selects, or a usage error naming the ones there are.
pub(crate) fn selected_frameworks<'a>(
    catalogue: &'a catalogue::Catalogue,
    name: &str,
) -> Result<Vec<&'a catalogue::Framework>, CmdError> {
    let frameworks = catalogue.frameworks_named(&name.to_ascii_lowercase());
    if frameworks.is_empty() {
        let mut known: Vec<&str> = catalogue
            .frameworks
            .iter()
            .flat_map(|f| [f.family.as_str(), f.id.as_str()])
            .collect();
        known.sort_unstable();
        known.dedup();
        return Err(CmdError::usage(format!(
            "no framework `{name}`; known: {}",
            known.join(", ")
        )));
    }
    Ok(frameworks)
}
