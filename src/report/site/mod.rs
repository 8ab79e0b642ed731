//! `mts site`: a static, self-contained HTML site over many run folders, for an assurance team
//! that follows dozens of suppliers over months. Runs are found and read (`collect`), grouped
//! by target and compared (`history`), drawn (`render`), and written with copies of the run
//! folders beside the pages (`build`).

mod build;
mod collect;
mod history;
mod render;

pub use build::{SITE_FILE, SiteError, SiteOptions, SiteSummary, build};
pub use collect::{Seal, SiteRun, Unreadable, collect};
pub use history::{
    EMBEDDED_SANDBOX, ExpiringWaiver, SharedFailure, TargetHistory, expiring_waivers,
    failing_across_targets, group_by_target, newest_run_day, target_key,
};
pub use render::{RunCopy, Site, index, target_page};
