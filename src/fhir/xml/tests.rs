//! Unit tests for FHIR XML to JSON conversion (`fhir::xml`).

use serde_json::json;

use super::primitives::{integer, is_decimal};
use super::*;

fn core() -> Arc<Definitions> {
    Definitions::core().unwrap()
}

fn problems_of(xml: &str) -> Vec<XmlProblem> {
    convert(xml, &core(), &XmlLimits::default())
        .unwrap()
        .problems
}

/// The one problem of a document, as `location (line n): message`.
fn only_problem(xml: &str) -> String {
    let problems = problems_of(xml);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    problems[0].to_string()
}

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../../tests/fixtures/xml/", $name, ".xml")),
            include_str!(concat!("../../../tests/fixtures/xml/", $name, ".json")),
        )
    };
}

/// Each fixture's JSON was written by hand from xml.html and json.html; decimals on both
/// sides go through `Number::from_str`, so they compare at the precision this crate keeps.
#[test]
fn the_fixtures_convert_to_the_json_the_spec_gives() {
    for (name, xml, expected) in [
        fixture!("arrays-of-one"),
        fixture!("primitive-extensions"),
        fixture!("contained"),
        fixture!("bundle"),
        fixture!("parameters"),
        fixture!("narrative"),
        fixture!("choice-and-decimals"),
        fixture!("extensions"),
        fixture!("no-namespace"),
    ] {
        let expected: Value = serde_json::from_str(expected).unwrap();
        let converted = to_json(xml, &core()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(converted, expected, "{name}");
    }
}

#[test]
fn decimals_keep_what_a_double_keeps_and_integers_stay_integers() {
    let (_, xml, _) = fixture!("choice-and-decimals");
    let json = to_json(xml, &core()).unwrap();
    assert_eq!(json["valueQuantity"]["value"].as_f64(), Some(37.5));
    assert!(json["referenceRange"][0]["low"]["value"].is_u64());
    assert_eq!(
        json["referenceRange"][0]["high"]["value"].as_f64(),
        Some(37.5)
    );
    assert_eq!(json["component"][0]["valueInteger"], json!(-12));
    // 34 significant digits: the nearest double, which prints as 0.1.
    assert_eq!(
        json["component"][2]["valueQuantity"]["value"].to_string(),
        "0.1"
    );
}

#[test]
fn the_root_is_the_resource_type_and_an_unknown_one_is_a_problem() {
    let json = to_json(
        "<Basic xmlns='http://hl7.org/fhir'><code><text value='x'/></code></Basic>",
        &core(),
    )
    .unwrap();
    assert_eq!(
        json,
        json!({"resourceType": "Basic", "code": {"text": "x"}})
    );
    assert_eq!(
        only_problem("<Patiënt xmlns='http://hl7.org/fhir'/>"),
        "Patiënt (line 1): Patiënt is not a FHIR R4 resource type"
    );
    // Abstract types and data types are not resources an instance can be.
    assert!(only_problem("<DomainResource/>").contains("not a FHIR R4 resource type"));
    assert!(only_problem("<HumanName/>").contains("not a FHIR R4 resource type"));
}

#[test]
fn unknown_elements_are_problems_with_their_location_and_line() {
    let xml = "<Patient xmlns=\"http://hl7.org/fhir\">\n  <name>\n    <given value=\"A\"/>\n    <given value=\"B\"><colour value=\"red\"/></given>\n  </name>\n  <contact.name><text value=\"x\"/></contact.name>\n</Patient>";
    let problems = problems_of(xml);
    let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            "Patient.name[0].given[1].colour (line 4): unknown element colour: not defined for HumanName.given (string)",
            "Patient.contact.name (line 6): unknown element contact.name: not defined for Patient",
        ]
    );
    let error = to_json(xml, &core()).unwrap_err();
    assert!(
        matches!(&error, XmlError::Invalid(p) if p.len() == 2),
        "{error}"
    );
    assert!(
        error.to_string().starts_with(
            "2 problem(s) in the FHIR XML; the first: Patient.name[0].given[1].colour"
        )
    );
}

#[test]
fn attributes_are_those_the_definitions_give_as_xml_attributes() {
    assert_eq!(
        only_problem(
            "<Patient><id id='x' value='a'/><name use='official'><family value='S'/></name></Patient>"
        ),
        "Patient.name[0] (line 1): attribute use is not defined for Patient.name (HumanName)"
    );
    // The resource's id is an element; an id attribute on the resource is refused.
    assert!(
        only_problem("<Patient id='a'><active value='true'/></Patient>")
            .contains("attribute id is not allowed on a resource")
    );
    // An XML attribute written as an element.
    assert_eq!(
        only_problem(
            "<Patient><extension><url value='http://x'/><valueString value='s'/></extension></Patient>"
        ),
        "Patient.extension[0].url (line 1): url is an attribute in FHIR XML, not an element"
    );
    assert!(
        only_problem("<Patient><active value=''/></Patient>").contains("attribute value is empty")
    );
    // A schema location on the resource is allowed, and ignored.
    let xml = "<Patient xmlns='http://hl7.org/fhir' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xsi:schemaLocation='http://hl7.org/fhir patient.xsd'><active value='true'/></Patient>";
    assert_eq!(
        to_json(xml, &core()).unwrap(),
        json!({"resourceType": "Patient", "active": true})
    );
}

#[test]
fn values_must_be_of_their_type() {
    for (xml, message) in [
        (
            "<Patient><active value='yes'/></Patient>",
            "value \"yes\" is not a boolean",
        ),
        (
            "<Patient><multipleBirthInteger value='01'/></Patient>",
            "is not an integer",
        ),
        (
            "<Patient><multipleBirthInteger value='2147483648'/></Patient>",
            "is not an integer",
        ),
        (
            "<Bundle><type value='searchset'/><total value='-1'/></Bundle>",
            "is not an unsignedInt",
        ),
        (
            "<Observation><status value='final'/><code><text value='c'/></code><valueQuantity><value value='.5'/></valueQuantity></Observation>",
            "is not a decimal",
        ),
        (
            "<Observation><status value='final'/><code><text value='c'/></code><valueQuantity><value value='1e400'/></valueQuantity></Observation>",
            "is not a decimal",
        ),
    ] {
        let problem = only_problem(xml);
        assert!(problem.contains(message), "{xml}: {problem}");
    }
    // The ill-typed value is kept as a string for the validator to see.
    let conversion = convert(
        "<Patient><active value='yes'/></Patient>",
        &core(),
        &XmlLimits::default(),
    )
    .unwrap();
    assert_eq!(conversion.json["active"], "yes");
    let json = to_json(
        "<Patient><multipleBirthInteger value='-0'/></Patient>",
        &core(),
    )
    .unwrap();
    assert_eq!(json["multipleBirthInteger"], 0);
}

#[test]
fn elements_are_never_empty_and_hold_no_text() {
    assert!(
        only_problem("<Patient><active/></Patient>")
            .contains("needs a value attribute or extensions")
    );
    assert!(only_problem("<Patient><name id='n'/></Patient>").contains("needs child elements"));
    assert!(only_problem("<Patient><contained/></Patient>").contains("holds no resource"));
    assert_eq!(
        only_problem("<Patient><name>Smith<family value='S'/></name></Patient>"),
        "Patient.name[0] (line 1): text is not allowed here, only elements"
    );
}

#[test]
fn one_choice_one_name_and_single_elements_once() {
    assert!(
        only_problem(
            "<Patient><deceasedBoolean value='true'/><deceasedDateTime value='2020'/></Patient>"
        )
        .contains("deceasedDateTime and deceasedBoolean are the same choice element")
    );
    assert!(
        only_problem("<Patient><gender value='male'/><gender value='female'/></Patient>")
            .contains("gender may occur at most once; found 2")
    );
    // The bare stem of a choice is not an element.
    assert!(
        only_problem("<Patient><deceased value='true'/></Patient>")
            .contains("unknown element deceased")
    );
}

#[test]
fn namespaces_other_than_fhirs_are_refused() {
    assert!(
        only_problem("<Patient xmlns='http://example.org'/>")
            .contains("is in namespace http://example.org")
    );
    assert!(only_problem(
        "<Patient xmlns='http://hl7.org/fhir' xmlns:x='urn:x'><x:active value='true'/></Patient>"
    )
    .contains("element active is in namespace urn:x"));
    assert!(only_problem(
        "<Patient><text><status value='generated'/><div><p>no namespace</p></div></text></Patient>"
    )
    .contains("div element in the XHTML namespace"));
    assert!(only_problem(
        "<Patient><text><status value='generated'/><div xmlns='http://www.w3.org/1999/xhtml'><x:p xmlns:x='urn:x'>x</x:p></div></text></Patient>"
    )
    .contains("narrative element p is not in the XHTML namespace"));
}

#[test]
fn a_prefixed_narrative_is_written_with_the_default_namespace() {
    let xml = "<Patient><text><status value='generated'/><h:div xmlns:h='http://www.w3.org/1999/xhtml'><h:p title='a&#10;b'>x</h:p></h:div></text></Patient>";
    let json = to_json(xml, &core()).unwrap();
    assert_eq!(
        json["text"]["div"],
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p title=\"a&#10;b\">x</p></div>"
    );
}

#[test]
fn a_resource_inside_a_resource_is_located_by_its_type() {
    let problem = only_problem(
        "<Bundle><type value='collection'/><entry><resource><Patient><colour value='red'/></Patient></resource></entry></Bundle>",
    );
    assert_eq!(
        problem,
        "Bundle.entry[0].resource.ofType(Patient).colour (line 1): unknown element colour: not defined for Patient"
    );
    assert!(only_problem(
        "<Patient><contained><Basic><code><text value='a'/></code></Basic><Basic><code><text value='b'/></code></Basic></contained></Patient>"
    )
    .contains("holds more than one resource"));
}

#[test]
fn limits_bound_what_is_read() {
    let limits = XmlLimits {
        max_depth: 4,
        ..XmlLimits::default()
    };
    let deep = "<Questionnaire><status value='draft'/><item><linkId value='1'/><type value='group'/><item><linkId value='2'/><type value='group'/><item><linkId value='3'/><type value='display'/></item></item></item></Questionnaire>";
    assert!(
        convert(deep, &core(), &XmlLimits::default())
            .unwrap()
            .problems
            .is_empty()
    );
    let error = convert(deep, &core(), &limits).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the XML nests deeper than 4 elements at Questionnaire.item[0].item[0].item[0].linkId"
    );
    let small = XmlLimits {
        max_bytes: 10,
        ..XmlLimits::default()
    };
    assert!(matches!(
        convert(deep, &core(), &small),
        Err(XmlError::TooLarge { limit: 10, .. })
    ));
    let few = XmlLimits {
        max_nodes: 5,
        ..XmlLimits::default()
    };
    assert!(matches!(
        convert(deep, &core(), &few),
        Err(XmlError::TooManyNodes { limit: 5 })
    ));
    let many = XmlLimits {
        max_problems: 2,
        ..XmlLimits::default()
    };
    let problems = convert("<Patient><a/><b/><c/><d/></Patient>", &core(), &many)
        .unwrap()
        .problems;
    assert_eq!(problems.len(), 3);
    assert_eq!(problems[2].message, "and 2 more problem(s)");
}

#[test]
fn a_doctype_and_undeclared_entities_are_refused() {
    let doctype = "<!DOCTYPE Patient [<!ENTITY x \"y\">]><Patient><id value='&x;'/></Patient>";
    assert!(matches!(to_json(doctype, &core()), Err(XmlError::Doctype)));
    let undeclared = "<Patient><id value='&nbsp;'/></Patient>";
    assert!(matches!(
        to_json(undeclared, &core()),
        Err(XmlError::Syntax(_))
    ));
    assert!(matches!(
        to_json("<Patient>", &core()),
        Err(XmlError::Syntax(_))
    ));
    // The predefined entities and character references are XML's own.
    let json = to_json(
        "<Patient><id value='a&amp;b&#x41;&#66;&lt;'/></Patient>",
        &core(),
    )
    .unwrap();
    assert_eq!(json["id"], "a&bAB<");
}

#[test]
fn a_byte_order_mark_and_declaration_are_allowed() {
    let xml = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Patient><active value='true'/></Patient>";
    assert_eq!(
        to_json(xml, &core()).unwrap(),
        json!({"resourceType": "Patient", "active": true})
    );
}

#[test]
fn the_nesting_scan_counts_elements_only() {
    let within = |xml: &str, limit| nesting_within(xml, limit).is_ok();
    assert!(within("<a><b><c/></b></a>", 2));
    assert!(!within("<a><b><c></c></b></a>", 2));
    // Markup inside comments, CDATA, processing instructions and quoted values is not markup.
    assert!(within(
        "<a><!-- <b><c> --><![CDATA[<b><c>]]><?pi <b><c>?><b x='>' y=\"<c>\"/></a>",
        1
    ));
    assert!(!within("<a><b x='/'></b></a>", 1));
    // A DOCTYPE stops the scan: the parser refuses it there.
    assert!(within("<!DOCTYPE a><a><b><c/></b></a>", 1));
    let error = nesting_within("<a>\n<b>\n<c>", 2).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the XML nests deeper than 2 elements at line 3"
    );
}

#[test]
fn the_decimal_lexical_form_is_r4s() {
    for good in [
        "0", "-0", "1", "10", "1.0", "0.001", "-3.5", "1e10", "1E-2", "2.5e+3",
    ] {
        assert!(is_decimal(good), "{good}");
    }
    for bad in [
        "", "-", "01", "1.", ".1", "+1", "1e", "1e+", "1.2.3", " 1", "1 ", "0x1", "NaN", "Infinity",
    ] {
        assert!(!is_decimal(bad), "{bad}");
    }
}

#[test]
fn integers_have_their_types_range() {
    assert_eq!(
        integer("2147483647", JsonType::Integer),
        Some(2_147_483_647)
    );
    assert_eq!(
        integer("-2147483648", JsonType::Integer),
        Some(-2_147_483_648)
    );
    assert_eq!(integer("2147483648", JsonType::Integer), None);
    assert_eq!(integer("0", JsonType::PositiveInt), None);
    assert_eq!(integer("0", JsonType::UnsignedInt), Some(0));
    assert_eq!(integer("-0", JsonType::UnsignedInt), None);
    assert_eq!(integer("+1", JsonType::Integer), None);
    assert_eq!(integer("99999999999999999999", JsonType::Integer), None);
}
