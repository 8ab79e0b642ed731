//! The Gherkin suite: loading (embedded in the binary, or from a directory), and the lint that
//! makes a typo a harness error instead of a silent skip: every step must match exactly one
//! definition, every scenario must name a requirement, every `@REQ-` tag must exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cucumber::feature::Ext as _;
use cucumber::gherkin::{self, GherkinEnv};

use crate::catalogue::{Catalogue, RequirementId};

/// Whether a written step has exactly one definition: the step library answers, so this pure
/// loader does not depend on the steps layer.
pub trait StepMatcher {
    fn check(&self, step: &gherkin::Step) -> Result<(), String>;
}

/// Tags with a meaning to the harness besides `@REQ-<ID>`.
pub const KNOWN_TAGS: &[(&str, &str)] = &[
    (
        "serial",
        "runs alone, not concurrently with other scenarios",
    ),
    ("wip", "work in progress: never run"),
    (
        "writes",
        "creates or changes data: runs only with --allow-writes",
    ),
    (
        "load",
        "sends a bounded burst of requests: runs only with --allow-load",
    ),
];

pub const REQUIREMENT_TAG_PREFIX: &str = "REQ-";

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("failed to read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("the feature suite has {} problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Lint(Vec<String>),
}

/// A parsed, example-expanded set of features.
#[derive(Debug, Clone)]
pub struct Suite {
    pub features: Vec<gherkin::Feature>,
}

/// The facts about one scenario that selection and reporting need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioInfo {
    pub feature: String,
    pub name: String,
    pub line: usize,
    pub tags: Vec<String>,
    pub requirements: Vec<RequirementId>,
    /// Step texts, background included.
    pub steps: Vec<String>,
}

impl ScenarioInfo {
    /// Whether a step refers to the test patient of `role` (`{patient:<role>}`, `{nhs-number:<role>}`).
    pub fn uses_patient(&self, role: &str) -> bool {
        let by_id = format!("{{patient:{role}}}");
        let by_number = format!("{{nhs-number:{role}}}");
        self.steps
            .iter()
            .any(|s| s.contains(&by_id) || s.contains(&by_number))
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    pub fn location(&self) -> String {
        format!("{}:{}", self.feature, self.line)
    }
}

impl Suite {
    pub fn load_embedded() -> Result<Self, SuiteError> {
        Self::parse_all(
            crate::embedded::FEATURES
                .iter()
                .map(|(path, text)| ((*path).to_owned(), (*text).to_owned())),
        )
    }

    pub fn load_dir(dir: &Path) -> Result<Self, SuiteError> {
        let mut paths = Vec::new();
        collect_features(dir, &mut paths).map_err(|source| SuiteError::Read {
            path: dir.to_owned(),
            source,
        })?;
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| SuiteError::Read {
                path: path.clone(),
                source,
            })?;
            files.push((path.display().to_string(), text));
        }
        Self::parse_all(files)
    }

    /// Parses feature files given as (path, text) pairs.
    pub fn parse_all(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SuiteError> {
        let mut features = Vec::new();
        for (path, text) in files {
            let mut feature =
                gherkin::Feature::parse(&text, GherkinEnv::default()).map_err(|error| {
                    SuiteError::Parse {
                        path: path.clone(),
                        message: describe_parse_error(&text, &error),
                    }
                })?;
            feature.path = Some(PathBuf::from(&path));
            let feature = feature
                .expand_examples()
                .map_err(|error| SuiteError::Parse {
                    path: path.clone(),
                    message: error.to_string(),
                })?;
            features.push(feature);
        }
        Ok(Self { features })
    }

    /// Every scenario with its effective tags (feature and rule tags are inherited).
    pub fn scenarios(&self) -> Vec<ScenarioInfo> {
        let mut out = Vec::new();
        for feature in &self.features {
            for scenario in &feature.scenarios {
                out.push(scenario_info(feature, None, scenario));
            }
            for rule in &feature.rules {
                for scenario in &rule.scenarios {
                    out.push(scenario_info(feature, Some(rule), scenario));
                }
            }
        }
        out
    }

    /// Problems that would make a run dishonest. Empty means the suite is sound.
    pub fn lint(&self, catalogue: &Catalogue, steps: &impl StepMatcher) -> Vec<String> {
        let mut problems = Vec::new();
        let known_ids: BTreeSet<&str> = catalogue
            .requirements
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        for feature in &self.features {
            let path = feature_path(feature);
            let scenarios = feature.scenarios.iter().map(|s| (None, s)).chain(
                feature
                    .rules
                    .iter()
                    .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
            );
            for (rule, scenario) in scenarios {
                let info = scenario_info(feature, rule, scenario);
                let at = info.location();
                for tag in &info.tags {
                    if let Some(id) = tag.strip_prefix(REQUIREMENT_TAG_PREFIX) {
                        if !known_ids.contains(id) {
                            let hint = crate::util::did_you_mean(id, known_ids.iter().copied())
                                .map(|s| format!(" (did you mean @REQ-{s}?)"))
                                .unwrap_or_default();
                            problems.push(format!(
                                "{at}: @{tag} names no requirement in the catalogue{hint}"
                            ));
                        }
                    } else if !KNOWN_TAGS.iter().any(|(known, _)| known == tag) {
                        problems.push(format!(
                            "{at}: unknown tag @{tag} (use @REQ-<ID>, @serial, @wip, @writes or @load)"
                        ));
                    }
                }
                if info.requirements.is_empty() {
                    problems.push(format!(
                        "{at}: scenario \"{}\" has no @REQ-<ID> tag",
                        info.name
                    ));
                }
                let background = feature
                    .background
                    .iter()
                    .chain(rule.and_then(|r| r.background.as_ref()));
                let steps_of_scenario = background
                    .flat_map(|b| b.steps.iter())
                    .chain(scenario.steps.iter());
                for step in steps_of_scenario {
                    if let Err(problem) = steps.check(step) {
                        problems.push(format!("{path}:{}: {problem}", step.position.line));
                    }
                }
            }
        }
        problems.sort();
        problems.dedup();
        problems
    }
}

fn feature_path(feature: &gherkin::Feature) -> String {
    feature
        .path
        .as_ref()
        .map_or_else(|| feature.name.clone(), |p| p.display().to_string())
}

pub fn scenario_info(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
) -> ScenarioInfo {
    let mut tags: Vec<String> = feature.tags.clone();
    if let Some(rule) = rule {
        tags.extend(rule.tags.iter().cloned());
    }
    tags.extend(scenario.tags.iter().cloned());
    let mut requirements: Vec<RequirementId> = tags
        .iter()
        .filter_map(|t| t.strip_prefix(REQUIREMENT_TAG_PREFIX))
        .filter_map(|id| id.parse().ok())
        .collect();
    requirements.sort();
    requirements.dedup();
    let background = feature
        .background
        .iter()
        .chain(rule.and_then(|r| r.background.as_ref()));
    let steps = background
        .flat_map(|b| b.steps.iter())
        .chain(scenario.steps.iter())
        .map(|s| s.value.clone())
        .collect();
    ScenarioInfo {
        feature: feature_path(feature),
        name: scenario.name.clone(),
        line: scenario.position.line,
        tags,
        requirements,
        steps,
    }
}

fn collect_features(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_features(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "feature") {
            out.push(path);
        }
    }
    Ok(())
}

fn describe_parse_error(text: &str, error: &gherkin::ParseError) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if message.trim().is_empty() {
        message = format!("not valid Gherkin ({} lines)", text.lines().count());
    }
    message
}
