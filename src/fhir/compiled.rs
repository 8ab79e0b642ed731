//! The FHIR R4 JSON schema compiled into a table of rules, for the handful of keywords the
//! official schema uses (`$ref`, `type`, `properties`, `additionalProperties: false`,
//! `required`, `items`, `enum`, `const`, `pattern`). A general JSON Schema validator spends most
//! of its time being general; this walks each body once, looks each property up in one hash
//! map, and checks primitives with the hand-written matchers of `primitive`.
//!
//! It gives the same errors, with the same messages, as the `jsonschema` crate on the same
//! schema (draft 6: a `$ref` replaces its siblings): a test compares the two on mutated
//! resources, and so does a fuzz target. A schema with any other keyword is refused at compile
//! time, and `FhirSchema` falls back to the general validator.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use serde_json::Value;

use super::primitive::{PATTERN_KEYWORD, Primitive};

/// Keywords that change nothing about validity.
const ANNOTATIONS: &[&str] = &["description"];

pub struct CompiledSchema {
    nodes: Vec<Node>,
    definitions: HashMap<String, usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Number,
    Boolean,
    Array,
    Object,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Boolean => "boolean",
            Kind::Array => "array",
            Kind::Object => "object",
        }
    }

    fn accepts(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (Kind::String, Value::String(_))
                | (Kind::Number, Value::Number(_))
                | (Kind::Boolean, Value::Bool(_))
                | (Kind::Array, Value::Array(_))
                | (Kind::Object, Value::Object(_))
        )
    }
}

enum Pattern {
    Native(Primitive),
    /// A pattern without a matcher, left to the regex engine (in the FHIR schema, only on
    /// numbers and booleans, where it never applies to a valid value).
    Regex(Box<jsonschema::Validator>),
}

#[derive(Default)]
struct Node {
    /// Draft 6: a node with `$ref` is only its target.
    reference: Option<usize>,
    kind: Option<Kind>,
    pattern: Option<(Pattern, String)>,
    /// Allowed strings, and the `enum` array as written (for the message).
    enumeration: Option<(Vec<String>, Value)>,
    constant: Option<Value>,
    required: Vec<String>,
    /// Property names are hashed on every lookup: a fast hash, as the table is fixed (a body's
    /// names only look up, never insert, so they cannot degrade it).
    properties: Option<FxHashMap<String, usize>>,
    /// `additionalProperties: false`.
    closed: bool,
    items: Option<usize>,
}

/// One step into a body, borrowed from it.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// One way a body breaks the schema, where it does.
#[derive(Debug)]
pub struct Violation<'a> {
    pub at: Vec<Step<'a>>,
    pub problem: Problem,
}

#[derive(Debug)]
pub enum Problem {
    /// A required element is absent (named), at the object that lacks it.
    Missing(String),
    /// An element the type does not have.
    Unknown(String),
    /// Anything else, in the words of the `jsonschema` crate.
    Other(String),
}

impl CompiledSchema {
    /// Compiles every definition of a schema, or says which keyword it cannot handle.
    pub fn compile(schema: &Value) -> Result<Self, String> {
        let definitions = schema
            .get("definitions")
            .and_then(Value::as_object)
            .ok_or("the schema has no definitions")?;
        let mut compiled = Self {
            nodes: Vec::new(),
            definitions: HashMap::new(),
        };
        // Every definition gets its node first, so references resolve in any order.
        for name in definitions.keys() {
            let id = compiled.nodes.len();
            compiled.nodes.push(Node::default());
            compiled.definitions.insert(name.clone(), id);
        }
        for (name, definition) in definitions {
            let node = compiled.node(definition, name)?;
            let id = compiled.definitions[name];
            compiled.nodes[id] = node;
        }
        // A definition that is only a `$ref` to itself, directly or round a ring, would make
        // `check` follow references for ever: refuse it here.
        for (name, &start) in &compiled.definitions {
            let mut id = start;
            for _ in 0..=compiled.nodes.len() {
                match compiled.nodes[id].reference {
                    Some(next) => id = next,
                    None => break,
                }
            }
            if compiled.nodes[id].reference.is_some() {
                return Err(format!(
                    "#/definitions/{name}: a ring of $ref with nothing else"
                ));
            }
        }
        Ok(compiled)
    }

    pub fn has_definition(&self, name: &str) -> bool {
        self.definitions.contains_key(name)
    }

    fn add(&mut self, schema: &Value, at: &str) -> Result<usize, String> {
        let node = self.node(schema, at)?;
        self.nodes.push(node);
        Ok(self.nodes.len() - 1)
    }

    fn node(&mut self, schema: &Value, at: &str) -> Result<Node, String> {
        let object = schema
            .as_object()
            .ok_or_else(|| format!("{at}: a schema that is not an object"))?;
        let mut node = Node::default();
        if let Some(reference) = object.get("$ref") {
            let target = reference
                .as_str()
                .and_then(|r| r.strip_prefix("#/definitions/"))
                .and_then(|name| self.definitions.get(name))
                .ok_or_else(|| format!("{at}: unsupported $ref {reference}"))?;
            node.reference = Some(*target);
            return Ok(node);
        }
        for (keyword, value) in object {
            let here = format!("{at}/{keyword}");
            match keyword.as_str() {
                "type" => {
                    node.kind = Some(match value.as_str() {
                        Some("string") => Kind::String,
                        Some("number") => Kind::Number,
                        Some("boolean") => Kind::Boolean,
                        Some("array") => Kind::Array,
                        Some("object") => Kind::Object,
                        _ => return Err(format!("{here}: unsupported type {value}")),
                    });
                }
                "pattern" | PATTERN_KEYWORD => {
                    let text = value
                        .as_str()
                        .ok_or_else(|| format!("{here}: a pattern that is not a string"))?;
                    let pattern = match Primitive::from_pattern(text) {
                        Some(primitive) => Pattern::Native(primitive),
                        None => Pattern::Regex(Box::new(
                            jsonschema::validator_for(&serde_json::json!({ "pattern": text }))
                                .map_err(|e| format!("{here}: {e}"))?,
                        )),
                    };
                    node.pattern = Some((pattern, text.to_owned()));
                }
                "enum" => {
                    let options =
                        strings(value).ok_or_else(|| format!("{here}: enum of non-strings"))?;
                    node.enumeration = Some((options, value.clone()));
                }
                "const" => node.constant = Some(value.clone()),
                "required" => {
                    node.required =
                        strings(value).ok_or_else(|| format!("{here}: malformed required"))?;
                }
                "additionalProperties" => match value {
                    Value::Bool(false) => node.closed = true,
                    Value::Bool(true) => {}
                    _ => return Err(format!("{here}: only true or false is supported")),
                },
                "properties" => {
                    let properties = value
                        .as_object()
                        .ok_or_else(|| format!("{here}: properties that are not an object"))?;
                    let mut table =
                        FxHashMap::with_capacity_and_hasher(properties.len(), Default::default());
                    for (name, property) in properties {
                        let id = self.add(property, &format!("{here}/{name}"))?;
                        table.insert(name.clone(), id);
                    }
                    node.properties = Some(table);
                }
                "items" => {
                    if !value.is_object() {
                        return Err(format!(
                            "{here}: only one schema for all items is supported"
                        ));
                    }
                    node.items = Some(self.add(value, &here)?);
                }
                other if ANNOTATIONS.contains(&other) => {}
                other => return Err(format!("{at}: unsupported keyword `{other}`")),
            }
        }
        Ok(node)
    }

    /// Every violation of definition `name` by `value`; `None` when there is no such definition.
    pub fn violations<'a>(&self, name: &str, value: &'a Value) -> Option<Vec<Violation<'a>>> {
        self.walk(name, value, false).map(|(_, found)| found)
    }

    /// Whether `value` is valid against definition `name`, stopping at the first violation.
    pub fn is_valid(&self, name: &str, value: &Value) -> Option<bool> {
        self.walk(name, value, true).map(|(valid, _)| valid)
    }

    fn walk<'a>(
        &self,
        name: &str,
        value: &'a Value,
        stop_at_first: bool,
    ) -> Option<(bool, Vec<Violation<'a>>)> {
        let id = *self.definitions.get(name)?;
        let mut walk = Walk {
            schema: self,
            at: Vec::new(),
            found: Vec::new(),
            stop_at_first,
        };
        let valid = walk.check(id, value) && walk.found.is_empty();
        Some((valid, walk.found))
    }
}

struct Walk<'s, 'a> {
    schema: &'s CompiledSchema,
    at: Vec<Step<'a>>,
    found: Vec<Violation<'a>>,
    stop_at_first: bool,
}

impl<'a> Walk<'_, 'a> {
    /// Records a violation; false when the walk should stop.
    fn report(&mut self, problem: Problem) -> bool {
        self.found.push(Violation {
            at: self.at.clone(),
            problem,
        });
        !self.stop_at_first
    }

    /// Checks `value` against node `id`; false when the walk should stop.
    fn check(&mut self, mut id: usize, value: &'a Value) -> bool {
        let schema = self.schema;
        let mut node = &schema.nodes[id];
        while let Some(target) = node.reference {
            id = target;
            node = &schema.nodes[id];
        }
        if let Some(kind) = node.kind
            && !kind.accepts(value)
            && !self.report(Problem::Other(format!(
                "{value} is not of type \"{}\"",
                kind.name()
            )))
        {
            return false;
        }
        if let Some(constant) = &node.constant
            && value != constant
            && !self.report(Problem::Other(format!("{constant} was expected")))
        {
            return false;
        }
        if let Some((options, written)) = &node.enumeration
            && !value
                .as_str()
                .is_some_and(|v| options.iter().any(|o| o == v))
            && !self.report(Problem::Other(enum_message(value, written)))
        {
            return false;
        }
        if let (Some((pattern, text)), Value::String(string)) = (&node.pattern, value) {
            let matches = match pattern {
                Pattern::Native(primitive) => primitive.matches(string),
                Pattern::Regex(regex) => regex.is_valid(value),
            };
            if !matches
                && !self.report(Problem::Other(format!("{value} does not match \"{text}\"")))
            {
                return false;
            }
        }
        match value {
            Value::Object(map) => {
                for name in &node.required {
                    if !map.contains_key(name) && !self.report(Problem::Missing(name.clone())) {
                        return false;
                    }
                }
                if node.properties.is_none() && !node.closed {
                    return true;
                }
                for (name, child) in map {
                    let Some(&child_id) = node.properties.as_ref().and_then(|p| p.get(name)) else {
                        if node.closed && !self.report(Problem::Unknown(name.clone())) {
                            return false;
                        }
                        continue;
                    };
                    self.at.push(Step::Key(name));
                    let go_on = self.check(child_id, child);
                    self.at.pop();
                    if !go_on {
                        return false;
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_id) = node.items {
                    for (index, item) in items.iter().enumerate() {
                        self.at.push(Step::Index(index));
                        let go_on = self.check(item_id, item);
                        self.at.pop();
                        if !go_on {
                            return false;
                        }
                    }
                }
            }
            _ => {}
        }
        self.found.is_empty() || !self.stop_at_first
    }
}

/// An array of strings, or `None`.
fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

/// `"x" is not one of "a", "b" or "c"`, or `… or N other candidates`, as the `jsonschema`
/// crate words it.
fn enum_message(value: &Value, written: &Value) -> String {
    use std::fmt::Write as _;
    let options = written.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut message = format!("{value} is not one of ");
    if options.len() <= 3 {
        for (i, option) in options.iter().enumerate() {
            let separator = match i {
                0 => "",
                _ if i == options.len() - 1 => " or ",
                _ => ", ",
            };
            let _ = write!(message, "{separator}{option}");
        }
    } else {
        for (i, option) in options.iter().take(2).enumerate() {
            let _ = write!(message, "{}{option}", if i == 0 { "" } else { ", " });
        }
        let _ = write!(message, " or {} other candidates", options.len() - 2);
    }
    message
}

/// The JSON pointer of a list of steps.
pub fn pointer(steps: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in steps {
        out.push('/');
        match step {
            Step::Key(key) if key.contains(['~', '/']) => {
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Step::Key(key) => out.push_str(key),
            Step::Index(index) => out.push_str(&index.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_ring_of_references_is_refused_not_followed_for_ever() {
        let ring = json!({"definitions": {
            "A": {"$ref": "#/definitions/B"},
            "B": {"$ref": "#/definitions/A"},
        }});
        let refused = CompiledSchema::compile(&ring).err().unwrap_or_default();
        assert!(refused.contains("ring of $ref"), "{refused}");
        let chain = json!({"definitions": {
            "A": {"$ref": "#/definitions/B"},
            "B": {"type": "string"},
        }});
        let compiled = CompiledSchema::compile(&chain).unwrap();
        assert_eq!(compiled.is_valid("A", &json!(1)), Some(false));
        assert_eq!(compiled.is_valid("A", &json!("x")), Some(true));
    }

    #[test]
    fn keywords_it_does_not_know_are_refused() {
        let schema = json!({"definitions": {"A": {"minLength": 1}}});
        let refused = CompiledSchema::compile(&schema).err().unwrap_or_default();
        assert!(refused.contains("minLength"), "{refused}");
    }
}
