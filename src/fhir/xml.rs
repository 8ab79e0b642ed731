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

use std::str::FromStr as _;
use std::sync::Arc;

use roxmltree::{Document, Node, NodeType, ParsingOptions};
use rustc_hash::FxHashMap;
use serde_json::{Map, Number, Value};

use crate::fhir::definitions::{Definitions, ElementInfo};

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

    /// A resource element (the document's root, or the one inside `contained`): an object with
    /// its `resourceType`.
    fn resource(
        &mut self,
        node: Node<'a, 'input>,
        location: &str,
        depth: usize,
    ) -> Result<Value, XmlError> {
        self.enter(depth, location)?;
        let name = node.tag_name().name();
        let mut object = Map::new();
        object.insert("resourceType".into(), Value::String(name.to_owned()));
        if !self.in_fhir_namespace(node, location) {
            return Ok(Value::Object(object));
        }
        let root = if self.is_resource_type(name) {
            self.definitions.type_root(name)
        } else {
            None
        };
        let Some(root) = root else {
            self.problem(
                node,
                location,
                format!("{name} is not a FHIR R4 resource type"),
            );
            return Ok(Value::Object(object));
        };
        // A resource has no attributes (its id is an element); a schema location may be given.
        for attribute in node.attributes() {
            if attribute.namespace() != Some(XSI_NAMESPACE) {
                self.problem(
                    node,
                    location,
                    format!(
                        "attribute {} is not allowed on a resource (its id is an element)",
                        attribute.name()
                    ),
                );
            }
        }
        self.children(node, &root, &mut object, location, depth)?;
        Ok(Value::Object(object))
    }

    /// Whether an element is in the FHIR namespace (or none); a problem where it is not.
    fn in_fhir_namespace(&mut self, node: Node, location: &str) -> bool {
        match node.tag_name().namespace() {
            None | Some(FHIR_NAMESPACE) => true,
            Some(other) => {
                self.problem(
                    node,
                    location,
                    format!(
                        "element {} is in namespace {other}, not FHIR's ({FHIR_NAMESPACE})",
                        node.tag_name().name()
                    ),
                );
                false
            }
        }
    }

    /// The child elements of `node` (an element defined by `parent`) into `out`, by name.
    fn children(
        &mut self,
        node: Node<'a, 'input>,
        parent: &ElementInfo,
        out: &mut Map<String, Value>,
        location: &str,
        depth: usize,
    ) -> Result<(), XmlError> {
        let mut groups: Vec<Group<'a, 'input>> = Vec::new();
        // Which name each choice element (`value[x]`) was given, to refuse a second.
        let mut choices: Vec<(String, &'a str)> = Vec::new();
        for child in node.children() {
            match child.node_type() {
                NodeType::Element => {}
                NodeType::Text => {
                    if !is_xml_whitespace(child.text().unwrap_or("")) {
                        self.problem(child, location, "text is not allowed here, only elements");
                    }
                    continue;
                }
                _ => continue,
            }
            let name = child.tag_name().name();
            let child_location = format!("{location}.{name}");
            let Some(info) = self.definitions.child_element(parent, name) else {
                self.problem(
                    child,
                    &child_location,
                    format!(
                        "unknown element {name}: not defined for {}",
                        describe(parent)
                    ),
                );
                continue;
            };
            if info.is_xml_attribute() {
                self.problem(
                    child,
                    &child_location,
                    format!("{name} is an attribute in FHIR XML, not an element"),
                );
                continue;
            }
            if self.kind(&info) != Kind::Xhtml && !self.in_fhir_namespace(child, &child_location) {
                continue;
            }
            if let Some(position) = groups.iter().position(|g| g.name == name) {
                groups[position].nodes.push(child);
                continue;
            }
            if info.path.ends_with("[x]") {
                if let Some((_, first)) = choices.iter().find(|(path, _)| *path == info.path) {
                    let message = format!("{name} and {first} are the same choice element");
                    self.problem(child, &child_location, message);
                    continue;
                }
                choices.push((info.path.clone(), name));
            }
            groups.push(Group {
                name,
                info,
                nodes: vec![child],
            });
        }
        for group in groups {
            self.group(group, out, location, depth)?;
        }
        Ok(())
    }

    /// One name's elements into `out`: an array where the element repeats, else one value.
    fn group(
        &mut self,
        group: Group<'a, 'input>,
        out: &mut Map<String, Value>,
        location: &str,
        depth: usize,
    ) -> Result<(), XmlError> {
        let Group { name, info, nodes } = group;
        let repeats = info.repeats();
        if !repeats && nodes.len() > 1 {
            let message = format!(
                "{name} may occur at most once; found {} (only the first is read)",
                nodes.len()
            );
            self.problem(nodes[1], &format!("{location}.{name}"), message);
        }
        let nodes = if repeats { &nodes[..] } else { &nodes[..1] };
        let kind = self.kind(&info);
        let mut values = Vec::with_capacity(nodes.len());
        let mut extras = Vec::with_capacity(nodes.len());
        for (index, node) in nodes.iter().enumerate() {
            let here = if repeats {
                format!("{location}.{name}[{index}]")
            } else {
                format!("{location}.{name}")
            };
            match kind {
                Kind::Primitive(json_type) => {
                    let (value, extra) =
                        self.primitive(*node, &info, json_type, &here, depth + 1)?;
                    values.push(value);
                    extras.push(extra);
                }
                Kind::Xhtml => values.push(self.xhtml(*node, &here, depth + 1)?),
                Kind::Resource => {
                    values.push(self.resource_holder(*node, &info, &here, depth + 1)?)
                }
                Kind::Complex => values.push(self.complex(*node, &info, &here, depth + 1)?),
            }
        }
        if repeats {
            // A repeating primitive is two aligned arrays, `null` where an item has no value or
            // no id/extension (json.html); each only where some item has something for it, as
            // the R4 publication writes them (`_event` alone when no event has a value).
            if values.iter().any(|v| !v.is_null()) {
                out.insert(name.to_owned(), Value::Array(values));
            }
            if extras.iter().any(|e| !e.is_null()) {
                out.insert(format!("_{name}"), Value::Array(extras));
            }
        } else {
            if let Some(value) = values.pop().filter(|v| !v.is_null()) {
                out.insert(name.to_owned(), value);
            }
            if let Some(extra) = extras.pop().filter(|e| !e.is_null()) {
                out.insert(format!("_{name}"), extra);
            }
        }
        Ok(())
    }

    /// A primitive element: its value (`null` when it has none) and its `_name` companion (the
    /// `id` attribute and the extensions; `null` when there are none).
    fn primitive(
        &mut self,
        node: Node<'a, 'input>,
        info: &ElementInfo,
        json_type: JsonType,
        location: &str,
        depth: usize,
    ) -> Result<(Value, Value), XmlError> {
        self.enter(depth, location)?;
        let mut value = Value::Null;
        let mut extra = Map::new();
        for (name, text) in self.attributes(node, info, location) {
            if name == "value" {
                value = self.primitive_value(node, text, json_type, location);
            } else {
                extra.insert(name.to_owned(), Value::String(text.to_owned()));
            }
        }
        self.children(node, info, &mut extra, location, depth)?;
        if value.is_null() && !extra.contains_key("extension") {
            self.problem(
                node,
                location,
                "a primitive element needs a value attribute or extensions (ele-1)",
            );
        }
        let extra = if extra.is_empty() {
            Value::Null
        } else {
            Value::Object(extra)
        };
        Ok((value, extra))
    }

    /// A value attribute as the JSON value of its type; an ill-typed one stays a string.
    fn primitive_value(
        &mut self,
        node: Node,
        text: &str,
        json_type: JsonType,
        location: &str,
    ) -> Value {
        let typed = match json_type {
            // An empty value is a problem already; it is not also one of type.
            _ if text.is_empty() => return Value::String(String::new()),
            JsonType::String => return Value::String(text.to_owned()),
            JsonType::Boolean => match text {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            JsonType::Integer | JsonType::PositiveInt | JsonType::UnsignedInt => {
                integer(text, json_type).map(Value::from)
            }
            JsonType::Decimal => is_decimal(text)
                .then(|| Number::from_str(text).ok())
                .flatten()
                .map(Value::Number),
        };
        typed.unwrap_or_else(|| {
            let kind = match json_type {
                JsonType::Boolean => "a boolean (true or false)",
                JsonType::Integer => "an integer (32-bit)",
                JsonType::PositiveInt => "a positiveInt (1 to 2147483647)",
                JsonType::UnsignedInt => "an unsignedInt (0 to 2147483647)",
                JsonType::Decimal => "a decimal within the range of a double",
                JsonType::String => "a string",
            };
            self.problem(node, location, format!("value {text:?} is not {kind}"));
            Value::String(text.to_owned())
        })
    }

    /// A complex element (a data type or backbone element): its attributes (`id`, `url`) and
    /// elements as one object.
    fn complex(
        &mut self,
        node: Node<'a, 'input>,
        info: &ElementInfo,
        location: &str,
        depth: usize,
    ) -> Result<Value, XmlError> {
        self.enter(depth, location)?;
        let mut object = Map::new();
        for (name, text) in self.attributes(node, info, location) {
            object.insert(name.to_owned(), Value::String(text.to_owned()));
        }
        self.children(node, info, &mut object, location, depth)?;
        if object.keys().all(|k| k == "id") {
            self.problem(
                node,
                location,
                "an element needs child elements or extensions (ele-1)",
            );
        }
        Ok(Value::Object(object))
    }

    /// The attributes of an element that its definition has as XML attributes (`id`, `url`,
    /// `value`); a problem for any other.
    fn attributes(
        &mut self,
        node: Node<'a, 'input>,
        info: &ElementInfo,
        location: &str,
    ) -> Vec<(&'a str, &'a str)> {
        let mut found = Vec::new();
        for attribute in node.attributes() {
            let name = attribute.name();
            let known = attribute.namespace().is_none()
                && self
                    .definitions
                    .child_element(info, name)
                    .is_some_and(|a| a.is_xml_attribute());
            if !known {
                self.problem(
                    node,
                    location,
                    format!("attribute {name} is not defined for {}", describe(info)),
                );
            } else {
                if attribute.value().is_empty() {
                    self.problem(
                        node,
                        location,
                        format!(
                            "attribute {name} is empty (FHIR attributes have a value or are absent)"
                        ),
                    );
                }
                found.push((name, attribute.value()));
            }
        }
        found
    }

    /// An element holding a resource (`contained`, `Bundle.entry.resource`): the one resource
    /// element inside, as an object with its own `resourceType`.
    fn resource_holder(
        &mut self,
        node: Node<'a, 'input>,
        info: &ElementInfo,
        location: &str,
        depth: usize,
    ) -> Result<Value, XmlError> {
        self.enter(depth, location)?;
        for attribute in node.attributes() {
            let message = format!(
                "attribute {} is not allowed on {} (it holds a resource)",
                attribute.name(),
                info.path
            );
            self.problem(node, location, message);
        }
        let mut inner = None;
        for child in node.children() {
            match child.node_type() {
                NodeType::Element if inner.is_none() => inner = Some(child),
                NodeType::Element => {
                    self.problem(child, location, "holds more than one resource");
                }
                NodeType::Text if !is_xml_whitespace(child.text().unwrap_or("")) => {
                    self.problem(child, location, "text is not allowed here, only a resource");
                }
                _ => {}
            }
        }
        let Some(inner) = inner else {
            self.problem(node, location, "holds no resource");
            return Ok(Value::Null);
        };
        let inner_location = format!("{location}.ofType({})", inner.tag_name().name());
        self.resource(inner, &inner_location, depth + 1)
    }

    /// `Narrative.div`: the XHTML element written back as a string, with its namespace.
    fn xhtml(&mut self, node: Node, location: &str, depth: usize) -> Result<Value, XmlError> {
        self.enter(depth, location)?;
        if node.tag_name().namespace() != Some(XHTML_NAMESPACE) || node.tag_name().name() != "div" {
            self.problem(
                node,
                location,
                format!(
                    "the narrative must be a div element in the XHTML namespace ({XHTML_NAMESPACE})"
                ),
            );
            return Ok(Value::Null);
        }
        let mut text = String::with_capacity(node.range().len() + 48);
        text.push_str("<div xmlns=\"");
        text.push_str(XHTML_NAMESPACE);
        text.push('"');
        self.xhtml_attributes(node, location, &mut text);
        self.xhtml_content(node, location, depth, &mut text)?;
        text.push_str("</div>");
        Ok(Value::String(text))
    }

    /// An XHTML element's attributes; `xml:lang` keeps its prefix, other namespaces are refused.
    fn xhtml_attributes(&mut self, node: Node, location: &str, out: &mut String) {
        for attribute in node.attributes() {
            match attribute.namespace() {
                None => {}
                Some(XML_NAMESPACE) => out.push_str(" xml:"),
                Some(other) => {
                    let message = format!(
                        "narrative attribute {} is in namespace {other}; only XHTML's are allowed",
                        attribute.name()
                    );
                    self.problem(node, location, message);
                    continue;
                }
            }
            if attribute.namespace().is_none() {
                out.push(' ');
            }
            out.push_str(attribute.name());
            out.push_str("=\"");
            escape_into(attribute.value(), true, out);
            out.push('"');
        }
    }

    /// What follows an XHTML element's start tag: `/>`, or `>` with its content (the caller
    /// writes the end tag when there was content).
    fn xhtml_content(
        &mut self,
        node: Node,
        location: &str,
        depth: usize,
        out: &mut String,
    ) -> Result<(), XmlError> {
        out.push('>');
        for child in node.children() {
            match child.node_type() {
                NodeType::Text => escape_into(child.text().unwrap_or(""), false, out),
                NodeType::Element => self.xhtml_element(child, location, depth + 1, out)?,
                // Comments and processing instructions are not content.
                _ => {}
            }
        }
        Ok(())
    }

    fn xhtml_element(
        &mut self,
        node: Node,
        location: &str,
        depth: usize,
        out: &mut String,
    ) -> Result<(), XmlError> {
        self.enter(depth, location)?;
        let name = node.tag_name().name();
        if node.tag_name().namespace() != Some(XHTML_NAMESPACE) {
            let message = format!("narrative element {name} is not in the XHTML namespace");
            self.problem(node, location, message);
            return Ok(());
        }
        out.push('<');
        out.push_str(name);
        self.xhtml_attributes(node, location, out);
        if node.has_children() {
            self.xhtml_content(node, location, depth, out)?;
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        } else {
            out.push_str("/>");
        }
        Ok(())
    }
}

/// Fails when elements nest deeper than `limit`, by a scan of the markup alone: start tags
/// (skipping quoted attribute values), end tags, empty-element tags; comments, CDATA sections
/// and processing instructions are skipped. At anything else the scan stops, as the parser
/// refuses it there (a DOCTYPE, `<!` in content) or sees no more markup (an unterminated
/// construct runs to the end): every element the parser can reach has been counted.
pub(crate) fn nesting_within(xml: &str, limit: usize) -> Result<(), XmlError> {
    let bytes = xml.as_bytes();
    let find = |needle: &[u8], from: usize| {
        memchr::memmem::find(bytes.get(from..)?, needle).map(|at| from + at + needle.len())
    };
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(offset) = memchr::memchr(b'<', &bytes[at..]) {
        let start = at + offset;
        let rest = &bytes[start..];
        let next = if rest.starts_with(b"<!--") {
            find(b"-->", start + 4)
        } else if rest.starts_with(b"<![CDATA[") {
            find(b"]]>", start + 9)
        } else if rest.starts_with(b"<?") {
            find(b"?>", start + 2)
        } else if rest.starts_with(b"<!") {
            None
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            find(b">", start + 2)
        } else {
            let end = tag_end(bytes, start + 1);
            if end.is_some_and(|end| bytes[end - 2] != b'/') {
                depth += 1;
                if depth > limit {
                    let line = xml[..start].bytes().filter(|b| *b == b'\n').count() + 1;
                    return Err(XmlError::TooDeep {
                        location: format!("line {line}"),
                        limit,
                    });
                }
            }
            end
        };
        let Some(next) = next else {
            break;
        };
        at = next;
    }
    Ok(())
}

/// Just past the `>` of a start tag whose name starts at `from`, skipping quoted values.
fn tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        match *bytes.get(at)? {
            b'>' => return Some(at + 1),
            quote @ (b'"' | b'\'') => {
                at += 1 + memchr::memchr(quote, bytes.get(at + 1..)?)? + 1;
            }
            _ => at += 1,
        }
    }
}

/// An element for people: its path, and its data type where it has one (`Patient.name
/// (HumanName)`, `Patient.contact`, `Patient`).
fn describe(info: &ElementInfo) -> String {
    match info.types.as_slice() {
        [single] if single != "BackboneElement" && single != "Element" => {
            format!("{} ({single})", info.path)
        }
        _ => info.path.clone(),
    }
}

/// XML whitespace (S in the XML grammar): space, tab, carriage return, line feed.
fn is_xml_whitespace(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Escapes text for XML content (`&`, `<`, `>`) or a double-quoted attribute (also `"` and the
/// whitespace characters attribute-value normalisation would turn into spaces).
fn escape_into(text: &str, attribute: bool, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// An integer of the FHIR type's lexical form and range (32-bit: FHIR integers are).
fn integer(text: &str, json_type: JsonType) -> Option<i64> {
    let digits = match text.strip_prefix('-') {
        // Only integer has a sign in its lexical form (`-0` too).
        Some(_) if json_type != JsonType::Integer => return None,
        Some(digits) => digits,
        None => text,
    };
    let lexical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !lexical || digits.len() > 11 {
        return None;
    }
    let value: i64 = text.parse().ok()?;
    let minimum = match json_type {
        JsonType::PositiveInt => 1,
        JsonType::UnsignedInt => 0,
        _ => i64::from(i32::MIN),
    };
    (minimum..=i64::from(i32::MAX))
        .contains(&value)
        .then_some(value)
}

/// The R4 decimal lexical form, which is also JSON's number grammar:
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_decimal(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = usize::from(bytes.first() == Some(&b'-'));
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = digits(at);
    if whole == 0 || (whole > 1 && bytes[at] == b'0') {
        return false;
    }
    at += whole;
    if bytes.get(at) == Some(&b'.') {
        let fraction = digits(at + 1);
        if fraction == 0 {
            return false;
        }
        at += 1 + fraction;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = digits(at);
        if exponent == 0 {
            return false;
        }
        at += exponent;
    }
    at == bytes.len()
}

#[cfg(test)]
mod tests;
