//! The one place a run's settings are resolved, each from the first layer that gives it:
//! flags > `MTS_*` environment variables > the configuration file (with its chosen profile laid
//! over it) > built-in defaults. `mts run`, `mts doctor` and `mts config show` all read their
//! settings here, so the order cannot differ between them. The environment is passed in, so
//! the order is tested without touching the process's own.

use std::path::PathBuf;

use crate::catalogue::Profile;
use crate::cli::RunArgs;
use crate::config::{self, ConfigFile};
use crate::runner::Shard;

/// Every variable mts reads for a run, and whether its value is secret (shown masked).
pub(crate) const ENVIRONMENT: &[(&str, bool)] = &[
    ("MTS_TARGET", false),
    ("MTS_PROFILE", false),
    ("MTS_CONFIG_PROFILE", false),
    ("MTS_CONCURRENCY", false),
    ("MTS_TIMEOUT", false),
    ("MTS_OPENAPI", false),
    ("MTS_STRICT", false),
    ("MTS_KEEP_WRITTEN", false),
    ("MTS_SHARD", false),
    ("MTS_TOKEN", true),
    ("MTS_TOKEN_URL", false),
    ("MTS_CLIENT_ID", false),
    ("MTS_KID", false),
    ("MTS_CLIENT_KEY", false),
    ("MTS_LOW_PRIVILEGE_TOKEN", true),
    ("MTS_LOAD_TOKEN", true),
    ("MTS_RATE_LIMIT", false),
    ("MTS_TLS_CLIENT_CERT", false),
    ("MTS_TLS_CLIENT_KEY", false),
    ("MTS_TLS_CLIENT_CA_CERT", false),
    ("MTS_TLS_CLIENT_CA_KEY", false),
    ("MTS_TLS_REVOKED_CERT", false),
    ("MTS_TLS_REVOKED_KEY", false),
];

/// Reads one environment variable; blank counts as unset.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process's own environment.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Flag(&'static str),
    Environment(&'static str),
    File(&'static str),
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Environment(name) => write!(f, "environment {name}"),
            Source::File(key) => write!(f, "file {key}"),
            Source::Default => f.write_str("default"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Setting<T> {
    pub value: T,
    pub source: Source,
}

/// A run's settings, each with where it came from. `None`: no layer gives it.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// `None`: the embedded sandbox.
    pub target: Option<Setting<String>>,
    pub profile: Setting<Profile>,
    pub concurrency: Setting<usize>,
    pub timeout_seconds: Setting<f64>,
    pub body_limit: Setting<usize>,
    pub ca_cert: Option<Setting<PathBuf>>,
    pub allow_writes: Setting<bool>,
    pub keep_written: Setting<bool>,
    pub openapi: Option<Setting<String>>,
    pub attestations: Option<Setting<PathBuf>>,
    pub strict: Setting<bool>,
    pub shard: Option<Setting<Shard>>,
    pub rate_limit: Setting<u32>,
    pub client_cert: Option<Setting<PathBuf>>,
    pub client_key: Option<Setting<PathBuf>>,
    pub client_ca_cert: Option<Setting<PathBuf>>,
    pub client_ca_key: Option<Setting<PathBuf>>,
    pub revoked_client_cert: Option<Setting<PathBuf>>,
    pub revoked_client_key: Option<Setting<PathBuf>>,
    pub token_url: Option<Setting<String>>,
    pub client_id: Option<Setting<String>>,
    pub kid: Option<Setting<String>>,
    pub private_key: Option<Setting<PathBuf>>,
}

/// The first layer that gives a value.
fn first<T, const N: usize>(layers: [(Source, Option<T>); N]) -> Option<Setting<T>> {
    layers
        .into_iter()
        .find_map(|(source, value)| value.map(|value| Setting { value, source }))
}

fn or_default<T>(setting: Option<Setting<T>>, value: T) -> Setting<T> {
    setting.unwrap_or(Setting {
        value,
        source: Source::Default,
    })
}

/// A variable's value parsed as its flag's would be; a bad value is the user's error.
fn parsed<T>(
    env: Env,
    name: &'static str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    env(name)
        .map(|text| parse(text.trim()).map_err(|why| format!("{name}={text}: {why}")))
        .transpose()
}

fn text(env: Env, name: &'static str) -> Option<String> {
    env(name)
}

fn path(env: Env, name: &'static str) -> Option<PathBuf> {
    env(name).map(PathBuf::from)
}

fn within<T: PartialOrd + std::str::FromStr + std::fmt::Display>(
    low: T,
    high: T,
) -> impl Fn(&str) -> Result<T, String> {
    move |text| match text.parse::<T>() {
        Ok(value) if value >= low && value <= high => Ok(value),
        _ => Err(format!("not a whole number from {low} to {high}")),
    }
}

/// As a boolean flag's variable: true/false, 1/0, yes/no, on/off.
fn boolean(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("not true or false".into()),
    }
}

/// The file's named profile: `--config-profile`, else `MTS_CONFIG_PROFILE`.
pub(crate) fn config_profile(flag: Option<&str>, env: Env) -> Option<String> {
    flag.map(str::to_owned)
        .or_else(|| text(env, "MTS_CONFIG_PROFILE"))
}

/// Resolves every setting of a run from its flags, the environment and the file.
pub(crate) fn resolve(args: &RunArgs, file: &ConfigFile, env: Env) -> Result<Resolved, String> {
    use Source::{Environment as E, File as F, Flag};
    let set = |on: bool| on.then_some(true);
    let (run, target, auth) = (&file.run, &file.target, &file.auth);
    let pair = |flag: (&'static str, &Option<PathBuf>),
                variable: &'static str,
                key: (&'static str, &Option<PathBuf>)| {
        first([
            (Flag(flag.0), flag.1.clone()),
            (E(variable), path(env, variable)),
            (F(key.0), key.1.clone()),
        ])
    };
    Ok(Resolved {
        target: first([
            (Flag("--target"), args.target.clone()),
            (E("MTS_TARGET"), text(env, "MTS_TARGET")),
            (F("[target] url"), target.url.clone()),
        ]),
        profile: or_default(
            first([
                (Flag("--profile"), args.profile),
                (E("MTS_PROFILE"), parsed(env, "MTS_PROFILE", str::parse)?),
                (F("[run] profile"), run.profile),
            ]),
            Profile::Apim,
        ),
        concurrency: or_default(
            first([
                (Flag("--concurrency"), args.concurrency.map(usize::from)),
                (
                    E("MTS_CONCURRENCY"),
                    parsed(env, "MTS_CONCURRENCY", within(1usize, 256))?,
                ),
                (F("[run] concurrency"), run.concurrency),
            ]),
            config::DEFAULT_CONCURRENCY,
        ),
        timeout_seconds: or_default(
            first([
                (Flag("--timeout"), args.timeout),
                (
                    E("MTS_TIMEOUT"),
                    parsed(env, "MTS_TIMEOUT", crate::cli::parse_timeout)?,
                ),
                (F("[run] timeout_seconds"), run.timeout_seconds),
            ]),
            config::DEFAULT_TIMEOUT_SECONDS,
        ),
        body_limit: or_default(
            first([(F("[run] body_limit_bytes"), run.body_limit_bytes)]),
            config::DEFAULT_BODY_LIMIT,
        ),
        ca_cert: first([
            (Flag("--ca-cert"), args.ca_cert.clone()),
            (F("[target] ca_cert"), target.ca_cert.clone()),
        ]),
        allow_writes: or_default(
            first([
                (Flag("--allow-writes"), set(args.allow_writes)),
                (F("[run] allow_writes"), run.allow_writes),
            ]),
            false,
        ),
        keep_written: or_default(
            first([
                (Flag("--keep-written"), set(args.keep_written)),
                (
                    E("MTS_KEEP_WRITTEN"),
                    parsed(env, "MTS_KEEP_WRITTEN", boolean)?,
                ),
                (F("[run] keep_written"), run.keep_written),
            ]),
            false,
        ),
        openapi: first([
            (Flag("--openapi"), args.openapi.clone()),
            (E("MTS_OPENAPI"), text(env, "MTS_OPENAPI")),
            (F("[run] openapi"), run.openapi.clone()),
        ]),
        attestations: first([
            (Flag("--attestations"), args.attestations.clone()),
            (
                E("MTS_ATTESTATIONS"),
                text(env, "MTS_ATTESTATIONS").map(PathBuf::from),
            ),
            (F("[run] attestations"), run.attestations.clone()),
        ]),
        strict: or_default(
            first([
                (Flag("--strict"), set(args.strict)),
                (E("MTS_STRICT"), parsed(env, "MTS_STRICT", boolean)?),
                (F("[gate] strict"), file.gate.strict),
            ]),
            false,
        ),
        shard: first([
            (Flag("--shard"), args.shard),
            (E("MTS_SHARD"), parsed(env, "MTS_SHARD", str::parse)?),
        ]),
        rate_limit: or_default(
            first([
                (Flag("--rate-limit"), args.rate_limit),
                (
                    E("MTS_RATE_LIMIT"),
                    parsed(env, "MTS_RATE_LIMIT", within(1u32, 100))?,
                ),
            ]),
            5,
        ),
        client_cert: pair(
            ("--client-cert", &args.client_cert),
            "MTS_TLS_CLIENT_CERT",
            ("[target] client_cert", &target.client_cert),
        ),
        client_key: pair(
            ("--client-key", &args.client_key),
            "MTS_TLS_CLIENT_KEY",
            ("[target] client_key", &target.client_key),
        ),
        client_ca_cert: pair(
            ("--client-ca-cert", &args.client_ca_cert),
            "MTS_TLS_CLIENT_CA_CERT",
            ("[target] client_ca_cert", &target.client_ca_cert),
        ),
        client_ca_key: pair(
            ("--client-ca-key", &args.client_ca_key),
            "MTS_TLS_CLIENT_CA_KEY",
            ("[target] client_ca_key", &target.client_ca_key),
        ),
        revoked_client_cert: pair(
            ("--revoked-client-cert", &args.revoked_client_cert),
            "MTS_TLS_REVOKED_CERT",
            ("[target] revoked_client_cert", &target.revoked_client_cert),
        ),
        revoked_client_key: pair(
            ("--revoked-client-key", &args.revoked_client_key),
            "MTS_TLS_REVOKED_KEY",
            ("[target] revoked_client_key", &target.revoked_client_key),
        ),
        token_url: first([
            (E("MTS_TOKEN_URL"), text(env, "MTS_TOKEN_URL")),
            (F("[auth] token_url"), auth.token_url.clone()),
        ]),
        client_id: first([
            (E("MTS_CLIENT_ID"), text(env, "MTS_CLIENT_ID")),
            (F("[auth] client_id"), auth.client_id.clone()),
        ]),
        kid: first([
            (E("MTS_KID"), text(env, "MTS_KID")),
            (F("[auth] kid"), auth.kid.clone()),
        ]),
        private_key: first([
            (E("MTS_CLIENT_KEY"), path(env, "MTS_CLIENT_KEY")),
            (F("[auth] private_key"), auth.private_key.clone()),
        ]),
    })
}

impl Resolved {
    /// Each setting that has a value, as `name`, value and source, for `mts config show`.
    pub(crate) fn rows(&self) -> Vec<(&'static str, String, Source)> {
        fn row<T: std::fmt::Display>(
            rows: &mut Vec<(&'static str, String, Source)>,
            name: &'static str,
            setting: Option<&Setting<T>>,
        ) {
            if let Some(setting) = setting {
                rows.push((name, setting.value.to_string(), setting.source));
            }
        }
        let shown = |setting: &Option<Setting<PathBuf>>| {
            setting.as_ref().map(|s| Setting {
                value: s.value.display().to_string(),
                source: s.source,
            })
        };
        let mut rows = Vec::new();
        row(&mut rows, "target", self.target.as_ref());
        row(&mut rows, "profile", Some(&self.profile));
        row(&mut rows, "concurrency", Some(&self.concurrency));
        row(&mut rows, "timeout_seconds", Some(&self.timeout_seconds));
        row(&mut rows, "body_limit_bytes", Some(&self.body_limit));
        row(&mut rows, "ca_cert", shown(&self.ca_cert).as_ref());
        row(&mut rows, "allow_writes", Some(&self.allow_writes));
        row(&mut rows, "keep_written", Some(&self.keep_written));
        row(&mut rows, "openapi", self.openapi.as_ref());
        row(
            &mut rows,
            "attestations",
            shown(&self.attestations).as_ref(),
        );
        row(&mut rows, "strict", Some(&self.strict));
        row(&mut rows, "shard", self.shard.as_ref());
        row(&mut rows, "rate_limit", Some(&self.rate_limit));
        for (name, setting) in [
            ("client_cert", &self.client_cert),
            ("client_key", &self.client_key),
            ("client_ca_cert", &self.client_ca_cert),
            ("client_ca_key", &self.client_ca_key),
            ("revoked_client_cert", &self.revoked_client_cert),
            ("revoked_client_key", &self.revoked_client_key),
        ] {
            row(&mut rows, name, shown(setting).as_ref());
        }
        row(&mut rows, "token_url", self.token_url.as_ref());
        row(&mut rows, "client_id", self.client_id.as_ref());
        row(&mut rows, "kid", self.kid.as_ref());
        row(&mut rows, "private_key", shown(&self.private_key).as_ref());
        rows
    }
}

#[cfg(test)]
mod tests;
