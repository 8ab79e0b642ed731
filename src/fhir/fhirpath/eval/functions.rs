//! The function library: `call` evaluates each FHIRPath function by its name and arity.

use super::arguments::single_text;
use super::collections::{contains, distinct};
use super::narrative::html_is_safe;
use super::operators::math;
use super::text::{compile_regex, quantity_from_text, transcode};
use super::{Collection, EvalError, Evaluator, Result, Scope, boolean, failed, single};
use crate::fhir::fhirpath::parse::{Expr, TypeOp};
use crate::fhir::fhirpath::value::{self, Item, Moment};

impl<'a, 'd> Evaluator<'a, 'd> {
    pub(super) fn call(
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
}
