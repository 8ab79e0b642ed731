//! What a scenario needs the target to offer, as its feature file states it in a step the
//! planner reads:
//!
//! ```gherkin
//! Given the target offers read of "Patient"
//! Given the target offers search of "Patient" by "identifier", which the ukca profile requires
//! Given the target offers writes
//! Given the target offers the "everything" operation on "Patient"
//! Given the target offers the "transaction" interaction
//! Given the target offers _include on "AllergyIntolerance"
//! Given the target offers _revinclude of "Condition" on "Patient"
//! ```
//!
//! Not declared → the scenario is not applicable, naming what was missing; not declared but
//! required by the run's profile → it fails; nothing declared at all → it runs anyway.

use regex::Regex;

use super::model::{Interaction, Offer, TargetModel};
use crate::catalogue::Profile;

/// The step pattern (cucumber matches it too; the step itself does nothing at run time).
pub const STEP_PATTERN: &str = r#"^the target (?P<negation>offers|does not offer) (?:(?P<verb>read|vread|update|patch|delete|create|search|history) of "(?P<kind>[A-Za-z]+)"(?: by "(?P<param>[^"]+)")?|the "(?P<operation>[a-z-]+)" operation on "(?P<on>[A-Za-z]+)"|the "(?P<system>transaction|batch)" interaction|_include on "(?P<include>[A-Za-z]+)"|_revinclude of "(?P<revof>[A-Za-z]+)" on "(?P<revon>[A-Za-z]+)"|(?P<any>writes|creates|updates|the capabilities interaction))(?:, which the (?P<profile>all|apim|gpc|ukca) profile requires)?$"#;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// An interaction on a type.
    Interaction {
        kind: String,
        interaction: Interaction,
    },
    /// Search of a type by a parameter.
    SearchBy { kind: String, param: String },
    /// An operation (`everything`, without `$`) on a type.
    Operation { kind: String, name: String },
    /// A whole-system interaction: `transaction` or `batch`.
    System(String),
    /// `_include` on searches of a type.
    Include(String),
    /// `_revinclude` of records of type `of` on searches of `kind`.
    RevInclude { kind: String, of: String },
    /// Create, update or patch of some type: somewhere to send a write.
    AnyWrite,
    /// Create of some type.
    AnyCreate,
    /// Update or patch of some type.
    AnyUpdate,
    /// `GET [base]/metadata` serves a CapabilityStatement (known from discovery whatever else
    /// is declared).
    Capabilities,
}

/// A need, and the profile under which its absence is a failure rather than not applicable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedStep {
    pub need: Need,
    /// `does not offer`: the scenario probes something the target must not offer (an
    /// undeclared method), so it does not apply where the target declares it.
    pub negated: bool,
    pub required_under: Option<Profile>,
}

fn pattern() -> Option<&'static Regex> {
    static PATTERN: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    PATTERN
        .get_or_init(|| Regex::new(STEP_PATTERN).ok())
        .as_ref()
}

/// The need a step's text states, if it is a need step (with or without its keyword).
pub fn parse(text: &str) -> Option<NeedStep> {
    let text = text.trim();
    let text = ["Given ", "When ", "Then ", "And ", "But ", "* "]
        .iter()
        .find_map(|keyword| text.strip_prefix(keyword))
        .unwrap_or(text);
    let captures = pattern()?.captures(text.trim())?;
    let negated = captures
        .name("negation")
        .is_some_and(|m| m.as_str() == "does not offer");
    let text_of = |name: &str| captures.name(name).map(|m| m.as_str().to_owned());
    let need = match (
        captures.name("verb"),
        captures.name("kind"),
        captures.name("any"),
    ) {
        _ if captures.name("operation").is_some() => Need::Operation {
            kind: text_of("on")?,
            name: text_of("operation")?,
        },
        _ if captures.name("system").is_some() => Need::System(text_of("system")?),
        _ if captures.name("include").is_some() => Need::Include(text_of("include")?),
        _ if captures.name("revon").is_some() => Need::RevInclude {
            kind: text_of("revon")?,
            of: text_of("revof")?,
        },
        (Some(verb), Some(kind), _) => {
            let kind = kind.as_str().to_owned();
            match (verb.as_str(), captures.name("param")) {
                ("search", Some(param)) => Need::SearchBy {
                    kind,
                    param: param.as_str().to_owned(),
                },
                (verb, _) => Need::Interaction {
                    kind,
                    interaction: match verb {
                        "search" => Interaction::SearchType,
                        "history" => Interaction::HistoryInstance,
                        other => Interaction::from_code(other)?,
                    },
                },
            }
        }
        (_, _, Some(any)) => match any.as_str() {
            "writes" => Need::AnyWrite,
            "creates" => Need::AnyCreate,
            "updates" => Need::AnyUpdate,
            _ => Need::Capabilities,
        },
        _ => return None,
    };
    let required_under = captures
        .name("profile")
        .and_then(|p| p.as_str().parse::<Profile>().ok());
    Some(NeedStep {
        need,
        negated,
        required_under,
    })
}

impl Need {
    /// Whether the model offers it.
    pub fn offer(&self, model: &TargetModel) -> Offer {
        match self {
            Need::Interaction { kind, interaction } => model.offers(kind, *interaction),
            Need::SearchBy { kind, param } => model.offers_search_by(kind, param),
            Need::Operation { kind, name } => model.offers_operation(kind, name),
            Need::System(code) => model.offers_system(code),
            Need::Include(kind) => model.offers_include(kind),
            Need::RevInclude { kind, of } => model.offers_revinclude(kind, of),
            Need::AnyWrite => model.offers_anywhere(&[
                Interaction::Create,
                Interaction::Update,
                Interaction::Patch,
            ]),
            Need::AnyCreate => model.offers_anywhere(&[Interaction::Create]),
            Need::AnyUpdate => model.offers_anywhere(&[Interaction::Update, Interaction::Patch]),
            Need::Capabilities if model.capability_statement => {
                Offer::Declared(vec![super::Source::CapabilityStatement])
            }
            Need::Capabilities => Offer::NotDeclared(
                "the target serves no CapabilityStatement at [base]/metadata".into(),
            ),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Need::Interaction { kind, interaction } => format!("{} of {kind}", interaction.code()),
            Need::SearchBy { kind, param } => format!("search of {kind} by {param}"),
            Need::Operation { kind, name } => format!("the ${name} operation on {kind}"),
            Need::System(code) => format!("the {code} interaction"),
            Need::Include(kind) => format!("_include on searches of {kind}"),
            Need::RevInclude { kind, of } => format!("_revinclude of {of} on searches of {kind}"),
            Need::AnyWrite => "create, update or patch of some resource type".into(),
            Need::AnyCreate => "create of some resource type".into(),
            Need::AnyUpdate => "update or patch of some resource type".into(),
            Need::Capabilities => "the capabilities interaction".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn need_steps_are_read_from_their_text() {
        assert_eq!(
            parse(r#"the target offers read of "Patient""#),
            Some(NeedStep {
                need: Need::Interaction {
                    kind: "Patient".into(),
                    interaction: Interaction::Read
                },
                negated: false,
                required_under: None
            })
        );
        assert_eq!(
            parse(
                r#"the target offers search of "Patient" by "identifier", which the ukca profile requires"#
            ),
            Some(NeedStep {
                need: Need::SearchBy {
                    kind: "Patient".into(),
                    param: "identifier".into()
                },
                negated: false,
                required_under: Some(Profile::Ukca)
            })
        );
        assert_eq!(
            parse("the target offers writes").map(|s| s.need),
            Some(Need::AnyWrite)
        );
        assert_eq!(
            parse("Given the target offers creates").map(|s| s.need),
            Some(Need::AnyCreate)
        );
        assert_eq!(
            parse(r#"the target offers search of "Patient""#).map(|s| s.need),
            Some(Need::Interaction {
                kind: "Patient".into(),
                interaction: Interaction::SearchType
            })
        );
        let delete = parse(r#"the target does not offer delete of "Patient""#).unwrap();
        assert!(delete.negated);
        assert_eq!(
            parse("the target offers the capabilities interaction").map(|s| s.need),
            Some(Need::Capabilities)
        );
        assert_eq!(
            parse("the target offers updates").map(|s| s.need),
            Some(Need::AnyUpdate)
        );
        assert_eq!(
            parse(r#"the target offers the "everything" operation on "Patient""#).map(|s| s.need),
            Some(Need::Operation {
                kind: "Patient".into(),
                name: "everything".into()
            })
        );
        assert_eq!(
            parse(r#"And the target offers the "transaction" interaction"#).map(|s| s.need),
            Some(Need::System("transaction".into()))
        );
        assert_eq!(parse(r#"the target offers the "search" interaction"#), None);
        assert_eq!(
            parse(r#"the target offers _include on "Condition""#).map(|s| s.need),
            Some(Need::Include("Condition".into()))
        );
        assert_eq!(
            parse(r#"the target offers _revinclude of "Condition" on "Patient""#).map(|s| s.need),
            Some(Need::RevInclude {
                kind: "Patient".into(),
                of: "Condition".into()
            })
        );
        assert_eq!(parse(r#"the target offers nap of "Patient""#), None);
        assert_eq!(parse("a GET request to \"metadata\""), None);
    }
}
