//! Reports: the model, and one writer per format. Every format is rendered from the same
//! `Report`; each file is written atomically, and the manifest (hashes, optional signature) last.

pub mod diff;
pub mod frameworks;
mod har;
mod html;
mod json;
mod junit;
mod manifest;
mod markdown;
mod markup;
mod model;
mod normalize;
mod read;
pub mod schema;
pub mod site;
mod table;
mod testreport;
mod written;

use std::path::{Path, PathBuf};

pub use json::{write_atomically, write_json};
pub use manifest::{SigningError, SigningKey, Verification, load_public_key, verify};
pub use model::*;
pub use normalize::{normalize_text, normalized_json};
pub use read::{REPORT_FILE, ReadError, read};
pub use table::{DEFAULT_WIDTH, Show, TableStyle, render_table, render_verdict_line};
pub use written::{CleanupOutcome, WriteAction, WrittenResource, WrittenSection};

/// A report file a run can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Json,
    Junit,
    Html,
    Markdown,
    TestReport,
    Har,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Json,
        Format::Junit,
        Format::Html,
        Format::Markdown,
        Format::TestReport,
        Format::Har,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::TestReport => "testreport",
            Format::Har => "har",
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Format::Json => "report.json",
            Format::Junit => "junit.xml",
            Format::Html => "report.html",
            Format::Markdown => "summary.md",
            Format::TestReport => "testreport.json",
            Format::Har => "evidence.har",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown report format `{text}` (one of {})",
                    names.join(", ")
                )
            })
    }
}

fn pretty(value: &serde_json::Value) -> std::io::Result<Vec<u8>> {
    let mut text = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    text.push(b'\n');
    Ok(text)
}

/// The bytes of one format.
pub fn render(report: &Report, format: Format) -> std::io::Result<Vec<u8>> {
    Ok(match format {
        Format::Json => {
            let mut text = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
            text.push(b'\n');
            text
        }
        Format::Junit => junit::render(report).into_bytes(),
        Format::Html => html::render(report).into_bytes(),
        Format::Markdown => markdown::render(report).into_bytes(),
        Format::TestReport => pretty(&testreport::render(report, &report.run_id))?,
        Format::Har => har::render(report)?,
    })
}

/// Writes `formats` into `dir`, then `manifest.json` over everything in it (signed with `key`
/// when given). Returns the files written.
pub fn write_all(
    report: &Report,
    dir: &Path,
    formats: &[Format],
    key: Option<&SigningKey>,
) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for format in formats {
        let path = dir.join(format.file_name());
        write_atomically(&path, &render(report, *format)?)?;
        written.push(path);
    }
    manifest::write(dir, report, key)?;
    written.push(dir.join(manifest::MANIFEST));
    if key.is_some() {
        written.push(dir.join(manifest::SIGNATURE));
    }
    Ok(written)
}
