use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::model::{Area, Catalogue, Requirement, Source, Status};

/// Where the catalogue index lives relative to the catalogue directory.
const INDEX_FILE: &str = "catalogue.toml";
const EMBEDDED_INDEX: &str = include_str!("../../standards/catalogue.toml");

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("failed to read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexFile {
    version: String,
    title: String,
    #[serde(rename = "area")]
    areas: Vec<Area>,
    #[serde(rename = "source")]
    sources: Vec<Source>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementFile {
    #[serde(rename = "requirement")]
    requirements: Vec<Requirement>,
}

/// Loads the catalogue compiled into the binary.
pub fn load_embedded() -> Result<Catalogue, CatalogueError> {
    let files: Vec<(String, String)> = crate::embedded::REQUIREMENT_FILES
        .iter()
        .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
        .collect();
    load_with_requirement_files(files)
}

/// The embedded catalogue index with `files` as its requirement files (fuzzing, tests).
pub fn load_with_requirement_files(
    files: Vec<(String, String)>,
) -> Result<Catalogue, CatalogueError> {
    build(
        (
            "standards/catalogue.toml".to_owned(),
            EMBEDDED_INDEX.to_owned(),
        ),
        files,
    )
}

/// Loads a catalogue from a directory holding `catalogue.toml` and `requirements/*.toml`.
pub fn load_dir(dir: &Path) -> Result<Catalogue, CatalogueError> {
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path)
            .map(|text| (path.display().to_string(), text))
            .map_err(|source| CatalogueError::Read { path, source })
    };
    let index = read(dir.join(INDEX_FILE))?;
    let requirements_dir = dir.join("requirements");
    let entries = std::fs::read_dir(&requirements_dir).map_err(|source| CatalogueError::Read {
        path: requirements_dir.clone(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    let files = paths.into_iter().map(read).collect::<Result<Vec<_>, _>>()?;
    build(index, files)
}

fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, CatalogueError> {
    toml::from_str(text).map_err(|error| {
        let (line, column) = error.span().map_or((0, 0), |span| {
            crate::util::line_and_column(text, span.start)
        });
        CatalogueError::Syntax {
            file: file.to_owned(),
            line,
            column,
            message: error.message().to_owned(),
        }
    })
}

/// The line where `id = "<id>"` is written, for error messages.
fn line_of_id(text: &str, id: &str) -> usize {
    let needle = format!("\"{id}\"");
    text.lines()
        .position(|line| line.trim_start().starts_with("id") && line.contains(&needle))
        .map_or(0, |index| index + 1)
}

fn build(
    index: (String, String),
    files: Vec<(String, String)>,
) -> Result<Catalogue, CatalogueError> {
    let (index_name, index_text) = index;
    let parsed_index: IndexFile = parse(&index_name, &index_text)?;

    let mut hasher = Sha256::new();
    hasher.update(index_text.as_bytes());
    let mut requirements = Vec::new();
    let mut seen = BTreeSet::new();
    for (file, text) in &files {
        hasher.update(file.rsplit('/').next().unwrap_or(file).as_bytes());
        hasher.update(text.as_bytes());
        let parsed: RequirementFile = parse(file, text)?;
        for requirement in parsed.requirements {
            let invalid = |message: String| CatalogueError::Invalid {
                file: file.clone(),
                line: line_of_id(text, requirement.id.as_str()),
                message,
            };
            if !seen.insert(requirement.id.clone()) {
                return Err(invalid(format!(
                    "requirement {} is defined twice",
                    requirement.id
                )));
            }
            check_requirement(&requirement, &parsed_index).map_err(invalid)?;
            requirements.push(requirement);
        }
    }
    requirements.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Catalogue {
        version: parsed_index.version,
        title: parsed_index.title,
        areas: parsed_index.areas,
        sources: parsed_index.sources,
        requirements,
        digest: format!("sha256:{:x}", hasher.finalize()),
    })
}

fn check_requirement(requirement: &Requirement, index: &IndexFile) -> Result<(), String> {
    let id = &requirement.id;
    if !index.areas.iter().any(|area| area.prefix == id.area()) {
        return Err(format!(
            "{id}: no [[area]] with prefix {} in catalogue.toml",
            id.area()
        ));
    }
    for text in [
        &requirement.title,
        &requirement.statement,
        &requirement.verification,
    ] {
        if text.trim().is_empty() {
            return Err(format!(
                "{id}: title, statement and verification must not be empty"
            ));
        }
    }
    if requirement.profiles.is_empty() {
        return Err(format!("{id}: profiles must name at least one profile"));
    }
    if requirement.sources.is_empty() {
        return Err(format!("{id}: at least one source is required"));
    }
    for source in &requirement.sources {
        if !index.sources.iter().any(|s| s.code == source.code) {
            return Err(format!(
                "{id}: source {} is not listed in catalogue.toml",
                source.code
            ));
        }
    }
    let needs_reason = matches!(requirement.status, Status::Planned | Status::Attestation);
    let has_reason = requirement
        .reason
        .as_deref()
        .is_some_and(|r| !r.trim().is_empty());
    if needs_reason && !has_reason {
        return Err(format!(
            "{id}: a {} requirement needs a reason",
            requirement.status.as_str()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"
version = "1"
title = "t"
[[area]]
prefix = "SEC-TLS"
title = "TLS"
[[source]]
code = "S1"
title = "s"
url = "https://example.org"
"#;

    fn requirement(extra: &str) -> String {
        format!(
            r#"[[requirement]]
id = "SEC-TLS-001"
level = "MUST"
title = "HTTPS"
statement = "s"
verification = "v"
profiles = ["all"]
needs = []
status = "automated"
sources = [{{ code = "S1", detail = "d" }}]
{extra}"#
        )
    }

    fn load(files: &[&str]) -> Result<Catalogue, CatalogueError> {
        build(
            ("catalogue.toml".into(), INDEX.into()),
            files
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("f{i}.toml"), (*t).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn loads_a_valid_file() {
        let catalogue = load(&[&requirement("")]).unwrap();
        assert_eq!(catalogue.requirements.len(), 1);
        assert!(catalogue.digest.starts_with("sha256:"));
    }

    #[test]
    fn unknown_keys_are_rejected_with_a_line() {
        let err = load(&[&requirement("colour = \"red\"")]).unwrap_err();
        match err {
            CatalogueError::Syntax { line, message, .. } => {
                assert_eq!(line, 11, "the line of the unknown key: {message}");
                assert!(message.contains("colour"), "{message}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn duplicate_ids_unknown_sources_and_missing_reasons_are_rejected() {
        let once = requirement("");
        assert!(
            load(&[&once, &once])
                .unwrap_err()
                .to_string()
                .contains("defined twice")
        );
        let bad_source = once.replace("\"S1\"", "\"S9\"");
        assert!(load(&[&bad_source]).unwrap_err().to_string().contains("S9"));
        let planned = once.replace("\"automated\"", "\"planned\"");
        let err = load(&[&planned]).unwrap_err().to_string();
        assert!(
            err.contains("needs a reason") && err.contains("f0.toml:2"),
            "{err}"
        );
    }
}
