//! Every verdict rule of mts, in one place: what a scenario's halt, a check's tally, the outcomes
//! behind a requirement and the requirements of a run come to, and which of them block. Pure
//! functions over plain data, tested by tables below; every other module asks here.
//!
//! | outcome         | when |
//! | --------------- | ---- |
//! | fail            | the exchange shows the requirement broken, or evidence mts asked for is absent |
//! | error           | mts could not get an answer it can judge |
//! | skipped         | mts chose not to run it (the [`ReasonKind`] says why) |
//! | not-applicable  | the target declares it does not offer this, or the profile excludes it |
//! | pass            | every piece of evidence owed was there and right |
//! | attestation     | no black-box test can show it, and the supplier's attestation is owed |
//! | attested        | the supplier attested it, completely and in date (`attestations.toml`) |
//!
//! Framework clauses get a status from the requirements mapped to them ([`of_clause`]).

use serde::{Deserialize, Serialize};

use crate::catalogue::Strength;

/// The outcome of one scenario, one check, or a whole requirement.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    /// The harness could not reach a judgement (timeout, unreachable target, harness fault).
    Error,
    /// Not run: mts chose not to (its reason says why: data or configuration missing, writes
    /// not permitted, not selected, interrupted, not automated yet).
    Skipped,
    /// The target declares it does not offer what the requirement is about, or the profile
    /// excludes it.
    NotApplicable,
    /// No black-box test can show it: the supplier's attestation is owed (not given, or
    /// incomplete).
    Attestation,
    /// The supplier attested it: a statement, evidence, who and when, all in order. Shown as
    /// attested, never as passed: mts checked the answer is complete, not that it is true.
    Attested,
    /// Failed, but a waiver in force (with its justification and expiry) accepts the failure.
    Waived,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
            Verdict::Skipped => "skipped",
            Verdict::NotApplicable => "not-applicable",
            Verdict::Attestation => "attestation",
            Verdict::Attested => "attested",
            Verdict::Waived => "waived",
        }
    }

    /// Whether the requirement was actually judged on the target (it counts towards coverage).
    pub fn is_judged(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::Fail | Verdict::Waived)
    }
}

/// Why something was not judged. The kind alone decides the verdict ([`unjudged`]); the text
/// beside it says what exactly was missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonKind {
    /// Test data the scenario needs is not on the target or not configured (skipped).
    MissingData,
    /// A setting, credential or certificate mts needs was not given (skipped).
    MissingConfig,
    /// The user did not allow it (`--allow-writes`, `--allow-load`) (skipped).
    NotPermitted,
    /// The run was stopped before it finished (skipped).
    Interrupted,
    /// The user's selection left it out (`--requirements`, `--tags`, `--level`) (skipped).
    NotSelected,
    /// The catalogue has no automated test for it yet (skipped).
    NotAutomated,
    /// The target's declarations (CapabilityStatement, OpenAPI, `mts.toml`) do not offer what
    /// it is about (not applicable).
    NotDeclared,
    /// The run's profile does not apply it (not applicable).
    ExcludedByProfile,
    /// An optional endpoint it is about is not there (not applicable).
    EndpointAbsent,
    /// Nothing the run received is something the rule is about, and nothing was owed
    /// (not applicable).
    NothingToJudge,
}

impl ReasonKind {
    pub const ALL: [ReasonKind; 10] = [
        ReasonKind::MissingData,
        ReasonKind::MissingConfig,
        ReasonKind::NotPermitted,
        ReasonKind::Interrupted,
        ReasonKind::NotSelected,
        ReasonKind::NotAutomated,
        ReasonKind::NotDeclared,
        ReasonKind::ExcludedByProfile,
        ReasonKind::EndpointAbsent,
        ReasonKind::NothingToJudge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonKind::MissingData => "missing-data",
            ReasonKind::MissingConfig => "missing-config",
            ReasonKind::NotPermitted => "not-permitted",
            ReasonKind::Interrupted => "interrupted",
            ReasonKind::NotSelected => "not-selected",
            ReasonKind::NotAutomated => "not-automated",
            ReasonKind::NotDeclared => "not-declared",
            ReasonKind::ExcludedByProfile => "excluded-by-profile",
            ReasonKind::EndpointAbsent => "endpoint-absent",
            ReasonKind::NothingToJudge => "nothing-to-judge",
        }
    }
}

impl std::fmt::Display for ReasonKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict of something not judged, from why.
pub fn unjudged(kind: ReasonKind) -> Verdict {
    match kind {
        ReasonKind::MissingData
        | ReasonKind::MissingConfig
        | ReasonKind::NotPermitted
        | ReasonKind::Interrupted
        | ReasonKind::NotSelected
        | ReasonKind::NotAutomated => Verdict::Skipped,
        ReasonKind::NotDeclared
        | ReasonKind::ExcludedByProfile
        | ReasonKind::EndpointAbsent
        | ReasonKind::NothingToJudge => Verdict::NotApplicable,
    }
}

/// A passive check's verdict from how many exchanges it judged and how many broke the rule.
/// `None` when it judged none: not applicable, nothing it is about was received.
pub fn of_check(examined: usize, failed: usize) -> Option<Verdict> {
    match (examined, failed) {
        (0, _) => None,
        (_, 0) => Some(Verdict::Pass),
        _ => Some(Verdict::Fail),
    }
}

/// A requirement's verdict from the outcomes of its scenarios and checks: fail if any failed;
/// else error if any errored; else pass if any passed and every other one does not apply; else
/// skipped if any was skipped (a partial pass is not a pass); else not applicable. `None` when
/// there is no outcome at all.
pub fn of_requirement(outcomes: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
    let mut seen = std::collections::BTreeSet::new();
    for outcome in outcomes {
        seen.insert(outcome);
    }
    if seen.is_empty() {
        return None;
    }
    let any = |v: Verdict| seen.contains(&v);
    Some(if any(Verdict::Fail) {
        Verdict::Fail
    } else if any(Verdict::Error) {
        Verdict::Error
    } else if any(Verdict::Skipped) {
        Verdict::Skipped
    } else if any(Verdict::Pass) {
        Verdict::Pass
    } else if any(Verdict::NotApplicable) {
        Verdict::NotApplicable
    } else if any(Verdict::Waived) {
        Verdict::Waived
    } else {
        Verdict::Attestation
    })
}

/// An attestation requirement's verdict: attested when the supplier's answer has no problem
/// (statement, evidence, who, a date within the last year), else still owed.
pub fn of_attestation(problems: &[String]) -> Verdict {
    if problems.is_empty() {
        Verdict::Attested
    } else {
        Verdict::Attestation
    }
}

/// Where a framework clause stands, from the requirements mapped to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClauseStatus {
    /// Testable over HTTP, and every mapped MUST that applies passed (any, for a yes-or-no
    /// question).
    Met,
    /// Testable over HTTP, and a mapped MUST failed, errored or is failing under a waiver.
    NotMet,
    /// Not testable alone: the supplier's attestation answers it.
    Attested,
    /// Evidence is missing: a deciding MUST was not run, or an attestation is owed.
    EvidenceOwed,
    /// Nothing mapped applies to this run, or the data says nothing covers the clause.
    NotCovered,
}

impl ClauseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClauseStatus::Met => "met",
            ClauseStatus::NotMet => "not met",
            ClauseStatus::Attested => "attested",
            ClauseStatus::EvidenceOwed => "evidence owed",
            ClauseStatus::NotCovered => "not covered",
        }
    }
}

/// How a clause is decided by the requirements mapped to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClauseRule {
    /// Testable over HTTP: met when every mapped MUST that applies passed.
    Every,
    /// A yes-or-no question HTTP tests answer: met when any mapped requirement passed.
    Any,
    /// Not testable alone: the supplier's attestation decides; automated results only support.
    Attestation,
}

/// A clause's status from `(strength, verdict)` of each requirement that decides it (for
/// [`ClauseRule::Attestation`], the attestation requirements only: automated results are
/// supporting evidence, shown beside the status, never deciding it). SHOULD and MAY results
/// never decide a testable clause; an owed attestation at any level leaves the question open.
pub fn of_clause(rule: ClauseRule, deciding: &[(Strength, Verdict)]) -> ClauseStatus {
    let must = |wanted: &[Verdict]| {
        deciding
            .iter()
            .any(|(strength, verdict)| *strength == Strength::Must && wanted.contains(verdict))
    };
    let any = |wanted: Verdict| deciding.iter().any(|(_, verdict)| *verdict == wanted);
    let failed = [Verdict::Fail, Verdict::Error, Verdict::Waived];
    match rule {
        ClauseRule::Every if must(&failed) => ClauseStatus::NotMet,
        ClauseRule::Every if must(&[Verdict::Skipped]) => ClauseStatus::EvidenceOwed,
        ClauseRule::Every if must(&[Verdict::Pass]) => ClauseStatus::Met,
        ClauseRule::Any if any(Verdict::Pass) => ClauseStatus::Met,
        // One answer not yet seen may still be the one that works.
        ClauseRule::Any if must(&[Verdict::Skipped]) => ClauseStatus::EvidenceOwed,
        ClauseRule::Any if must(&failed) => ClauseStatus::NotMet,
        ClauseRule::Attestation if any(Verdict::Attestation) => ClauseStatus::EvidenceOwed,
        ClauseRule::Attestation if any(Verdict::Attested) => ClauseStatus::Attested,
        _ => ClauseStatus::NotCovered,
    }
}

/// Whether a requirement's verdict stops the run being conformant: every error, a failure at a
/// blocking level (MUST; SHOULD too under `strict`). Every writer reads this one flag.
pub fn blocking(verdict: Verdict, strength: Strength, strict: bool) -> bool {
    match verdict {
        Verdict::Fail => strength == Strength::Must || (strict && strength == Strength::Should),
        Verdict::Error => true,
        _ => false,
    }
}

/// The run as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RunVerdict {
    Conformant,
    NonConformant,
    Incomplete,
}

impl RunVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            RunVerdict::Conformant => "conformant",
            RunVerdict::NonConformant => "non-conformant",
            RunVerdict::Incomplete => "incomplete",
        }
    }
}

/// What the run verdict is made from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Requirements in error.
    pub errors: usize,
    /// Failures that block.
    pub blocking_failures: usize,
    /// Failures that do not block (warnings).
    pub other_failures: usize,
    pub waived: usize,
    pub passed: usize,
    /// Problems of the harness itself.
    pub harness_errors: usize,
}

/// The run verdict: incomplete when a requirement or the harness errored, or nothing was
/// judged; else non-conformant when a blocking failure stands; else conformant. Skipped
/// requirements do not change it: they are reported as coverage beside it (`Report::coverage`),
/// so "conformant, 80% of MUSTs judged" is said in one line rather than hidden.
pub fn of_run(tally: Tally) -> RunVerdict {
    let judged = tally.passed + tally.blocking_failures + tally.other_failures + tally.waived;
    if tally.errors > 0 || tally.harness_errors > 0 || judged == 0 {
        RunVerdict::Incomplete
    } else if tally.blocking_failures > 0 {
        RunVerdict::NonConformant
    } else {
        RunVerdict::Conformant
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::*;

    #[test]
    fn each_reason_kind_has_one_verdict() {
        let skipped: Vec<&str> = ReasonKind::ALL
            .iter()
            .filter(|k| unjudged(**k) == Skipped)
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            skipped,
            [
                "missing-data",
                "missing-config",
                "not-permitted",
                "interrupted",
                "not-selected",
                "not-automated"
            ]
        );
        for kind in ReasonKind::ALL {
            assert!(matches!(unjudged(kind), Skipped | NotApplicable), "{kind}");
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }

    #[test]
    fn requirement_verdicts_follow_the_table() {
        let table: &[(&[Verdict], Option<Verdict>)] = &[
            (&[], None),
            (&[Pass], Some(Pass)),
            (&[Pass, NotApplicable], Some(Pass)),
            (&[Pass, Skipped], Some(Skipped)),
            (&[Pass, Fail], Some(Fail)),
            (&[Pass, Error], Some(Error)),
            (&[Fail, Error], Some(Fail)),
            (&[Error, Skipped], Some(Error)),
            (&[NotApplicable, Skipped], Some(Skipped)),
            (&[NotApplicable], Some(NotApplicable)),
            (&[Skipped], Some(Skipped)),
        ];
        for (outcomes, expected) in table {
            assert_eq!(
                of_requirement(outcomes.iter().copied()),
                *expected,
                "{outcomes:?}"
            );
        }
    }

    #[test]
    fn clause_statuses_follow_the_table() {
        use ClauseRule::{Any, Attestation as ByAttestation, Every};
        use ClauseStatus::{EvidenceOwed, Met, NotCovered, NotMet};
        use Strength::{May, Must, Should};
        type Row<'a> = (ClauseRule, &'a [(Strength, Verdict)], ClauseStatus);
        let table: &[Row] = &[
            (Every, &[(Must, Pass), (Must, Pass)], Met),
            (Every, &[(Must, Pass), (Must, NotApplicable)], Met),
            (Every, &[(Must, Pass), (Should, Fail)], Met),
            (Every, &[(Must, Pass), (Must, Fail)], NotMet),
            (Every, &[(Must, Pass), (Must, Error)], NotMet),
            (Every, &[(Must, Waived)], NotMet),
            (Every, &[(Must, Pass), (Must, Skipped)], EvidenceOwed),
            // SHOULD results never decide.
            (Every, &[(Should, Pass), (Should, Skipped)], NotCovered),
            (Every, &[(Must, NotApplicable)], NotCovered),
            (Every, &[], NotCovered),
            // A yes-or-no question: one answer that works is enough.
            (Any, &[(Must, Fail), (Must, Pass)], Met),
            (Any, &[(Must, Fail), (Must, NotApplicable)], NotMet),
            (Any, &[(Must, Skipped), (Must, NotApplicable)], EvidenceOwed),
            (Any, &[(Must, Fail), (Must, Skipped)], EvidenceOwed),
            // The attestation decides.
            (ByAttestation, &[(Must, Attested)], ClauseStatus::Attested),
            (ByAttestation, &[(Must, Attestation)], EvidenceOwed),
            (ByAttestation, &[(May, Attestation)], EvidenceOwed),
            (
                ByAttestation,
                &[(Must, Attested), (Must, Attestation)],
                EvidenceOwed,
            ),
            (ByAttestation, &[], NotCovered),
        ];
        for (rule, deciding, expected) in table {
            assert_eq!(
                of_clause(*rule, deciding),
                *expected,
                "{rule:?} {deciding:?}"
            );
        }
        assert_eq!(of_attestation(&[]), Attested);
        assert_eq!(of_attestation(&["no evidence".into()]), Attestation);
    }

    #[test]
    fn checks_are_judged_by_their_tally() {
        assert_eq!(of_check(0, 0), None);
        assert_eq!(of_check(3, 0), Some(Pass));
        assert_eq!(of_check(3, 1), Some(Fail));
    }

    #[test]
    fn only_errors_and_failures_at_a_blocking_level_block() {
        let table = [
            (Fail, Strength::Must, false, true),
            (Fail, Strength::Should, false, false),
            (Fail, Strength::Should, true, true),
            (Fail, Strength::May, true, false),
            (Error, Strength::May, false, true),
            (Skipped, Strength::Must, true, false),
            (NotApplicable, Strength::Must, true, false),
            (Waived, Strength::Must, true, false),
            (Pass, Strength::Must, true, false),
        ];
        for (verdict, strength, strict, expected) in table {
            assert_eq!(
                blocking(verdict, strength, strict),
                expected,
                "{verdict:?} {strength:?} strict={strict}"
            );
        }
    }

    #[test]
    fn a_run_that_judged_nothing_is_not_conformant() {
        let base = Tally {
            passed: 3,
            ..Tally::default()
        };
        assert_eq!(of_run(base), RunVerdict::Conformant);
        assert_eq!(of_run(Tally::default()), RunVerdict::Incomplete);
        assert_eq!(
            of_run(Tally {
                blocking_failures: 1,
                ..base
            }),
            RunVerdict::NonConformant
        );
        assert_eq!(
            of_run(Tally {
                other_failures: 1,
                ..base
            }),
            RunVerdict::Conformant
        );
        assert_eq!(
            of_run(Tally {
                errors: 1,
                blocking_failures: 1,
                ..base
            }),
            RunVerdict::Incomplete
        );
        assert_eq!(
            of_run(Tally {
                harness_errors: 1,
                ..base
            }),
            RunVerdict::Incomplete
        );
    }
}
