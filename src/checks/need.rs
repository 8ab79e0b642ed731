//! Whether a scenario's need (`Given the target offers …`) stops it, against what the target
//! declares: the one rule the planner and the need step both apply.

use crate::catalogue::Profile;
use crate::checks::Halt;
use crate::report::Failure;
use crate::target::need::NeedStep;
use crate::target::{Offer, TargetModel};

/// Whether a need stops a scenario: `None` when the target offers it or its declarations are no
/// complete list (`TargetModel::is_complete`); not applicable when a complete list leaves it out;
/// a failure when the run's profile requires it. A negated need (`does not offer`) runs only
/// where the absence is known.
pub fn judge_need(step: &NeedStep, model: &TargetModel, profile: Profile) -> Option<Halt> {
    let offer = step.need.offer(model);
    if step.negated {
        return match offer {
            Offer::Declared(sources) => {
                let names: Vec<&str> = sources.iter().map(|s| s.as_str()).collect();
                Some(Halt::nothing_to_judge(format!(
                    "the target declares {} ({}), so there is nothing undeclared to probe",
                    step.need.describe(),
                    names.join(", ")
                )))
            }
            Offer::NotDeclared(_) => None,
            // Such a probe changes data where the method is offered after all (a DELETE of the
            // test patient): only a known absence lets it run.
            // Skipped, not inapplicable: the probe is owed, and declaring the target's
            // interactions (`[target.declares.<Type>]`) lets it run.
            Offer::Unknown => Some(Halt::missing_config(format!(
                "the target declares nothing, so mts cannot know that it does not offer {}, and does not risk it; declare what it offers in [target.declares] to probe the rest",
                step.need.describe()
            ))),
        };
    }
    match offer {
        Offer::Declared(_) | Offer::Unknown => None,
        Offer::NotDeclared(why) if step.required_under == Some(profile) => Some(Halt::Fail(
            Failure::new(format!(
                "the {profile} profile requires {}, and {why}",
                step.need.describe()
            ))
            .expected(format!("{} declared", step.need.describe()))
            .actual(why),
        )),
        Offer::NotDeclared(why) => Some(Halt::not_declared(why)),
    }
}
