//! Primitive elements: the value attribute as its type's JSON value, and the `_name` companion.

use std::str::FromStr as _;

use roxmltree::Node;
use serde_json::{Map, Number, Value};

use super::{JsonType, Reader, XmlError};
use crate::fhir::definitions::ElementInfo;

impl<'a, 'input> Reader<'a, 'input> {
    /// A primitive element: its value (`null` when it has none) and its `_name` companion (the
    /// `id` attribute and the extensions; `null` when there are none).
    pub(super) fn primitive(
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
}

/// An integer of the FHIR type's lexical form and range (32-bit: FHIR integers are).
pub(super) fn integer(text: &str, json_type: JsonType) -> Option<i64> {
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
pub(super) fn is_decimal(text: &str) -> bool {
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
