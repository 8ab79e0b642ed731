use super::*;

#[test]
fn date_prefixes_are_understood() {
    assert_eq!(date_satisfies("1975-05-01", "ge1970-01"), Some(true));
    assert_eq!(date_satisfies("1969-12-31", "ge1970-01"), Some(false));
    assert_eq!(date_satisfies("2010-10-22", "le2009-12-31"), Some(false));
    assert_eq!(date_satisfies("2009-12-31", "le2009-12-31"), Some(true));
    assert_eq!(date_satisfies("2008-03-14", "2008"), Some(true));
    assert_eq!(date_satisfies("2008-03-14", "bad"), None);
}

#[test]
fn origins_compare_scheme_host_and_port() {
    assert_eq!(
        origin("http://127.0.0.1:8080/FHIR/R4/Patient?x"),
        "http://127.0.0.1:8080"
    );
    assert_ne!(
        origin("http://evil.example/FHIR/R4"),
        origin("http://127.0.0.1:8080/FHIR/R4")
    );
}
