use cucumber::gherkin::{self, StepType};
use cucumber::step::{Collection, Context};
use futures::future::LocalBoxFuture;
use regex::Regex;

use super::world::MtsWorld;
use crate::checks::Halt;

pub type StepFn = cucumber::step::Step<MtsWorld>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Given,
    When,
    Then,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Given => "Given",
            StepKind::When => "When",
            StepKind::Then => "Then",
        }
    }
}

/// One step definition: its kind, its pattern, what it does, and the function.
#[derive(Clone)]
pub struct StepDefinition {
    pub kind: StepKind,
    pub pattern: &'static str,
    pub help: &'static str,
    pub run: StepFn,
}

/// All step definitions, and the cucumber collection built from them.
#[derive(Clone)]
pub struct StepLibrary {
    definitions: Vec<StepDefinition>,
    collection: Collection<MtsWorld>,
}

impl std::fmt::Debug for StepLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepLibrary")
            .field("definitions", &self.definitions.len())
            .finish()
    }
}

impl StepLibrary {
    pub fn new() -> Self {
        let mut definitions = Vec::new();
        super::http::register(&mut definitions);
        super::auth::register(&mut definitions);
        super::compartment::register(&mut definitions);
        super::fhir::register(&mut definitions);
        super::input::register(&mut definitions);
        super::load::register(&mut definitions);
        super::mtls::register(&mut definitions);
        super::search::register(&mut definitions);
        super::server::register(&mut definitions);
        super::tls::register(&mut definitions);
        super::transaction::register(&mut definitions);
        super::writes::register(&mut definitions);
        let mut collection = Collection::new();
        for definition in &definitions {
            // Patterns are fixed at compile time and covered by tests, so this cannot fail at run time.
            let Ok(regex) = Regex::new(definition.pattern) else {
                continue;
            };
            collection = match definition.kind {
                StepKind::Given => collection.given(None, regex, definition.run),
                StepKind::When => collection.when(None, regex, definition.run),
                StepKind::Then => collection.then(None, regex, definition.run),
            };
        }
        Self {
            definitions,
            collection,
        }
    }

    pub fn definitions(&self) -> &[StepDefinition] {
        &self.definitions
    }

    pub fn collection(&self) -> Collection<MtsWorld> {
        self.collection.clone()
    }

    /// Whether a step written in a feature matches exactly one definition, and its placeholders
    /// name known test data.
    pub fn check(&self, step: &gherkin::Step) -> Result<(), String> {
        let kind = match step.ty {
            StepType::Given => "Given",
            StepType::When => "When",
            StepType::Then => "Then",
        };
        match self.collection.find(step) {
            Ok(Some(_)) => {}
            Ok(None) => {
                let near = crate::util::did_you_mean(
                    &step.value,
                    self.definitions
                        .iter()
                        .filter(|d| d.kind.as_str() == kind)
                        .map(|d| d.help),
                )
                .map(|h| format!(" (closest: \"{h}\")"))
                .unwrap_or_default();
                return Err(format!(
                    "no step definition matches {kind} \"{}\"{near}",
                    step.value
                ));
            }
            Err(ambiguous) => {
                return Err(format!(
                    "{kind} \"{}\" matches several step definitions: {ambiguous}",
                    step.value
                ));
            }
        }
        super::world::expand_placeholders(&step.value, &crate::config::TestData::default())
            .map(|_| ())
            .map_err(|e| format!("{kind} \"{}\": {e}", step.value))
    }
}

impl Default for StepLibrary {
    fn default() -> Self {
        Self::new()
    }
}

/// The captured groups of a step's pattern, in order.
pub struct Args {
    groups: Vec<String>,
}

impl Args {
    pub fn from_context(context: &Context) -> Self {
        Self {
            groups: context
                .matches
                .iter()
                .skip(1)
                .map(|(_, value)| value.clone())
                .collect(),
        }
    }

    pub fn get(&self, index: usize) -> &str {
        self.groups.get(index).map_or("", String::as_str)
    }
}

/// Runs a step handler and turns its `Halt` into the panic cucumber understands as a failed
/// step; the runner downcasts the payload back to the `Halt`.
pub async fn run_step<'a, F>(world: &'a mut MtsWorld, context: Context, handler: F)
where
    F: for<'w> FnOnce(&'w mut MtsWorld, Args) -> LocalBoxFuture<'w, Result<(), Halt>>,
{
    world.current_step = format!("{}{}", context.step.keyword, context.step.value);
    let args = Args::from_context(&context);
    if let Err(halt) = handler(world, args).await {
        std::panic::panic_any(halt);
    }
}

/// Declares a step: `step!(defs, Given, "^pattern$", "help text", handler_fn)` where the
/// handler is `async fn(&mut MtsWorld, Args) -> Result<(), Halt>`.
macro_rules! step {
    ($defs:expr, $kind:ident, $pattern:expr, $help:expr, $handler:path) => {{
        fn run(
            world: &mut $crate::steps::MtsWorld,
            context: cucumber::step::Context,
        ) -> futures::future::LocalBoxFuture<'_, ()> {
            Box::pin($crate::steps::library::run_step(
                world,
                context,
                |world, args| Box::pin($handler(world, args)),
            ))
        }
        $defs.push($crate::steps::library::StepDefinition {
            kind: $crate::steps::StepKind::$kind,
            pattern: $pattern,
            help: $help,
            run,
        });
    }};
}
pub(crate) use step;

impl crate::features::StepMatcher for StepLibrary {
    fn check(&self, step: &gherkin::Step) -> Result<(), String> {
        StepLibrary::check(self, step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_and_is_anchored() {
        let library = StepLibrary::new();
        assert!(library.definitions().len() >= 10);
        for definition in library.definitions() {
            assert!(
                Regex::new(definition.pattern).is_ok(),
                "{}",
                definition.pattern
            );
            assert!(
                definition.pattern.starts_with('^') && definition.pattern.ends_with('$'),
                "{}",
                definition.pattern
            );
            let regex = Regex::new(definition.pattern).unwrap();
            // The help text is an example of the step, so it must match its own pattern.
            assert!(
                regex.is_match(definition.help),
                "help `{}` does not match `{}`",
                definition.help,
                definition.pattern
            );
        }
    }

    #[test]
    fn no_two_definitions_of_a_kind_match_the_same_example() {
        let library = StepLibrary::new();
        for a in library.definitions() {
            for b in library.definitions() {
                if std::ptr::eq(a, b) || a.kind != b.kind {
                    continue;
                }
                let other = Regex::new(b.pattern).unwrap();
                assert!(
                    !other.is_match(a.help),
                    "`{}` also matches `{}`",
                    a.help,
                    b.pattern
                );
            }
        }
    }
}
