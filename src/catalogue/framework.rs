//! The assurance frameworks assessors fill in (DTAC, DSIC, DSPT, Cyber Essentials, the Cyber
//! Security Charter, SCAL) and their clauses, as catalogue data (`standards/frameworks/*.toml`).
//! Requirements name the clauses they give evidence for ([`ClauseRef`]); the loader checks every
//! reference, so a report never cites a clause the data does not hold.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How far a black-box HTTP test can show a clause is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Testability {
    /// mts probes can show it on their own.
    Yes,
    /// mts results support it, but the framework also asks for the supplier's own answer.
    Partly,
    /// Only the supplier can answer it (an attestation).
    No,
}

impl Testability {
    pub fn as_str(self) -> &'static str {
        match self {
            Testability::Yes => "yes",
            Testability::Partly => "partly",
            Testability::No => "no",
        }
    }
}

/// One clause of a framework, as its publisher numbers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    /// The publisher's own id (`C3.1`, `ISNFR02`, `9.3.6`); never one we made up.
    pub id: String,
    /// Our paraphrase of what the clause asks.
    pub title: String,
    pub http: Testability,
    /// Where this clause's id and text were read.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why no mts requirement or attestation answers it (a scoping question, text not public).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_covered: Option<String>,
    /// A yes-or-no question an HTTP test answers: met when any mapped requirement passed
    /// (DTAC C4.1, "does the product expose APIs?"), rather than every one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub met_by_any: bool,
    /// The form skips this clause when that attestation is given with the answer yes (DTAC
    /// C3.3 to C3.6 when the Cyber Security Charter is signed, C3.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped_when_attested: Option<String>,
}

/// A framework: what it is, which version the clauses come from, and where they were read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// The id requirement files use (`dtac`, `dsic-s32`).
    pub id: String,
    /// What `--framework` accepts for it (`dsic` selects S32 and S29).
    pub family: String,
    pub title: String,
    pub version: String,
    pub publisher: String,
    pub url: String,
    /// How the clause text was obtained, and how far it can be trusted.
    pub text_source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caveat: Option<String>,
    /// Why the framework has no public clauses mts can key evidence to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_clauses: Option<String>,
    /// The framework binds only a supplier who answered yes to that attestation (the Cyber
    /// Security Charter binds only its signatories).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_when_attested: Option<String>,
    #[serde(default)]
    pub clauses: Vec<Clause>,
}

impl Framework {
    pub fn clause(&self, id: &str) -> Option<&Clause> {
        self.clauses.iter().find(|c| c.id == id)
    }
}

/// A requirement's reference to a clause, written `framework:clause` (`dtac:C4.2.1`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClauseRef {
    pub framework: String,
    pub clause: String,
}

impl FromStr for ClauseRef {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once(':') {
            Some((framework, clause)) if !framework.is_empty() && !clause.is_empty() => Ok(Self {
                framework: framework.to_owned(),
                clause: clause.to_owned(),
            }),
            _ => Err(format!(
                "`{text}` is not a clause reference (expected e.g. `dtac:C4.2.1`)"
            )),
        }
    }
}

impl TryFrom<String> for ClauseRef {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<ClauseRef> for String {
    fn from(reference: ClauseRef) -> Self {
        reference.to_string()
    }
}

impl fmt::Display for ClauseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.framework, self.clause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_references_are_framework_and_clause() {
        let reference: ClauseRef = "dtac:C4.2.1".parse().unwrap();
        assert_eq!(reference.framework, "dtac");
        assert_eq!(reference.clause, "C4.2.1");
        assert_eq!(reference.to_string(), "dtac:C4.2.1");
        for bad in ["dtac", ":C4.1", "dtac:", ""] {
            assert!(bad.parse::<ClauseRef>().is_err(), "{bad} accepted");
        }
    }
}
