//! `mts config show`: the configuration in force and where each value came from.

use crate::exit::ExitCode;

use super::*;

/// `mts config show`: the file and profile as one TOML document, then the environment layer.
pub(crate) fn show_config(args: &crate::cli::ConfigShowArgs) -> Result<ExitCode, CmdError> {
    let path = config_path(args.config.as_deref());
    let profile = settings::config_profile(args.config_profile.as_deref(), &settings::process_env);
    let config = load_config(path.as_deref(), profile.as_deref())?;
    let resolved = settings::resolve(
        &crate::cli::RunArgs::without_flags(),
        &config,
        &settings::process_env,
    )
    .map_err(CmdError::usage)?;
    let mut shown = config.clone();
    shown.profile.clear();
    let text = match toml::to_string_pretty(&shown) {
        Ok(text) => text,
        Err(error) => {
            return Err(CmdError::internal(error.to_string()));
        }
    };
    outln!(
        "# file: {}{}",
        path.as_deref()
            .map_or("none (defaults)".to_owned(), |p| p.display().to_string()),
        profile
            .as_deref()
            .map(|p| format!(", profile: {p}"))
            .unwrap_or_default()
    );
    if !config.profile.is_empty() {
        let names: Vec<&str> = config.profile.keys().map(String::as_str).collect();
        outln!("# profiles in the file: {}", names.join(", "));
    }
    outln!("{text}");
    outln!("# environment (overrides the file; flags override both)");
    let mut any = false;
    for (name, secret) in settings::ENVIRONMENT {
        if let Some(value) = settings::process_env(name) {
            any = true;
            let shown = if *secret {
                crate::http::REDACTED.to_owned()
            } else {
                value
            };
            outln!("{name}={shown}");
        }
    }
    if !any {
        outln!("# (no MTS_* variables set)");
    }
    outln!("\n# in force for `mts run` (flags override these), and where each comes from");
    for (name, value, source) in resolved.rows() {
        outln!("{name} = {value}  # {source}");
    }
    Ok(ExitCode::Success)
}
