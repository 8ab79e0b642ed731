//! Reading a run's `report.json` back: the one reader `diff`, `merge`, `rejudge` and
//! `run --rerun-failed` share. Fields added to the report since its schema version began are
//! optional here, so a report an older mts wrote still reads.

use std::path::Path;

use super::{OLDEST_READABLE_SCHEMA_VERSION, REPORT_SCHEMA_VERSION, Report};

/// The file a run folder keeps its report in.
pub const REPORT_FILE: &str = "report.json";

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not an mts report: {message}")]
    Invalid { path: String, message: String },
    #[error(
        "{path} has report schema version {found}; this mts reads versions {OLDEST_READABLE_SCHEMA_VERSION} to {REPORT_SCHEMA_VERSION}"
    )]
    Version { path: String, found: u64 },
}

/// Reads `report.json` from a run folder.
pub fn read(folder: &Path) -> Result<Report, ReadError> {
    let path = folder.join(REPORT_FILE);
    let shown = || path.display().to_string();
    let text = std::fs::read(&path).map_err(|source| ReadError::Read {
        path: shown(),
        source,
    })?;
    parse(&text).map_err(|problem| match problem {
        Problem::Version(found) => ReadError::Version {
            path: shown(),
            found,
        },
        Problem::Invalid(message) => ReadError::Invalid {
            path: shown(),
            message,
        },
    })
}

enum Problem {
    Version(u64),
    Invalid(String),
}

fn parse(text: &[u8]) -> Result<Report, Problem> {
    // The version first, so a report of another schema says so rather than naming a field.
    #[derive(serde::Deserialize)]
    struct Versioned {
        schema_version: Option<u64>,
    }
    let versioned: Versioned =
        serde_json::from_slice(text).map_err(|e| Problem::Invalid(e.to_string()))?;
    match versioned.schema_version {
        None => return Err(Problem::Invalid("no schema_version".into())),
        Some(found)
            if !(u64::from(OLDEST_READABLE_SCHEMA_VERSION)..=u64::from(REPORT_SCHEMA_VERSION))
                .contains(&found) =>
        {
            return Err(Problem::Version(found));
        }
        Some(_) => {}
    }
    serde_json::from_slice(text).map_err(|e| Problem::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_schema_version_is_named() {
        let problem = parse(br#"{"schema_version": 3, "requirements": []}"#).err();
        assert!(matches!(problem, Some(Problem::Version(3))));
    }

    #[test]
    fn a_file_that_is_not_a_report_is_invalid() {
        for text in [&b"[]"[..], b"{}", b"{\"schema_version\": 1}", b"not json"] {
            assert!(matches!(parse(text), Err(Problem::Invalid(_))), "{text:?}");
        }
    }
}
