//! Resources and complex elements: child elements by name, attributes, held resources.

use roxmltree::{Node, NodeType};
use serde_json::{Map, Value};

use super::{FHIR_NAMESPACE, Group, Kind, Reader, XSI_NAMESPACE, XmlError};
use crate::fhir::definitions::ElementInfo;

impl<'a, 'input> Reader<'a, 'input> {
    /// A resource element (the document's root, or the one inside `contained`): an object with
    /// its `resourceType`.
    pub(super) fn resource(
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
    pub(super) fn children(
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
    pub(super) fn attributes(
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
