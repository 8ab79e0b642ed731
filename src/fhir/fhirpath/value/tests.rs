//! Unit tests for FHIRPath values and comparisons (`fhirpath::value`).

use super::*;

fn node(value: &Value, type_name: &str) -> Item<'static> {
    let leaked: &'static Value = Box::leak(Box::new(value.clone()));
    Item::Node(Node {
        value: leaked,
        companion: None,
        type_name: Some(type_name.into()),
        element: None,
    })
}

#[test]
fn primitives_become_system_values_by_their_fhir_type() {
    assert!(matches!(
        node(&Value::from(3), "positiveInt").system(),
        Item::Integer(3)
    ));
    assert!(matches!(
        node(&Value::from(3), "decimal").system(),
        Item::Decimal(_)
    ));
    assert!(matches!(
        node(&Value::from("2020-01-02"), "date").system(),
        Item::Date(_)
    ));
    assert!(matches!(
        node(&serde_json::json!({"value": 5, "code": "mg"}), "Age").system(),
        Item::Quantity(v, ref u) if v == 5.0 && u == "mg"
    ));
}

#[test]
fn dates_compare_at_shared_precision() {
    let date = |s: &str| Item::DateTime(s.into());
    assert_eq!(
        compare(&date("2014-01-25T14:30"), &date("2014-01-25T14:31")),
        Ok(Some(Ordering::Less))
    );
    assert_eq!(compare(&date("2014"), &date("2014-02")), Ok(None));
    assert_eq!(
        compare(&date("2013"), &date("2014-02")),
        Ok(Some(Ordering::Less))
    );
    assert_eq!(
        equal(
            &date("2017-11-05T01:30:00.0-04:00"),
            &date("2017-11-05T05:30:00.0Z")
        ),
        Some(true),
        "offsets are normalised"
    );
    assert!(compare(&date("2014"), &Item::Integer(1)).is_err());
}

#[test]
fn equivalence_is_looser_than_equality() {
    let text = |s: &str| Item::String(s.into());
    assert!(equivalent(&text(" Abc  def"), &text("abc def")));
    assert_eq!(equal(&text("Abc"), &text("abc")), Some(false));
    assert!(equivalent(&Item::Decimal(1.2), &Item::Decimal(1.23)));
    assert_eq!(equal(&Item::Integer(1), &Item::Decimal(1.0)), Some(true));
}
