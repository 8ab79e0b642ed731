//! Organisation Data Service (ODS) codes: the identifiers of NHS organisations and sites.
//! The ODS code is 3 to 10 upper-case letters and digits (NHS Data Dictionary, "Organisation
//! code"); there is no check digit, so the syntax is all a client can verify.

/// The naming systems of ODS organisation and site codes.
pub const SYSTEMS: &[&str] = &[
    "https://fhir.nhs.uk/Id/ods-organization-code",
    "https://fhir.nhs.uk/Id/ods-site-code",
];

/// Why `value` is not an ODS code, or `None` when it is one.
pub fn code_problem(value: &str) -> Option<String> {
    let valid = (3..=10).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    (!valid).then(|| format!("ODS code `{value}` is not 3-10 upper-case letters and digits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_case_letters_and_digits() {
        for good in ["RR8", "Y12345", "GP8D7", "RR813"] {
            assert_eq!(code_problem(good), None, "{good}");
        }
        for bad in ["", "RR", "rr8", "RR-8", "RR 8", "ABCDEFGHIJK", "RŘ8"] {
            assert!(code_problem(bad).is_some(), "{bad}");
        }
    }
}
