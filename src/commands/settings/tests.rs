use std::collections::BTreeMap;

use clap::Parser as _;

use super::*;
use crate::cli::{Cli, Command};

/// One option: its flag as typed, its variable and value, its file entry, and how the
/// resolved setting reads each (value and source).
struct Case {
    flag: &'static [&'static str],
    variable: (&'static str, &'static str),
    file: &'static str,
    read: fn(&Resolved) -> Option<(String, Source)>,
}

fn shown<T: std::fmt::Display>(setting: &Option<Setting<T>>) -> Option<(String, Source)> {
    setting.as_ref().map(|s| (s.value.to_string(), s.source))
}

fn path(setting: &Option<Setting<PathBuf>>) -> Option<(String, Source)> {
    setting
        .as_ref()
        .map(|s| (s.value.display().to_string(), s.source))
}

fn some<T: Clone>(setting: &Setting<T>) -> Option<Setting<T>> {
    Some(setting.clone())
}

fn args(flags: &[&str]) -> RunArgs {
    let mut argv = vec!["mts", "run"];
    argv.extend(flags);
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Run(args) => *args,
        _ => unreachable!(),
    }
}

fn file(text: &str) -> ConfigFile {
    toml::from_str(text).unwrap()
}

fn resolved(flags: &[&str], env: &[(&str, &str)], text: &str) -> Result<Resolved, String> {
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    resolve(&args(flags), &file(text), &|name| env.get(name).cloned())
}

const CASES: &[Case] = &[
    Case {
        flag: &["--target", "https://flag.example/FHIR/R4"],
        variable: ("MTS_TARGET", "https://env.example/FHIR/R4"),
        file: "[target]\nurl = \"https://file.example/FHIR/R4\"",
        read: |r| shown(&r.target),
    },
    Case {
        flag: &["--profile", "ukca"],
        variable: ("MTS_PROFILE", "gpc"),
        file: "[run]\nprofile = \"all\"",
        read: |r| shown(&some(&r.profile)),
    },
    Case {
        flag: &["--concurrency", "3"],
        variable: ("MTS_CONCURRENCY", "4"),
        file: "[run]\nconcurrency = 5",
        read: |r| shown(&some(&r.concurrency)),
    },
    Case {
        flag: &["--timeout", "7"],
        variable: ("MTS_TIMEOUT", "8"),
        file: "[run]\ntimeout_seconds = 9.0",
        read: |r| shown(&some(&r.timeout_seconds)),
    },
    Case {
        flag: &["--openapi", "flag.yaml"],
        variable: ("MTS_OPENAPI", "env.yaml"),
        file: "[run]\nopenapi = \"file.yaml\"",
        read: |r| shown(&r.openapi),
    },
    Case {
        flag: &["--strict"],
        variable: ("MTS_STRICT", "true"),
        file: "[gate]\nstrict = true",
        read: |r| shown(&some(&r.strict)),
    },
    Case {
        flag: &["--keep-written"],
        variable: ("MTS_KEEP_WRITTEN", "true"),
        file: "[run]\nkeep_written = true",
        read: |r| shown(&some(&r.keep_written)),
    },
    Case {
        flag: &["--client-cert", "flag.pem", "--client-key", "flag.key"],
        variable: ("MTS_TLS_CLIENT_CERT", "env.pem"),
        file: "[target]\nclient_cert = \"file.pem\"",
        read: |r| path(&r.client_cert),
    },
    Case {
        flag: &["--client-cert", "flag.pem", "--client-key", "flag.key"],
        variable: ("MTS_TLS_CLIENT_KEY", "env.key"),
        file: "[target]\nclient_key = \"file.key\"",
        read: |r| path(&r.client_key),
    },
    Case {
        flag: &[
            "--client-ca-cert",
            "flag.pem",
            "--client-ca-key",
            "flag.key",
        ],
        variable: ("MTS_TLS_CLIENT_CA_CERT", "env.pem"),
        file: "[target]\nclient_ca_cert = \"file.pem\"",
        read: |r| path(&r.client_ca_cert),
    },
    Case {
        flag: &[
            "--client-ca-cert",
            "flag.pem",
            "--client-ca-key",
            "flag.key",
        ],
        variable: ("MTS_TLS_CLIENT_CA_KEY", "env.key"),
        file: "[target]\nclient_ca_key = \"file.key\"",
        read: |r| path(&r.client_ca_key),
    },
    Case {
        flag: &[
            "--revoked-client-cert",
            "flag.pem",
            "--revoked-client-key",
            "flag.key",
        ],
        variable: ("MTS_TLS_REVOKED_CERT", "env.pem"),
        file: "[target]\nrevoked_client_cert = \"file.pem\"",
        read: |r| path(&r.revoked_client_cert),
    },
    Case {
        flag: &[
            "--revoked-client-cert",
            "flag.pem",
            "--revoked-client-key",
            "flag.key",
        ],
        variable: ("MTS_TLS_REVOKED_KEY", "env.key"),
        file: "[target]\nrevoked_client_key = \"file.key\"",
        read: |r| path(&r.revoked_client_key),
    },
];

/// Each option given as a flag, a variable and a file entry, all at once and one at a time:
/// the flag wins over the variable, the variable over the file, the file over the default.
#[test]
fn each_option_resolves_from_a_flag_a_variable_and_a_file_in_that_order() {
    for case in CASES {
        let name = case.variable.0;
        let from = |flags: &[&str], env: &[(&str, &str)], text: &str| {
            (case.read)(&resolved(flags, env, text).unwrap())
        };
        let flag = from(case.flag, &[case.variable], case.file).unwrap();
        assert!(matches!(flag.1, Source::Flag(_)), "{name}: {flag:?}");
        let variable = from(&[], &[case.variable], case.file).unwrap();
        assert_eq!(variable.1, Source::Environment(name), "{name}");
        assert!(
            variable
                .0
                .starts_with(case.variable.1.trim_end_matches(".0"))
        );
        let entry = from(&[], &[], case.file).unwrap();
        assert!(matches!(entry.1, Source::File(_)), "{name}: {entry:?}");
        let none = from(&[], &[], "");
        assert!(
            none.is_none_or(|(_, source)| source == Source::Default),
            "{name}"
        );
    }
}

/// Options that have only some of the layers.
#[test]
fn options_with_fewer_layers_take_what_they_have() {
    let r = resolved(
        &[
            "--ca-cert",
            "flag.pem",
            "--allow-writes",
            "--rate-limit",
            "9",
            "--shard",
            "1/2",
        ],
        &[("MTS_RATE_LIMIT", "8"), ("MTS_SHARD", "2/2")],
        "[target]\nca_cert = \"file.pem\"\n[run]\nallow_writes = false\nbody_limit_bytes = 1024",
    )
    .unwrap();
    assert_eq!(path(&r.ca_cert).unwrap().1, Source::Flag("--ca-cert"));
    assert!(r.allow_writes.value);
    assert_eq!(r.rate_limit.value, 9);
    assert_eq!(r.shard.unwrap().value.to_string(), "1/2");
    assert_eq!(r.body_limit.value, 1024);
    assert_eq!(r.body_limit.source, Source::File("[run] body_limit_bytes"));

    let r = resolved(
        &[],
        &[("MTS_RATE_LIMIT", "8"), ("MTS_SHARD", "2/2")],
        "[target]\nca_cert = \"file.pem\"\n[run]\nallow_writes = true",
    )
    .unwrap();
    assert_eq!(
        path(&r.ca_cert).unwrap().1,
        Source::File("[target] ca_cert")
    );
    assert_eq!(r.allow_writes.source, Source::File("[run] allow_writes"));
    assert_eq!(r.rate_limit.value, 8);
    assert_eq!(r.shard.unwrap().value.to_string(), "2/2");

    let r = resolved(&[], &[], "").unwrap();
    assert_eq!(r.rate_limit.value, 5);
    assert_eq!(r.body_limit.value, config::DEFAULT_BODY_LIMIT);
    assert!(r.target.is_none() && r.shard.is_none() && r.ca_cert.is_none());
}

/// OAuth2 client settings: the variable over the `[auth]` entry (no flags: secrets and key
/// paths stay out of shell history).
#[test]
fn client_credentials_take_the_variable_over_the_file() {
    let text = "[auth]\ntoken_url = \"https://file/token\"\nclient_id = \"file-id\"\nkid = \"file-kid\"\nprivate_key = \"file.pem\"";
    let env = [
        ("MTS_TOKEN_URL", "https://env/token"),
        ("MTS_CLIENT_ID", "env-id"),
        ("MTS_KID", "env-kid"),
        ("MTS_CLIENT_KEY", "env.pem"),
    ];
    let r = resolved(&[], &env, text).unwrap();
    assert_eq!(shown(&r.token_url).unwrap().0, "https://env/token");
    assert_eq!(shown(&r.client_id).unwrap().0, "env-id");
    assert_eq!(shown(&r.kid).unwrap().0, "env-kid");
    assert_eq!(path(&r.private_key).unwrap().0, "env.pem");
    let r = resolved(&[], &[], text).unwrap();
    assert_eq!(
        shown(&r.token_url).unwrap(),
        (
            "https://file/token".into(),
            Source::File("[auth] token_url")
        )
    );
    assert_eq!(path(&r.private_key).unwrap().0, "file.pem");
}

#[test]
fn a_bad_variable_is_named_not_ignored() {
    for (name, value) in [
        ("MTS_CONCURRENCY", "0"),
        ("MTS_CONCURRENCY", "many"),
        ("MTS_TIMEOUT", "-1"),
        ("MTS_PROFILE", "nhs"),
        ("MTS_STRICT", "perhaps"),
        ("MTS_KEEP_WRITTEN", "later"),
        ("MTS_SHARD", "3/2"),
        ("MTS_RATE_LIMIT", "1000"),
    ] {
        let error = resolved(&[], &[(name, value)], "").unwrap_err();
        assert!(error.starts_with(&format!("{name}={value}: ")), "{error}");
    }
}

#[test]
fn the_config_profile_is_the_flag_else_the_variable() {
    let env = |name: &str| (name == "MTS_CONFIG_PROFILE").then(|| "ci".to_owned());
    assert_eq!(
        config_profile(Some("local"), &env).as_deref(),
        Some("local")
    );
    assert_eq!(config_profile(None, &env).as_deref(), Some("ci"));
    assert_eq!(config_profile(None, &|_| None), None);
}

/// Every variable a setting reads is listed (so `config show` shows it), and no clap argument
/// reads the environment behind this module's back.
#[test]
fn every_variable_is_listed_and_clap_reads_none() {
    let listed: Vec<&str> = ENVIRONMENT.iter().map(|(name, _)| *name).collect();
    for case in CASES {
        assert!(listed.contains(&case.variable.0), "{}", case.variable.0);
    }
    let command = <Cli as clap::CommandFactory>::command();
    for sub in ["run", "doctor", "config"] {
        let sub = command.find_subcommand(sub).unwrap();
        let mut stack = vec![sub];
        while let Some(cmd) = stack.pop() {
            for arg in cmd.get_arguments() {
                assert!(
                    arg.get_env().is_none(),
                    "--{} reads the environment through clap",
                    arg.get_id()
                );
            }
            stack.extend(cmd.get_subcommands());
        }
    }
}
