//! What a target declares it offers, merged from every declaration mts could read: the
//! CapabilityStatement, the supplier's OpenAPI document and `[target]` in `mts.toml`. The planner
//! matches each scenario's needs against it; the steps derive their requests from it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A FHIR RESTful interaction (FHIR R4 `TypeRestfulInteraction`, plus `operation`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Interaction {
    Read,
    Vread,
    Update,
    Patch,
    Delete,
    HistoryInstance,
    HistoryType,
    Create,
    SearchType,
}

impl Interaction {
    pub const ALL: [Interaction; 9] = [
        Interaction::Read,
        Interaction::Vread,
        Interaction::Update,
        Interaction::Patch,
        Interaction::Delete,
        Interaction::HistoryInstance,
        Interaction::HistoryType,
        Interaction::Create,
        Interaction::SearchType,
    ];

    /// The CapabilityStatement code (`read`, `search-type`, …).
    pub fn code(self) -> &'static str {
        match self {
            Interaction::Read => "read",
            Interaction::Vread => "vread",
            Interaction::Update => "update",
            Interaction::Patch => "patch",
            Interaction::Delete => "delete",
            Interaction::HistoryInstance => "history-instance",
            Interaction::HistoryType => "history-type",
            Interaction::Create => "create",
            Interaction::SearchType => "search-type",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.code() == code)
    }

    /// Whether it changes data on the target.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Interaction::Update | Interaction::Patch | Interaction::Delete | Interaction::Create
        )
    }
}

/// Where a declaration came from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    CapabilityStatement,
    Openapi,
    Config,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::CapabilityStatement => "CapabilityStatement",
            Source::Openapi => "OpenAPI",
            Source::Config => "mts.toml",
        }
    }
}

/// How the target takes a JSON Patch, where it declares one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PatchStyle {
    /// The request media type (`application/json-patch+json`).
    pub media_type: String,
    /// The operations go inside an object under this name instead of being the body itself
    /// (the PDS FHIR API takes `{"patches": [...]}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
}

impl PatchStyle {
    /// A plain RFC 6902 JSON Patch: the operations array as the body.
    pub fn json_patch() -> Self {
        PatchStyle {
            media_type: "application/json-patch+json".into(),
            envelope: None,
        }
    }
}

/// What the target declares about one resource type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct ResourceModel {
    pub interactions: BTreeSet<Interaction>,
    /// Declared search parameters, by name, with their FHIR type where declared.
    pub search_params: BTreeMap<String, String>,
    /// Whether `search_params` is the complete list of query parameters the target accepts (an
    /// OpenAPI operation lists them all), so that result parameters such as `_count` are
    /// offered only when listed. A CapabilityStatement lists search parameters only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub params_complete: bool,
    /// Sets of parameters of which a search must send one whole (CapabilityStatement
    /// `capabilitystatement-search-parameter-combination`, or `mts.toml`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub required_search: Vec<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// The profile every resource of the type conforms to (CapabilityStatement
    /// `rest.resource.profile`; `supportedProfile` names ones some may meet, and is not it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_profile: Option<String>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub operations: BTreeSet<String>,
    /// `_include` values its searches take (CapabilityStatement `searchInclude`, such as
    /// `AllergyIntolerance:patient`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub search_include: BTreeSet<String>,
    /// `_revinclude` values its searches take (CapabilityStatement `searchRevInclude`, such as
    /// `Condition:subject` on Patient: the records that refer to the matches).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub search_revinclude: BTreeSet<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<PatchStyle>,
    /// Updates and patches must carry If-Match (an OpenAPI required header, or `mts.toml`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub if_match_required: bool,
    /// Creates honour If-None-Exist (CapabilityStatement `rest.resource.conditionalCreate`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub conditional_create: bool,
    /// Which sources said anything about this type.
    pub sources: BTreeSet<Source>,
}

impl ResourceModel {
    pub fn offers(&self, interaction: Interaction) -> bool {
        self.interactions.contains(&interaction)
    }

    /// Whether a search parameter (or result parameter such as `_count`) is offered.
    pub fn offers_param(&self, name: &str) -> bool {
        if self.search_params.contains_key(name) {
            return true;
        }
        // FHIR result parameters every search-type interaction takes, unless the declaration
        // lists every query parameter and leaves them out.
        let result_parameter = matches!(name, "_count" | "_sort" | "_summary" | "_elements");
        result_parameter && self.offers(Interaction::SearchType) && !self.params_complete
    }

    fn merge(&mut self, other: ResourceModel) {
        // Completeness is a property of search declarations: a source that says nothing about
        // search (a read path) leaves it as it was; two search declarations are complete only
        // when both are.
        if other.offers(Interaction::SearchType) {
            self.params_complete = if self.offers(Interaction::SearchType) {
                self.params_complete && other.params_complete
            } else {
                other.params_complete
            };
        }
        self.interactions.extend(other.interactions);
        self.conditional_create |= other.conditional_create;
        for (name, kind) in other.search_params {
            let entry = self.search_params.entry(name).or_default();
            if entry.is_empty() {
                *entry = kind;
            }
        }
        for combination in other.required_search {
            if !self.required_search.contains(&combination) {
                self.required_search.push(combination);
            }
        }
        for profile in other.profiles {
            if !self.profiles.contains(&profile) {
                self.profiles.push(profile);
            }
        }
        self.operations.extend(other.operations);
        self.search_include.extend(other.search_include);
        self.search_revinclude.extend(other.search_revinclude);
        if self.base_profile.is_none() {
            self.base_profile = other.base_profile;
        }
        if self.patch.is_none() {
            self.patch = other.patch;
        }
        self.if_match_required |= other.if_match_required;
        self.sources.extend(other.sources);
    }
}

/// Everything the target declares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct TargetModel {
    /// The declarations that were read, and what was learnt about each (or why it was absent).
    pub declarations: Vec<Declaration>,
    pub resources: BTreeMap<String, ResourceModel>,
    /// Formats the CapabilityStatement declares (`json`, `application/fhir+xml`…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<String>,
    /// System-level operations (`$everything` is instance level and sits with its type).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub system_operations: BTreeSet<String>,
    /// Whole-system interactions (`transaction`, `batch`, `search-system`, `history-system`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub system_interactions: BTreeSet<String>,
    /// An OpenAPI document declares `POST` on the base: some Bundle is taken there, though the
    /// document cannot say whether transactions, batches or both.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bundles_at_base: bool,
    /// `GET [base]/metadata` answered with a CapabilityStatement.
    pub capability_statement: bool,
    /// The declarations list everything the target offers (a CapabilityStatement or OpenAPI
    /// document was read, or mts.toml says `declares_complete`), so what they leave out is known
    /// to be absent. Otherwise they only add to what mts tries.
    pub complete: bool,
}

/// One declaration mts looked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Declaration {
    pub source: Source,
    /// Whether it was there and could be read.
    pub read: bool,
    /// Where it came from (`GET metadata`, the OpenAPI file, `mts.toml`) or why it is absent.
    pub detail: String,
}

/// Whether the target offers something a scenario needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// Declared, by these sources.
    Declared(Vec<Source>),
    /// Declarations exist and none offers it: the sentence says what was looked for where.
    NotDeclared(String),
    /// The target declares nothing at all, so the scenario runs anyway (only a known absence
    /// makes it not applicable).
    Unknown,
}

impl TargetModel {
    /// Whether the declarations are a complete list, so an absence in them is known.
    pub fn is_complete(&self) -> bool {
        self.complete && !self.resources.is_empty()
    }

    pub fn resource(&self, kind: &str) -> Option<&ResourceModel> {
        self.resources.get(kind)
    }

    /// Adds what one source declares about a type.
    pub fn add(&mut self, kind: &str, mut declared: ResourceModel, source: Source) {
        declared.sources.insert(source);
        // A CapabilityStatement or OpenAPI document lists everything offered.
        self.complete |= source != Source::Config;
        match self.resources.get_mut(kind) {
            Some(existing) => existing.merge(declared),
            None => {
                self.resources.insert(kind.to_owned(), declared);
            }
        }
    }

    /// Names of the sources that were read, for sentences (`CapabilityStatement and OpenAPI`).
    pub fn read_sources(&self) -> String {
        let names: Vec<&str> = self
            .declarations
            .iter()
            .filter(|d| d.read)
            .map(|d| d.source.as_str())
            .collect();
        match names.len() {
            0 => "no declaration".into(),
            1 => names[0].to_owned(),
            _ => format!(
                "{} and {}",
                names[..names.len() - 1].join(", "),
                names[names.len() - 1]
            ),
        }
    }

    fn offer(&self, found: Option<&ResourceModel>, what: impl FnOnce() -> String) -> Offer {
        match found {
            Some(resource) => Offer::Declared(resource.sources.iter().copied().collect()),
            None if !self.is_complete() => Offer::Unknown,
            None => Offer::NotDeclared(format!(
                "the target declares no {} ({})",
                what(),
                self.read_sources()
            )),
        }
    }

    /// Whether `interaction` is declared on `kind`.
    pub fn offers(&self, kind: &str, interaction: Interaction) -> Offer {
        let found = self.resource(kind).filter(|r| r.offers(interaction));
        self.offer(found, || format!("{} of {kind}", interaction.code()))
    }

    /// Whether searching `kind` by `param` is declared.
    pub fn offers_search_by(&self, kind: &str, param: &str) -> Offer {
        let found = self
            .resource(kind)
            .filter(|r| r.offers(Interaction::SearchType) && r.offers_param(param));
        self.offer(found, || format!("search of {kind} by {param}"))
    }

    /// Whether the operation `name` (without `$`) is declared on `kind`.
    pub fn offers_operation(&self, kind: &str, name: &str) -> Offer {
        let found = self.resource(kind).filter(|r| r.operations.contains(name));
        self.offer(found, || format!("${name} operation on {kind}"))
    }

    /// Whether searches of `kind` declare any `_include`.
    pub fn offers_include(&self, kind: &str) -> Offer {
        let found = self.resource(kind).filter(|r| !r.search_include.is_empty());
        self.offer(found, || format!("_include on searches of {kind}"))
    }

    /// Whether searches of `kind` declare a `_revinclude` of `of` records (`of:<param>`). The
    /// wildcard `*` an OpenAPI `_revinclude` parameter gives names no value: for a type the
    /// target serves it leaves the question open (the scenario runs, and a refusal means not
    /// offered).
    pub fn offers_revinclude(&self, kind: &str, of: &str) -> Offer {
        let declaring = |wanted: &dyn Fn(&str) -> bool| {
            self.resource(kind)
                .filter(|r| r.search_revinclude.iter().any(|v| wanted(v)))
        };
        let named = declaring(&|v| v.split(':').next() == Some(of));
        let serves = self.resource(of).is_some() || !self.is_complete();
        if named.is_none() && serves && declaring(&|v| v == "*").is_some() {
            return Offer::Unknown;
        }
        self.offer(named, || {
            format!("_revinclude of {of} on searches of {kind}")
        })
    }

    /// Whether the whole-system interaction `code` (`transaction`, `batch`) is declared. Only
    /// a CapabilityStatement can say which: an OpenAPI `POST /` names no Bundle type, so it
    /// leaves the question open (the scenario runs, and a refusal means not offered).
    pub fn offers_system(&self, code: &str) -> Offer {
        if self.system_interactions.contains(code) {
            return Offer::Declared(vec![Source::CapabilityStatement]);
        }
        if !self.is_complete() || self.bundles_at_base {
            return Offer::Unknown;
        }
        Offer::NotDeclared(format!(
            "the target declares no {code} interaction ({})",
            self.read_sources()
        ))
    }

    /// Whether any type declares `interaction`.
    pub fn offers_anywhere(&self, interactions: &[Interaction]) -> Offer {
        let found = self
            .resources
            .values()
            .find(|r| interactions.iter().any(|i| r.offers(*i)));
        let names: Vec<&str> = interactions.iter().map(|i| i.code()).collect();
        self.offer(found, || {
            format!("{} on any resource type", names.join(" or "))
        })
    }

    /// Types declaring `interaction`, in name order.
    pub fn types_offering(&self, interaction: Interaction) -> Vec<&str> {
        self.resources
            .iter()
            .filter(|(_, r)| r.offers(interaction))
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// One line per type: what `mts doctor` prints and the HTML report shows.
    pub fn summary_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .declarations
            .iter()
            .map(|d| {
                format!(
                    "{}: {}",
                    d.source.as_str(),
                    if d.read {
                        d.detail.clone()
                    } else {
                        format!("not read ({})", d.detail)
                    }
                )
            })
            .collect();
        if self.resources.is_empty() {
            lines.push(
                "declares nothing: every scenario runs, and the report says so (only a known absence makes a scenario not applicable)".into(),
            );
        } else if !self.is_complete() {
            lines.push(
                "mts.toml declarations only add to what mts tries (no CapabilityStatement or OpenAPI document, and no declares_complete = true): scenarios for undeclared types still run".into(),
            );
        }
        for (kind, resource) in &self.resources {
            let interactions: Vec<&str> = resource.interactions.iter().map(|i| i.code()).collect();
            let mut line = format!("{kind}: {}", interactions.join(", "));
            if !resource.search_params.is_empty() {
                let params: Vec<&str> = resource.search_params.keys().map(String::as_str).collect();
                line.push_str(&format!("; search by {}", params.join(", ")));
            }
            for combination in &resource.required_search {
                line.push_str(&format!("; a search needs {}", combination.join(" + ")));
            }
            if let Some(patch) = &resource.patch {
                line.push_str(&format!("; patch as {}", patch.media_type));
                if let Some(envelope) = &patch.envelope {
                    line.push_str(&format!(" inside {{\"{envelope}\": [...]}}"));
                }
            }
            if resource.if_match_required {
                line.push_str("; If-Match required");
            }
            let sources: Vec<&str> = resource.sources.iter().map(|s| s.as_str()).collect();
            line.push_str(&format!(" ({})", sources.join(", ")));
            lines.push(line);
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(interactions: &[Interaction], params: &[&str]) -> ResourceModel {
        ResourceModel {
            interactions: interactions.iter().copied().collect(),
            search_params: params
                .iter()
                .map(|p| ((*p).to_owned(), String::new()))
                .collect(),
            ..ResourceModel::default()
        }
    }

    #[test]
    fn a_revinclude_wildcard_leaves_served_types_open() {
        let mut model = TargetModel::default();
        model.declarations.push(Declaration {
            source: Source::Openapi,
            read: true,
            detail: "api.yaml".into(),
        });
        let mut searched = patient(&[Interaction::SearchType], &["_id", "_revinclude"]);
        searched.search_revinclude.insert("*".into());
        model.add("Patient", searched, Source::Openapi);
        model.add(
            "Condition",
            patient(&[Interaction::SearchType], &["patient"]),
            Source::Openapi,
        );
        assert_eq!(
            model.offers_revinclude("Patient", "Condition"),
            Offer::Unknown
        );
        assert!(matches!(
            model.offers_revinclude("Patient", "Procedure"),
            Offer::NotDeclared(why) if why.contains("_revinclude of Procedure")
        ));
        let mut named = patient(&[Interaction::SearchType], &["_id"]);
        named.search_revinclude.insert("Procedure:subject".into());
        model.add("Patient", named, Source::CapabilityStatement);
        assert!(matches!(
            model.offers_revinclude("Patient", "Procedure"),
            Offer::Declared(_)
        ));
    }

    #[test]
    fn nothing_declared_means_unknown_not_absent() {
        let model = TargetModel::default();
        assert_eq!(model.offers("Patient", Interaction::Read), Offer::Unknown);
        assert_eq!(
            model.offers_search_by("Patient", "identifier"),
            Offer::Unknown
        );
    }

    #[test]
    fn declarations_merge_and_absence_is_named() {
        let mut model = TargetModel::default();
        model.declarations.push(Declaration {
            source: Source::Openapi,
            read: true,
            detail: "pds.yaml".into(),
        });
        model.add(
            "Patient",
            patient(
                &[Interaction::Read, Interaction::SearchType],
                &["family", "birthdate"],
            ),
            Source::Openapi,
        );
        model.add(
            "Patient",
            patient(&[Interaction::Patch], &[]),
            Source::Config,
        );
        assert_eq!(
            model.offers("Patient", Interaction::Patch),
            Offer::Declared(vec![Source::Openapi, Source::Config])
        );
        assert!(matches!(
            model.offers_search_by("Patient", "identifier"),
            Offer::NotDeclared(why) if why == "the target declares no search of Patient by identifier (OpenAPI)"
        ));
        assert!(matches!(
            model.offers("Observation", Interaction::Create),
            Offer::NotDeclared(_)
        ));
        assert!(matches!(
            model.offers_anywhere(&[Interaction::Create, Interaction::Patch]),
            Offer::Declared(_)
        ));
    }

    #[test]
    fn a_read_declaration_leaves_the_search_list_complete() {
        let mut model = TargetModel::default();
        let mut search = patient(&[Interaction::SearchType], &["family"]);
        search.params_complete = true;
        model.add("Patient", search, Source::Openapi);
        model.add(
            "Patient",
            patient(&[Interaction::Read], &[]),
            Source::Openapi,
        );
        assert!(!model.resource("Patient").unwrap().offers_param("_count"));
        let mut capability = TargetModel::default();
        capability.add(
            "Patient",
            patient(&[Interaction::SearchType], &["family"]),
            Source::CapabilityStatement,
        );
        let mut listed = patient(&[Interaction::SearchType], &["family"]);
        listed.params_complete = true;
        capability.add("Patient", listed, Source::Openapi);
        assert!(
            capability
                .resource("Patient")
                .unwrap()
                .offers_param("_count")
        );
    }

    #[test]
    fn result_parameters_follow_the_completeness_of_the_list() {
        let mut listed = patient(&[Interaction::SearchType], &["family"]);
        assert!(listed.offers_param("_count"));
        listed.params_complete = true;
        assert!(!listed.offers_param("_count"));
        assert!(listed.offers_param("family"));
    }

    #[test]
    fn mts_toml_hints_add_to_what_runs_unless_they_say_they_are_complete() {
        let mut model = TargetModel::default();
        model.add(
            "Patient",
            patient(&[Interaction::Patch], &[]),
            Source::Config,
        );
        assert_eq!(
            model.offers("Patient", Interaction::Patch),
            Offer::Declared(vec![Source::Config])
        );
        // A PDS-style patch hint says nothing about Observation: it still runs.
        assert_eq!(
            model.offers("Observation", Interaction::Create),
            Offer::Unknown
        );
        model.complete = true;
        assert!(matches!(
            model.offers("Observation", Interaction::Create),
            Offer::NotDeclared(why) if why.contains("create of Observation")
        ));
    }
}
