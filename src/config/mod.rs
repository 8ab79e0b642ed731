//! Configuration: `mts.toml`, layered under command-line flags. Unknown keys are rejected with
//! the file, line and column, so a typo never silently changes what a run checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalogue::Profile;

pub const DEFAULT_TIMEOUT_SECONDS: f64 = 30.0;
pub const DEFAULT_CONCURRENCY: usize = 8;
pub use crate::util::DEFAULT_BODY_LIMIT;

/// One accepted failure, from `[[waiver]]` in `mts.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// The requirement id, e.g. `SEC-HDR-001`.
    pub requirement: String,
    /// Why the failure is accepted, and who accepted it (a ticket, a decision record).
    pub justification: String,
    /// The last day the waiver holds (`YYYY-MM-DD`, inclusive).
    #[schemars(with = "String")]
    pub expires: NaiveDate,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// `mts.toml` as written by a user.
#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub target: TargetSection,
    #[serde(default)]
    pub run: RunSection,
    #[serde(default)]
    pub data: DataSection,
    #[serde(default)]
    pub gpc: GpcSettings,
    #[serde(default)]
    pub auth: AuthSection,
    #[serde(default)]
    pub gate: GateSection,
    /// `[[waiver]]`: accepted failures, each with a justification and an expiry date.
    #[serde(default, rename = "waiver")]
    pub waivers: Vec<Waiver>,
    /// Named profiles (`[profile.ci]`): each has the shape of the whole file and overrides it
    /// key by key when chosen with `--config-profile NAME` (or `MTS_CONFIG_PROFILE`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, ConfigProfile>")]
    pub profile: BTreeMap<String, toml::Table>,
}

/// One `[profile.NAME]`: any part of the file, overriding it (no nested profiles).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ConfigProfile {
    target: Option<TargetSection>,
    run: Option<RunSection>,
    data: Option<DataSection>,
    gpc: Option<GpcSettings>,
    auth: Option<AuthSection>,
    gate: Option<GateSection>,
    waiver: Option<Vec<Waiver>>,
}

/// Where the committed JSON Schema of `mts.toml` lives (editors use it for completion).
pub const SCHEMA_PATH: &str = "standards/schema/mts-config.schema.json";

/// The JSON Schema of `mts.toml`, generated from the types.
pub fn config_schema_text() -> String {
    let schema = schemars::schema_for!(ConfigFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

/// Which levels block a run (`[gate]`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateSection {
    /// SHOULD failures block as well as MUST ones (like `--strict`).
    pub strict: Option<bool>,
}

/// How the run authenticates. Secrets themselves never live in the file: the private key is
/// a path, and a static token comes from `MTS_TOKEN`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    pub kind: Option<AuthKind>,
    /// OAuth2 token endpoint (client credentials).
    pub token_url: Option<String>,
    /// The client id: `iss` and `sub` of the client assertion.
    pub client_id: Option<String>,
    /// The `kid` of the signing key registered with the API platform.
    pub kid: Option<String>,
    /// PKCS#8 PEM file of the RSA signing key.
    pub private_key: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuthKind {
    /// No credentials at all.
    None,
    /// A static bearer token from `MTS_TOKEN`.
    Bearer,
    /// OAuth2 client credentials with a signed JWT client assertion (RS512).
    ClientCredentials,
    /// GP Connect: an unsigned provenance JWT per request, built from `[gpc]`.
    GpcProvenance,
}

/// GP Connect / Spine Secure Proxy settings, used under the gpc profile. Defaults are the GP
/// Connect provider test pack's ASIDs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpcSettings {
    /// `Ssp-From`: the consumer system's ASID.
    #[serde(default = "default_consumer_asid")]
    pub consumer_asid: String,
    /// `Ssp-To`: the provider's ASID.
    #[serde(default = "default_provider_asid")]
    pub provider_asid: String,
    /// The consumer organisation's ODS code (provenance JWT `requesting_organization`).
    #[serde(default = "default_consumer_ods_code")]
    pub consumer_ods_code: String,
    /// The practitioner's SDS user id (provenance JWT `sub` and `requesting_practitioner`).
    #[serde(default = "default_practitioner_sds_user_id")]
    pub practitioner_sds_user_id: String,
}

fn default_consumer_ods_code() -> String {
    "A11111".into()
}

fn default_practitioner_sds_user_id() -> String {
    "G13579135".into()
}

impl GpcSettings {
    /// Who the provenance JWT says is asking.
    pub fn requester(&self) -> crate::auth::provenance::Requester {
        crate::auth::provenance::Requester {
            ods_code: self.consumer_ods_code.clone(),
            sds_user_id: self.practitioner_sds_user_id.clone(),
            ..Default::default()
        }
    }
}

fn default_consumer_asid() -> String {
    "200000000359".into()
}

fn default_provider_asid() -> String {
    "918999198738".into()
}

impl Default for GpcSettings {
    fn default() -> Self {
        Self {
            consumer_asid: default_consumer_asid(),
            provider_asid: default_provider_asid(),
            consumer_ods_code: default_consumer_ods_code(),
            practitioner_sds_user_id: default_practitioner_sds_user_id(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetSection {
    /// FHIR base URL of the API under test.
    pub url: Option<String>,
    /// Mutual TLS: the client certificate and key, the CA the target trusts for clients (and its
    /// key, to mint bad certificates), and a certificate that CA has revoked.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub client_ca_cert: Option<PathBuf>,
    pub client_ca_key: Option<PathBuf>,
    pub revoked_client_cert: Option<PathBuf>,
    pub revoked_client_key: Option<PathBuf>,
    /// PEM file of a private CA to trust for the target's certificate.
    pub ca_cert: Option<PathBuf>,
    /// What the target offers, by resource type (`[target.declares.Patient]`), where its
    /// CapabilityStatement or OpenAPI document does not say: merged with what they declare.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub declares: BTreeMap<String, DeclaredResource>,
    /// `[target.declares]` lists everything the target offers, so what it leaves out is not
    /// offered (a CapabilityStatement or OpenAPI document is always read as complete).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub declares_complete: bool,
    /// Where write scenarios create their test resource, and with what body.
    pub write: Option<WriteSection>,
}

/// `[target.declares.<Type>]`: what the target offers on one resource type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DeclaredResource {
    /// FHIR interaction codes: read, vread, update, patch, delete, history-instance,
    /// history-type, create, search-type.
    #[serde(default)]
    pub interactions: Vec<String>,
    /// Search parameters the type takes.
    #[serde(default)]
    pub search: Vec<String>,
    /// Sets of search parameters of which a search must send one whole, e.g.
    /// `[["family", "birthdate"]]`.
    #[serde(default)]
    pub required_search: Vec<Vec<String>>,
    /// The media type patches are sent as (`application/json-patch+json`).
    pub patch_media_type: Option<String>,
    /// The member of an object body that holds the JSON Patch operations (`patches` for PDS).
    pub patch_envelope: Option<String>,
    /// Updates and patches must carry If-Match.
    pub if_match_required: Option<bool>,
}

/// `[target.write]`: the resource write scenarios create.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WriteSection {
    /// The resource type to create (the target must offer create of it).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// A JSON file with the body to create; without it mts builds a minimal UK Core one.
    pub body: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    pub profile: Option<Profile>,
    pub concurrency: Option<usize>,
    pub timeout_seconds: Option<f64>,
    pub body_limit_bytes: Option<usize>,
    pub allow_writes: Option<bool>,
    /// Leave what the run created on the target instead of deleting it (like `--keep-written`).
    pub keep_written: Option<bool>,
    /// The supplier's OpenAPI document: a file path or an http(s) URL.
    pub openapi: Option<String>,
    /// The supplier's attestations file (`--attestations`), relative to where mts runs.
    pub attestations: Option<PathBuf>,
}

/// Test data by role. The defaults are the public PDS sandbox numbers.
#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    #[serde(default)]
    pub patient: BTreeMap<PatientRole, PatientData>,
    #[serde(default)]
    pub search: SearchData,
}

/// Values searches use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchData {
    /// A family name several test patients share (paging and date-prefix searches).
    #[serde(default = "default_family")]
    pub family: String,
}

fn default_family() -> String {
    "Smith".into()
}

impl Default for SearchData {
    fn default() -> Self {
        Self {
            family: default_family(),
        }
    }
}

/// The roles scenarios refer to (`{patient:existing}` in a feature file).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum PatientRole {
    /// Exists on the target and can be read.
    Existing,
    /// A checksum-valid NHS number with no patient on the target.
    Absent,
    /// A checksum-invalid NHS number.
    Invalid,
    /// A restricted (sensitive) patient.
    Restricted,
    /// A patient with clinical records (allergies, medications) on the target.
    WithRecords,
}

impl PatientRole {
    pub const ALL: [PatientRole; 5] = [
        PatientRole::Existing,
        PatientRole::Absent,
        PatientRole::Invalid,
        PatientRole::Restricted,
        PatientRole::WithRecords,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PatientRole::Existing => "existing",
            PatientRole::Absent => "absent",
            PatientRole::Invalid => "invalid",
            PatientRole::Restricted => "restricted",
            PatientRole::WithRecords => "with-records",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    fn default_nhs_number(self) -> &'static str {
        match self {
            PatientRole::Existing => "9000000009",
            PatientRole::Absent => "9111231130",
            PatientRole::Invalid => "9000000000",
            PatientRole::Restricted => "9000000025",
            PatientRole::WithRecords => "9000000009",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientData {
    pub nhs_number: String,
    /// The logical id to read the patient by; PDS-style APIs use the NHS number itself.
    pub id: Option<String>,
    /// A promise of the test-data kit: the record is flagged restricted (a `meta.security`
    /// confidentiality label R or V). `mts doctor` checks it before a run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    /// `[[data.patient.<role>.promise]]`: the clinical content the supplier promises this
    /// patient holds. `mts doctor` checks each before a run.
    #[serde(default, rename = "promise", skip_serializing_if = "Vec::is_empty")]
    pub promises: Vec<Promise>,
}

impl PatientData {
    /// A patient known by NHS number alone, with nothing promised.
    pub fn with_nhs_number(nhs_number: impl Into<String>) -> Self {
        Self {
            nhs_number: nhs_number.into(),
            id: None,
            sensitive: false,
            promises: Vec::new(),
        }
    }

    pub fn logical_id(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.nhs_number)
    }

    /// Whether anything is promised of this patient (the test-data kit).
    pub fn has_kit(&self) -> bool {
        self.sensitive || !self.promises.is_empty()
    }
}

/// One promise of the test-data kit: the patient holds at least `at-least` records of `type`
/// that match `search`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Promise {
    /// A FHIR resource type, e.g. `AllergyIntolerance`.
    #[serde(rename = "type")]
    #[schemars(regex(pattern = r"^[A-Z][A-Za-z]*$"))]
    pub resource_type: String,
    /// How many records at least (default 1).
    #[serde(default = "default_at_least")]
    #[schemars(range(min = 1))]
    pub at_least: u32,
    /// Extra search parameters, as a query string (`clinical-status=active`); the patient
    /// parameter is added by mts.
    pub search: Option<String>,
    /// The supplier's own words for the promise, shown in the output.
    pub says: Option<String>,
}

fn default_at_least() -> u32 {
    1
}

impl Promise {
    /// The extra search parameters, decoded (`search` is checked at load, so this is total).
    pub fn query(&self) -> Vec<(String, String)> {
        self.search
            .as_deref()
            .map(|text| {
                url::form_urlencoded::parse(text.trim_start_matches('?').as_bytes())
                    .map(|(name, value)| (name.into_owned(), value.into_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What is promised, in words: `2 AllergyIntolerance (clinical-status=active)`.
    pub fn describe(&self) -> String {
        let mut text = format!("{} {}", self.at_least, self.resource_type);
        if let Some(search) = self.search.as_deref().filter(|s| !s.is_empty()) {
            text.push_str(&format!(" ({search})"));
        }
        if let Some(says) = &self.says {
            text.push_str(&format!(" \"{says}\""));
        }
        text
    }

    /// Why the promise cannot be checked as written, if it cannot.
    fn problem(&self) -> Option<String> {
        let kind = &self.resource_type;
        let is_type_name = kind.starts_with(|c: char| c.is_ascii_uppercase())
            && kind.chars().all(|c| c.is_ascii_alphabetic());
        if !is_type_name {
            return Some(format!(
                "type = {kind:?} is not a FHIR resource type name (capitalised, letters only, e.g. \"AllergyIntolerance\")"
            ));
        }
        if self.at_least == 0 {
            return Some("at-least must be at least 1".into());
        }
        let search = self.search.as_deref().unwrap_or("");
        for part in search.trim_start_matches('?').split('&') {
            if part.is_empty() {
                continue;
            }
            let Some((name, _)) = part.split_once('=') else {
                return Some(format!(
                    "search = {search:?}: `{part}` is not name=value (give a query string, e.g. \"clinical-status=active\")"
                ));
            };
            // `patient:Patient`, `subject.identifier`: the parameter before any modifier or chain.
            let base = name.split([':', '.']).next().unwrap_or(name);
            let well_formed = !base.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c));
            if !well_formed {
                return Some(format!(
                    "search = {search:?}: `{name}` is not a search parameter name"
                ));
            }
            if base == "patient" || base == "subject" {
                return Some(format!(
                    "search = {search:?} names the patient itself (`{name}`); mts adds that from the patient this promise is under"
                ));
            }
        }
        None
    }
}

/// Test data after defaults are applied.
#[derive(Debug, Clone)]
pub struct TestData {
    patients: BTreeMap<PatientRole, PatientData>,
    pub search: SearchData,
}

impl TestData {
    pub fn from_section(section: &DataSection) -> Self {
        let mut patients = BTreeMap::new();
        for role in PatientRole::ALL {
            let data = section
                .patient
                .get(&role)
                .cloned()
                .unwrap_or_else(|| PatientData::with_nhs_number(role.default_nhs_number()));
            patients.insert(role, data);
        }
        Self {
            patients,
            search: section.search.clone(),
        }
    }

    pub fn patient(&self, role: PatientRole) -> &PatientData {
        // Every role is filled in by `from_section`.
        &self.patients[&role]
    }

    /// The patients with a test-data kit (something promised), in role order.
    pub fn kit(&self) -> impl Iterator<Item = (PatientRole, &PatientData)> {
        self.patients
            .iter()
            .filter(|(_, data)| data.has_kit())
            .map(|(role, data)| (*role, data))
    }
}

impl Default for TestData {
    fn default() -> Self {
        Self::from_section(&DataSection::default())
    }
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Loads the file with the named profile (if any) laid over it.
    pub fn load_with_profile(path: &Path, profile: Option<&str>) -> Result<Self, ConfigError> {
        let config = Self::load(path)?;
        match profile {
            None => Ok(config),
            Some(name) => config.with_profile(path, name),
        }
    }

    /// This configuration with `[profile.NAME]` laid over it, key by key.
    pub fn with_profile(&self, path: &Path, name: &str) -> Result<Self, ConfigError> {
        let Some(overlay) = self.profile.get(name) else {
            let known: Vec<&str> = self.profile.keys().map(String::as_str).collect();
            let hint = crate::util::did_you_mean(name, known.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                message: format!(
                    "no [profile.{name}]{hint}; profiles: {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            });
        };
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let mut base = toml::Table::try_from(self)
            .map_err(|e| invalid(format!("cannot apply [profile.{name}]: {e}")))?;
        base.remove("profile");
        merge(&mut base, overlay);
        let merged: ConfigFile = base.try_into().map_err(|e: toml::de::Error| {
            invalid(format!("[profile.{name}]: {}", e.message().trim()))
        })?;
        merged.check(path)?;
        Ok(merged)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let config: ConfigFile = toml::from_str(text).map_err(|error| {
            let (line, column) = error.span().map_or((0, 0), |span| {
                crate::util::line_and_column(text, span.start)
            });
            ConfigError::Syntax {
                path: path.to_owned(),
                line,
                column,
                message: with_suggestion(error.message().trim()),
            }
        })?;
        // Profiles are checked as a whole file would be, so a typo there is caught now.
        for (name, overlay) in &config.profile {
            let check: Result<ConfigProfile, _> = overlay.clone().try_into();
            if let Err(error) = check {
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with(&format!("[profile.{name}")))
                    .map_or(0, |i| i + 1);
                return Err(ConfigError::Syntax {
                    path: path.to_owned(),
                    line,
                    column: 1,
                    message: format!(
                        "in [profile.{name}]: {}",
                        with_suggestion(error.message().trim())
                    ),
                });
            }
        }
        config.check(path)?;
        Ok(config)
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let config = self;
        if config.run.concurrency == Some(0) {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                message: "run.concurrency must be at least 1".into(),
            });
        }
        if let Some(timeout) = config.run.timeout_seconds
            && !(timeout > 0.0 && timeout <= 3600.0)
        {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                message: "run.timeout_seconds must be between 0 and 3600".into(),
            });
        }
        for (role, patient) in &config.data.patient {
            for (index, promise) in patient.promises.iter().enumerate() {
                if let Some(problem) = promise.problem() {
                    return Err(ConfigError::Invalid {
                        path: path.to_owned(),
                        message: format!(
                            "[[data.patient.{}.promise]] #{}: {problem}",
                            role.as_str(),
                            index + 1
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Lays `overlay` over `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut toml::Table, overlay: &toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(over)) => merge(inner, over),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Adds "did you mean" to serde's "unknown field `x`, expected one of `a`, `b`" messages.
fn with_suggestion(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_owned();
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message.to_owned();
    };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match crate::util::did_you_mean(unknown, candidates.iter().copied()) {
        Some(suggestion) => format!("{message} (did you mean `{suggestion}`?)"),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_pds_sandbox_numbers() {
        let data = TestData::default();
        assert_eq!(data.patient(PatientRole::Existing).nhs_number, "9000000009");
        assert_eq!(
            data.patient(PatientRole::Existing).logical_id(),
            "9000000009"
        );
        assert_eq!(data.patient(PatientRole::Invalid).nhs_number, "9000000000");
    }

    #[test]
    fn configured_patients_override_defaults() {
        let config = ConfigFile::parse(
            Path::new("mts.toml"),
            "[data.patient.existing]\nnhs_number = \"9693632109\"\nid = \"abc\"\n",
        )
        .unwrap();
        let data = TestData::from_section(&config.data);
        assert_eq!(data.patient(PatientRole::Existing).logical_id(), "abc");
        assert_eq!(data.patient(PatientRole::Absent).nhs_number, "9111231130");
    }

    const KIT: &str = r#"
[data.patient.with-records]
nhs_number = "9000000009"
sensitive = true

[[data.patient.with-records.promise]]
type = "AllergyIntolerance"
at-least = 2
search = "clinical-status=active"
says = "2 active allergies"

[[data.patient.with-records.promise]]
type = "MedicationRequest"
"#;

    #[test]
    fn a_kit_is_read_with_its_defaults() {
        let config = ConfigFile::parse(Path::new("mts.toml"), KIT).unwrap();
        let data = TestData::from_section(&config.data);
        let kit: Vec<_> = data.kit().collect();
        assert_eq!(kit.len(), 1, "only the patient with promises");
        let (role, patient) = kit[0];
        assert_eq!(role, PatientRole::WithRecords);
        assert!(patient.sensitive);
        assert_eq!(patient.promises.len(), 2);
        assert_eq!(patient.promises[0].at_least, 2);
        assert_eq!(
            patient.promises[0].query(),
            vec![("clinical-status".to_owned(), "active".to_owned())]
        );
        assert_eq!(
            patient.promises[0].describe(),
            "2 AllergyIntolerance (clinical-status=active) \"2 active allergies\""
        );
        assert_eq!(patient.promises[1].at_least, 1, "at-least defaults to 1");
        assert!(patient.promises[1].query().is_empty());
        // A profile laid over the file keeps the kit (the file goes through a table and back).
        let text = format!("{KIT}\n[profile.ci.run]\nconcurrency = 2\n");
        let profiled = ConfigFile::parse(Path::new("mts.toml"), &text)
            .and_then(|c| c.with_profile(Path::new("mts.toml"), "ci"))
            .unwrap();
        assert_eq!(
            profiled.data.patient[&PatientRole::WithRecords],
            config.data.patient[&PatientRole::WithRecords]
        );
    }

    #[test]
    fn a_promise_that_cannot_be_checked_is_refused_at_load() {
        let refused = |promise: &str| {
            let text = format!(
                "[data.patient.with-records]\nnhs_number = \"9000000009\"\n[[data.patient.with-records.promise]]\n{promise}\n"
            );
            ConfigFile::parse(Path::new("mts.toml"), &text)
                .unwrap_err()
                .to_string()
        };
        let text = refused("type = \"allergyIntolerance\"");
        assert!(
            text.starts_with("mts.toml: [[data.patient.with-records.promise]] #1:")
                && text.contains("not a FHIR resource type"),
            "{text}"
        );
        assert!(refused("type = \"Allergy Intolerance\"").contains("not a FHIR resource type"));
        let text = refused("type = \"Condition\"\nat-least = 0");
        assert!(text.contains("at-least must be at least 1"), "{text}");
        let text = refused("type = \"Condition\"\nsearch = \"patient=Patient/1\"");
        assert!(text.contains("names the patient itself"), "{text}");
        let text = refused("type = \"Condition\"\nsearch = \"code=x&subject:Patient=1\"");
        assert!(text.contains("names the patient itself"), "{text}");
        let text = refused("type = \"Condition\"\nsearch = \"clinical-status\"");
        assert!(text.contains("is not name=value"), "{text}");
        let text = refused("type = \"Condition\"\nsearch = \"=active\"");
        assert!(text.contains("not a search parameter name"), "{text}");
        let text = refused("type = \"Condition\"\nat_least = 2");
        assert!(text.contains("unknown field `at_least`"), "{text}");
        // The second promise is named as such.
        let text = ConfigFile::parse(
            Path::new("mts.toml"),
            "[data.patient.existing]\nnhs_number = \"9000000009\"\n[[data.patient.existing.promise]]\ntype = \"Condition\"\n[[data.patient.existing.promise]]\ntype = \"x\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            text.contains("[[data.patient.existing.promise]] #2"),
            "{text}"
        );
    }

    #[test]
    fn unknown_keys_name_the_line() {
        let err = ConfigFile::parse(
            Path::new("mts.toml"),
            "[run]\nprofile = \"apim\"\nconcurency = 3\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("mts.toml:3:"), "{text}");
        assert!(text.contains("concurency"), "{text}");
        let err =
            ConfigFile::parse(Path::new("mts.toml"), "[run]\nprofile = \"nhs\"\n").unwrap_err();
        assert!(err.to_string().contains("mts.toml:2:"), "{err}");
        assert!(ConfigFile::parse(Path::new("mts.toml"), "[run]\nconcurrency = 0\n").is_err());
    }
}
