//! From catalogue and features to a report: selection (`plan`), the cucumber run and passive
//! checks (`execute`), and the verdict per requirement and per run (`verdict`).

mod context;
mod doctor;
mod execute;
mod gate;
mod interrupt;
mod plan;
mod progress;
mod verdict;

pub use context::{LoadSettings, MutualTls, RunContext};
pub use doctor::{DoctorCheck, Health, doctor};
pub use execute::{RunError, RunOptions, execute};
pub use gate::{Gate, Waiver};
pub use interrupt::Interrupt;
pub use plan::{Permissions, Plan, Selection, SelectionError};
pub use progress::Verbosity;
pub use verdict::{assemble, exit_code_for};
