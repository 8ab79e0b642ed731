//! Collection helpers: membership, distinct items, and `sort()` with its total order.

use std::cmp::Ordering;

use super::{Collection, Evaluator, Result, Scope, single};
use crate::fhir::fhirpath::parse::Expr;
use crate::fhir::fhirpath::value::{self, Item};

impl<'a, 'd> Evaluator<'a, 'd> {
    /// `sort()` by the items themselves, or by keys; a key written `-key` sorts descending.
    pub(super) fn sort(
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
}

pub(super) fn contains(collection: &[Item<'_>], item: &Item<'_>) -> bool {
    collection
        .iter()
        .any(|other| value::equal(item, other) == Some(true))
}

/// The items without repeats. Strings, booleans and numbers are told apart by a hash (a
/// searchset's 10,000 fullUrls in bdl-7 would otherwise be compared pairwise); other items
/// by `=` against those kept.
pub(super) fn distinct(items: Collection<'_>) -> Collection<'_> {
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
