//! Writing a run's report folder (shared by run, merge and rejudge).

use std::io::IsTerminal as _;
use std::path::Path;

use crate::exit::ExitCode;
use crate::report::{self, TableStyle};
use crate::runner::{self};

use super::*;

/// `--sign-key FILE`, loaded.
pub(crate) fn load_sign_key(path: Option<&Path>) -> Result<Option<report::SigningKey>, CmdError> {
    path.map(report::SigningKey::load)
        .transpose()
        .map_err(CmdError::invalid)
}

/// A report made without a live run (merge, rejudge) into a fresh folder, then shown.
pub(crate) fn write_to_new_folder(
    report: &report::Report,
    out: Option<&Path>,
    formats: &[report::Format],
    sign_key: Option<&report::SigningKey>,
    quiet: bool,
) -> Result<ExitCode, CmdError> {
    match prepare_out_dir(out) {
        Ok(out) => write_and_print(report, &out, formats, sign_key, quiet),
        Err(message) => Err(CmdError::usage(message)),
    }
}

/// What a shard keeps besides its report, for `mts merge`.
pub(crate) const SHARD_FILE: &str = "shard.json";

/// Writes the chosen formats (all by default), prints the table (or the verdict line alone) and
/// gives the exit code the verdict calls for.
pub(crate) fn write_and_print(
    report: &report::Report,
    out: &Path,
    formats: &[report::Format],
    sign_key: Option<&report::SigningKey>,
    quiet: bool,
) -> Result<ExitCode, CmdError> {
    let formats = if formats.is_empty() {
        report::Format::ALL.to_vec()
    } else {
        formats.to_vec()
    };
    if let Err(error) = report::write_all(report, out, &formats, sign_key) {
        return Err(CmdError::internal(format!(
            "failed to write the report into {}: {error}",
            out.display()
        )));
    }
    let colour = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let style = TableStyle {
        colour,
        detail_width: 60,
    };
    if quiet {
        print!("{}", report::render_verdict_line(report, style));
    } else {
        print!("{}", report::render_table(report, style));
        eprintln!("report: {}", out.display());
    }
    Ok(runner::exit_code_for(report))
}
