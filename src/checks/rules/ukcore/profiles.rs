//! IOP-UKC-008: every resource a response carries conforms to the profiles it claims in
//! `meta.profile`, to the profile the API declares for its type (CapabilityStatement
//! `rest.resource.profile`) and, under the ukca profile, to the UK Core profile of its type (UK
//! Core Access: every resource exchanged is UK Core). Elsewhere UK Core is not assumed, because
//! PDS (apim) and GP Connect (gpc) publish their own profiles rather than UK Core's. FHIR XML
//! responses are read with mts's XML reader and judged alike.

use crate::catalogue::Profile;
use crate::checks::rules::prelude::*;
use crate::fhir::profile::{self, validate::Expectations, validate::Severity};

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "ukcore.profiles",
    requirement: RequirementCode::new("IOP-UKC-008"),
    summary: "every resource in every response conforms to the profiles it claims and, under ukca, to the UK Core profile of its type",
    judge,
    unjudged: Some(unjudged),
};

fn judge(exchange: &Exchange, context: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    // The embedded definitions are tested to load; were they ever unreadable, nothing is
    // judged rather than a supplier failed.
    let uk_core = profile::uk_core().ok()?;
    let converted;
    // What the XML reader found wrong in FHIR XML (an unknown element, a repeated single
    // one): the same faults JSON's validation reports as errors.
    let mut xml_problems = Vec::new();
    let resource = match response.resource() {
        Some(resource) => resource,
        None => {
            // FHIR XML is held to the same profiles once mts's reader has made it JSON. XML that
            // is not well formed is IOP-FHIR's business (the format), not this rule's.
            let xml = response.media_type().is_some_and(|m| m.ends_with("xml"))
                && !response.body.truncated;
            if !xml {
                return None;
            }
            let text = std::str::from_utf8(response.body.bytes()).ok()?;
            let conversion = crate::fhir::xml::convert(
                text,
                uk_core.validator.definitions(),
                &crate::fhir::xml::XmlLimits::default(),
            )
            .ok()?;
            xml_problems = conversion
                .problems
                .into_iter()
                .map(|p| format!("{} [structure] {} (line {})", p.location, p.message, p.line))
                .collect();
            converted = conversion.json;
            &converted
        }
    };
    let expected = Expectations {
        by_type: if context.profile == Profile::Ukca {
            uk_core.by_type.clone()
        } else {
            Default::default()
        },
        declared: context.declared_profiles.clone(),
        always: Vec::new(),
    };
    let found = uk_core.validator.validate_profiles(resource, &expected);
    let unknown: Vec<&str> = found
        .issues
        .iter()
        .filter(|i| i.rule == "profile" && i.severity == Severity::Warning)
        .map(|i| i.profile.as_str())
        .collect();
    if found.judged == 0 {
        // Nothing it claims is held here (GP Connect's profiles, a supplier's own), and the
        // run's profile expects nothing of its type: not judged.
        return None;
    }
    // A profile mts cannot use (its snapshot cannot be generated) is mts's limit, not the
    // supplier's failure: it is left out here (mts validate reports it).
    let errors: Vec<String> = found
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error && i.rule != "profile")
        .map(|i| {
            format!(
                "{} [{}] {} ({} {})",
                i.location,
                i.rule,
                i.message,
                short_profile(&i.profile),
                i.element
            )
        })
        .collect();
    let errors: Vec<String> = xml_problems.into_iter().chain(errors).collect();
    let mut judged = Judged::from_problems(
        exchange,
        "returned a resource that breaks a profile it is held to",
        "conformance to the profiles claimed (and, under ukca, UK Core 2.0.2)",
        errors,
    );
    // Notes are kept once per distinct text across the run, so they carry no request.
    let first_warning = found
        .issues
        .iter()
        .find(|i| i.severity == Severity::Warning && i.rule != "profile");
    judged.note = match (unknown.is_empty(), first_warning) {
        (false, _) => Some(format!(
            "claims or declares profile(s) not held here, not validated: {}",
            unknown.join(", ")
        )),
        (true, Some(warning)) if judged.result.is_ok() => Some(format!(
            "a warning, not a failure: {} at {} ({})",
            warning.message,
            warning.element,
            short_profile(&warning.profile)
        )),
        _ => None,
    };
    Some(judged)
}

/// `UKCore-Patient` for `https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient`.
fn short_profile(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// Under apim and gpc, resources that claim and are declared no profile are not judged.
fn unjudged(_: OpenApiUse) -> (ReasonKind, String) {
    (
        ReasonKind::NothingToJudge,
        "no resource returned claims a profile mts holds (meta.profile), and only the ukca profile holds every resource to UK Core: run with --profile ukca to judge UK Core conformance".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IOP-UKC-008 reads FHIR XML with mts's reader, and holds a resource to the profile the
    /// API declares for its type even under apim (where UK Core is not assumed).
    #[test]
    fn profiles_check_reads_xml_and_holds_declared_profiles() {
        let check = &CHECK;
        let uk_core_patient = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient";
        // UK Core's birth sex extension takes a CodeableConcept from a required value set.
        let xml = r#"<Patient xmlns="http://hl7.org/fhir"><meta><profile value="PROFILE"/></meta><extension url="https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-BirthSex"><valueCodeableConcept><coding><system value="http://hl7.org/fhir/administrative-gender"/><code value="mts-not-a-sex"/></coding></valueCodeableConcept></extension><gender value="female"/></Patient>"#;
        let as_xml = |body: &str| exchange(200, &[("content-type", "application/fhir+xml")], body);
        let claimed = as_xml(&xml.replace("PROFILE", uk_core_patient));
        let judged = (check.judge)(&claimed, &context()).expect("judged");
        let failure = format!(
            "{:?}",
            judged
                .result
                .expect_err("XML claiming UK Core, breaking it")
        );
        assert!(
            failure.contains("[binding]") && failure.contains("mts-not-a-sex"),
            "{failure}"
        );
        let unclaimed = as_xml(&xml.replace("<meta><profile value=\"PROFILE\"/></meta>", ""));
        assert!(
            (check.judge)(&unclaimed, &context()).is_none(),
            "nothing claimed or declared under apim: not judged"
        );
        let mut declaring = context();
        declaring
            .declared_profiles
            .insert("Patient".into(), uk_core_patient.into());
        let verdict = (check.judge)(&unclaimed, &declaring).map(|j| j.result.is_ok());
        assert_eq!(verdict, Some(false), "the declared profile is held to");
    }
}
