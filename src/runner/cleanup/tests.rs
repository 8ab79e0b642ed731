use super::*;
use crate::http::testing::exchange;
use crate::http::{TransportError, TransportErrorKind};
use crate::target::{ResourceModel, Source};

fn created(reference: &str) -> WrittenResource {
    WrittenResource {
        reference: reference.into(),
        action: WriteAction::Created,
        exchange: ExchangeId("x#1".into()),
        scenario: None,
        requirements: Vec::new(),
        identifier: Some("https://mts.invalid/test-data|abc".into()),
        outcome: CleanupOutcome::Left,
        detail: Some("not cleaned up".into()),
        cleanup_exchange: None,
    }
}

fn changed(reference: &str) -> WrittenResource {
    WrittenResource {
        action: WriteAction::Changed,
        outcome: CleanupOutcome::Changed,
        identifier: None,
        ..created(reference)
    }
}

/// A CapabilityStatement declaring `interactions` on Observation and nothing else.
fn declaring(interactions: &[Interaction]) -> TargetModel {
    let mut model = TargetModel::default();
    model.add(
        "Observation",
        ResourceModel {
            interactions: interactions.iter().copied().collect(),
            ..ResourceModel::default()
        },
        Source::CapabilityStatement,
    );
    model
}

#[test]
fn a_target_that_declares_no_delete_has_its_resources_left_saying_how_to_remove_them() {
    let mut resources = vec![created("Observation/1"), changed("Patient/9000000009")];
    let model = declaring(&[Interaction::Create, Interaction::Read]);
    assert!(plan_cleanup(&mut resources, &model, false).is_empty());
    assert_eq!(resources[0].outcome, CleanupOutcome::Left);
    assert_eq!(
        resources[0].outcome_text(),
        "left: the target declares no delete of Observation; remove it by its identifier https://mts.invalid/test-data|abc"
    );
    assert_eq!(resources[1].outcome, CleanupOutcome::Changed);
}

#[test]
fn declared_or_unknown_delete_is_tried_and_changed_resources_never_are() {
    let mut resources = vec![
        created("Observation/1"),
        changed("Patient/9000000009"),
        created("Condition/2"),
    ];
    let declared = declaring(&[Interaction::Create, Interaction::Delete]);
    // Condition is not declared at all by a complete model: left; Observation deleted.
    assert_eq!(plan_cleanup(&mut resources.clone(), &declared, false), [0]);
    // A target that declares nothing: everything it created is tried.
    assert_eq!(
        plan_cleanup(&mut resources, &TargetModel::default(), false),
        [0, 2]
    );
}

#[test]
fn keep_written_deletes_nothing_and_says_so() {
    let mut resources = vec![created("Observation/1"), changed("Patient/9000000009")];
    assert!(plan_cleanup(&mut resources, &TargetModel::default(), true).is_empty());
    assert_eq!(resources[0].outcome, CleanupOutcome::Kept);
    assert_eq!(resources[0].outcome_text(), "kept (--keep-written)");
    assert_eq!(resources[1].outcome, CleanupOutcome::Changed);
}

#[test]
fn at_most_the_cap_is_deleted_and_the_rest_is_left() {
    let mut resources: Vec<WrittenResource> = (0..MOST_DELETES + 3)
        .map(|n| created(&format!("Observation/{n}")))
        .collect();
    let chosen = plan_cleanup(&mut resources, &TargetModel::default(), false);
    assert_eq!(chosen.len(), MOST_DELETES);
    let left: Vec<&WrittenResource> = resources
        .iter()
        .filter(|r| r.detail.as_deref().is_some_and(|d| d.contains("at most")))
        .collect();
    assert_eq!(left.len(), 3);
}

#[test]
fn each_answer_to_a_delete_has_its_outcome() {
    for (status, outcome, detail) in [
        (200, CleanupOutcome::Deleted, None),
        (202, CleanupOutcome::Deleted, None),
        (204, CleanupOutcome::Deleted, None),
        (404, CleanupOutcome::AlreadyGone, Some("404")),
        (410, CleanupOutcome::AlreadyGone, Some("410")),
        (403, CleanupOutcome::DeleteRefused, Some("403")),
        (405, CleanupOutcome::DeleteRefused, Some("405")),
    ] {
        let answer = exchange(status, &[], "");
        assert_eq!(
            outcome_of(&answer),
            (outcome, detail.map(str::to_owned)),
            "{status}"
        );
    }
    let mut broken = exchange(200, &[], "");
    broken.response = None;
    broken.error = Some(TransportError {
        kind: TransportErrorKind::Connect,
        message: "connection refused".into(),
    });
    assert_eq!(
        outcome_of(&broken),
        (
            CleanupOutcome::DeleteFailed,
            Some("connection refused".into())
        )
    );
}

#[test]
fn the_console_line_counts_what_was_deleted_and_left() {
    let mut deleted = created("Observation/1");
    deleted.outcome = CleanupOutcome::Deleted;
    let mut section = crate::report::WrittenSection {
        resources: vec![deleted.clone(), deleted.clone()],
        exchanges: Vec::new(),
    };
    assert_eq!(
        section.summary().as_deref(),
        Some("wrote 2 resources on the target: 2 deleted")
    );
    section.resources.push(created("Observation/3"));
    section.resources.push(changed("Patient/9000000009"));
    assert_eq!(
        section.summary().as_deref(),
        Some(
            "wrote 3 resources on the target: 2 deleted, 1 left: see report; changed 1 resource in place (not deleted)"
        )
    );
    assert_eq!(crate::report::WrittenSection::default().summary(), None);
}

#[test]
fn a_patient_is_never_deleted_even_when_listed_as_created() {
    let mut resources = vec![created("Patient/9000000009"), created("Observation/1")];
    let deleted = plan_cleanup(&mut resources, &TargetModel::default(), false);
    assert_eq!(deleted, [1]);
    assert_eq!(resources[0].outcome, CleanupOutcome::Left);
    assert!(
        resources[0]
            .outcome_text()
            .contains("mts never deletes a Patient"),
        "{}",
        resources[0].outcome_text()
    );
}
