//! XHTML narrative safety (txt-1): the elements and attributes a narrative may hold.

/// The narrative rule behind `htmlChecks()` (txt-1): XHTML whose elements are the basic
/// formatting ones FHIR allows, with no scripts, event handlers or `javascript:` links.
pub fn html_is_safe(div: &str) -> bool {
    const ALLOWED: &[&str] = &[
        "a",
        "abbr",
        "acronym",
        "address",
        "area",
        "b",
        "bdo",
        "big",
        "blockquote",
        "br",
        "caption",
        "center",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "map",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "tt",
        "u",
        "ul",
        "var",
    ];
    // roxmltree recurses per nested element: never hand it what would exhaust the stack
    // (`htmlChecks()` says such a narrative cannot be judged before calling this).
    if crate::fhir::xml::nesting_within(div, crate::fhir::xml::PARSER_DEPTH).is_err() {
        return false;
    }
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let Ok(document) = roxmltree::Document::parse_with_options(div, options) else {
        return false;
    };
    let root = document.root_element();
    if root.tag_name().name() != "div" {
        return false;
    }
    root.descendants()
        .filter(|n| n.is_element())
        .all(|element| {
            ALLOWED.contains(&element.tag_name().name())
                && element.attributes().all(|attribute| {
                    let name = attribute.name().to_ascii_lowercase();
                    !name.starts_with("on")
                        && !((name == "href" || name == "src")
                            && attribute
                                .value()
                                .trim_start()
                                .to_ascii_lowercase()
                                .starts_with("javascript:"))
                })
        })
}
