//! FHIRPath's operators (logic, equality, membership, comparison, union, arithmetic) and math.

use std::cmp::Ordering;

use super::collections::distinct;
use super::{Collection, EvalError, Evaluator, Result, Scope, boolean, failed, single};
use crate::fhir::fhirpath::parse::{BinaryOp, Expr};
use crate::fhir::fhirpath::value::{self, Item};

impl<'a, 'd> Evaluator<'a, 'd> {
    pub(super) fn binary(
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

pub(super) fn math<'a>(name: &str, input: &[Item<'a>]) -> Result<Collection<'a>> {
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
