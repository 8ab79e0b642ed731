//! FHIR R4 XML read into the FHIR R4 JSON form, as https://hl7.org/fhir/R4/xml.html and
//! json.html define the two, driven by the definitions (`Definitions`): which names are
//! elements, which are attributes, which repeat (JSON arrays, even of one), which are primitives
//! (a `value` attribute; `id` and extensions in the `_name` companion, with `null`s aligning
//! arrays) and of which JSON type, which hold a resource (`contained`, `Bundle.entry.resource`)
//! and which are XHTML (`Narrative.div`, kept as a string of XHTML with its namespace).
//!
//! Problems of FHIR content (an element or attribute the definitions do not know, a value that
//! is not of its type, text where only elements may be, an element in a foreign namespace) are
//! collected with FHIRPath-like locations (`Patient.name[0].given[1]`) and XML line numbers:
//! `convert` returns them beside the best-effort JSON, `to_json` refuses the document when there
//! is any. Input that is not safe or not XML fails at once: more than `XmlLimits` allow (bytes,
//! nodes, nesting), a DOCTYPE (no entity of a DTD is ever expanded and nothing is fetched: no
//! billion laughs, no XXE), or XML that is not well-formed.
//!
//! The FHIR namespace is expected; elements without a namespace are accepted too, as UK Core's
//! published examples have none. Comments, processing instructions and whitespace between
//! elements are ignored, inside the narrative too.
//!
//! Decimals become JSON numbers through `serde_json::Number::from_str`: without serde_json's
//! `arbitrary_precision` this crate keeps integers that fit 64 bits exactly and other decimals
//! as the nearest IEEE double (about 15–17 significant digits), so `1.50` reads as `1.5`.

mod elements;
mod narrative;
mod primitives;
mod scan;

use std::sync::Arc;

use roxmltree::{Document, Node, ParsingOptions};
use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::fhir::definitions::{Definitions, ElementInfo};

pub(crate) use scan::nesting_within;

pub const FHIR_NAMESPACE: &str = "http://hl7.org/fhir";
pub const XHTML_NAMESPACE: &str = "http://www.w3.org/1999/xhtml";
const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";
const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// The deepest nesting handed to roxmltree, which parses one nested element per stack frame (a
/// few KB each in a debug build, where a 2 MB thread holds some 256): a scan of the markup
/// refuses deeper documents before it parses them, whatever `XmlLimits::max_depth` says.
pub const PARSER_DEPTH: usize = 192;

/// Bounds on what is read, so hostile input costs little.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// The largest document read, in bytes.
    pub max_bytes: usize,
    /// The deepest nesting of elements, narrative included (`PARSER_DEPTH` bounds it too).
    pub max_depth: usize,
    /// The most XML nodes (elements, text, comments) in a document.
    pub max_nodes: u32,
    /// The most problems listed; the rest are counted.
    pub max_problems: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        Self {
            // As much as a response body may be.
            max_bytes: crate::util::DEFAULT_BODY_LIMIT,
            // The deepest of UK Core's and the R4 examples (2,700 documents) nest 19 deep.
            max_depth: 128,
            max_nodes: 4_000_000,
            max_problems: 100,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("the XML is {size} bytes; at most {limit} are read")]
    TooLarge { size: usize, limit: usize },
    #[error(
        "the XML has a DOCTYPE declaration: refused, as FHIR XML has none and its entities could \
         expand without bound or reach outside the document"
    )]
    Doctype,
    #[error("the XML has more than {limit} nodes")]
    TooManyNodes { limit: u32 },
    #[error("the XML is not well-formed: {0}")]
    Syntax(String),
    #[error("the XML nests deeper than {limit} elements at {location}")]
    TooDeep { location: String, limit: usize },
    #[error("{} problem(s) in the FHIR XML; the first: {}", .0.len(), first_problem(.0))]
    Invalid(Vec<XmlProblem>),
}

fn first_problem(problems: &[XmlProblem]) -> String {
    problems
        .first()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// What is wrong with the FHIR content at one place of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlProblem {
    /// FHIRPath-like, with the XML's element names: `Bundle.entry[0].resource.ofType(Patient).name[1]`.
    pub location: String,
    /// The line of the XML where the offending node starts (1-based).
    pub line: u32,
    pub message: String,
}

impl std::fmt::Display for XmlProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (line {}): {}",
            self.location, self.line, self.message
        )
    }
}

/// The JSON form of a document, and what kept it from being a faithful one.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    pub json: Value,
    pub problems: Vec<XmlProblem>,
}

/// The JSON form of a FHIR XML resource; any problem of its FHIR content refuses it
/// (`XmlError::Invalid` lists them).
pub fn to_json(xml: &str, definitions: &Definitions) -> Result<Value, XmlError> {
    let conversion = convert(xml, definitions, &XmlLimits::default())?;
    if conversion.problems.is_empty() {
        Ok(conversion.json)
    } else {
        Err(XmlError::Invalid(conversion.problems))
    }
}

/// The JSON form of a FHIR XML resource with the problems found on the way: the JSON leaves out
/// what is unknown and keeps ill-typed values as strings, so a validator can judge the rest.
pub fn convert(
    xml: &str,
    definitions: &Definitions,
    limits: &XmlLimits,
) -> Result<Conversion, XmlError> {
    if xml.len() > limits.max_bytes {
        return Err(XmlError::TooLarge {
            size: xml.len(),
            limit: limits.max_bytes,
        });
    }
    nesting_within(xml, PARSER_DEPTH)?;
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits.max_nodes,
    };
    let document = Document::parse_with_options(xml, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => XmlError::Doctype,
        roxmltree::Error::NodesLimitReached => XmlError::TooManyNodes {
            limit: limits.max_nodes,
        },
        other => XmlError::Syntax(other.to_string()),
    })?;
    let mut reader = Reader {
        definitions,
        limits,
        document: std::marker::PhantomData,
        problems: Vec::new(),
        unlisted_problems: 0,
        kinds: FxHashMap::default(),
    };
    let root = document.root_element();
    let json = reader.resource(root, root.tag_name().name(), 0)?;
    let mut problems = located(xml, reader.problems);
    if reader.unlisted_problems > 0 {
        problems.push(XmlProblem {
            location: root.tag_name().name().to_owned(),
            line: 1,
            message: format!("and {} more problem(s)", reader.unlisted_problems),
        });
    }
    Ok(Conversion { json, problems })
}

/// How an element's content is represented, from its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Primitive(JsonType),
    Xhtml,
    /// `contained`, `Bundle.entry.resource`: one resource element inside.
    Resource,
    Complex,
}

/// The JSON type of a primitive's value (json.html: booleans and numbers are not strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonType {
    Boolean,
    Integer,
    PositiveInt,
    UnsignedInt,
    Decimal,
    String,
}

impl JsonType {
    fn of(code: &str) -> Self {
        match code {
            "boolean" => Self::Boolean,
            "integer" => Self::Integer,
            "positiveInt" => Self::PositiveInt,
            "unsignedInt" => Self::UnsignedInt,
            "decimal" => Self::Decimal,
            _ => Self::String,
        }
    }
}

struct Reader<'a, 'input> {
    definitions: &'a Definitions,
    limits: &'a XmlLimits,
    /// The nodes read are of one document, borrowed as long as the reader.
    document: std::marker::PhantomData<Node<'a, 'input>>,
    problems: Vec<Pending>,
    unlisted_problems: usize,
    /// Kinds by type code, as the definitions answer them.
    kinds: FxHashMap<String, Kind>,
}

/// A problem before its line is known: lines are counted once, at the end, in one pass.
struct Pending {
    offset: usize,
    location: String,
    message: String,
}

/// Problems in document order (siblings are read name by name), with their lines.
fn located(xml: &str, mut pending: Vec<Pending>) -> Vec<XmlProblem> {
    pending.sort_by_key(|p| p.offset);
    let mut line = 1;
    let mut counted_to = 0;
    pending
        .into_iter()
        .map(|p| {
            let offset = p.offset.clamp(counted_to, xml.len());
            line += memchr::memchr_iter(b'\n', &xml.as_bytes()[counted_to..offset]).count();
            counted_to = offset;
            XmlProblem {
                location: p.location,
                line: u32::try_from(line).unwrap_or(u32::MAX),
                message: p.message,
            }
        })
        .collect()
}

/// The elements of one name under one parent, in document order.
struct Group<'a, 'input> {
    name: &'a str,
    info: Arc<ElementInfo>,
    nodes: Vec<Node<'a, 'input>>,
}

impl<'a, 'input> Reader<'a, 'input> {
    fn problem(&mut self, node: Node, location: &str, message: impl Into<String>) {
        if self.problems.len() >= self.limits.max_problems {
            self.unlisted_problems += 1;
            return;
        }
        self.problems.push(Pending {
            offset: node.range().start,
            location: location.to_owned(),
            message: message.into(),
        });
    }

    fn enter(&self, depth: usize, location: &str) -> Result<(), XmlError> {
        // `depth` counts from 0 at the root element.
        if depth >= self.limits.max_depth {
            return Err(XmlError::TooDeep {
                location: location.to_owned(),
                limit: self.limits.max_depth,
            });
        }
        Ok(())
    }

    fn kind(&mut self, info: &ElementInfo) -> Kind {
        let [code] = info.types.as_slice() else {
            return Kind::Complex;
        };
        if let Some(kind) = self.kinds.get(code) {
            return *kind;
        }
        let kind = if code == "xhtml" {
            Kind::Xhtml
        } else if code == "Resource" || code == "DomainResource" || self.is_resource_type(code) {
            Kind::Resource
        } else if self.definitions.is_primitive_type(code) {
            Kind::Primitive(JsonType::of(code))
        } else {
            Kind::Complex
        };
        self.kinds.insert(code.clone(), kind);
        kind
    }

    /// A concrete resource type: one an instance can be of.
    fn is_resource_type(&self, name: &str) -> bool {
        self.definitions.is_resource_type(name)
            && self
                .definitions
                .structure(name)
                .is_some_and(|sd| sd["abstract"] != true)
    }
}

#[cfg(test)]
mod tests;
