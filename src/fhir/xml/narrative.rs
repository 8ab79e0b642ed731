//! The narrative (`Narrative.div`): XHTML written back as a string with its namespace.

use roxmltree::{Node, NodeType};
use serde_json::Value;

use super::{Reader, XHTML_NAMESPACE, XML_NAMESPACE, XmlError};

impl<'a, 'input> Reader<'a, 'input> {
    /// `Narrative.div`: the XHTML element written back as a string, with its namespace.
    pub(super) fn xhtml(
        &mut self,
        node: Node,
        location: &str,
        depth: usize,
    ) -> Result<Value, XmlError> {
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
