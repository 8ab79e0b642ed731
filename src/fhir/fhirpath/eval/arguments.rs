//! How functions read arguments: against `$this`, as text, an integer, per item, or a type name.

use super::{Collection, Evaluator, Result, Scope, failed, single};
use crate::fhir::fhirpath::parse::{Expr, TypeSpecifier};
use crate::fhir::fhirpath::value::Item;

impl<'a, 'd> Evaluator<'a, 'd> {
    /// Evaluates an argument against the invocation's `$this`, as functions' plain arguments are.
    pub(super) fn argument(&mut self, arg: &Expr, scope: &Scope<'a>) -> Result<Collection<'a>> {
        let input: Collection<'a> = scope.this.clone().into_iter().collect();
        self.eval(arg, &input, scope)
    }

    pub(super) fn text_argument(
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

    pub(super) fn integer_argument(
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
    pub(super) fn per_item(
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

    pub(super) fn type_argument(args: &[Expr]) -> Result<TypeSpecifier> {
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
}

pub(super) fn single_text(collection: &[Item<'_>]) -> Result<Option<String>> {
    match single(collection)? {
        None => Ok(None),
        Some(item) => match item.as_text() {
            Some(text) => Ok(Some(text)),
            None => failed("a string function was given something that is not a string"),
        },
    }
}
