//! The gating policy, as data: which levels block a procurement, and waivers (a requirement,
//! why, until when). A waived failure is reported `waived` until its expiry date, and counts
//! as a failure again from the day after.

use chrono::NaiveDate;

use crate::catalogue::{Catalogue, Strength};
pub use crate::config::Waiver;
use crate::report::{RequirementResult, Verdict};

#[derive(Debug, Clone)]
pub struct Gate {
    /// SHOULD (and SHOULD NOT) failures block too, not only MUST.
    pub strict: bool,
    pub waivers: Vec<Waiver>,
    /// The day waivers are judged against.
    pub today: NaiveDate,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            strict: false,
            waivers: Vec::new(),
            today: chrono::Utc::now().date_naive(),
        }
    }
}

impl Gate {
    /// Whether a failure at this strength makes the run non-conformant.
    pub fn blocks(&self, strength: Strength) -> bool {
        strength == Strength::Must || (self.strict && strength == Strength::Should)
    }

    /// Waivers must name known requirements, say why, and be given once per requirement.
    pub fn check(&self, catalogue: &Catalogue) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for waiver in &self.waivers {
            if catalogue.get(&waiver.requirement).is_none() {
                let hint = crate::util::did_you_mean(
                    &waiver.requirement,
                    catalogue.requirements.iter().map(|r| r.id.as_str()),
                )
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
                return Err(format!(
                    "waiver for `{}`: no such requirement{hint}",
                    waiver.requirement
                ));
            }
            if waiver.justification.trim().is_empty() {
                return Err(format!(
                    "waiver for {}: a justification is required",
                    waiver.requirement
                ));
            }
            if !seen.insert(waiver.requirement.as_str()) {
                return Err(format!("two waivers for {}: keep one", waiver.requirement));
            }
        }
        Ok(())
    }

    /// Turns failures covered by a waiver in force into `waived`; an expired waiver leaves the
    /// failure standing and says so.
    pub fn apply(&self, requirements: &mut [RequirementResult]) {
        for result in requirements
            .iter_mut()
            .filter(|r| r.verdict == Verdict::Fail)
        {
            let Some(waiver) = self
                .waivers
                .iter()
                .find(|w| w.requirement == result.id.as_str())
            else {
                continue;
            };
            let failure = result.reason.clone().unwrap_or_default();
            if waiver.expires >= self.today {
                result.verdict = Verdict::Waived;
                result.reason = Some(format!(
                    "waived until {}: {} (the failure: {failure})",
                    waiver.expires, waiver.justification
                ));
            } else {
                result.reason = Some(format!(
                    "the waiver expired on {} ({}); {failure}",
                    waiver.expires, waiver.justification
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn gate(expires: &str) -> Gate {
        Gate {
            strict: false,
            waivers: vec![Waiver {
                requirement: "SEC-HDR-001".into(),
                justification: "HSTS is set by the CDN; ticket 42".into(),
                expires: date(expires),
            }],
            today: date("2026-11-22"),
        }
    }

    fn failing(id: &str) -> RequirementResult {
        let catalogue = crate::catalogue::load_embedded().unwrap();
        let requirement = catalogue.get(id).unwrap();
        RequirementResult {
            id: requirement.id.clone(),
            level: requirement.level,
            title: String::new(),
            area: String::new(),
            statement: String::new(),
            sources: vec![],
            status: requirement.status,
            verdict: Verdict::Fail,
            blocking: true,
            reason: Some("no Strict-Transport-Security".into()),
            reason_kind: None,
            evidence: None,
            profile_rule: None,
            scenarios: vec![],
            checks: vec![],
            failures: vec![],
            notes: vec![],
            exchanges: vec![],
        }
    }

    #[test]
    fn a_waiver_holds_until_its_last_day_and_not_after() {
        for (expires, verdict) in [
            ("2026-11-22", Verdict::Waived),
            ("2027-01-01", Verdict::Waived),
            ("2026-11-21", Verdict::Fail),
        ] {
            let mut results = [failing("SEC-HDR-001"), failing("SEC-HDR-003")];
            gate(expires).apply(&mut results);
            assert_eq!(results[0].verdict, verdict, "{expires}");
            assert_eq!(
                results[1].verdict,
                Verdict::Fail,
                "other failures are untouched"
            );
            let reason = results[0].reason.as_deref().unwrap();
            assert!(
                reason.contains("ticket 42") && reason.contains("no Strict-Transport"),
                "{reason}"
            );
        }
    }

    #[test]
    fn waivers_name_known_requirements_once_with_a_reason() {
        let catalogue = crate::catalogue::load_embedded().unwrap();
        assert!(gate("2027-01-01").check(&catalogue).is_ok());
        let mut unknown = gate("2027-01-01");
        unknown.waivers[0].requirement = "SEC-HDR-01".into();
        assert!(
            unknown
                .check(&catalogue)
                .unwrap_err()
                .contains("did you mean")
        );
        let mut silent = gate("2027-01-01");
        silent.waivers[0].justification = " ".into();
        assert!(silent.check(&catalogue).is_err());
        let mut twice = gate("2027-01-01");
        twice.waivers.push(twice.waivers[0].clone());
        assert!(twice.check(&catalogue).is_err());
    }

    #[test]
    fn strict_makes_should_block() {
        let mut gate = gate("2027-01-01");
        assert!(gate.blocks(Strength::Must) && !gate.blocks(Strength::Should));
        gate.strict = true;
        assert!(gate.blocks(Strength::Should) && !gate.blocks(Strength::May));
    }
}
