//! From catalogue and features to a report: selection (`plan`), the cucumber run and passive
//! checks (`execute`), and the verdict per requirement and per run (`verdict`).

pub mod attest;
mod cleanup;
mod cucumber;
mod discover;
mod doctor;
mod execute;
mod gate;
mod init;
mod interrupt;
mod kit;
mod merge;
pub(crate) mod plan;
mod progress;
mod rejudge;
mod target;
mod verdict;
mod written;

pub use crate::steps::{LoadSettings, MutualTls, RunContext};
pub use doctor::{DoctorCheck, Health, doctor};
pub use execute::{Executed, RunError, RunOptions, ShardRecord, execute};
pub use gate::{Gate, Waiver};
pub use init::{PatientFound, Survey, survey};
pub use interrupt::Interrupt;
pub use kit::{KitItem, KitStatus, preflight as kit_preflight};
pub use merge::{MergeError, merge};
pub use plan::{Permissions, Plan, Selection, SelectionError, Shard};
pub use progress::Verbosity;
pub use rejudge::{Rejudged, rejudge, rejudge_har};
pub use target::{BoxFuture, StartTarget, StartedTarget, Target};
pub use verdict::{ScenarioOutcome, assemble, exit_code_for, scenario_outcome};
