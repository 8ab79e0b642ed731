use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::framework::{Clause, Framework, Testability};
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
struct FrameworkFile {
    framework: FrameworkHead,
    #[serde(default, rename = "clause")]
    clauses: Vec<Clause>,
}

/// `[framework]`: everything of a [`Framework`] but its clauses.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameworkHead {
    id: String,
    family: String,
    title: String,
    version: String,
    publisher: String,
    url: String,
    text_source: String,
    caveat: Option<String>,
    no_clauses: Option<String>,
    applies_when_attested: Option<String>,
}

fn embedded_frameworks() -> Vec<(String, String)> {
    crate::embedded::FRAMEWORK_FILES
        .iter()
        .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
        .collect()
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
        embedded_frameworks(),
    )
}

/// Loads a catalogue from a directory holding `catalogue.toml`, `requirements/*.toml` and,
/// optionally, `frameworks/*.toml` (the built-in frameworks otherwise).
pub fn load_dir(dir: &Path) -> Result<Catalogue, CatalogueError> {
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path)
            .map(|text| (path.display().to_string(), text))
            .map_err(|source| CatalogueError::Read { path, source })
    };
    let index = read(dir.join(INDEX_FILE))?;
    let toml_files = |folder: PathBuf| -> Result<Vec<(String, String)>, CatalogueError> {
        let entries = std::fs::read_dir(&folder).map_err(|source| CatalogueError::Read {
            path: folder.clone(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        paths.sort();
        paths.into_iter().map(read).collect()
    };
    let files = toml_files(dir.join("requirements"))?;
    let frameworks_dir = dir.join("frameworks");
    let frameworks = if frameworks_dir.is_dir() {
        toml_files(frameworks_dir)?
    } else {
        embedded_frameworks()
    };
    build(index, files, frameworks)
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
    framework_files: Vec<(String, String)>,
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
    let mut frameworks = Vec::new();
    for (file, text) in &framework_files {
        hasher.update(file.rsplit('/').next().unwrap_or(file).as_bytes());
        hasher.update(text.as_bytes());
        let parsed: FrameworkFile = parse(file, text)?;
        let head = parsed.framework;
        let framework = Framework {
            id: head.id,
            family: head.family,
            title: head.title,
            version: head.version,
            publisher: head.publisher,
            url: head.url,
            text_source: head.text_source,
            caveat: head.caveat,
            no_clauses: head.no_clauses,
            applies_when_attested: head.applies_when_attested,
            clauses: parsed.clauses,
        };
        check_framework(&framework, &frameworks).map_err(|message| CatalogueError::Invalid {
            file: file.clone(),
            line: 0,
            message,
        })?;
        frameworks.push(framework);
    }
    check_mapping(&requirements, &frameworks).map_err(|message| CatalogueError::Invalid {
        file: "standards/frameworks".into(),
        line: 0,
        message,
    })?;
    Ok(Catalogue {
        version: parsed_index.version,
        title: parsed_index.title,
        areas: parsed_index.areas,
        sources: parsed_index.sources,
        requirements,
        frameworks,
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

fn check_framework(framework: &Framework, earlier: &[Framework]) -> Result<(), String> {
    let id = &framework.id;
    if earlier.iter().any(|f| &f.id == id) {
        return Err(format!("framework {id} is defined twice"));
    }
    for (name, value) in [
        ("id", id),
        ("family", &framework.family),
        ("title", &framework.title),
        ("version", &framework.version),
        ("publisher", &framework.publisher),
        ("text_source", &framework.text_source),
    ] {
        if value.trim().is_empty() {
            return Err(format!("framework {id}: {name} must not be empty"));
        }
    }
    if !framework.url.starts_with("https://") {
        return Err(format!("framework {id}: url must be an https:// address"));
    }
    if framework.clauses.is_empty() == framework.no_clauses.is_none() {
        return Err(format!(
            "framework {id}: give clauses, or `no_clauses` saying why there are none (not both)"
        ));
    }
    let mut seen = BTreeSet::new();
    for clause in &framework.clauses {
        if !seen.insert(clause.id.as_str()) {
            return Err(format!(
                "framework {id}: clause {} is defined twice",
                clause.id
            ));
        }
        if clause.id.contains(char::is_whitespace)
            || clause.title.trim().is_empty()
            || clause.source.trim().is_empty()
        {
            return Err(format!(
                "framework {id}: clause `{}` needs an id without spaces, a title and a source",
                clause.id
            ));
        }
    }
    Ok(())
}

/// Every clause reference resolves; every requirement maps or says why not; every clause is
/// answerable: one mts can test needs an automated requirement, one it cannot needs an
/// attestation, unless the clause says why nothing covers it.
fn check_mapping(requirements: &[Requirement], frameworks: &[Framework]) -> Result<(), String> {
    // Conditions name attestation requirements.
    let conditions = frameworks.iter().flat_map(|f| {
        f.applies_when_attested
            .iter()
            .chain(
                f.clauses
                    .iter()
                    .filter_map(|c| c.skipped_when_attested.as_ref()),
            )
            .map(move |id| (f.id.as_str(), id))
    });
    for (framework, condition) in conditions {
        // Only a MAY attestation can be answered no, which is what these conditions turn on.
        if !requirements.iter().any(|r| {
            r.id.as_str() == condition
                && r.status == Status::Attestation
                && r.level == crate::catalogue::Level::May
        }) {
            return Err(format!(
                "framework {framework}: `{condition}` is not a MAY attestation requirement"
            ));
        }
    }
    for framework in frameworks {
        for clause in framework.clauses.iter().filter(|c| c.met_by_any) {
            if clause.http != Testability::Yes {
                return Err(format!(
                    "{}:{}: met_by_any is for clauses an HTTP test can show (http = \"yes\")",
                    framework.id, clause.id
                ));
            }
        }
    }
    for requirement in requirements {
        let id = &requirement.id;
        match (requirement.clauses.is_empty(), &requirement.unmapped) {
            (true, None) => {
                return Err(format!(
                    "{id}: maps to no framework clause; add `clauses` or say why in `unmapped`"
                ));
            }
            (false, Some(_)) => {
                return Err(format!("{id}: has both `clauses` and `unmapped`"));
            }
            _ => {}
        }
        let mut seen = BTreeSet::new();
        for reference in &requirement.clauses {
            if !seen.insert(reference) {
                return Err(format!("{id}: lists {reference} twice"));
            }
            let framework = frameworks
                .iter()
                .find(|f| f.id == reference.framework)
                .ok_or_else(|| format!("{id}: no framework `{}`", reference.framework))?;
            let clause = framework.clause(&reference.clause).ok_or_else(|| {
                format!(
                    "{id}: framework {} has no clause {}",
                    framework.id, reference.clause
                )
            })?;
            if clause.not_covered.is_some() {
                return Err(format!(
                    "{id}: maps to {reference}, which says nothing covers it"
                ));
            }
        }
    }
    for framework in frameworks {
        for clause in framework.clauses.iter().filter(|c| c.not_covered.is_none()) {
            let mapped = |status: Status| {
                requirements.iter().any(|r| {
                    r.status == status
                        && r.clauses
                            .iter()
                            .any(|c| c.framework == framework.id && c.clause == clause.id)
                })
            };
            let (wanted, what) = match clause.http {
                Testability::Yes => (Status::Automated, "an automated requirement"),
                Testability::Partly | Testability::No => (Status::Attestation, "an attestation"),
            };
            if !mapped(wanted) {
                return Err(format!(
                    "{}:{} (testable over HTTP: {}) needs {what} mapped to it, or `not_covered`",
                    framework.id,
                    clause.id,
                    clause.http.as_str()
                ));
            }
        }
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

    const FRAMEWORK: &str = r#"
[framework]
id = "fw"
family = "fw"
title = "A framework"
version = "1"
publisher = "p"
url = "https://example.org/fw"
text_source = "read on its page"
[[clause]]
id = "C1"
title = "HTTPS everywhere"
http = "yes"
source = "its page"
[[clause]]
id = "C2"
title = "Scoping"
http = "no"
source = "its page"
not_covered = "a scoping question"
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
clauses = ["fw:C1"]
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
            vec![("fw.toml".into(), FRAMEWORK.into())],
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
                assert_eq!(line, 12, "the line of the unknown key: {message}");
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

    #[test]
    fn clause_references_and_coverage_are_checked() {
        let catalogue = load(&[&requirement("")]).unwrap();
        assert_eq!(catalogue.frameworks.len(), 1);
        assert_eq!(catalogue.mapped_to("fw", "C1").count(), 1);
        let cases = [
            (
                r#"clauses = ["fw:C1"]"#,
                r#"clauses = ["fw:C9"]"#,
                "has no clause C9",
            ),
            (
                r#"clauses = ["fw:C1"]"#,
                r#"clauses = ["xx:C1"]"#,
                "no framework `xx`",
            ),
            (
                r#"clauses = ["fw:C1"]"#,
                r#"clauses = ["fw:C1", "fw:C1"]"#,
                "twice",
            ),
            (
                r#"clauses = ["fw:C1"]"#,
                r#"clauses = ["fw:C1", "fw:C2"]"#,
                "nothing covers it",
            ),
            (r#"clauses = ["fw:C1"]"#, "", "maps to no framework clause"),
            (
                r#"clauses = ["fw:C1"]"#,
                r#"clauses = ["fw:C1"]
unmapped = "why""#,
                "both",
            ),
        ];
        for (from, to, expected) in cases {
            let text = requirement("").replace(from, to);
            let err = load(&[&text]).unwrap_err().to_string();
            assert!(err.contains(expected), "{to}: {err}");
        }
        // Unmapped with a reason is accepted, but then no automated requirement answers C1.
        let text =
            requirement("").replace(r#"clauses = ["fw:C1"]"#, r#"unmapped = "none applies""#);
        let err = load(&[&text]).unwrap_err().to_string();
        assert!(
            err.contains("fw:C1") && err.contains("an automated requirement"),
            "{err}"
        );
    }
}
