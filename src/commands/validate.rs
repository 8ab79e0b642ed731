//! `mts validate FILE|DIR…`: FHIR resources held, offline, to their core type, the profiles they
//! claim and the UK Core profile of their type, by the validator the suite uses.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::cli::{ValidateArgs, ValidateFormat};
use crate::exit::ExitCode;

use super::CmdError;
use crate::fhir::definitions::Definitions;
use crate::fhir::ig;
use crate::fhir::profile::validate::{Expectations, Issue, Severity, Validator};
use crate::fhir::xml;

/// Folders are searched this deep.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Serialize)]
struct FileResult {
    path: String,
    resources: usize,
    issues: Vec<Issue>,
}

#[derive(Debug, Default, Serialize)]
struct Counts {
    files: usize,
    resources: usize,
    errors: usize,
    warnings: usize,
    information: usize,
}

pub fn run(args: &ValidateArgs) -> Result<ExitCode, CmdError> {
    let definitions = match definitions(args) {
        Ok(definitions) => definitions,
        Err(why) => {
            return Err(CmdError::invalid(why.to_string()));
        }
    };
    if let Some(unknown) = args
        .against
        .iter()
        .find(|url| definitions.structure(url).is_none())
    {
        return Err(CmdError::invalid(format!(
            "--against {unknown}: no such profile is loaded (add its guide with --ig)"
        )));
    }
    let mut files = Vec::new();
    for path in &args.paths {
        if let Err(why) = collect(path, &mut files, 0) {
            return Err(CmdError::invalid(why.to_string()));
        }
    }
    let expectations = Expectations {
        by_type: if args.no_uk_core {
            Default::default()
        } else {
            crate::fhir::profile::uk_core_type_profiles(&definitions)
        },
        always: args.against.clone(),
        ..Expectations::default()
    };
    let validator = crate::fhir::profile::validator(definitions);
    let results: Vec<FileResult> = files
        .iter()
        .map(|file| validate_file(&validator, &expectations, file))
        .collect();
    let counts = count(&results);
    match args.format {
        ValidateFormat::Json => {
            let document = serde_json::json!({"counts": counts, "files": results});
            match serde_json::to_string_pretty(&document) {
                Ok(text) => outln!("{text}"),
                Err(why) => {
                    return Err(CmdError::internal(why.to_string()));
                }
            }
        }
        ValidateFormat::Text => print_text(&results, &counts, args.verbose),
    }
    if counts.errors > 0 {
        Ok(ExitCode::NonConformant)
    } else {
        Ok(ExitCode::Success)
    }
}

/// R4 core, UK Core unless refused, and each `--ig`.
fn definitions(args: &ValidateArgs) -> Result<Arc<Definitions>, String> {
    let base = if args.no_uk_core {
        Definitions::core()?
    } else {
        ig::uk_core()?
    };
    if args.igs.is_empty() {
        return Ok(base);
    }
    let mut definitions = Definitions::clone(&base);
    for guide in &args.igs {
        let added = ig::load(&mut definitions, guide).map_err(|e| e.to_string())?;
        if added == 0 {
            return Err(format!(
                "{}: no StructureDefinition, ValueSet or CodeSystem found",
                guide.display()
            ));
        }
    }
    Ok(Arc::new(definitions))
}

fn is_resource_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["json", "xml", "ndjson"].contains(&e.to_ascii_lowercase().as_str()))
}

/// The files named, and the resource files of the folders named, in name order.
fn collect(path: &Path, files: &mut Vec<PathBuf>, depth: usize) -> Result<(), String> {
    if !path.exists() {
        return Err(format!("{}: no such file or folder", path.display()));
    }
    if !path.is_dir() {
        files.push(path.to_owned());
        return Ok(());
    }
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, files, depth + 1)?;
        } else if is_resource_file(&entry) {
            files.push(entry);
        }
    }
    Ok(())
}

fn file_issue(location: &str, rule: &str, message: String) -> Issue {
    Issue {
        severity: Severity::Error,
        location: location.to_owned(),
        profile: String::new(),
        element: String::new(),
        message,
        rule: rule.to_owned(),
    }
}

fn validate_file(validator: &Validator, expectations: &Expectations, path: &Path) -> FileResult {
    let mut result = FileResult {
        path: path.display().to_string(),
        resources: 0,
        issues: Vec::new(),
    };
    let bytes = match read_bounded(path) {
        Ok(bytes) => bytes,
        Err(why) => {
            result.issues.push(file_issue("", "read", why));
            return result;
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        result
            .issues
            .push(file_issue("", "read", "the file is not UTF-8".into()));
        return result;
    };
    let text = text.trim_start_matches('\u{feff}');
    let ndjson = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ndjson"));
    let documents: Vec<(String, &str)> = if ndjson {
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(number, line)| (format!("line {}: ", number + 1), line))
            .collect()
    } else {
        vec![(String::new(), text)]
    };
    for (prefix, document) in documents {
        let (resource, mut issues) = read_document(validator.definitions(), document);
        if let Some(resource) = resource {
            result.resources += 1;
            issues.extend(validator.validate_with(&resource, expectations));
        }
        result.issues.extend(issues.into_iter().map(|mut issue| {
            issue.location = format!("{prefix}{}", issue.location);
            issue
        }));
    }
    result
}

/// A file's bytes, refusing what is larger than a response body may be.
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let limit = crate::config::DEFAULT_BODY_LIMIT as u64;
    let size = path.metadata().map_err(|e| e.to_string())?.len();
    if size > limit {
        return Err(format!(
            "the file is {size} bytes; at most {limit} are read"
        ));
    }
    std::fs::read(path).map_err(|e| e.to_string())
}

/// The resource in `text` (JSON or XML) and the problems of its form; XML problems leave the
/// rest of the resource to be judged.
fn read_document(definitions: &Definitions, text: &str) -> (Option<Value>, Vec<Issue>) {
    match text.trim_start().chars().next() {
        Some('<') => match xml::convert(text, definitions, &xml::XmlLimits::default()) {
            Ok(conversion) => {
                let problems = conversion
                    .problems
                    .iter()
                    .map(|p| {
                        file_issue(
                            &p.location,
                            "xml",
                            format!("line {}: {}", p.line, p.message),
                        )
                    })
                    .collect();
                (Some(conversion.json), problems)
            }
            Err(why) => (None, vec![file_issue("", "xml", why.to_string())]),
        },
        _ => match serde_json::from_str::<Value>(text) {
            Ok(value) if value["resourceType"].is_string() => (Some(value), Vec::new()),
            Ok(_) => (
                None,
                vec![file_issue(
                    "",
                    "json",
                    "not a FHIR resource: no resourceType".into(),
                )],
            ),
            Err(why) => (
                None,
                vec![file_issue("", "json", format!("not JSON: {why}"))],
            ),
        },
    }
}

fn count(results: &[FileResult]) -> Counts {
    let mut counts = Counts {
        files: results.len(),
        ..Counts::default()
    };
    for result in results {
        counts.resources += result.resources;
        for issue in &result.issues {
            match issue.severity {
                Severity::Error => counts.errors += 1,
                Severity::Warning => counts.warnings += 1,
                Severity::Information => counts.information += 1,
            }
        }
    }
    counts
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information => "info",
    }
}

fn print_text(results: &[FileResult], counts: &Counts, verbose: bool) {
    for result in results {
        let shown: Vec<&Issue> = result
            .issues
            .iter()
            .filter(|i| verbose || i.severity != Severity::Information)
            .collect();
        if shown.is_empty() {
            continue;
        }
        outln!("{}", result.path);
        for issue in shown {
            let source = match (issue.profile.as_str(), issue.element.as_str()) {
                ("", "") => String::new(),
                (profile, "") => format!(" ({profile})"),
                (profile, element) => format!(" ({profile} {element})"),
            };
            outln!(
                "  {:<7} {} [{}] {}{source}",
                severity_word(issue.severity),
                issue.location,
                issue.rule,
                issue.message
            );
        }
    }
    let unevaluated = results
        .iter()
        .flat_map(|r| &r.issues)
        .any(|i| i.rule == "invariant" && i.severity == Severity::Information);
    outln!(
        "{} resource(s) in {} file(s): {} error(s), {} warning(s), {} information{}",
        counts.resources,
        counts.files,
        counts.errors,
        counts.warnings,
        counts.information,
        if unevaluated {
            " (FHIRPath invariants were not evaluated: -v lists them)"
        } else {
            ""
        }
    );
}
