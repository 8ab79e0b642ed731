//! The FHIR XML reader on real data: UK Core 2.0.2 as NHS England publishes it (XML only, outside
//! this repository: `../shared/data/uk-core`), the HL7 FHIR R4 examples whose XML and JSON forms
//! were both published (`tests/fixtures/xml/r4-examples`, an oracle the reader never saw), and
//! hostile input.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mts::fhir::definitions::Definitions;
use mts::fhir::schema::FhirSchema;
use mts::fhir::xml::{self, XmlError, XmlLimits};
use serde_json::Value;

fn uk_core_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/uk-core");
    dir.is_dir().then_some(dir)
}

fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_uk_core_file_converts_and_every_example_is_schema_valid() {
    let Some(dir) = uk_core_dir() else {
        assert!(
            std::env::var_os("MTS_REQUIRE_SHARED").is_none(),
            "MTS_REQUIRE_SHARED is set but ../shared/data/uk-core is not beside this repository"
        );
        eprintln!("skipped: ../shared/data/uk-core is not beside this repository");
        return;
    };
    let definitions = Definitions::core().expect("the core definitions");
    let schema = FhirSchema::embedded().expect("the embedded schema");
    let mut failures = Vec::new();
    let mut converted = 0;
    for folder in [
        "examples",
        "structuredefinitions",
        "valuesets",
        "codesystems",
        "CapabilityStatement",
    ] {
        for file in xml_files(&dir.join(folder)) {
            let text = std::fs::read_to_string(&file).expect("a UTF-8 file");
            match xml::to_json(&text, &definitions) {
                Ok(json) => {
                    converted += 1;
                    let issues = schema.validate(&json);
                    if !issues.is_empty() {
                        failures.push(format!("{}: schema: {issues:?}", file.display()));
                    }
                }
                Err(XmlError::Invalid(problems)) => {
                    for problem in problems {
                        failures.push(format!("{}: {problem}", file.display()));
                    }
                }
                Err(e) => failures.push(format!("{}: {e}", file.display())),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(converted >= 330, "only {converted} files converted");
}

const R4_EXAMPLES: &str = "tests/fixtures/xml/r4-examples";

/// Each published R4 example's XML, converted, equals its published JSON (as JSON values).
/// The publication's JSON differs from its XML in one way the spec leaves open: the narrative's
/// whitespace (the XML is pretty-printed inside the div, the JSON often not), so both sides'
/// divs are compared with whitespace collapsed and around tags dropped, as parsed XML.
#[test]
fn the_r4_examples_convert_to_their_published_json() {
    let definitions = Definitions::core().expect("the core definitions");
    // Another folder of pairs (`name.xml` beside `name.json`) may be given to run the same test.
    let dir = std::env::var_os("MTS_XML_PAIRS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(R4_EXAMPLES),
        PathBuf::from,
    );
    let mut exact = 0;
    let mut failures = Vec::new();
    let files = xml_files(&dir);
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a UTF-8 file");
        let published: Value = serde_json::from_str(
            &std::fs::read_to_string(file.with_extension("json")).expect("the JSON of the pair"),
        )
        .expect("published JSON");
        let mut converted = match xml::to_json(&text, &definitions) {
            Ok(json) => json,
            Err(e) => {
                failures.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        if converted == published {
            exact += 1;
            continue;
        }
        let mut published = published;
        normalise_narratives(&mut converted);
        normalise_narratives(&mut published);
        if let Some(difference) = first_difference(&converted, &published, "") {
            failures.push(format!("{}: {difference}", file.display()));
        }
    }
    eprintln!(
        "R4 examples: {exact} of {} equal as published; {} more once narrative whitespace is \
         normalised",
        files.len(),
        files.len() - exact - failures.len()
    );
    assert!(files.len() >= 30, "only {} pairs", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn normalise_narratives(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(div) if key == "div" => *div = canonical_xhtml(div),
                    _ => normalise_narratives(item),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise_narratives),
        _ => {}
    }
}

/// XHTML as parsed XML: names with namespaces, attributes sorted, text with whitespace collapsed
/// and trimmed, whitespace-only text and comments dropped.
fn canonical_xhtml(text: &str) -> String {
    fn collapse(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
    fn write(node: roxmltree::Node, out: &mut String) {
        for child in node.children() {
            if child.is_text() {
                out.push_str(&collapse(child.text().unwrap_or("")));
            } else if child.is_element() {
                let name = child.tag_name();
                out.push_str(&format!(
                    "<{{{}}}{}",
                    name.namespace().unwrap_or(""),
                    name.name()
                ));
                let mut attributes: Vec<String> = child
                    .attributes()
                    .map(|a| {
                        let ns = a.namespace().unwrap_or("");
                        format!(" {{{ns}}}{}={:?}", a.name(), collapse(a.value()))
                    })
                    .collect();
                attributes.sort();
                out.push_str(&attributes.concat());
                out.push('>');
                write(child, out);
                out.push_str("</>");
            }
        }
    }
    let document = roxmltree::Document::parse(text)
        .unwrap_or_else(|e| panic!("a narrative that is not XML ({e}): {text}"));
    let mut out = String::new();
    write(document.root(), &mut out);
    out
}

fn first_difference(left: &Value, right: &Value, at: &str) -> Option<String> {
    match (left, right) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .find_map(|key| match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => first_difference(x, y, &format!("{at}.{key}")),
                    (x, y) => Some(format!("{at}.{key}: converted {x:?}, published {y:?}")),
                })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &format!("{at}[{i}]"))),
        _ => (left != right).then(|| format!("{at}: converted {left}, published {right}")),
    }
}

/// Runs `f`, and fails if it took longer than `limit`.
fn within<T>(limit: Duration, what: &str, f: impl FnOnce() -> T) -> T {
    let clock = Instant::now();
    let result = f();
    let took = clock.elapsed();
    eprintln!("{what}: {took:?}");
    assert!(took < limit, "{what} took {took:?}");
    result
}

#[test]
fn hostile_entities_are_refused_before_any_expansion() {
    let definitions = Definitions::core().expect("the core definitions");
    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE Patient [\n<!ENTITY lol0 \"lol\">\n");
    for level in 1..10 {
        let previous = format!("&lol{};", level - 1).repeat(10);
        laughs.push_str(&format!("<!ENTITY lol{level} \"{previous}\">\n"));
    }
    laughs.push_str("]>\n<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&lol9;\"/></Patient>");
    let result = within(Duration::from_secs(1), "billion laughs", || {
        xml::to_json(&laughs, &definitions)
    });
    assert!(matches!(result, Err(XmlError::Doctype)), "{result:?}");

    for external in [
        "<!DOCTYPE Patient [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><Patient><id value=\"&xxe;\"/></Patient>",
        "<!DOCTYPE Patient [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/x.dtd\"> %p;]><Patient/>",
        "<!DOCTYPE Patient SYSTEM \"http://127.0.0.1:9/patient.dtd\"><Patient/>",
    ] {
        let result = within(Duration::from_secs(1), "external entity", || {
            xml::to_json(external, &definitions)
        });
        assert!(
            matches!(result, Err(XmlError::Doctype)),
            "{external}: {result:?}"
        );
    }
    // Without a DTD an entity other than XML's five is not declared: not well-formed.
    let result = xml::to_json("<Patient><id value=\"&xxe;\"/></Patient>", &definitions);
    assert!(matches!(result, Err(XmlError::Syntax(_))), "{result:?}");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let definitions = Definitions::core().expect("the core definitions");
    let depth = 100_000;
    let extensions = format!(
        "<Patient xmlns=\"http://hl7.org/fhir\">{}{}</Patient>",
        "<extension url=\"u\">".repeat(depth),
        "</extension>".repeat(depth)
    );
    let result = within(Duration::from_secs(5), "100,000 nested extensions", || {
        xml::to_json(&extensions, &definitions)
    });
    // Refused by the scan before parsing (roxmltree recurses once per nested element).
    assert!(
        matches!(&result, Err(XmlError::TooDeep { limit: xml::PARSER_DEPTH, location }) if location == "line 1"),
        "{result:?}"
    );
    // Past the reader's own bound but within the scan's, the error names the FHIR path.
    // As deep as the scan lets through: the parser's deepest recursion.
    let past_the_reader = xml::PARSER_DEPTH - 1;
    let extensions = format!(
        "<Patient xmlns=\"http://hl7.org/fhir\">{}{}</Patient>",
        "<extension url=\"u\">".repeat(past_the_reader),
        "</extension>".repeat(past_the_reader)
    );
    let result = xml::to_json(&extensions, &definitions);
    assert!(
        matches!(&result, Err(XmlError::TooDeep { limit: 128, location }) if location.starts_with("Patient.extension[0].extension[0]")),
        "{result:?}"
    );
    let narrative = format!(
        "<Patient><text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\">{}x{}</div></text></Patient>",
        "<b>".repeat(depth),
        "</b>".repeat(depth)
    );
    let result = within(
        Duration::from_secs(5),
        "100,000 nested narrative elements",
        || xml::to_json(&narrative, &definitions),
    );
    assert!(
        matches!(result, Err(XmlError::TooDeep { .. })),
        "{result:?}"
    );
    // An unknown element is one problem; what it holds is not read.
    let unknown = format!(
        "<Patient>{}{}</Patient>",
        "<a>".repeat(past_the_reader),
        "</a>".repeat(past_the_reader)
    );
    let result = xml::to_json(&unknown, &definitions);
    assert!(
        matches!(&result, Err(XmlError::Invalid(p)) if p.len() == 1),
        "{result:?}"
    );
}

#[test]
fn large_text_is_bounded() {
    let definitions = Definitions::core().expect("the core definitions");
    let ten_mb = 10 * 1024 * 1024;
    let text_node = format!("<Patient><id value=\"a\"/>{}</Patient>", "x".repeat(ten_mb));
    let result = within(Duration::from_secs(5), "a 10 MB text node", || {
        xml::to_json(&text_node, &definitions)
    });
    assert!(
        matches!(&result, Err(XmlError::Invalid(p)) if p[0].message.contains("text is not allowed")),
        "{result:?}"
    );
    // A 10 MB value (an attachment's data) is FHIR, and converts.
    let attachment = format!(
        "<Binary><contentType value=\"text/plain\"/><data value=\"{}\"/></Binary>",
        "QUJD".repeat(ten_mb / 4)
    );
    let json = within(Duration::from_secs(5), "a 10 MB value attribute", || {
        xml::to_json(&attachment, &definitions)
    })
    .expect("a large Binary converts");
    assert_eq!(json["data"].as_str().map(str::len), Some(ten_mb));
    // Past the limit nothing is parsed.
    let limits = XmlLimits::default();
    let huge = format!("<Patient>{}</Patient>", " ".repeat(limits.max_bytes));
    let result = within(Duration::from_millis(100), "past the size limit", || {
        xml::convert(&huge, &definitions, &limits)
    });
    assert!(
        matches!(result, Err(XmlError::TooLarge { .. })),
        "{result:?}"
    );
}
