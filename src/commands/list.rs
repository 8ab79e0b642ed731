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
