use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::framework::{ClauseRef, Framework};

/// A requirement id such as `SEC-TLS-001`: `<AREA>-<TOPIC>-<NNN>`, stable and never reused.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct RequirementId(String);

impl RequirementId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The area prefix, e.g. `SEC-TLS` for `SEC-TLS-001`.
    pub fn area(&self) -> &str {
        self.0
            .rsplit_once('-')
            .map_or(self.0.as_str(), |(area, _)| area)
    }
}

impl FromStr for RequirementId {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if well_formed(text.as_bytes()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "`{text}` is not a requirement id (expected e.g. `SEC-TLS-001`)"
            ))
        }
    }
}

/// `AREA-TOPIC-NNN`: 2 to 4 capitals, 2 to 5 capitals, 3 digits. A `const fn`, so that ids
/// written in code are checked when it compiles ([`RequirementCode`]).
const fn well_formed(id: &[u8]) -> bool {
    let (mut part, mut length, mut at) = (0, 0, 0);
    while at <= id.len() {
        if at == id.len() || id[at] == b'-' {
            let fits = match part {
                0 => length >= 2 && length <= 4,
                1 => length >= 2 && length <= 5,
                2 => length == 3,
                _ => false,
            };
            if !fits {
                return false;
            }
            part += 1;
            length = 0;
        } else {
            let byte = id[at];
            let allowed = if part == 2 {
                byte.is_ascii_digit()
            } else {
                byte.is_ascii_uppercase()
            };
            if !allowed {
                return false;
            }
            length += 1;
        }
        at += 1;
    }
    part == 3
}

/// A requirement id written in code (a check's registry entry). `RequirementCode::new` in a
/// `const` refuses a malformed id when the code is compiled, so a check cannot silently judge
/// nothing for want of a parseable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequirementCode(&'static str);

impl RequirementCode {
    pub const fn new(id: &'static str) -> Self {
        assert!(
            well_formed(id.as_bytes()),
            "not a requirement id (expected e.g. SEC-TLS-001)"
        );
        Self(id)
    }

    pub const fn as_str(self) -> &'static str {
        self.0
    }

    pub fn id(self) -> RequirementId {
        RequirementId(self.0.to_owned())
    }
}

impl TryFrom<String> for RequirementId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<RequirementId> for String {
    fn from(id: RequirementId) -> Self {
        id.0
    }
}

impl fmt::Display for RequirementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The RFC 2119 keyword the source uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "MUST NOT")]
    MustNot,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "SHOULD NOT")]
    ShouldNot,
    #[serde(rename = "MAY")]
    May,
}

/// How much a level weighs in the verdict: `MUST NOT` weighs as much as `MUST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Strength {
    Must,
    Should,
    May,
}

impl Level {
    pub fn strength(self) -> Strength {
        match self {
            Level::Must | Level::MustNot => Strength::Must,
            Level::Should | Level::ShouldNot => Strength::Should,
            Level::May => Strength::May,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Should => "SHOULD",
            Level::ShouldNot => "SHOULD NOT",
            Level::May => "MAY",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule-set a run is judged against. Where NHS sources disagree, the profile decides.
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
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Generic NHS / FHIR R4 expectations that apply to every API.
    All,
    /// NHS England API platform (PDS style: OAuth2 bearer, X-Request-ID, Spine error codes).
    Apim,
    /// HL7 UK Core Access read-only REST profile.
    Ukca,
    /// GP Connect / Spine Secure Proxy.
    Gpc,
}

impl Profile {
    pub const ALL: [Profile; 4] = [Profile::All, Profile::Apim, Profile::Ukca, Profile::Gpc];

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::All => "all",
            Profile::Apim => "apim",
            Profile::Ukca => "ukca",
            Profile::Gpc => "gpc",
        }
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| format!("unknown profile `{text}` (expected all, apim, ukca or gpc)"))
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a requirement needs from the person running the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Need {
    Token,
    SecondToken,
    TestPatient,
    Write,
    ClientCertificate,
    Config,
    Load,
}

impl Need {
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Token => "token",
            Need::SecondToken => "second-token",
            Need::TestPatient => "test-patient",
            Need::Write => "write",
            Need::ClientCertificate => "client-certificate",
            Need::Config => "config",
            Need::Load => "load",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Verified by scenarios and checks of this harness.
    Automated,
    /// No black-box test can show it: the supplier attests, with evidence, outside the run.
    Attestation,
    /// Testable, but not automated yet in this version of the harness.
    Planned,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Automated => "automated",
            Status::Attestation => "attestation",
            Status::Planned => "planned",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    pub code: String,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub id: RequirementId,
    pub level: Level,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub level_overrides: BTreeMap<Profile, Level>,
    pub title: String,
    pub statement: String,
    pub verification: String,
    pub profiles: Vec<Profile>,
    #[serde(default)]
    pub needs: Vec<Need>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub sources: Vec<SourceRef>,
    /// The framework clauses it gives evidence for (`dtac:C4.2.1`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clauses: Vec<ClauseRef>,
    /// Why no framework clause applies, when none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmapped: Option<String>,
}

impl Requirement {
    /// The level that applies under `profile` (some NHS sources relax or tighten a rule).
    pub fn level_for(&self, profile: Profile) -> Level {
        self.level_overrides
            .get(&profile)
            .copied()
            .unwrap_or(self.level)
    }

    /// Whether the requirement belongs to the rule-set of `profile`.
    pub fn applies_to(&self, profile: Profile) -> bool {
        self.profiles.contains(&Profile::All) || self.profiles.contains(&profile)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub prefix: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub code: String,
    pub title: String,
    pub url: String,
}

/// The loaded, validated catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct Catalogue {
    pub version: String,
    pub title: String,
    pub areas: Vec<Area>,
    pub sources: Vec<Source>,
    pub requirements: Vec<Requirement>,
    /// The assurance frameworks requirements map to.
    pub frameworks: Vec<Framework>,
    /// SHA-256 over the catalogue files, so a report names exactly which catalogue judged it.
    pub digest: String,
}

impl Catalogue {
    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id.as_str() == id)
    }

    pub fn area_of(&self, id: &RequirementId) -> Option<&Area> {
        self.areas.iter().find(|a| a.prefix == id.area())
    }

    pub fn source(&self, code: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.code == code)
    }

    pub fn framework(&self, id: &str) -> Option<&Framework> {
        self.frameworks.iter().find(|f| f.id == id)
    }

    /// The frameworks `name` selects: one by its id, or a family (`dsic`: S32 and S29).
    pub fn frameworks_named(&self, name: &str) -> Vec<&Framework> {
        self.frameworks
            .iter()
            .filter(|f| f.id == name || f.family == name)
            .collect()
    }

    /// The requirements that give evidence for `clause` of `framework`.
    pub fn mapped_to<'a>(
        &'a self,
        framework: &'a str,
        clause: &'a str,
    ) -> impl Iterator<Item = &'a Requirement> + 'a {
        self.requirements.iter().filter(move |r| {
            r.clauses
                .iter()
                .any(|c| c.framework == framework && c.clause == clause)
        })
    }

    /// The URL to cite for a source reference: its own, else the source's.
    pub fn source_url(&self, reference: &SourceRef) -> Option<String> {
        reference
            .url
            .clone()
            .or_else(|| self.source(&reference.code).map(|s| s.url.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_ids_are_checked() {
        assert!("SEC-TLS-001".parse::<RequirementId>().is_ok());
        assert!("IOP-FHIR-006".parse::<RequirementId>().is_ok());
        for bad in [
            "SEC-TLS-1",
            "sec-tls-001",
            "SEC-TLS",
            "SECURITY-TLS-001",
            "SEC-TLS-001-A",
            "SEC--001",
            "SEC-TLS-0011",
            "-TLS-001",
            "SEC-TLS-001-",
            "SEC-TLS-00a",
            "S-TLS-001",
            "SEC-TOOLONG-001",
            "",
        ] {
            assert!(bad.parse::<RequirementId>().is_err(), "{bad} accepted");
        }
        let id: RequirementId = "IOP-FHIR-006".parse().unwrap();
        assert_eq!(id.area(), "IOP-FHIR");
        const CODE: RequirementCode = RequirementCode::new("SEC-TLS-001");
        assert_eq!(CODE.id().as_str(), "SEC-TLS-001");
    }

    #[test]
    #[should_panic(expected = "not a requirement id")]
    fn a_malformed_code_is_refused() {
        // In a `const`, as registry entries are, this fails the build instead.
        let _ = RequirementCode::new(std::hint::black_box("SEC_TLS_001"));
    }

    #[test]
    fn negative_levels_weigh_like_positive_ones() {
        assert_eq!(Level::MustNot.strength(), Strength::Must);
        assert_eq!(Level::ShouldNot.strength(), Strength::Should);
        assert_eq!(Level::May.strength(), Strength::May);
    }
}
