//! What `[target.declares.<Type>]` in `mts.toml` declares, read into the target model.

use super::model::{Interaction, PatchStyle, ResourceModel, Source, TargetModel};
use crate::config::DeclaredResource;

/// Adds the declared types; an unknown interaction code is an error naming it.
pub fn add(
    model: &mut TargetModel,
    declares: &std::collections::BTreeMap<String, DeclaredResource>,
) -> Result<(), String> {
    for (kind, declared) in declares {
        let mut resource = ResourceModel::default();
        for code in &declared.interactions {
            let interaction = Interaction::from_code(code).ok_or_else(|| {
                let known: Vec<&str> = Interaction::ALL.iter().map(|i| i.code()).collect();
                format!(
                    "[target.declares.{kind}] interaction `{code}` is not one of {}",
                    known.join(", ")
                )
            })?;
            resource.interactions.insert(interaction);
        }
        for name in &declared.search {
            resource.search_params.insert(name.clone(), String::new());
        }
        if !declared.search.is_empty() {
            resource.interactions.insert(Interaction::SearchType);
        }
        resource.required_search = declared.required_search.clone();
        if declared.patch_media_type.is_some() || declared.patch_envelope.is_some() {
            resource.interactions.insert(Interaction::Patch);
            resource.patch = Some(PatchStyle {
                media_type: declared
                    .patch_media_type
                    .clone()
                    .unwrap_or_else(|| "application/json-patch+json".into()),
                envelope: declared.patch_envelope.clone(),
            });
        }
        resource.if_match_required = declared.if_match_required.unwrap_or(false);
        model.add(kind, resource, Source::Config);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_become_interactions_and_unknown_codes_are_refused() {
        let mut declares = std::collections::BTreeMap::new();
        declares.insert(
            "Patient".to_owned(),
            DeclaredResource {
                interactions: vec!["read".into()],
                search: vec!["family".into(), "birthdate".into()],
                required_search: vec![vec!["family".into(), "birthdate".into()]],
                patch_envelope: Some("patches".into()),
                if_match_required: Some(true),
                ..DeclaredResource::default()
            },
        );
        let mut model = TargetModel::default();
        add(&mut model, &declares).unwrap();
        let patient = model.resource("Patient").unwrap();
        for interaction in [
            Interaction::Read,
            Interaction::SearchType,
            Interaction::Patch,
        ] {
            assert!(patient.offers(interaction), "{interaction:?}");
        }
        assert_eq!(patient.required_search, [["family", "birthdate"]]);
        declares.get_mut("Patient").unwrap().interactions = vec!["frobnicate".into()];
        let error = add(&mut TargetModel::default(), &declares).unwrap_err();
        assert!(error.contains("`frobnicate`"), "{error}");
    }
}
