//! Following a searchset: paging through `next` links (bounded, so a looping link cannot hold
//! a run), resolving the references its entries carry, and finding an entry twice.

use std::collections::BTreeSet;

use super::{bundle, with_extra};
use crate::checks::search;
use crate::checks::{Halt, assert};
use crate::http::RequestSpec;
use crate::report::Failure;
use crate::steps::library::Args;
use crate::steps::world::MtsWorld;

/// Pages followed at most when paging, so a looping `next` link cannot hold a run.
const MAX_PAGES: usize = 50;
/// References resolved at most per searchset.
const MAX_REFERENCES: usize = 10;

pub(super) fn origin(url: &str) -> &str {
    let after = url
        .split_once("://")
        .map_or(0, |(scheme, _)| scheme.len() + 3);
    url[after..].find('/').map_or(url, |i| &url[..after + i])
}

pub(super) async fn paging(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let mut spec = with_extra(world, "_count=1")?;
    spec.query.retain(|(n, v)| n != "_count" || v == "1");
    // The same search sent unpaged just before, if it was: how many it matched then.
    let before = world.last.clone();
    let first = world.send(&spec).await?;
    let path = |url: &str| url.split('?').next().unwrap_or(url).to_owned();
    let unpaged = before
        .filter(|e| path(&e.request.url) == path(&first.request.url))
        .and_then(|e| {
            let response = e.response.as_ref().filter(|r| r.status == 200)?;
            Some(search::match_keys(response.resource()?).len())
        });
    let mut page = bundle(&first)?.clone();
    let total = page["total"].as_u64();
    let target_origin = origin(world.run()?.http.base_url()).to_owned();
    let mut seen: Vec<String> = Vec::new();
    let mut pages = 1;
    let mut exchange = first.clone();
    loop {
        let keys = search::match_keys(&page);
        if keys.len() > 1 {
            return Err(Failure::new(format!(
                "page {pages} holds {} matches despite _count=1",
                keys.len()
            ))
            .expected("at most 1 match per page")
            .actual(keys.join(", "))
            .exchange(&exchange.id)
            .into());
        }
        for key in keys {
            if seen.contains(&key) {
                return Err(Failure::new(format!("page {pages} repeats {key}"))
                    .expected("every page brings new entries")
                    .actual(format!("{key} again after {seen:?}"))
                    .exchange(&exchange.id)
                    .into());
            }
            seen.push(key);
        }
        if page["total"].as_u64() != total {
            return Err(Failure::new("the total changed while paging")
                .expected(format!(
                    "total {}",
                    total.map_or("absent".into(), |t| t.to_string())
                ))
                .actual(format!("total {}", page["total"]))
                .exchange(&exchange.id)
                .into());
        }
        let Some(next) = search::link(&page, "next").map(str::to_owned) else {
            break;
        };
        if origin(&next) != target_origin {
            return Err(Failure::new(
                "the next link leaves the target's origin; mts does not follow it",
            )
            .expected(format!("a next link on {target_origin}"))
            .actual(next)
            .exchange(&exchange.id)
            .into());
        }
        if pages >= MAX_PAGES {
            return Err(
                Failure::new(format!("paging did not end after {MAX_PAGES} pages"))
                    .expected("a last page without a next link")
                    .actual(format!("{} distinct entries so far", seen.len()))
                    .exchange(&exchange.id)
                    .into(),
            );
        }
        let mut next_spec = RequestSpec::get(next);
        next_spec.headers = spec.headers.clone();
        exchange = world.send(&next_spec).await?;
        page = bundle(&exchange)?.clone();
        pages += 1;
    }
    // Entries lost to paging (no next link, short pages) are a failure, not missing data.
    if let Some(total) = total
        && total as usize != seen.len()
    {
        return Err(Failure::new(format!(
            "paging gave {} entries but the total says {total}",
            seen.len()
        ))
        .expected(format!("{total} entries across the pages"))
        .actual(format!("{} entries", seen.len()))
        .exchange(&exchange.id)
        .into());
    }
    if let Some(matched) = unpaged
        && matched > seen.len()
    {
        return Err(Failure::new(format!(
            "paging with _count=1 brought {} of the {matched} matches the same search gives unpaged",
            seen.len()
        ))
        .expected(format!("{matched} entries across the pages"))
        .actual(format!("{} entries, then no next link", seen.len()))
        .exchange(&exchange.id)
        .into());
    }
    if seen.len() < 2 {
        return Err(Halt::missing_data(format!(
            "the search found {} match(es); paging needs at least 2 (seed more: [data.search] for Patient searches, records of the patient with records for the clinical types)",
            seen.len()
        )));
    }
    world.note(format!("{pages} pages, {} distinct entries", seen.len()));
    Ok(())
}

pub(super) async fn references_resolve(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let bundle = bundle(&exchange)?.clone();
    let in_bundle: BTreeSet<String> = search::entries(&bundle)
        .flat_map(|e| {
            let key = format!(
                "{}/{}",
                e["resource"]["resourceType"].as_str().unwrap_or(""),
                e["resource"]["id"].as_str().unwrap_or("")
            );
            [e["fullUrl"].as_str().unwrap_or("").to_owned(), key]
        })
        .collect();
    let references = search::references(&bundle);
    if references.is_empty() {
        return Err(Halt::missing_data(
            "the searchset holds no references: the with-records test patient has no records of this type on the target (configure [data.patient.with-records])",
        ));
    }
    let target_origin = origin(world.run()?.http.base_url()).to_owned();
    for reference in references.iter().take(MAX_REFERENCES) {
        if reference.starts_with('#') || in_bundle.contains(reference) {
            continue;
        }
        let absolute = reference.starts_with("http://") || reference.starts_with("https://");
        if absolute && origin(reference) != target_origin {
            world.note(format!(
                "{reference} is on another server and was not followed"
            ));
            continue;
        }
        let read = world.send(&RequestSpec::get(reference.clone())).await?;
        let status = assert::response(&read)?.status;
        if status != 200 {
            return Err(
                Failure::new(format!("the reference {reference} does not resolve"))
                    .expected(format!("GET {reference} → 200"))
                    .actual(format!("HTTP {status}"))
                    .exchange(&read.id)
                    .into(),
            );
        }
    }
    Ok(())
}

pub(super) async fn no_duplicates(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let duplicates = search::duplicate_entries(bundle(&exchange)?);
    if duplicates.is_empty() {
        return Ok(());
    }
    Err(Failure::new("the searchset repeats entries")
        .expected("each resource once")
        .actual(duplicates.join(", "))
        .exchange(&exchange.id)
        .into())
}
