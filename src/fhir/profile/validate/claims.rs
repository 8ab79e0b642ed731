//! Which profiles a resource is held to: its type, its claims, expected ones, Bundle entries.

use serde_json::Value;

use super::{Issue, MAX_DEPTH, Severity, Validator, said_once};
use crate::fhir::definitions::Definitions;
use crate::fhir::profile::snapshot::{self, SnapshotError};

impl Validator {
    /// Issues of `resource` against its core type and every profile it claims in
    /// `meta.profile`; unknown claimed profiles are warned about.
    pub fn validate_claims(&self, resource: &Value) -> Vec<Issue> {
        let kind = resource["resourceType"].as_str().unwrap_or("");
        self.validate_claims_nested(resource, kind, resource, 0)
    }
}

/// What, beyond its core type and the profiles it claims, a resource is held to.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// A profile per resource type (`Patient` → UK Core's Patient): the one a guide or the API
    /// declares for resources of that type.
    pub by_type: std::collections::BTreeMap<String, String>,
    /// Profiles every top-level resource is validated against.
    pub always: Vec<String>,
    /// A second profile per resource type: the one the API itself declares (its
    /// CapabilityStatement's `rest.resource.profile`), held to besides `by_type`.
    pub declared: std::collections::BTreeMap<String, String>,
}

/// What holding resources to profiles found: the issues, and how many (resource, profile)
/// pairs were judged (none: there was nothing to hold them to).
#[derive(Debug, Default)]
pub struct ProfileValidation {
    pub judged: usize,
    pub issues: Vec<Issue>,
}

impl Validator {
    /// Issues of `resource` against its core type, the profiles it claims, the profile its type
    /// is expected to meet and `always`; each resource a Bundle holds is held to its claims and
    /// its type's profile too (its core type is already judged inside the Bundle's). Locations
    /// of entries read `Bundle.entry[2].resource.ofType(Patient).name`.
    pub fn validate_with(&self, resource: &Value, expected: &Expectations) -> Vec<Issue> {
        let kind = resource["resourceType"].as_str().unwrap_or("");
        let mut issues = self.validate(resource, kind);
        issues.extend(self.validate_profiles(resource, expected).issues);
        if kind == "StructureDefinition" {
            issues.extend(self.check_differential(resource));
        }
        // An extension is held to its definition, and an inherited invariant evaluated, under
        // the core type and again under each profile: the same finding is said once, under the
        // first profile that found it.
        said_once(&mut issues);
        issues
    }

    /// A StructureDefinition published with a differential only: its snapshot must be
    /// generable over its base (a broken guide otherwise validates nothing).
    fn check_differential(&self, sd: &Value) -> Vec<Issue> {
        let Some(url) = sd["url"].as_str() else {
            return Vec::new();
        };
        if !sd["differential"]["element"].is_array() || sd["snapshot"]["element"].is_array() {
            return Vec::new();
        }
        let mut definitions = Definitions::clone(&self.definitions);
        if definitions.add(sd.clone()).is_err() {
            return Vec::new();
        }
        match snapshot::snapshot(&definitions, url) {
            Ok(_) => Vec::new(),
            Err(error) => vec![Issue {
                // A base definition not held here is mts's limit, not the guide's fault.
                severity: if matches!(error, SnapshotError::Unknown(_)) {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                location: "StructureDefinition.differential".into(),
                profile: "StructureDefinition".into(),
                element: "StructureDefinition.differential".into(),
                message: format!("no snapshot can be generated: {error}"),
                rule: "snapshot".into(),
            }],
        }
    }

    /// Like `validate_with`, without the core types: only the profiles claimed, expected for
    /// the type, and `always`. A claimed profile not known here is a warning.
    pub fn validate_profiles(
        &self,
        resource: &Value,
        expected: &Expectations,
    ) -> ProfileValidation {
        let mut found = ProfileValidation::default();
        let kind = resource["resourceType"].as_str().unwrap_or("");
        let mut urls = self.profiles_for(resource, expected);
        for url in &expected.always {
            if !urls.contains(url) {
                urls.push(url.clone());
            }
        }
        self.hold(resource, kind, &urls, None, &mut found);
        if kind == "Bundle" {
            for (index, entry) in resource["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let inner = &entry["resource"];
                let Some(inner_kind) = inner["resourceType"].as_str() else {
                    continue;
                };
                let urls = self.profiles_for(inner, expected);
                let prefix = format!("Bundle.entry[{index}].resource.ofType({inner_kind})");
                self.hold(inner, inner_kind, &urls, Some(&prefix), &mut found);
            }
        }
        found
    }

    /// The profiles `resource` claims, then the one expected of its type.
    fn profiles_for(&self, resource: &Value, expected: &Expectations) -> Vec<String> {
        let mut urls = claimed_profiles(resource);
        let kind = resource["resourceType"].as_str().unwrap_or("");
        for url in [expected.by_type.get(kind), expected.declared.get(kind)]
            .into_iter()
            .flatten()
        {
            // `…/UKCore-Patient|2.0.2` and `…/UKCore-Patient` are one profile, held to once.
            let bare = |u: &str| u.split('|').next().unwrap_or(u).to_owned();
            if !urls.iter().any(|held| bare(held) == bare(url)) {
                urls.push(url.clone());
            }
        }
        urls
    }

    fn hold(
        &self,
        resource: &Value,
        kind: &str,
        urls: &[String],
        prefix: Option<&str>,
        found: &mut ProfileValidation,
    ) {
        for url in urls {
            let issues = if self.definitions.structure(url).is_some() {
                found.judged += 1;
                self.validate(resource, url)
            } else {
                vec![unknown_profile(kind, url)]
            };
            found.issues.extend(issues.into_iter().map(|mut issue| {
                if let Some(prefix) = prefix {
                    let rest = issue.location.strip_prefix(kind).unwrap_or("");
                    issue.location = format!("{prefix}{rest}");
                }
                issue
            }));
        }
    }
}

fn claimed_profiles(resource: &Value) -> Vec<String> {
    resource["meta"]["profile"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|url| url.split('|').next().unwrap_or(url).to_owned())
        .collect()
}

fn unknown_profile(kind: &str, url: &str) -> Issue {
    Issue {
        severity: Severity::Warning,
        location: format!("{kind}.meta.profile"),
        profile: url.to_owned(),
        element: String::new(),
        message: format!(
            "claims the profile {url}, which is not known here: not validated against it"
        ),
        rule: "profile".into(),
    }
}

impl Validator {
    /// A resource, perhaps inside another (`root`: contained, a Bundle entry): its type and
    /// claimed profiles.
    pub(super) fn validate_claims_nested(
        &self,
        resource: &Value,
        kind: &str,
        root: &Value,
        depth: usize,
    ) -> Vec<Issue> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let mut issues = self.validate_inside(resource, kind, root);
        for claimed in resource["meta"]["profile"].as_array().into_iter().flatten() {
            let Some(url) = claimed.as_str() else {
                continue;
            };
            if self.definitions.structure(url).is_none() {
                issues.push(unknown_profile(kind, url));
                continue;
            }
            issues.extend(self.validate_inside(resource, url, root));
        }
        issues
    }
}
