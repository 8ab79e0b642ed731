//! Unit tests of the sandbox server's helpers.

use super::patient::{date_matches, date_range};

#[test]
fn date_prefixes_follow_fhir_search() {
    let (p, low, high) = date_range("ge1970-01").unwrap();
    assert_eq!(
        (p, low.as_str(), high.as_str()),
        ("ge", "1970-01-01", "1970-01-31")
    );
    assert!(date_matches("1975-05-01", "ge", &low, &high));
    assert!(!date_matches("1969-12-31", "ge", &low, &high));
    let (p, low, high) = date_range("le2010-12-31").unwrap();
    assert!(date_matches("2010-10-22", p, &low, &high));
    assert!(date_range("2010-13").is_none());
    assert!(date_range("ge19x0").is_none());
    assert!(date_range("2010/10/22").is_none());
}
