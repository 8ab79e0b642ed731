//! `mts merge`: the run folders of `--shard 1/N` … `--shard N/N` back into the report one
//! unsharded run would have written. Scenario results are taken as they are (each scenario ran
//! in exactly one shard); exchanges every shard made alike (the token, the CapabilityStatement,
//! the test-data preflight) are kept once; the passive checks are aggregated again from every
//! shard's per-exchange judgements; and the requirements are judged again from all of it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::execute::ShardRecord;
use super::verdict::{RunMeta, assemble};
use super::{Gate, Permissions, Plan, Selection, Shard};
use crate::catalogue::{self, Profile};
use crate::checks::aggregate;
use crate::features::Suite;
use crate::http::ExchangeId;
use crate::http::natural_cmp;
use crate::report::{
    ExchangeRecord, Report, RunSettingsRecord, ScenarioResult, TlsRecord, WrittenSection,
};

/// The parts of a run's report that merging and re-judging need (a HAR file gives them too).
#[derive(Debug)]
pub(super) struct RecordedRun {
    pub target: String,
    pub profile: Profile,
    pub started: String,
    pub duration_ms: u64,
    pub catalogue: CatalogueDigest,
    pub settings: RunSettingsRecord,
    pub tls: Option<TlsRecord>,
    pub scenarios: Vec<ScenarioResult>,
    pub harness_errors: Vec<String>,
    pub exchanges: Vec<ExchangeRecord>,
    pub target_model: Option<crate::target::TargetModel>,
    pub test_data_kit: Vec<crate::report::KitRecord>,
    /// What the run wrote on the target and its cleanup: carried over, never judged.
    pub written: Option<WrittenSection>,
}

#[derive(Debug)]
pub(super) struct CatalogueDigest {
    pub digest: String,
}

impl RecordedRun {
    pub fn read(folder: &Path) -> Result<Self, MergeError> {
        Ok(crate::report::read(folder)?.into())
    }

    /// The run's selection, without any shard.
    pub fn selection(&self) -> Selection {
        Selection {
            requirements: self.settings.requirements.clone(),
            tags: self.settings.tags.clone(),
            levels: self.settings.levels.clone(),
            areas: self.settings.areas.clone(),
            shard: None,
        }
    }

    /// Run facts for judging the recorded results again.
    pub fn meta(&self, harness_errors: Vec<String>, today: NaiveDate) -> RunMeta {
        RunMeta {
            target: self.target.clone(),
            started: DateTime::parse_from_rfc3339(&self.started)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|_| Utc::now()),
            duration: Duration::from_millis(self.duration_ms),
            concurrency: self.settings.concurrency,
            timeout: Duration::from_secs_f64(self.settings.timeout_seconds),
            allow_writes: self.settings.allow_writes,
            selection: self.selection(),
            sandbox_faults: self.settings.sandbox_faults.clone(),
            harness_errors,
            tls: self.tls.clone().map(|tls| match tls {
                TlsRecord::Negotiated(facts) => Ok(facts),
                TlsRecord::Failed { error } => Err(error),
            }),
            model: self.target_model.clone(),
            attestations: self.settings.attestations.clone(),
            test_data_kit: self.test_data_kit.clone(),
            gate: Gate {
                strict: self.settings.strict,
                waivers: self.settings.waivers.clone(),
                today,
            },
        }
    }
}

impl From<Report> for RecordedRun {
    fn from(report: Report) -> Self {
        Self {
            target: report.target,
            profile: report.profile,
            started: report.started,
            duration_ms: report.duration_ms,
            catalogue: CatalogueDigest {
                digest: report.catalogue.digest,
            },
            settings: report.settings,
            tls: report.tls,
            scenarios: report.scenarios,
            harness_errors: report.harness_errors,
            exchanges: report.exchanges,
            target_model: report.target_model,
            test_data_kit: report.test_data_kit,
            written: report.written,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(transparent)]
    Report(#[from] crate::report::ReadError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{0}")]
    Mismatch(String),
}

struct ShardFolder {
    folder: PathBuf,
    report: RecordedRun,
    record: ShardRecord,
    shard: Shard,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, MergeError> {
    let text = std::fs::read(path).map_err(|source| MergeError::Read {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|e| MergeError::Invalid {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn read_shard(folder: &Path) -> Result<ShardFolder, MergeError> {
    let report = RecordedRun::read(folder)?;
    let record: ShardRecord = read_json(&folder.join("shard.json"))?;
    let shard = record
        .shard
        .parse()
        .map_err(|message| MergeError::Invalid {
            path: folder.join("shard.json").display().to_string(),
            message,
        })?;
    Ok(ShardFolder {
        folder: folder.to_owned(),
        report,
        record,
        shard,
    })
}

/// Merges the shard folders (in any order) into one report, judged with the built-in
/// catalogue and features, which must be those the shards ran with.
pub fn merge(folders: &[PathBuf], today: NaiveDate) -> Result<Report, MergeError> {
    let mut shards = folders
        .iter()
        .map(|f| read_shard(f))
        .collect::<Result<Vec<_>, _>>()?;
    shards.sort_by_key(|s| s.shard.index);
    let Some(first) = shards.first() else {
        return Err(MergeError::Mismatch("no run folders to merge".into()));
    };
    let count = first.shard.count;
    let indices: Vec<usize> = shards.iter().map(|s| s.shard.index).collect();
    if shards.iter().any(|s| s.shard.count != count) || indices != (1..=count).collect::<Vec<_>>() {
        let found: Vec<String> = shards.iter().map(|s| s.shard.to_string()).collect();
        return Err(MergeError::Mismatch(format!(
            "the folders must be shards 1/{count} to {count}/{count}, each once; found {}",
            found.join(", ")
        )));
    }
    for shard in &shards[1..] {
        let same = shard.report.target == first.report.target
            && shard.report.profile == first.report.profile
            && shard.report.catalogue.digest == first.report.catalogue.digest
            && same_selection(&shard.report.settings, &first.report.settings);
        if !same {
            return Err(MergeError::Mismatch(format!(
                "{} and {} are not shards of the same run (target, profile, catalogue and selection must match)",
                first.folder.display(),
                shard.folder.display()
            )));
        }
    }
    let catalogue = catalogue::load_embedded().map_err(|e| MergeError::Mismatch(e.to_string()))?;
    if catalogue.digest != first.report.catalogue.digest {
        return Err(MergeError::Mismatch(format!(
            "the shards were judged with catalogue {}, this mts has {}",
            first.report.catalogue.digest, catalogue.digest
        )));
    }
    let suite = Suite::load_embedded().map_err(|e| MergeError::Mismatch(e.to_string()))?;
    let plan = plan_for(&first.report, &catalogue, &suite)?;

    // Exchanges made alike by every shard (same id) are kept once, from the first shard.
    let mut exchanges: BTreeMap<String, ExchangeRecord> = BTreeMap::new();
    let mut judged: BTreeSet<(String, String)> = BTreeSet::new();
    let mut judgements = Vec::new();
    let mut scenarios = Vec::new();
    let mut harness_errors: Vec<String> = Vec::new();
    for shard in &shards {
        for exchange in &shard.report.exchanges {
            exchanges
                .entry(exchange.id.0.clone())
                .or_insert_with(|| exchange.clone());
        }
        for judgement in &shard.record.judgements {
            if judged.insert((judgement.check.clone(), judgement.exchange.0.clone())) {
                judgements.push(judgement.clone());
            }
        }
        scenarios.extend(shard.report.scenarios.iter().cloned());
        for error in &shard.report.harness_errors {
            if !harness_errors.contains(error) {
                harness_errors.push(error.clone());
            }
        }
    }
    let mut exchanges: Vec<ExchangeRecord> = exchanges.into_values().collect();
    exchanges.sort_by(|a, b| natural_cmp(&a.id.0, &b.id.0));
    // As one run judges them: each check's exchanges in id order.
    judgements.sort_by(|a, b| natural_cmp(&a.exchange.0, &b.exchange.0));
    let openapi_use = if shards.iter().any(|s| s.record.openapi_given) {
        crate::checks::OpenApiUse::Read
    } else if shards.iter().any(|s| s.record.openapi_unreadable) {
        crate::checks::OpenApiUse::Unreadable
    } else {
        crate::checks::OpenApiUse::NotGiven
    };
    let checks = aggregate(&judgements, openapi_use, |id| {
        plan.requirements.iter().any(|r| r.as_str() == id)
    });

    let mut meta = first.report.meta(harness_errors, today);
    meta.started = shards
        .iter()
        .filter_map(|s| DateTime::parse_from_rfc3339(&s.report.started).ok())
        .map(|t| t.with_timezone(&Utc))
        .min()
        .unwrap_or(meta.started);
    meta.duration = Duration::from_millis(
        shards
            .iter()
            .map(|s| s.report.duration_ms)
            .max()
            .unwrap_or(0),
    );
    let mut report = assemble(&catalogue, &plan, scenarios, checks, exchanges, meta);
    report.written = merged_written(&shards);
    Ok(report)
}

/// Each shard cleaned up what it wrote: the merged list keeps every shard's, their cleanup
/// exchanges renamed by shard (`cleanup-2#1`) so that ids stay unique.
fn merged_written(shards: &[ShardFolder]) -> Option<WrittenSection> {
    let mut merged: Option<WrittenSection> = None;
    for shard in shards {
        let Some(section) = &shard.report.written else {
            continue;
        };
        let rename = |id: &ExchangeId| {
            ExchangeId(id.0.replacen("cleanup#", &format!("cleanup-{}#", shard.shard.index), 1))
        };
        let into = merged.get_or_insert_with(WrittenSection::default);
        into.resources.extend(section.resources.iter().map(|r| {
            let mut r = r.clone();
            r.cleanup_exchange = r.cleanup_exchange.as_ref().map(rename);
            r
        }));
        into.exchanges.extend(section.exchanges.iter().map(|e| {
            let mut e = e.clone();
            e.id = rename(&e.id);
            e
        }));
    }
    merged
}

/// The plan of a recorded run: which requirements it judged, under its profile.
pub(super) fn plan_for(
    run: &RecordedRun,
    catalogue: &crate::catalogue::Catalogue,
    suite: &Suite,
) -> Result<Plan, MergeError> {
    Plan::new(
        catalogue,
        suite,
        run.profile,
        &run.selection(),
        Permissions {
            writes: run.settings.allow_writes,
            load: true,
        },
    )
    .map_err(|e| MergeError::Mismatch(e.to_string()))
}

fn same_selection(a: &RunSettingsRecord, b: &RunSettingsRecord) -> bool {
    a.requirements == b.requirements
        && a.tags == b.tags
        && a.levels == b.levels
        && a.areas == b.areas
        && a.allow_writes == b.allow_writes
        && a.strict == b.strict
        // Shards judged against different attestations are not one run.
        && a.attestations == b.attestations
}
