//! Evaluates a parsed FHIRPath expression over a resource's JSON, typing nodes by the FHIR
//! definitions as it walks (so `value.as(Quantity)` and `descendants().as(canonical)` mean what
//! they say in FHIR).

mod arguments;
mod collections;
mod functions;
mod narrative;
mod operators;
mod text;

use std::sync::Arc;

use serde_json::Value;

use super::parse::{Expr, Literal, TypeOp, TypeSpecifier};
use super::value::{Item, NULL, Node};
use crate::fhir::definitions::{Definitions, ElementInfo};

pub use narrative::html_is_safe;

/// Why an expression gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A function or construct mts does not evaluate (listed, never passed silently).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The expression is wrong for this data (several items where one is needed, a bad type).
    #[error("{0}")]
    Failed(String),
}

type Result<T> = std::result::Result<T, EvalError>;
pub type Collection<'a> = Vec<Item<'a>>;

fn failed<T>(message: impl Into<String>) -> Result<T> {
    Err(EvalError::Failed(message.into()))
}

/// Items any one evaluation may produce, so `repeat` over a cycle or a hostile expression ends.
const BUDGET: usize = 2_000_000;

/// What `$this`, `$index` and `$total` mean where an expression is evaluated.
#[derive(Clone, Default)]
struct Scope<'a> {
    this: Option<Item<'a>>,
    index: Option<i64>,
    total: Option<Collection<'a>>,
}

pub struct Evaluator<'a, 'd> {
    pub definitions: &'d Definitions,
    /// `%resource`: the resource holding the focus (a contained resource, for its own rules).
    pub resource: &'a Value,
    /// `%rootResource`: the resource that contains it.
    pub root: &'a Value,
    /// `%context`: the focus the expression was evaluated on.
    pub context: Item<'a>,
    pub spent: usize,
}

impl<'a, 'd> Evaluator<'a, 'd> {
    pub fn run(&mut self, expr: &Expr) -> Result<Collection<'a>> {
        let scope = Scope {
            this: Some(self.context.clone()),
            ..Scope::default()
        };
        let input = vec![self.context.clone()];
        self.eval(expr, &input, &scope)
    }

    fn spend(&mut self, count: usize) -> Result<()> {
        self.spent += count;
        if self.spent > BUDGET {
            failed("the expression produced too many items")
        } else {
            Ok(())
        }
    }

    /// A resource as a node typed by its `resourceType`.
    pub fn resource_node(&self, value: &'a Value) -> Item<'a> {
        let type_name = value["resourceType"].as_str();
        Item::Node(Node {
            value,
            companion: None,
            type_name: type_name.map(Arc::from),
            element: type_name.and_then(|t| self.definitions.type_root(t)),
        })
    }

    fn eval(
        &mut self,
        expr: &Expr,
        input: &[Item<'a>],
        scope: &Scope<'a>,
    ) -> Result<Collection<'a>> {
        let result = match expr {
            Expr::Empty => Vec::new(),
            Expr::Literal(literal) => vec![literal_item(literal)],
            Expr::This => scope.this.clone().into_iter().collect(),
            Expr::Index => scope.index.map(Item::Integer).into_iter().collect(),
            Expr::Total => scope.total.clone().unwrap_or_default(),
            Expr::Variable(name) => self.variable(name)?,
            Expr::Member(None, name) => self.member_of_input(input, name)?,
            Expr::Member(Some(on), name) => {
                let on = self.eval(on, input, scope)?;
                self.children_named(&on, name)?
            }
            Expr::Call(on, name, args) => {
                let on = match on {
                    Some(on) => self.eval(on, input, scope)?,
                    None => input.to_vec(),
                };
                self.call(name, &on, args, scope)?
            }
            Expr::Indexer(on, index) => {
                let on = self.eval(on, input, scope)?;
                let index = self.eval(index, input, scope)?;
                match single(&index)?.map(|i| i.system()) {
                    Some(Item::Integer(i)) => usize::try_from(i)
                        .ok()
                        .and_then(|i| on.into_iter().nth(i))
                        .into_iter()
                        .collect(),
                    None => Vec::new(),
                    Some(_) => return failed("an index must be an integer"),
                }
            }
            Expr::Negate(operand) => {
                let operand = self.eval(operand, input, scope)?;
                match single(&operand)?.map(|i| i.system()) {
                    None => Vec::new(),
                    Some(Item::Integer(i)) => vec![Item::Integer(-i)],
                    Some(Item::Decimal(d)) => vec![Item::Decimal(-d)],
                    Some(Item::Quantity(v, u)) => vec![Item::Quantity(-v, u)],
                    Some(_) => return failed("only numbers and quantities can be negated"),
                }
            }
            Expr::Binary(op, left, right) => self.binary(*op, left, right, input, scope)?,
            Expr::Type(op, on, specifier) => {
                let on = self.eval(on, input, scope)?;
                self.type_operation(*op, &on, specifier)?
            }
        };
        self.spend(result.len())?;
        Ok(result)
    }

    fn variable(&self, name: &str) -> Result<Collection<'a>> {
        let text = |s: String| Ok(vec![Item::String(s)]);
        match name {
            "resource" => Ok(vec![self.resource_node(self.resource)]),
            "rootResource" => Ok(vec![self.resource_node(self.root)]),
            "context" => Ok(vec![self.context.clone()]),
            "ucum" => text("http://unitsofmeasure.org".into()),
            "sct" => text("http://snomed.info/sct".into()),
            "loinc" => text("http://loinc.org".into()),
            _ => {
                if let Some(value_set) = name.strip_prefix("vs-") {
                    text(format!("http://hl7.org/fhir/ValueSet/{value_set}"))
                } else if let Some(extension) = name.strip_prefix("ext-") {
                    text(format!(
                        "http://hl7.org/fhir/StructureDefinition/{extension}"
                    ))
                } else {
                    failed(format!("unknown variable %{name}"))
                }
            }
        }
    }

    /// A name at the start of a path: a type name (`Patient.name`) keeps the inputs of that
    /// type; anything else is a child.
    fn member_of_input(&mut self, input: &[Item<'a>], name: &str) -> Result<Collection<'a>> {
        if name.starts_with(|c: char| c.is_ascii_uppercase()) {
            let specifier = TypeSpecifier {
                namespace: None,
                name: name.to_owned(),
            };
            return Ok(input
                .iter()
                .filter(|item| self.is_type(item, &specifier, true))
                .cloned()
                .collect());
        }
        self.children_named(input, name)
    }

    fn children_named(&mut self, input: &[Item<'a>], name: &str) -> Result<Collection<'a>> {
        let mut out = Vec::new();
        for item in input {
            if let Item::Node(node) = item {
                self.child(node, name, &mut out);
            }
        }
        self.spend(out.len())?;
        Ok(out)
    }

    /// The children called `name` of one node, typed: a primitive's come from its companion,
    /// a choice (`value`) matches `valueQuantity`, arrays are flattened.
    fn child(&self, node: &Node<'a>, name: &str, out: &mut Collection<'a>) {
        let holder = if node.is_primitive() {
            node.companion
        } else {
            Some(node.value)
        };
        let Some(Value::Object(object)) = holder else {
            return;
        };
        let companion = object.get(&format!("_{name}"));
        if object.contains_key(name) || companion.is_some() {
            let element = node
                .element
                .as_ref()
                .and_then(|parent| self.definitions.child_element(parent, name));
            self.push_values(object.get(name), companion, element, None, out);
            return;
        }
        // A choice element: `value` finds `valueQuantity` (only where the definitions say the
        // element is a choice, or, untyped, where the suffix names a FHIR type).
        for (key, found) in object {
            // `_valueString` stands for a value given only by its id and extensions.
            let (key, found, companion) = match key.strip_prefix('_') {
                Some(bare) if object.contains_key(bare) => continue,
                Some(bare) => (bare, &NULL, Some(found)),
                None => (key.as_str(), found, object.get(&format!("_{key}"))),
            };
            let Some(suffix) = key.strip_prefix(name) else {
                continue;
            };
            if !suffix.starts_with(|c: char| c.is_ascii_uppercase()) {
                continue;
            }
            let element = node
                .element
                .as_ref()
                .and_then(|parent| self.definitions.child_element(parent, key));
            let type_name = self.choice_type(suffix);
            let is_choice = match &element {
                Some(info) => info.path.ends_with("[x]"),
                None => node.element.is_none() && self.definitions.type_root(&type_name).is_some(),
            };
            if is_choice {
                let value = (!found.is_null()).then_some(found);
                self.push_values(value, companion, element, Some(type_name), out);
            }
        }
    }

    /// `Quantity` for `valueQuantity`, `dateTime` for `valueDateTime`.
    fn choice_type(&self, suffix: &str) -> String {
        let mut chars = suffix.chars();
        let lowered: String = chars
            .next()
            .map(|c| c.to_ascii_lowercase())
            .into_iter()
            .chain(chars)
            .collect();
        if self.definitions.is_primitive_type(&lowered) {
            lowered
        } else {
            suffix.to_owned()
        }
    }

    fn push_values(
        &self,
        value: Option<&'a Value>,
        companion: Option<&'a Value>,
        element: Option<Arc<ElementInfo>>,
        choice_type: Option<String>,
        out: &mut Collection<'a>,
    ) {
        let declared: Option<Arc<str>> = choice_type.map(Arc::from).or_else(|| {
            element
                .as_ref()
                .and_then(|e| match e.types.as_slice() {
                    [single] => Some(fhir_type_code(single)),
                    _ => None,
                })
                .map(Arc::from)
        });
        let mut push = |value: &'a Value, companion: Option<&'a Value>| {
            let type_name = match value.get("resourceType").and_then(Value::as_str) {
                // A resource in `contained`, `entry.resource`, `parameter.resource`.
                Some(resource_type) => Some(Arc::from(resource_type)),
                None => declared.clone().or_else(|| inferred_type(value)),
            };
            let element = match value.get("resourceType").and_then(Value::as_str) {
                Some(resource_type) => self.definitions.type_root(resource_type),
                None => element.clone(),
            };
            out.push(Item::Node(Node {
                value,
                companion: companion.filter(|c| !c.is_null()),
                type_name,
                element,
            }));
        };
        match (value, companion) {
            (Some(Value::Array(values)), companion) => {
                for (i, value) in values.iter().enumerate() {
                    push(value, companion.and_then(|c| c.get(i)));
                }
            }
            (Some(value), companion) => push(value, companion),
            (None, Some(Value::Array(companions))) => {
                for companion in companions {
                    if !companion.is_null() {
                        push(&NULL, Some(companion));
                    }
                }
            }
            (None, Some(companion)) => push(&NULL, Some(companion)),
            (None, None) => {}
        }
    }

    /// Every child of a node, in the order of the JSON.
    fn all_children(&self, node: &Node<'a>, out: &mut Collection<'a>) {
        let mut names: Vec<&str> = Vec::new();
        for holder in [Some(node.value), node.companion].into_iter().flatten() {
            if let Value::Object(object) = holder {
                for key in object.keys() {
                    let name = key.strip_prefix('_').unwrap_or(key);
                    if name != "resourceType" && !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
        }
        let Some(object) = node
            .value
            .as_object()
            .or(node.companion.and_then(Value::as_object))
        else {
            return;
        };
        for name in names {
            let element = node
                .element
                .as_ref()
                .and_then(|parent| self.definitions.child_element(parent, name));
            let choice = element
                .as_ref()
                .filter(|e| e.path.ends_with("[x]"))
                .and_then(|e| e.types.first().cloned());
            let primitive_holder = node.is_primitive();
            let (value, companion) = if primitive_holder {
                (object.get(name), None)
            } else {
                (object.get(name), object.get(&format!("_{name}")))
            };
            self.push_values(value, companion, element, choice, out);
        }
    }

    fn type_operation(
        &self,
        op: TypeOp,
        on: &[Item<'a>],
        specifier: &TypeSpecifier,
    ) -> Result<Collection<'a>> {
        match op {
            TypeOp::Is => Ok(single(on)?
                .map(|item| Item::Boolean(self.is_type(&item, specifier, true)))
                .into_iter()
                .collect()),
            // Newer FHIRPath makes `as` on several items an error; R4's own invariants (dom-3:
            // `descendants().as(canonical)`) rely on it filtering, as HL7's R4 validator does.
            TypeOp::As => Ok(on
                .iter()
                .filter(|item| self.is_type(item, specifier, false))
                .cloned()
                .collect()),
        }
    }

    /// A type name the model knows (FHIR's types and resources, System's types).
    fn known_type(&self, specifier: &TypeSpecifier) -> bool {
        const SYSTEM: [&str; 8] = [
            "Boolean", "Integer", "Decimal", "String", "Date", "DateTime", "Time", "Quantity",
        ];
        let system = SYSTEM.contains(&specifier.name.as_str());
        let fhir = self.definitions.structure(&specifier.name).is_some();
        match specifier.namespace.as_deref() {
            Some("System") => system,
            Some("FHIR") => fhir,
            _ => system || fhir,
        }
    }

    /// Whether an item is of a type or derives from it (`Age` is a `Quantity`, every resource a
    /// `Resource`).
    pub fn is_type(
        &self,
        item: &Item<'a>,
        specifier: &TypeSpecifier,
        derived_primitives: bool,
    ) -> bool {
        let (namespace, name) = item.type_name();
        if let Some(wanted) = &specifier.namespace
            && wanted != namespace
        {
            return false;
        }
        if namespace == "System" {
            return name == specifier.name;
        }
        // `as` and `ofType` take a primitive only of exactly that type (dom-3 lists canonical,
        // uri and url apart), while `is` follows derivation (`code` is a `string`), as HL7's
        // suite has it; complex types and resources always by derivation.
        if !derived_primitives && self.definitions.is_primitive_type(&name) {
            return name == specifier.name;
        }
        name == specifier.name || self.definitions.derives_from(&name, &specifier.name)
    }

    /// `resolve()`: a contained resource (`#id`) or a Bundle entry with that fullUrl or
    /// `Type/id`; empty when the target is elsewhere (mts does not fetch references).
    fn resolve(&self, input: &[Item<'a>]) -> Collection<'a> {
        let mut out = Vec::new();
        for item in input {
            let reference = match item {
                Item::Node(node) if node.value.is_object() => node.value["reference"].as_str(),
                Item::Node(node) => node.value.as_str(),
                _ => None,
            };
            let Some(reference) = reference else { continue };
            if let Some(id) = reference.strip_prefix('#') {
                let found = self.root["contained"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|c| c["id"] == id);
                out.extend(found.map(|c| self.resource_node(c)));
                continue;
            }
            let found = self.root["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|entry| {
                    entry["fullUrl"] == reference
                        || entry["fullUrl"]
                            .as_str()
                            .is_some_and(|url| url.ends_with(&format!("/{reference}")))
                });
            out.extend(found.map(|entry| self.resource_node(&entry["resource"])));
        }
        out
    }
}

fn literal_item(literal: &Literal) -> Item<'static> {
    match literal {
        Literal::Boolean(b) => Item::Boolean(*b),
        Literal::String(s) => Item::String(s.clone()),
        Literal::Integer(i) => Item::Integer(*i),
        Literal::Decimal(d) => Item::Decimal(*d),
        Literal::Date(s) => Item::Date(s.clone()),
        Literal::DateTime(s) => Item::DateTime(s.clone()),
        Literal::Time(s) => Item::Time(s.clone()),
        Literal::Quantity(v, u) => Item::Quantity(*v, u.clone()),
    }
}

/// `http://hl7.org/fhirpath/System.String` (the type of `id` and `Extension.url` in R4's
/// snapshots) is a FHIR string to an invariant.
fn fhir_type_code(code: &str) -> String {
    match code.strip_prefix("http://hl7.org/fhirpath/System.") {
        Some("String") => "string".into(),
        Some("Boolean") => "boolean".into(),
        Some("Integer") => "integer".into(),
        Some("Decimal") => "decimal".into(),
        Some("DateTime") => "dateTime".into(),
        Some("Date") => "date".into(),
        Some("Time") => "time".into(),
        Some(other) => other.to_owned(),
        None => code.to_owned(),
    }
}

/// A type for a value the definitions do not describe (inside an unknown extension).
fn inferred_type(value: &Value) -> Option<Arc<str>> {
    match value {
        Value::Bool(_) => Some("boolean".into()),
        Value::Number(n) if n.is_i64() => Some("integer".into()),
        Value::Number(_) => Some("decimal".into()),
        Value::String(_) => Some("string".into()),
        _ => None,
    }
}

/// The one item of a collection; more than one is an error where one is needed.
pub fn single<'a>(collection: &[Item<'a>]) -> Result<Option<Item<'a>>> {
    match collection {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        _ => failed(format!("{} items where one was expected", collection.len())),
    }
}

/// A collection as a boolean: empty is unknown, one boolean is itself, one other item is true.
pub fn boolean(collection: &[Item<'_>]) -> Result<Option<bool>> {
    match single(collection)?.map(|i| i.system()) {
        None => Ok(None),
        Some(Item::Boolean(b)) => Ok(Some(b)),
        Some(_) => Ok(Some(true)),
    }
}
