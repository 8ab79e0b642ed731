//! Selection: which requirements a run judges and which scenarios it runs.

use std::collections::BTreeSet;

use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;

use crate::catalogue::{Catalogue, Profile, Requirement, RequirementId, Status, Strength};
use crate::checks::Halt;
use crate::checks::need::judge_need;
use crate::features::{ScenarioInfo, Suite};
use crate::report::ReasonKind;
use crate::target::TargetModel;
use crate::target::need;

#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error("--requirements `{0}` matches no requirement id or prefix in the catalogue{1}")]
    UnknownRequirement(String, String),
    #[error("--tags `{0}` is not a tag expression: {1}")]
    BadTags(String, String),
    #[error("--level `{0}` is not a level: use MUST, SHOULD or MAY")]
    UnknownLevel(String),
    #[error("--area `{0}` matches no area of the catalogue (areas: {1})")]
    UnknownArea(String, String),
}

/// What the user allows the run to do to the target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Permissions {
    /// Create and change data (`@writes`).
    pub writes: bool,
    /// Send bursts of requests (`@load`).
    pub load: bool,
}

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Comma-separated ids or id prefixes (`IOP-FHIR`, `API-HDR-001`).
    pub requirements: Option<String>,
    /// Cucumber tag expression over scenario tags (`@REQ-API-HDR-001 and not @serial`).
    pub tags: Option<String>,
    /// Levels to keep (`MUST`, `SHOULD`, `MAY`; `MUST NOT` counts as `MUST`), as they apply
    /// under the profile. Empty keeps every level.
    pub levels: Vec<String>,
    /// Areas to keep, by prefix (`SEC-TLS`) or words of the title (`transport`). Empty keeps all.
    pub areas: Vec<String>,
    /// Only this share of the scenarios (`--shard K/N`); `mts merge` puts the shares together.
    pub shard: Option<Shard>,
}

/// `K/N`: the K-th of N deterministic shares of the selected scenarios (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parsed = text
            .split_once('/')
            .and_then(|(k, n)| Some((k.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if index >= 1 && index <= count => Ok(Shard { index, count }),
            _ => Err(format!(
                "`{text}` is not a shard: use K/N with 1 <= K <= N, e.g. 2/4"
            )),
        }
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

fn parse_strength(text: &str) -> Option<Strength> {
    match text.trim().to_ascii_uppercase().as_str() {
        "MUST" | "MUST NOT" => Some(Strength::Must),
        "SHOULD" | "SHOULD NOT" => Some(Strength::Should),
        "MAY" => Some(Strength::May),
        _ => None,
    }
}

/// The run to do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub profile: Profile,
    /// Automated requirements of the profile that the selection keeps.
    pub requirements: BTreeSet<RequirementId>,
    /// Scenarios to run (location keys `features/x.feature:12`).
    pub scenarios: Vec<ScenarioInfo>,
    /// Scenarios not run, with why (writes not allowed, not declared by the target…): the
    /// halt is judged like a step's.
    pub not_run: Vec<(ScenarioInfo, Halt)>,
    /// Requirements the user's selection excluded.
    pub excluded: BTreeSet<RequirementId>,
}

impl Plan {
    pub fn new(
        catalogue: &Catalogue,
        suite: &Suite,
        profile: Profile,
        selection: &Selection,
        permissions: Permissions,
    ) -> Result<Self, SelectionError> {
        let wanted = |id: &RequirementId| -> bool {
            selection.requirements.as_deref().is_none_or(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .any(|prefix| {
                        id.as_str() == prefix
                            || id
                                .as_str()
                                .starts_with(&format!("{}-", prefix.trim_end_matches('-')))
                    })
            })
        };
        if let Some(list) = &selection.requirements {
            for prefix in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let matches_any = catalogue.requirements.iter().any(|r| {
                    r.id.as_str() == prefix
                        || r.id
                            .as_str()
                            .starts_with(&format!("{}-", prefix.trim_end_matches('-')))
                });
                if !matches_any {
                    let hint = crate::util::did_you_mean(
                        prefix,
                        catalogue.requirements.iter().map(|r| r.id.as_str()),
                    )
                    .map(|s| format!(" (did you mean {s}?)"))
                    .unwrap_or_default();
                    return Err(SelectionError::UnknownRequirement(prefix.to_owned(), hint));
                }
            }
        }
        let levels = selection
            .levels
            .iter()
            .map(|text| {
                parse_strength(text).ok_or_else(|| SelectionError::UnknownLevel(text.clone()))
            })
            .collect::<Result<Vec<Strength>, _>>()?;
        let area_matches = |pattern: &str, prefix: &str, title: &str| {
            let pattern = pattern.trim().to_ascii_lowercase();
            prefix.eq_ignore_ascii_case(&pattern) || title.to_ascii_lowercase().contains(&pattern)
        };
        for pattern in &selection.areas {
            if !catalogue
                .areas
                .iter()
                .any(|a| area_matches(pattern, &a.prefix, &a.title))
            {
                let names: Vec<&str> = catalogue.areas.iter().map(|a| a.prefix.as_str()).collect();
                return Err(SelectionError::UnknownArea(
                    pattern.clone(),
                    names.join(", "),
                ));
            }
        }
        let in_selected_area = |requirement: &Requirement| {
            selection.areas.is_empty()
                || catalogue.area_of(&requirement.id).is_some_and(|area| {
                    selection
                        .areas
                        .iter()
                        .any(|pattern| area_matches(pattern, &area.prefix, &area.title))
                })
        };
        let at_selected_level = |requirement: &Requirement| {
            levels.is_empty() || levels.contains(&requirement.level_for(profile).strength())
        };
        let tags: Option<TagOperation> = match &selection.tags {
            None => None,
            Some(text) => Some(
                text.parse::<TagOperation>()
                    .map_err(|e| SelectionError::BadTags(text.clone(), e.to_string()))?,
            ),
        };

        let mut requirements = BTreeSet::new();
        let mut excluded = BTreeSet::new();
        for requirement in &catalogue.requirements {
            if !requirement.applies_to(profile) || requirement.status != Status::Automated {
                continue;
            }
            if wanted(&requirement.id)
                && in_selected_area(requirement)
                && at_selected_level(requirement)
            {
                requirements.insert(requirement.id.clone());
            } else {
                excluded.insert(requirement.id.clone());
            }
        }

        let mut scenarios = Vec::new();
        let mut not_run = Vec::new();
        for scenario in suite.scenarios() {
            if scenario.has_tag("wip")
                || !scenario
                    .requirements
                    .iter()
                    .any(|r| requirements.contains(r))
            {
                continue;
            }
            if let Some(expression) = &tags
                && !expression.eval(scenario.tags.iter())
            {
                continue;
            }
            if scenario.has_tag("writes") && !permissions.writes {
                not_run.push((
                    scenario,
                    Halt::Unjudged(
                        ReasonKind::NotPermitted,
                        "creates or changes data on the target: run with --allow-writes".into(),
                    ),
                ));
                continue;
            }
            if scenario.has_tag("load") && !permissions.load {
                not_run.push((scenario, Halt::Unjudged(ReasonKind::NotPermitted, "sends a burst of requests: run with --allow-load (loopback or a consenting target only)".into())));
                continue;
            }
            scenarios.push(scenario);
        }
        if let Some(shard) = selection.shard {
            // Round-robin over the scenarios in location order: the same split on every machine,
            // and shares of about equal size. Skipped scenarios are shared out too, so each is
            // reported by exactly one shard.
            let mut locations: Vec<String> = scenarios
                .iter()
                .chain(not_run.iter().map(|(s, _)| s))
                .map(ScenarioInfo::location)
                .collect();
            locations.sort();
            let mine: BTreeSet<String> = locations
                .into_iter()
                .enumerate()
                .filter(|(position, _)| position % shard.count == shard.index - 1)
                .map(|(_, location)| location)
                .collect();
            scenarios.retain(|s| mine.contains(&s.location()));
            not_run.retain(|(s, _)| mine.contains(&s.location()));
        }
        Ok(Self {
            profile,
            requirements,
            scenarios,
            not_run,
            excluded,
        })
    }

    /// Matches every scenario's needs against what the target declares: a scenario whose need
    /// is not declared is not run (not applicable, or failed where the profile requires it).
    /// With nothing declared at all, everything runs. Returns how many scenarios were held back.
    pub fn apply_model(
        &mut self,
        model: &TargetModel,
        evidence: Option<&crate::http::ExchangeId>,
    ) -> usize {
        let mut held = 0;
        let scenarios = std::mem::take(&mut self.scenarios);
        for scenario in scenarios {
            let halt = scenario
                .steps
                .iter()
                .filter_map(|text| need::parse(text))
                .find_map(|step| judge_need(&step, model, self.profile))
                .map(|halt| match (halt, evidence) {
                    (Halt::Fail(failure), Some(id)) if failure.exchange.is_none() => {
                        Halt::Fail(failure.exchange(id))
                    }
                    (halt, _) => halt,
                });
            match halt {
                Some(halt) => {
                    held += 1;
                    self.not_run.push((scenario, halt));
                }
                None => self.scenarios.push(scenario),
            }
        }
        held
    }

    pub fn runs(&self, scenario: &ScenarioInfo) -> bool {
        self.scenarios
            .iter()
            .any(|s| s.feature == scenario.feature && s.line == scenario.line)
    }

    /// The features holding only the scenarios of the plan.
    pub fn filtered_features(&self, suite: &Suite) -> Vec<cucumber::gherkin::Feature> {
        let keep = |feature: &cucumber::gherkin::Feature,
                    rule: Option<&cucumber::gherkin::Rule>,
                    scenario: &cucumber::gherkin::Scenario| {
            self.runs(&crate::features::scenario_info(feature, rule, scenario))
        };
        suite
            .features
            .iter()
            .filter_map(|feature| {
                let mut kept = feature.clone();
                kept.scenarios.retain(|s| keep(feature, None, s));
                for rule in &mut kept.rules {
                    let original = rule.clone();
                    rule.scenarios.retain(|s| keep(feature, Some(&original), s));
                }
                kept.rules.retain(|r| !r.scenarios.is_empty());
                (!kept.scenarios.is_empty() || !kept.rules.is_empty()).then_some(kept)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Verdict;
    use crate::runner::verdict::scenario_outcome;
    use crate::target::{Interaction, ResourceModel, Source};

    fn pds_like() -> TargetModel {
        let mut model = TargetModel::default();
        model.add(
            "Patient",
            ResourceModel {
                interactions: [
                    Interaction::Read,
                    Interaction::Patch,
                    Interaction::SearchType,
                ]
                .into_iter()
                .collect(),
                search_params: [("family".to_owned(), String::new())].into_iter().collect(),
                ..ResourceModel::default()
            },
            Source::Openapi,
        );
        model
    }

    fn outcome(text: &str, model: &TargetModel, profile: Profile) -> Verdict {
        let step = need::parse(text).unwrap();
        scenario_outcome(judge_need(&step, model, profile).as_ref()).verdict
    }

    #[test]
    fn needs_are_judged_against_the_model_and_the_profile() {
        let declared = pds_like();
        let nothing = TargetModel::default();
        let table: &[(&str, &TargetModel, Profile, Verdict)] = &[
            (
                r#"the target offers read of "Patient""#,
                &declared,
                Profile::Apim,
                Verdict::Pass,
            ),
            (
                r#"the target offers search of "Patient" by "identifier""#,
                &declared,
                Profile::Apim,
                Verdict::NotApplicable,
            ),
            (
                r#"the target offers search of "Patient" by "identifier", which the ukca profile requires"#,
                &declared,
                Profile::Apim,
                Verdict::NotApplicable,
            ),
            (
                r#"the target offers search of "Patient" by "identifier", which the ukca profile requires"#,
                &declared,
                Profile::Ukca,
                Verdict::Fail,
            ),
            (
                r#"the target offers search of "Patient" by "identifier""#,
                &nothing,
                Profile::Ukca,
                Verdict::Pass,
            ),
            (
                "the target offers writes",
                &declared,
                Profile::Apim,
                Verdict::Pass,
            ),
            (
                "the target offers creates",
                &declared,
                Profile::Apim,
                Verdict::NotApplicable,
            ),
            (
                r#"the target does not offer delete of "Patient""#,
                &declared,
                Profile::Apim,
                Verdict::Pass,
            ),
            (
                r#"the target does not offer patch of "Patient""#,
                &declared,
                Profile::Apim,
                Verdict::NotApplicable,
            ),
            // Held back, not inapplicable: the probe is owed where the absence is unknown.
            (
                r#"the target does not offer delete of "Patient""#,
                &nothing,
                Profile::Apim,
                Verdict::Skipped,
            ),
            (
                "the target offers the capabilities interaction",
                &declared,
                Profile::Apim,
                Verdict::NotApplicable,
            ),
        ];
        for (text, model, profile, expected) in table {
            assert_eq!(
                outcome(text, model, *profile),
                *expected,
                "{text} under {profile}"
            );
        }
    }
}
