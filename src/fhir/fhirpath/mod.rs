//! FHIRPath (N1, as FHIR R4 uses it) over resources in their JSON form: enough of the language
//! for every invariant in R4 core and UK Core 2.0.2, measured against HL7's FHIRPath test suite
//! (tests/fhirpath_suite.rs). What it does not evaluate is reported as unsupported, so the
//! validator lists the invariant as not evaluated instead of passing it.

mod eval;
pub mod parse;
mod value;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::Value;

pub use eval::{EvalError, html_is_safe};
pub use parse::{Expr, ParseError, parse};
pub use value::Item;

use crate::fhir::definitions::{Definitions, ElementInfo};

/// The element an expression is evaluated on.
#[derive(Debug, Clone, Copy)]
pub struct Focus<'a> {
    pub value: &'a Value,
    /// A primitive's `_name` companion (its id and extensions).
    pub companion: Option<&'a Value>,
    /// The element's FHIR type (`HumanName`, `string`, `BackboneElement`).
    pub type_name: Option<&'a str>,
    /// The element's path or id (`Patient.contact`, `Patient.identifier:nhsNumber`; slice
    /// names are ignored), to type the children of a backbone element.
    pub path: Option<&'a str>,
}

/// Parses expressions once and evaluates them with the definitions typing the data.
pub struct Engine {
    definitions: Arc<Definitions>,
    compiled: RwLock<HashMap<String, Result<Arc<Expr>, ParseError>>>,
    /// Backbone elements by path, resolved once: every invariant on one asks again.
    backbones: RwLock<HashMap<String, Option<Arc<ElementInfo>>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// Expressions kept parsed: conformance resources hold a few hundred.
const CACHE_LIMIT: usize = 10_000;

impl Engine {
    pub fn new(definitions: Arc<Definitions>) -> Self {
        Self {
            definitions,
            compiled: RwLock::default(),
            backbones: RwLock::default(),
        }
    }

    /// The parsed expression, from the cache when it was parsed before.
    pub fn compile(&self, text: &str) -> Result<Arc<Expr>, ParseError> {
        if let Some(found) = self.compiled.read().ok().and_then(|c| c.get(text).cloned()) {
            return found;
        }
        let parsed = parse(text).map(Arc::new);
        if let Ok(mut cache) = self.compiled.write()
            && cache.len() < CACHE_LIMIT
        {
            cache.insert(text.to_owned(), parsed.clone());
        }
        parsed
    }

    /// Evaluates `expr` on `focus` (the resource itself when `None`) inside `resource`.
    pub fn evaluate<'a>(
        &self,
        expr: &Expr,
        resource: &'a Value,
        focus: Option<Focus<'a>>,
    ) -> Result<Vec<Item<'a>>, EvalError> {
        self.evaluate_inside(expr, resource, resource, focus)
    }

    /// Like `evaluate`, for a resource contained in `root` (`%rootResource`).
    pub fn evaluate_inside<'a>(
        &self,
        expr: &Expr,
        resource: &'a Value,
        root: &'a Value,
        focus: Option<Focus<'a>>,
    ) -> Result<Vec<Item<'a>>, EvalError> {
        let mut evaluator = eval::Evaluator {
            definitions: &self.definitions,
            resource,
            root,
            context: value::Item::Boolean(false),
            spent: 0,
        };
        evaluator.context = match focus {
            None => evaluator.resource_node(resource),
            Some(focus) => self.focus_item(focus),
        };
        evaluator.run(expr)
    }

    fn focus_item<'a>(&self, focus: Focus<'a>) -> Item<'a> {
        if focus.value.get("resourceType").is_some() {
            let type_name = focus.value["resourceType"].as_str();
            return Item::Node(value::Node {
                value: focus.value,
                companion: focus.companion,
                type_name: type_name.map(Arc::from),
                element: type_name.and_then(|t| self.definitions.type_root(t)),
            });
        }
        let backbone = matches!(focus.type_name, None | Some("BackboneElement" | "Element"));
        let element = if backbone {
            focus.path.and_then(|path| self.backbone(path))
        } else {
            focus.type_name.and_then(|t| self.definitions.type_root(t))
        };
        Item::Node(value::Node {
            value: focus.value,
            companion: focus.companion,
            type_name: focus.type_name.map(Arc::from),
            element,
        })
    }

    /// The element at a path or id (slice names dropped), cached.
    fn backbone(&self, id: &str) -> Option<Arc<ElementInfo>> {
        if let Some(found) = self.backbones.read().ok().and_then(|c| c.get(id).cloned()) {
            return found;
        }
        let mut steps = id
            .split('.')
            .map(|step| step.split(':').next().unwrap_or(step));
        let found = steps.next().and_then(|type_name| {
            let mut found = self.definitions.type_root(type_name)?;
            for name in steps {
                found = self.definitions.child_element(&found, name)?;
            }
            Some(found)
        });
        if let Ok(mut cache) = self.backbones.write()
            && cache.len() < CACHE_LIMIT
        {
            cache.insert(id.to_owned(), found.clone());
        }
        found
    }

    /// An invariant's verdict on `focus`: `None` when the expression uses FHIRPath mts does
    /// not evaluate; `Err` when it cannot be evaluated on this data. Only `false` breaks it: an
    /// empty answer means the rule did not reach the data (ref-1 on a display-only reference:
    /// `reference.startsWith('#')` is empty), which UK Core's own examples rely on.
    pub fn check<'a>(
        &self,
        expression: &str,
        focus: Focus<'a>,
        resource: &'a Value,
        root: &'a Value,
    ) -> Option<Result<bool, String>> {
        if let Some(answer) = native(expression, focus) {
            return Some(Ok(answer));
        }
        let expr = match self.compile(corrected(expression)) {
            Ok(expr) => expr,
            Err(error) => return Some(Err(format!("the expression does not parse: {error}"))),
        };
        match self.evaluate_inside(&expr, resource, root, Some(focus)) {
            Ok(result) => Some(
                eval::boolean(&result)
                    .map(|b| b != Some(false))
                    .map_err(|e| e.to_string()),
            ),
            Err(EvalError::Unsupported(_)) => None,
            Err(EvalError::Failed(why)) => Some(Err(why)),
        }
    }
}

/// R4 invariants whose published expression is wrong, read as HL7's validator reads them
/// (its FHIRPathExpressionFixer): que-7 tests a FHIR boolean against System's `Boolean`, which
/// it never is, so every valid `exists` condition would fail.
fn corrected(expression: &str) -> &str {
    match expression {
        "operator = 'exists' implies (answer is Boolean)" => {
            "operator = 'exists' implies (answer is boolean)"
        }
        other => other,
    }
}

/// The two invariants on nearly every element, evaluated directly: ele-1 (an element has a
/// value or children other than its id) and ext-1 (an extension has nested extensions or a
/// value, not both). Their answers are the engine's (tested); the walk is the cost they save.
fn native(expression: &str, focus: Focus<'_>) -> Option<bool> {
    match expression {
        "hasValue() or (children().count() > id.count())" => {
            if !focus.value.is_null() && !focus.value.is_object() && !focus.value.is_array() {
                return Some(true);
            }
            let holder = if focus.value.is_object() {
                focus.value.as_object()
            } else {
                focus.companion.and_then(Value::as_object)
            };
            let Some(holder) = holder else {
                return Some(false);
            };
            let items = |value: Option<&Value>| match value {
                Some(Value::Array(items)) => items.iter().filter(|v| !v.is_null()).count(),
                Some(Value::Null) | None => 0,
                Some(_) => 1,
            };
            let mut children = 0;
            for key in holder.keys() {
                let name = key.strip_prefix('_').unwrap_or(key);
                if name == "resourceType" || (key.starts_with('_') && holder.contains_key(name)) {
                    continue;
                }
                children += items(holder.get(name)).max(items(holder.get(&format!("_{name}"))));
            }
            let ids = usize::from(holder.get("id").is_some_and(|id| !id.is_null()));
            Some(children > ids)
        }
        "extension.exists() != value.exists()" => {
            let object = focus.value.as_object()?;
            let nested = object
                .get("extension")
                .is_some_and(|e| e.as_array().is_some_and(|a| !a.is_empty()));
            // `_valueString` alone (a value given only by its extensions) is a value too.
            let value = object.keys().any(|key| {
                key.trim_start_matches('_')
                    .strip_prefix("value")
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
            });
            Some(nested != value)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn engine() -> Engine {
        Engine::new(Definitions::core().expect("core definitions"))
    }

    fn eval_on(engine: &Engine, resource: &Value, expression: &str) -> Vec<String> {
        let expr = engine.compile(expression).expect("parses");
        engine
            .evaluate(&expr, resource, None)
            .expect("evaluates")
            .iter()
            .map(|item| item.to_text().unwrap_or_else(|| "<node>".into()))
            .collect()
    }

    #[test]
    fn paths_choices_and_types_follow_the_definitions() {
        let engine = engine();
        let observation = json!({
            "resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "1234-5"}]},
            "valueQuantity": {"value": 5.5, "unit": "mg", "code": "mg"},
            "effectiveDateTime": "2020-01-02T10:00:00Z"
        });
        assert_eq!(
            eval_on(&engine, &observation, "Observation.status"),
            ["final"]
        );
        assert_eq!(
            eval_on(&engine, &observation, "Patient.status"),
            Vec::<String>::new()
        );
        assert_eq!(eval_on(&engine, &observation, "value.value"), ["5.5"]);
        assert_eq!(
            eval_on(&engine, &observation, "value is Quantity"),
            ["true"]
        );
        assert_eq!(
            eval_on(&engine, &observation, "value.as(Quantity).unit"),
            ["mg"]
        );
        assert_eq!(eval_on(&engine, &observation, "value > 5 'mg'"), ["true"]);
        assert_eq!(
            eval_on(&engine, &observation, "effective > @2020-01-01T00:00:00Z"),
            ["true"]
        );
        assert_eq!(
            eval_on(
                &engine,
                &observation,
                "code.coding.where(system = %loinc).code"
            ),
            ["1234-5"]
        );
        assert_eq!(
            eval_on(
                &engine,
                &observation,
                "descendants().ofType(Coding).count()"
            ),
            ["1"]
        );
    }

    #[test]
    fn numbers_read_as_written_and_any_collection_sorts() {
        let engine = engine();
        let observation = json!({"resourceType": "Observation",
            "valueQuantity": {"value": 5, "code": "1"}, "component": [{"valueQuantity": {"value": 5.5}}]});
        // cnt-3 asks whether a whole-number count has a '.': 5 is written "5".
        assert_eq!(
            eval_on(&engine, &observation, "value.value.toString()"),
            ["5"]
        );
        assert_eq!(
            eval_on(&engine, &observation, "component.value.value.toString()"),
            ["5.5"]
        );
        // Items of different kinds have no order in FHIRPath; sorting them must not panic.
        assert_eq!(
            eval_on(
                &engine,
                &observation,
                "(1 | 'a' | 0 | @2020 | true).sort().count()"
            ),
            ["5"]
        );
        assert_eq!(
            eval_on(&engine, &observation, "(3 | 1 | 2).sort(-$this).first()"),
            ["3"]
        );
    }

    #[test]
    fn primitives_with_extensions_have_children_but_no_value() {
        let engine = engine();
        let patient = json!({
            "resourceType": "Patient",
            "_birthDate": {"extension": [{"url": "http://x", "valueString": "unknown"}]}
        });
        assert_eq!(
            eval_on(&engine, &patient, "birthDate.hasValue()"),
            ["false"]
        );
        assert_eq!(
            eval_on(&engine, &patient, "birthDate.extension('http://x').value"),
            ["unknown"]
        );
        assert_eq!(
            eval_on(&engine, &patient, "birthDate.children().count()"),
            ["1"]
        );
    }

    #[test]
    fn invariants_pass_fail_and_say_what_they_cannot_judge() {
        let engine = engine();
        let patient = json!({"resourceType": "Patient", "contact": [{"gender": "male"}]});
        let contact = &patient["contact"][0];
        let focus = Focus {
            value: contact,
            companion: None,
            type_name: Some("BackboneElement"),
            path: Some("Patient.contact"),
        };
        let pat_1 =
            "name.exists() or telecom.exists() or address.exists() or organization.exists()";
        assert_eq!(
            engine.check(pat_1, focus, &patient, &patient),
            Some(Ok(false))
        );
        let whole = Focus {
            value: &patient,
            companion: None,
            type_name: Some("Patient"),
            path: None,
        };
        assert_eq!(
            engine.check("contact.gender = 'male'", whole, &patient, &patient),
            Some(Ok(true))
        );
        assert_eq!(
            engine.check("memberOf('x')", whole, &patient, &patient),
            None
        );
        assert!(matches!(
            engine.check("contact.gender.substring(", whole, &patient, &patient),
            Some(Err(_))
        ));
        assert!(matches!(
            engine.check(
                "(contact | contact).gender.startsWith('m') or true",
                whole,
                &patient,
                &patient
            ),
            Some(Ok(true))
        ));
    }

    #[test]
    fn the_native_invariants_answer_as_the_engine_does() {
        let engine = engine();
        let samples = [
            (json!("x"), None),
            (
                Value::Null,
                Some(json!({"extension": [{"url": "u", "valueString": "v"}]})),
            ),
            (Value::Null, Some(json!({"id": "a"}))),
            (json!({"id": "a"}), None),
            (json!({}), None),
            (json!({"id": "a", "text": "b"}), None),
            (json!({"url": "u", "valueString": "v"}), None),
            (
                json!({"url": "u", "extension": [{"url": "v", "valueCode": "c"}]}),
                None,
            ),
            (
                json!({"url": "u", "extension": [{"url": "v"}], "valueCode": "c"}),
                None,
            ),
            (json!({"url": "u"}), None),
            (
                json!({"url": "u", "_valueString": {"extension": [{"url": "v", "valueCode": "c"}]}}),
                None,
            ),
            (
                json!({"given": ["a", "b"], "_given": [null, {"id": "x"}]}),
                None,
            ),
        ];
        for expression in [
            "hasValue() or (children().count() > id.count())",
            "extension.exists() != value.exists()",
        ] {
            let expr = engine.compile(expression).unwrap();
            for (value, companion) in &samples {
                let focus = Focus {
                    value,
                    companion: companion.as_ref(),
                    type_name: None,
                    path: None,
                };
                let Some(native) = native(expression, focus) else {
                    continue;
                };
                let evaluated = engine.evaluate(&expr, value, Some(focus)).unwrap();
                let by_engine = eval::boolean(&evaluated).unwrap() == Some(true);
                assert_eq!(native, by_engine, "{expression} on {value} / {companion:?}");
            }
        }
    }

    #[test]
    fn dom_3_finds_a_contained_resource_nobody_references() {
        let engine = engine();
        let dom_3 = "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()";
        let referenced = json!({
            "resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "contained": [{"resourceType": "Patient", "id": "p1"}],
            "subject": {"reference": "#p1"}
        });
        let whole = Focus {
            value: &referenced,
            companion: None,
            type_name: Some("Observation"),
            path: None,
        };
        assert_eq!(
            engine.check(dom_3, whole, &referenced, &referenced),
            Some(Ok(true))
        );
        let mut orphan = referenced.clone();
        orphan["subject"] = json!({"reference": "Patient/other"});
        let whole = Focus {
            value: &orphan,
            ..whole
        };
        assert_eq!(
            engine.check(dom_3, whole, &orphan, &orphan),
            Some(Ok(false))
        );
    }

    #[test]
    fn narrative_checks_refuse_scripts_and_handlers() {
        let ns = "xmlns=\"http://www.w3.org/1999/xhtml\"";
        assert!(html_is_safe(&format!(
            "<div {ns}><p>Hello <b>you</b></p></div>"
        )));
        assert!(!html_is_safe(&format!(
            "<div {ns}><script>x()</script></div>"
        )));
        assert!(!html_is_safe(&format!(
            "<div {ns}><p onclick=\"x()\">a</p></div>"
        )));
        assert!(!html_is_safe(&format!(
            "<div {ns}><a href=\" javascript:x()\">a</a></div>"
        )));
        assert!(!html_is_safe("<p>not a div</p>"));
    }

    #[test]
    fn runaway_expressions_end() {
        let engine = engine();
        let patient = json!({"resourceType": "Patient", "contained": [{"resourceType": "Patient", "id": "a", "link": [{"other": {"reference": "#a"}}]}]});
        // repeat() over a reference cycle stops once nothing new is found.
        let expr = engine
            .compile("contained.repeat(link.other.resolve()).count()")
            .unwrap();
        assert!(engine.evaluate(&expr, &patient, None).is_ok());
    }
}
