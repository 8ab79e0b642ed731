//! Evaluates a parsed FHIRPath expression over a resource's JSON, typing nodes by the FHIR
//! definitions as it walks (so `value.as(Quantity)` and `descendants().as(canonical)` mean what
//! they say in FHIR).

use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::Value;

use super::parse::{BinaryOp, Expr, Literal, TypeOp, TypeSpecifier};
use super::value::{self, Item, Moment, NULL, Node};
use crate::fhir::definitions::{Definitions, ElementInfo};

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

    fn binary(
        &mut self,
        op: BinaryOp,
        left: &Expr,
        right: &Expr,
        input: &[Item<'a>],
        scope: &Scope<'a>,
    ) -> Result<Collection<'a>> {
        // Boolean operators decide what they can from the left alone (`implies`, `or`, `and`).
        let l = self.eval(left, input, scope)?;
        match op {
            BinaryOp::And | BinaryOp::Or | BinaryOp::Xor | BinaryOp::Implies => {
                let a = boolean(&l)?;
                let short = match (op, a) {
                    (BinaryOp::And, Some(false)) => Some(false),
                    (BinaryOp::Or, Some(true)) => Some(true),
                    (BinaryOp::Implies, Some(false)) => Some(true),
                    _ => None,
                };
                if let Some(answer) = short {
                    return Ok(vec![Item::Boolean(answer)]);
                }
                let r = self.eval(right, input, scope)?;
                let b = boolean(&r)?;
                let answer = match op {
                    BinaryOp::And => match (a, b) {
                        (Some(true), Some(true)) => Some(true),
                        (_, Some(false)) => Some(false),
                        _ => None,
                    },
                    BinaryOp::Or => match (a, b) {
                        (_, Some(true)) => Some(true),
                        (Some(false), Some(false)) => Some(false),
                        _ => None,
                    },
                    BinaryOp::Xor => a.zip(b).map(|(a, b)| a != b),
                    _ => match (a, b) {
                        (Some(true), b) => b,
                        (None, Some(true)) => Some(true),
                        _ => None,
                    },
                };
                return Ok(answer.map(Item::Boolean).into_iter().collect());
            }
            _ => {}
        }
        let r = self.eval(right, input, scope)?;
        match op {
            BinaryOp::Union => {
                let mut out = l;
                out.extend(r);
                Ok(distinct(out))
            }
            BinaryOp::Equal | BinaryOp::NotEqual => {
                if l.is_empty() || r.is_empty() {
                    return Ok(Vec::new());
                }
                let mut answer = Some(l.len() == r.len());
                if answer == Some(true) {
                    for (a, b) in l.iter().zip(&r) {
                        match value::equal(a, b) {
                            Some(true) => {}
                            other => {
                                answer = other;
                                break;
                            }
                        }
                    }
                }
                let answer = if op == BinaryOp::NotEqual {
                    answer.map(|b| !b)
                } else {
                    answer
                };
                Ok(answer.map(Item::Boolean).into_iter().collect())
            }
            BinaryOp::Equivalent | BinaryOp::NotEquivalent => {
                let same = l.len() == r.len()
                    && l.iter().all(|a| r.iter().any(|b| value::equivalent(a, b)));
                Ok(vec![Item::Boolean(same == (op == BinaryOp::Equivalent))])
            }
            BinaryOp::In | BinaryOp::Contains => {
                let (needle, haystack) = if op == BinaryOp::In { (l, r) } else { (r, l) };
                let Some(needle) = single(&needle)? else {
                    return Ok(Vec::new());
                };
                let found = haystack
                    .iter()
                    .any(|item| value::equal(&needle, item) == Some(true));
                Ok(vec![Item::Boolean(found)])
            }
            BinaryOp::Less
            | BinaryOp::Greater
            | BinaryOp::LessOrEqual
            | BinaryOp::GreaterOrEqual => {
                let (Some(a), Some(b)) = (single(&l)?, single(&r)?) else {
                    return Ok(Vec::new());
                };
                let ordering = value::compare(&a, &b).map_err(EvalError::Failed)?;
                Ok(ordering
                    .map(|o| {
                        Item::Boolean(match op {
                            BinaryOp::Less => o == Ordering::Less,
                            BinaryOp::Greater => o == Ordering::Greater,
                            BinaryOp::LessOrEqual => o != Ordering::Greater,
                            _ => o != Ordering::Less,
                        })
                    })
                    .into_iter()
                    .collect())
            }
            BinaryOp::Concatenate => {
                let text = |c: &Collection<'a>| -> Result<String> {
                    Ok(single(c)?.and_then(|i| i.as_text()).unwrap_or_default())
                };
                Ok(vec![Item::String(text(&l)? + &text(&r)?)])
            }
            _ => {
                let (Some(a), Some(b)) = (single(&l)?, single(&r)?) else {
                    return Ok(Vec::new());
                };
                arithmetic(op, &a.system(), &b.system()).map(|r| r.into_iter().collect())
            }
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

    /// Evaluates an argument against the invocation's `$this`, as functions' plain arguments are.
    fn argument(&mut self, arg: &Expr, scope: &Scope<'a>) -> Result<Collection<'a>> {
        let input: Collection<'a> = scope.this.clone().into_iter().collect();
        self.eval(arg, &input, scope)
    }

    fn text_argument(
        &mut self,
        args: &[Expr],
        at: usize,
        scope: &Scope<'a>,
    ) -> Result<Option<String>> {
        let Some(arg) = args.get(at) else {
            return failed("a function is missing an argument");
        };
        let value = self.argument(arg, scope)?;
        match single(&value)? {
            None => Ok(None),
            Some(item) => match item.as_text() {
                Some(text) => Ok(Some(text)),
                None => failed("the argument must be a string"),
            },
        }
    }

    fn integer_argument(
        &mut self,
        args: &[Expr],
        at: usize,
        scope: &Scope<'a>,
    ) -> Result<Option<i64>> {
        let Some(arg) = args.get(at) else {
            return Ok(None);
        };
        let value = self.argument(arg, scope)?;
        match single(&value)?.map(|i| i.system()) {
            None => Ok(None),
            Some(Item::Integer(i)) => Ok(Some(i)),
            Some(_) => failed("the argument must be an integer"),
        }
    }

    /// Evaluates `criteria` once per input item, with `$this` and `$index` set.
    fn per_item(
        &mut self,
        input: &[Item<'a>],
        criteria: &Expr,
        scope: &Scope<'a>,
    ) -> Result<Vec<Collection<'a>>> {
        let mut results = Vec::with_capacity(input.len());
        for (index, item) in input.iter().enumerate() {
            let inner = Scope {
                this: Some(item.clone()),
                index: Some(index as i64),
                total: scope.total.clone(),
            };
            results.push(self.eval(criteria, std::slice::from_ref(item), &inner)?);
        }
        Ok(results)
    }

    fn type_argument(args: &[Expr]) -> Result<TypeSpecifier> {
        match args.first() {
            Some(Expr::Member(None, name)) => Ok(TypeSpecifier {
                namespace: None,
                name: name.clone(),
            }),
            Some(Expr::Member(Some(namespace), name)) => match namespace.as_ref() {
                Expr::Member(None, namespace) => Ok(TypeSpecifier {
                    namespace: Some(namespace.clone()),
                    name: name.clone(),
                }),
                _ => failed("the argument must be a type name"),
            },
            _ => failed("the argument must be a type name"),
        }
    }

    fn call(
        &mut self,
        name: &str,
        input: &[Item<'a>],
        args: &[Expr],
        scope: &Scope<'a>,
    ) -> Result<Collection<'a>> {
        let boolean_result = |b: bool| Ok(vec![Item::Boolean(b)]);
        match (name, args.len()) {
            ("empty", 0) => boolean_result(input.is_empty()),
            ("exists", 0) => boolean_result(!input.is_empty()),
            ("exists", 1) => {
                let filtered = self.call("where", input, args, scope)?;
                boolean_result(!filtered.is_empty())
            }
            ("all", 1) => {
                for result in self.per_item(input, &args[0], scope)? {
                    if boolean(&result)? != Some(true) {
                        return boolean_result(false);
                    }
                }
                boolean_result(true)
            }
            ("allTrue" | "anyTrue" | "allFalse" | "anyFalse", 0) => {
                let mut values = Vec::new();
                for item in input {
                    match item.system() {
                        Item::Boolean(b) => values.push(b),
                        _ => return failed(format!("{name}() needs booleans")),
                    }
                }
                boolean_result(match name {
                    "allTrue" => values.iter().all(|b| *b),
                    "anyTrue" => values.iter().any(|b| *b),
                    "allFalse" => values.iter().all(|b| !*b),
                    _ => values.iter().any(|b| !*b),
                })
            }
            ("subsetOf" | "supersetOf", 1) => {
                let other = self.argument(&args[0], scope)?;
                let (small, large) = if name == "subsetOf" {
                    (input, other.as_slice())
                } else {
                    (other.as_slice(), input)
                };
                boolean_result(small.iter().all(|a| contains(large, a)))
            }
            ("count", 0) => Ok(vec![Item::Integer(input.len() as i64)]),
            ("distinct", 0) => Ok(distinct(input.to_vec())),
            ("isDistinct", 0) => boolean_result(distinct(input.to_vec()).len() == input.len()),
            ("where", 1) => {
                let results = self.per_item(input, &args[0], scope)?;
                let mut out = Vec::new();
                for (item, result) in input.iter().zip(results) {
                    if boolean(&result)? == Some(true) {
                        out.push(item.clone());
                    }
                }
                Ok(out)
            }
            ("select", 1) => Ok(self
                .per_item(input, &args[0], scope)?
                .into_iter()
                .flatten()
                .collect()),
            ("repeat", 1) => {
                let mut out: Collection<'a> = Vec::new();
                let mut frontier = input.to_vec();
                while !frontier.is_empty() {
                    let mut next: Collection<'a> = Vec::new();
                    for item in self
                        .per_item(&frontier, &args[0], scope)?
                        .into_iter()
                        .flatten()
                    {
                        if !contains(&out, &item) && !contains(&next, &item) {
                            next.push(item);
                        }
                    }
                    out.extend(next.iter().cloned());
                    self.spend(next.len())?;
                    frontier = next;
                }
                Ok(out)
            }
            ("ofType", 1) => {
                let specifier = Self::type_argument(args)?;
                if !self.known_type(&specifier) {
                    return failed(format!("unknown type {specifier}"));
                }
                Ok(input
                    .iter()
                    .filter(|item| self.is_type(item, &specifier, false))
                    .cloned()
                    .collect())
            }
            ("is" | "as", 1) => {
                let specifier = Self::type_argument(args)?;
                if !self.known_type(&specifier) {
                    return failed(format!("unknown type {specifier}"));
                }
                let op = if name == "is" { TypeOp::Is } else { TypeOp::As };
                self.type_operation(op, input, &specifier)
            }
            ("single", 0) => Ok(single(input)?.into_iter().collect()),
            ("first", 0) => Ok(input.first().cloned().into_iter().collect()),
            ("last", 0) => Ok(input.last().cloned().into_iter().collect()),
            ("tail", 0) => Ok(input.iter().skip(1).cloned().collect()),
            ("skip" | "take", 1) => {
                let n = self.integer_argument(args, 0, scope)?.unwrap_or(0).max(0) as usize;
                Ok(if name == "skip" {
                    input.iter().skip(n).cloned().collect()
                } else {
                    input.iter().take(n).cloned().collect()
                })
            }
            ("union" | "combine" | "intersect" | "exclude", 1) => {
                let other = self.argument(&args[0], scope)?;
                Ok(match name {
                    "union" => distinct(input.iter().cloned().chain(other).collect()),
                    "combine" => input.iter().cloned().chain(other).collect(),
                    "intersect" => distinct(
                        input
                            .iter()
                            .filter(|a| contains(&other, a))
                            .cloned()
                            .collect(),
                    ),
                    _ => input
                        .iter()
                        .filter(|a| !contains(&other, a))
                        .cloned()
                        .collect(),
                })
            }
            ("iif", 2 | 3) => {
                // On an explicit input, `$this` is its one item; otherwise the caller's.
                let inner = match input {
                    [one] => Scope {
                        this: Some(one.clone()),
                        ..scope.clone()
                    },
                    [] => scope.clone(),
                    _ => return failed("iif() on more than one item"),
                };
                let criterion = self.eval(&args[0], input, &inner)?;
                let chosen = match criterion.as_slice() {
                    [] => None,
                    [item] => match item.system() {
                        Item::Boolean(b) => Some(b),
                        _ => return failed("iif() needs a boolean criterion"),
                    },
                    _ => return failed("iif() needs a single criterion"),
                };
                if chosen == Some(true) {
                    self.eval(&args[1], input, &inner)
                } else if let Some(otherwise) = args.get(2) {
                    self.eval(otherwise, input, &inner)
                } else {
                    Ok(Vec::new())
                }
            }
            ("aggregate", 1 | 2) => {
                let mut total = match args.get(1) {
                    Some(init) => self.argument(init, scope)?,
                    None => Vec::new(),
                };
                for (index, item) in input.iter().enumerate() {
                    let inner = Scope {
                        this: Some(item.clone()),
                        index: Some(index as i64),
                        total: Some(total),
                    };
                    total = self.eval(&args[0], std::slice::from_ref(item), &inner)?;
                }
                Ok(total)
            }
            ("sort", _) => self.sort(input, args, scope),
            ("type", 0) => Err(EvalError::Unsupported(
                "type() (reflection) is not used by any invariant".into(),
            )),
            ("not", 0) => Ok(boolean(input)?
                .map(|b| Item::Boolean(!b))
                .into_iter()
                .collect()),
            ("trace", 1 | 2) => Ok(input.to_vec()),
            ("hasValue", 0) => boolean_result(matches!(
                input,
                [Item::Node(node)] if node.is_primitive() && !node.value.is_null()
            )),
            ("children", 0) => {
                let mut out = Vec::new();
                for item in input {
                    if let Item::Node(node) = item {
                        self.all_children(node, &mut out);
                    }
                }
                self.spend(out.len())?;
                Ok(out)
            }
            ("descendants", 0) => {
                let mut out = Vec::new();
                let mut frontier = input.to_vec();
                while !frontier.is_empty() {
                    let mut next = Vec::new();
                    for item in &frontier {
                        if let Item::Node(node) = item {
                            self.all_children(node, &mut next);
                        }
                    }
                    self.spend(next.len())?;
                    out.extend(next.iter().cloned());
                    frontier = next;
                }
                Ok(out)
            }
            ("extension", 1) => {
                let Some(url) = self.text_argument(args, 0, scope)? else {
                    return Ok(Vec::new());
                };
                let extensions = self.children_named(input, "extension")?;
                Ok(extensions
                    .into_iter()
                    .filter(|e| matches!(e, Item::Node(n) if n.value["url"] == url.as_str()))
                    .collect())
            }
            ("resolve", 0) => Ok(self.resolve(input)),
            ("htmlChecks", 0) => {
                let Some(div) = single(input)?.and_then(|d| d.as_text()) else {
                    return Ok(Vec::new());
                };
                if crate::fhir::xml::nesting_within(&div, crate::fhir::xml::PARSER_DEPTH).is_err() {
                    return failed("the narrative nests too deeply to be checked");
                }
                boolean_result(html_is_safe(&div))
            }
            ("toString", 0) => Ok(single(input)?
                .and_then(|i| i.to_text())
                .map(Item::String)
                .into_iter()
                .collect()),
            ("toInteger", 0) => Ok(match single(input)?.map(|i| i.system()) {
                Some(Item::Integer(i)) => vec![Item::Integer(i)],
                Some(Item::Boolean(b)) => vec![Item::Integer(i64::from(b))],
                Some(Item::String(s)) => s.parse().map(Item::Integer).into_iter().collect(),
                _ => Vec::new(),
            }),
            ("toDecimal", 0) => Ok(match single(input)?.map(|i| i.system()) {
                Some(Item::Integer(i)) => vec![Item::Decimal(i as f64)],
                Some(Item::Decimal(d)) => vec![Item::Decimal(d)],
                Some(Item::Boolean(b)) => vec![Item::Decimal(f64::from(u8::from(b)))],
                Some(Item::String(s)) => s.parse().map(Item::Decimal).into_iter().collect(),
                _ => Vec::new(),
            }),
            ("toBoolean", 0) => Ok(match single(input)?.map(|i| i.system()) {
                Some(Item::Boolean(b)) => vec![Item::Boolean(b)],
                Some(Item::Integer(i @ (0 | 1))) => vec![Item::Boolean(i == 1)],
                Some(Item::Decimal(d)) if d == 0.0 || d == 1.0 => vec![Item::Boolean(d == 1.0)],
                Some(Item::String(s)) => match s.to_lowercase().as_str() {
                    "true" | "t" | "yes" | "y" | "1" | "1.0" => vec![Item::Boolean(true)],
                    "false" | "f" | "no" | "n" | "0" | "0.0" => vec![Item::Boolean(false)],
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            }),
            ("toDate" | "toDateTime" | "toTime", 0) => {
                Ok(match single(input)?.map(|i| i.system()) {
                    Some(Item::String(s) | Item::Date(s) | Item::DateTime(s))
                        if name != "toTime" =>
                    {
                        match Moment::parse_date_time(&s) {
                            Some(_) if name == "toDate" => {
                                let date = s.split('T').next().unwrap_or(&s).to_owned();
                                vec![Item::Date(date)]
                            }
                            Some(_) => vec![Item::DateTime(s)],
                            None => Vec::new(),
                        }
                    }
                    Some(Item::String(s) | Item::Time(s)) if name == "toTime" => {
                        Moment::parse_time(&s)
                            .map(|_| Item::Time(s))
                            .into_iter()
                            .collect()
                    }
                    _ => Vec::new(),
                })
            }
            ("toQuantity", 0 | 1) => Ok(match single(input)?.map(|i| i.system()) {
                Some(Item::Integer(i)) => vec![Item::Quantity(i as f64, "1".into())],
                Some(Item::Decimal(d)) => vec![Item::Quantity(d, "1".into())],
                Some(Item::Quantity(v, u)) => vec![Item::Quantity(v, u)],
                Some(Item::Boolean(b)) => vec![Item::Quantity(f64::from(u8::from(b)), "1".into())],
                Some(Item::String(s)) => quantity_from_text(&s).into_iter().collect(),
                _ => Vec::new(),
            }),
            (
                "convertsToInteger" | "convertsToDecimal" | "convertsToString"
                | "convertsToBoolean" | "convertsToDate" | "convertsToDateTime" | "convertsToTime"
                | "convertsToQuantity",
                0,
            ) => {
                if input.is_empty() {
                    return Ok(Vec::new());
                }
                let target = &name["convertsTo".len()..];
                let converted = self.call(&format!("to{target}"), input, &[], scope)?;
                boolean_result(!converted.is_empty())
            }
            ("length", 0) => Ok(single_text(input)?
                .map(|t| Item::Integer(t.chars().count() as i64))
                .into_iter()
                .collect()),
            ("upper" | "lower", 0) => Ok(single_text(input)?
                .map(|t| {
                    Item::String(if name == "upper" {
                        t.to_uppercase()
                    } else {
                        t.to_lowercase()
                    })
                })
                .into_iter()
                .collect()),
            ("toChars", 0) => Ok(single_text(input)?
                .map(|t| t.chars().map(|c| Item::String(c.to_string())).collect())
                .unwrap_or_default()),
            ("startsWith" | "endsWith" | "contains" | "indexOf", 1) => {
                let (Some(text), Some(part)) =
                    (single_text(input)?, self.text_argument(args, 0, scope)?)
                else {
                    return Ok(Vec::new());
                };
                Ok(vec![match name {
                    "startsWith" => Item::Boolean(text.starts_with(&part)),
                    "endsWith" => Item::Boolean(text.ends_with(&part)),
                    "contains" => Item::Boolean(text.contains(&part)),
                    _ => Item::Integer(
                        text.find(&part)
                            .map_or(-1, |at| text[..at].chars().count() as i64),
                    ),
                }])
            }
            ("substring", 1 | 2) => {
                let (Some(text), Some(start)) =
                    (single_text(input)?, self.integer_argument(args, 0, scope)?)
                else {
                    return Ok(Vec::new());
                };
                let length = self.integer_argument(args, 1, scope)?;
                let chars: Vec<char> = text.chars().collect();
                if start < 0 || start as usize >= chars.len() {
                    return Ok(Vec::new());
                }
                let end = length.map_or(chars.len(), |l| {
                    (start as usize)
                        .saturating_add(l.max(0) as usize)
                        .min(chars.len())
                });
                Ok(vec![Item::String(
                    chars[start as usize..end].iter().collect(),
                )])
            }
            // `matches` finds the pattern anywhere, `.` matching newlines too (the suite's reading
            // of N1); `matchesFull` must match the whole text.
            ("matches" | "matchesFull", 1) => {
                let (Some(text), Some(pattern)) =
                    (single_text(input)?, self.text_argument(args, 0, scope)?)
                else {
                    return Ok(Vec::new());
                };
                let anchored = if name == "matches" {
                    format!("(?s){pattern}")
                } else {
                    format!("(?s)^(?:{pattern})$")
                };
                boolean_result(compile_regex(&anchored)?.is_match(&text))
            }
            ("join", 0 | 1) => {
                let separator = match args.first() {
                    Some(_) => self.text_argument(args, 0, scope)?.unwrap_or_default(),
                    None => String::new(),
                };
                let mut parts = Vec::new();
                for item in input {
                    parts.push(
                        item.as_text()
                            .ok_or_else(|| EvalError::Failed("join() needs strings".into()))?,
                    );
                }
                Ok(vec![Item::String(parts.join(&separator))])
            }
            ("split", 1) => {
                let (Some(text), Some(separator)) =
                    (single_text(input)?, self.text_argument(args, 0, scope)?)
                else {
                    return Ok(Vec::new());
                };
                Ok(text
                    .split(separator.as_str())
                    .map(|part| Item::String(part.to_owned()))
                    .collect())
            }
            ("trim", 0) => Ok(single_text(input)?
                .map(|t| Item::String(t.trim().to_owned()))
                .into_iter()
                .collect()),
            ("encode" | "decode" | "escape" | "unescape", 1) => {
                let (Some(text), Some(format)) =
                    (single_text(input)?, self.text_argument(args, 0, scope)?)
                else {
                    return Ok(Vec::new());
                };
                Ok(transcode(name, &format, &text)?
                    .map(Item::String)
                    .into_iter()
                    .collect())
            }
            ("log" | "power", 1) => {
                let (Some(x), Some(y)) = (
                    single(input)?.and_then(|i| value::number(&i)),
                    self.argument(&args[0], scope)?
                        .first()
                        .and_then(value::number),
                ) else {
                    return Ok(Vec::new());
                };
                let result = if name == "log" {
                    x.ln() / y.ln()
                } else {
                    x.powf(y)
                };
                if result.is_nan() {
                    return Ok(Vec::new());
                }
                let integers = matches!(single(input)?.map(|i| i.system()), Some(Item::Integer(_)))
                    && result.fract() == 0.0
                    && name == "power"
                    && !matches!(
                        self.argument(&args[0], scope)?.first().map(Item::system),
                        Some(Item::Decimal(_))
                    );
                Ok(vec![if integers {
                    Item::Integer(result as i64)
                } else {
                    Item::Decimal(result)
                }])
            }
            ("round", 1) => {
                let digits = self
                    .integer_argument(args, 0, scope)?
                    .unwrap_or(0)
                    .clamp(0, 15) as i32;
                let Some(x) = single(input)?.and_then(|i| value::number(&i)) else {
                    return Ok(Vec::new());
                };
                let scale = 10f64.powi(digits);
                Ok(vec![Item::Decimal((x * scale).round() / scale)])
            }
            ("replaceMatches" | "replace", 2) => {
                let (Some(text), Some(pattern), Some(substitution)) = (
                    single_text(input)?,
                    self.text_argument(args, 0, scope)?,
                    self.text_argument(args, 1, scope)?,
                ) else {
                    return Ok(Vec::new());
                };
                Ok(vec![Item::String(if name == "replace" {
                    text.replace(&pattern, &substitution)
                } else {
                    if pattern.is_empty() {
                        text
                    } else {
                        compile_regex(&pattern)?
                            .replace_all(&text, substitution.as_str())
                            .into_owned()
                    }
                })])
            }
            ("abs" | "ceiling" | "floor" | "round" | "truncate" | "sqrt" | "exp" | "ln", _) => {
                math(name, input)
            }
            ("today" | "now", 0) => {
                let now = chrono::Utc::now();
                Ok(vec![if name == "today" {
                    Item::Date(now.format("%Y-%m-%d").to_string())
                } else {
                    Item::DateTime(now.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string())
                }])
            }
            _ => Err(EvalError::Unsupported(format!(
                "{name}() with {} argument(s)",
                args.len()
            ))),
        }
    }

    /// `sort()` by the items themselves, or by keys; a key written `-key` sorts descending.
    fn sort(
        &mut self,
        input: &[Item<'a>],
        args: &[Expr],
        scope: &Scope<'a>,
    ) -> Result<Collection<'a>> {
        let keys: Vec<(&Expr, bool)> = args
            .iter()
            .map(|arg| match arg {
                Expr::Negate(inner) => (inner.as_ref(), true),
                other => (other, false),
            })
            .collect();
        let mut keyed = Vec::with_capacity(input.len());
        for (index, item) in input.iter().enumerate() {
            let inner = Scope {
                this: Some(item.clone()),
                index: Some(index as i64),
                total: scope.total.clone(),
            };
            let mut values = Vec::new();
            for (key, _) in &keys {
                values.push(single(&self.eval(
                    key,
                    std::slice::from_ref(item),
                    &inner,
                )?)?);
            }
            keyed.push((item.clone(), values));
        }
        // A total order (Rust's sort may panic on one that is not): empty first, then by kind,
        // numbers by value, the rest by their text.
        fn rank(item: &Option<Item<'_>>) -> (u8, f64, String) {
            let Some(item) = item else {
                return (0, 0.0, String::new());
            };
            match item.system() {
                Item::Integer(i) => (1, i as f64, String::new()),
                Item::Decimal(d) => (1, d, String::new()),
                Item::Quantity(v, unit) => (2, v, unit),
                Item::String(s) => (3, 0.0, s),
                Item::Date(s) | Item::DateTime(s) | Item::Time(s) => (4, 0.0, s),
                Item::Boolean(b) => (5, f64::from(u8::from(b)), String::new()),
                Item::Node(_) => (6, 0.0, String::new()),
            }
        }
        let order = |a: &Option<Item<'a>>, b: &Option<Item<'a>>| {
            let (x, y) = (rank(a), rank(b));
            x.0.cmp(&y.0)
                .then(x.1.total_cmp(&y.1))
                .then_with(|| x.2.cmp(&y.2))
        };
        keyed.sort_by(|(a, a_keys), (b, b_keys)| {
            if keys.is_empty() {
                return order(&Some(a.clone()), &Some(b.clone()));
            }
            for ((x, y), (_, descending)) in a_keys.iter().zip(b_keys).zip(&keys) {
                // Empty keys first, whichever the direction.
                let o = match (x, y) {
                    (Some(_), Some(_)) if *descending => order(x, y).reverse(),
                    _ => order(x, y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        Ok(keyed.into_iter().map(|(item, _)| item).collect())
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

fn single_text(collection: &[Item<'_>]) -> Result<Option<String>> {
    match single(collection)? {
        None => Ok(None),
        Some(item) => match item.as_text() {
            Some(text) => Ok(Some(text)),
            None => failed("a string function was given something that is not a string"),
        },
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

fn contains(collection: &[Item<'_>], item: &Item<'_>) -> bool {
    collection
        .iter()
        .any(|other| value::equal(item, other) == Some(true))
}

/// The items without repeats. Strings, booleans and numbers are told apart by a hash (a
/// searchset's 10,000 fullUrls in bdl-7 would otherwise be compared pairwise); other items
/// by `=` against those kept.
fn distinct(items: Collection<'_>) -> Collection<'_> {
    use std::collections::HashSet;
    let mut out: Collection<'_> = Vec::with_capacity(items.len());
    let mut hashed: HashSet<(u8, String)> = HashSet::new();
    let mut others: Collection<'_> = Vec::new();
    for item in items {
        let key = match item.system() {
            Item::String(s) => Some((0, s)),
            Item::Boolean(b) => Some((1, b.to_string())),
            // 1 and 1.0 are equal: numbers share one key space.
            Item::Integer(i) => Some((2, (i as f64).to_string())),
            Item::Decimal(d) => Some((2, d.to_string())),
            _ => None,
        };
        let new = match key {
            Some(key) => hashed.insert(key),
            None => {
                let new = !contains(&others, &item);
                if new {
                    others.push(item.clone());
                }
                new
            }
        };
        if new {
            out.push(item);
        }
    }
    out
}

fn arithmetic<'a>(op: BinaryOp, a: &Item<'a>, b: &Item<'a>) -> Result<Option<Item<'a>>> {
    let overflow = || EvalError::Failed("integer overflow".into());
    match (op, a, b) {
        (BinaryOp::Add, Item::String(x), Item::String(y)) => {
            Ok(Some(Item::String(format!("{x}{y}"))))
        }
        (_, Item::Integer(x), Item::Integer(y)) => Ok(match op {
            BinaryOp::Add => Some(Item::Integer(x.checked_add(*y).ok_or_else(overflow)?)),
            BinaryOp::Subtract => Some(Item::Integer(x.checked_sub(*y).ok_or_else(overflow)?)),
            BinaryOp::Multiply => Some(Item::Integer(x.checked_mul(*y).ok_or_else(overflow)?)),
            BinaryOp::Divide => (*y != 0).then(|| Item::Decimal(*x as f64 / *y as f64)),
            BinaryOp::Div => x.checked_div(*y).map(Item::Integer),
            BinaryOp::Mod => x.checked_rem(*y).map(Item::Integer),
            _ => None,
        }),
        (
            BinaryOp::Add | BinaryOp::Subtract,
            Item::Date(_) | Item::DateTime(_) | Item::Time(_),
            Item::Quantity(amount, unit),
        ) => {
            let amount = if op == BinaryOp::Add {
                *amount
            } else {
                -amount
            };
            match value::shift(a, amount, unit) {
                Some(moved) => Ok(Some(moved)),
                None => failed(format!("cannot move a date by '{unit}'")),
            }
        }
        (_, Item::Quantity(x, unit_x), Item::Quantity(y, unit_y))
            if unit_x == unit_y && matches!(op, BinaryOp::Add | BinaryOp::Subtract) =>
        {
            let sum = if op == BinaryOp::Add { x + y } else { x - y };
            Ok(Some(Item::Quantity(sum, unit_x.clone())))
        }
        _ => {
            let (Some(x), Some(y)) = (value::number(a), value::number(b)) else {
                return failed(format!(
                    "cannot do arithmetic on {} and {}",
                    a.type_name().1,
                    b.type_name().1
                ));
            };
            Ok(match op {
                BinaryOp::Add => Some(Item::Decimal(x + y)),
                BinaryOp::Subtract => Some(Item::Decimal(x - y)),
                BinaryOp::Multiply => Some(Item::Decimal(x * y)),
                BinaryOp::Divide => (y != 0.0).then(|| Item::Decimal(x / y)),
                BinaryOp::Div => (y != 0.0).then(|| Item::Integer((x / y).trunc() as i64)),
                BinaryOp::Mod => (y != 0.0).then(|| Item::Decimal(x % y)),
                _ => None,
            })
        }
    }
}

fn math<'a>(name: &str, input: &[Item<'a>]) -> Result<Collection<'a>> {
    let Some(item) = single(input)?.map(|i| i.system()) else {
        return Ok(Vec::new());
    };
    if let (Item::Quantity(v, unit), "abs") = (&item, name) {
        return Ok(vec![Item::Quantity(v.abs(), unit.clone())]);
    }
    if let (Item::Integer(i), "abs" | "ceiling" | "floor" | "round" | "truncate") = (&item, name) {
        return Ok(vec![Item::Integer(if name == "abs" {
            i.abs()
        } else {
            *i
        })]);
    }
    let Some(x) = value::number(&item) else {
        return failed(format!("{name}() needs a number"));
    };
    let result = match name {
        "abs" => Item::Decimal(x.abs()),
        "ceiling" => Item::Integer(x.ceil() as i64),
        "floor" => Item::Integer(x.floor() as i64),
        "round" => Item::Decimal(x.round()),
        "truncate" => Item::Integer(x.trunc() as i64),
        "sqrt" if x < 0.0 => return Ok(Vec::new()),
        "sqrt" => Item::Decimal(x.sqrt()),
        "exp" => Item::Decimal(x.exp()),
        _ => Item::Decimal(x.ln()),
    };
    Ok(vec![result])
}

/// `'4 \'mg\''`, `'1 day'` or `'7'` as a Quantity.
fn quantity_from_text(text: &str) -> Option<Item<'static>> {
    let (number, unit) = match text.trim().split_once(' ') {
        Some((number, unit)) => (number, unit.trim()),
        None => (text.trim(), "'1'"),
    };
    let value: f64 = number.parse().ok()?;
    let unit = match unit.strip_prefix('\'').and_then(|u| u.strip_suffix('\'')) {
        Some(ucum) => ucum.to_owned(),
        None => super::parse::calendar_unit(unit)?.to_owned(),
    };
    Some(Item::Quantity(value, unit))
}

/// `encode`/`decode` (base64, urlbase64, hex) and `escape`/`unescape` (html, json).
fn transcode(function: &str, format: &str, text: &str) -> Result<Option<String>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let decoded = |bytes: Vec<u8>| String::from_utf8(bytes).ok();
    Ok(match (function, format) {
        ("encode", "base64") => Some(STANDARD.encode(text)),
        ("encode", "urlbase64") => Some(URL_SAFE.encode(text)),
        ("encode", "hex") => Some(text.bytes().map(|b| format!("{b:02x}")).collect()),
        ("decode", "base64") => STANDARD.decode(text).ok().and_then(decoded),
        ("decode", "urlbase64") => URL_SAFE.decode(text).ok().and_then(decoded),
        ("decode", "hex") => (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .and_then(decoded),
        ("escape", "html") => Some(
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#39;"),
        ),
        ("unescape", "html") => Some(
            text.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        ),
        ("escape", "json") => {
            let quoted = serde_json::to_string(text).unwrap_or_default();
            Some(quoted[1..quoted.len().saturating_sub(1)].to_owned())
        }
        ("unescape", "json") => {
            let mut out = String::with_capacity(text.len());
            let mut chars = text.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                }
            }
            Some(out)
        }
        _ => return Err(EvalError::Unsupported(format!("{function}('{format}')"))),
    })
}

/// Compiled regular expressions, kept: the same few patterns run for every element.
fn compile_regex(pattern: &str) -> Result<Arc<regex::Regex>> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    // Shared, not cloned: a cloned `Regex` starts a cache of its own on every use.
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(found);
    }
    let compiled = regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map(Arc::new)
        .map_err(|e| EvalError::Failed(format!("bad regular expression: {e}")))?;
    if let Ok(mut cache) = cache.lock()
        && cache.len() < 1024
    {
        cache.insert(pattern.to_owned(), compiled.clone());
    }
    Ok(compiled)
}

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
