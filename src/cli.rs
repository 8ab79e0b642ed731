//! The command line (clap). Cucumber never sees argv: the suite is driven from here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::catalogue::Profile;

#[derive(Debug, Parser)]
#[command(
    name = "mts",
    version,
    about = "NHS minimum technical standards conformance harness for FHIR R4 APIs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the conformance suite against a target (or the embedded sandbox) and write a report.
    Run(Box<RunArgs>),
    /// Check, before a run, that the target answers, its certificate is trusted, the credentials
    /// work and the test patients are there; says what to fix. Takes the options of `run`.
    Doctor(Box<RunArgs>),
    /// Look a new target over (CapabilityStatement, OpenAPI, test patients) and write a
    /// commented mts.toml for it: the profile it looks like, the test data found, what is
    /// missing and how to give it. Takes the options of `run`; never writes a secret.
    Init(Box<InitArgs>),
    /// List the requirement catalogue.
    List(ListArgs),
    /// Explain one requirement and what verifies it.
    Explain(ExplainArgs),
    /// Serve the reference sandbox on loopback.
    Sandbox(SandboxArgs),
    /// Check a run folder against its manifest: every hash, and the signature if there is one.
    Verify(VerifyArgs),
    /// Make an Ed25519 key pair for signing run folders (`mts run --sign-key`).
    Keygen(KeygenArgs),
    /// Compare two run folders: new failures, fixed, still failing, changed evidence. Exits 1
    /// when the second run has a failure the first did not.
    Diff(DiffArgs),
    /// The configuration: `mts config show` prints the effective settings, secrets masked.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Put the run folders of `--shard 1/N` … `N/N` back together into the report of one run.
    Merge(MergeArgs),
    /// Judge a run folder's recorded evidence again, offline: every passive check anew over the
    /// recorded exchanges, scenario results as recorded, under the catalogue given.
    Rejudge(RejudgeArgs),
    /// Check the suite itself: steps defined, tags known, every automated requirement verified
    /// and proven able to fail, every MUST not automated explained, no orphaned faults.
    Lint(LintArgs),
    /// Validate FHIR resources in files (JSON, XML or NDJSON; folders are searched) against
    /// their core type, the profiles they claim and UK Core, offline. Exits 1 when any resource
    /// has an error.
    Validate(ValidateArgs),
    /// Build a static HTML site over many run folders: every target's latest verdict and
    /// trend, regressions between runs, waivers about to expire, requirements most targets
    /// fail, and each run's integrity. Exits 0 when the site was written (unreadable folders
    /// listed), 3 when no run folder could be read.
    Site(SiteArgs),
    /// A run folder seen through an assurance framework (DTAC, DSIC, DSPT, Cyber Essentials,
    /// the Cyber Security Charter, SCAL): each clause met, not met, attested, evidence owed or
    /// not covered, from the requirements mapped to it, with the evidence behind it.
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run folder (holding report.json).
    pub dir: PathBuf,
    /// The framework: dtac, dsic (or dsic-s32, dsic-s29), dspt, cyber-essentials,
    /// cyber-charter or scal.
    #[arg(long, value_name = "NAME")]
    pub framework: String,
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: FrameworkFormat,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FrameworkFormat {
    Markdown,
    Html,
    Csv,
}

#[derive(Debug, Args)]
pub struct SiteArgs {
    /// Run folders, or folders searched recursively for run folders (those holding report.json).
    #[arg(required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    /// Folder for the site: new, empty, or a site mts wrote before (it is then rebuilt).
    #[arg(long, value_name = "SITE")]
    pub out: PathBuf,
    /// PEM Ed25519 public key signed runs must be signed with; without it a signature is
    /// checked only against the key it names.
    #[arg(long, value_name = "PEM", visible_alias = "public-key")]
    pub verify_key: Option<PathBuf>,
    /// List waivers that end within this many days of the newest run.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub waiver_days: u16,
}

/// `--show`: which requirements the console table gives a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowRows {
    Failures,
    All,
}

impl From<ShowRows> for crate::report::Show {
    fn from(show: ShowRows) -> Self {
        match show {
            ShowRows::Failures => crate::report::Show::Failures,
            ShowRows::All => crate::report::Show::All,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or folders of resources.
    #[arg(required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    /// Also load this implementation guide: a folder of conformance resources (JSON or XML) or
    /// an NPM package (.tgz). Repeatable.
    #[arg(long = "ig", value_name = "DIR|PACKAGE.tgz")]
    pub igs: Vec<PathBuf>,
    /// Hold every top-level resource to this profile too (canonical URL). Repeatable.
    #[arg(long = "against", value_name = "URL")]
    pub against: Vec<String>,
    /// Do not hold each resource to the UK Core profile of its type (it is still held to the
    /// profiles it claims).
    #[arg(long)]
    pub no_uk_core: bool,
    /// Output: text (errors and warnings; --verbose adds information) or json (everything).
    #[arg(long, value_enum, default_value = "text")]
    pub format: ValidateFormat,
    /// With text output, list information too (invariants not evaluated, codes not checked
    /// offline).
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration: defaults, the file, the chosen profile, then the
    /// MTS_* environment (flags come last, per run).
    Show(ConfigShowArgs),
}

#[derive(Debug, Args)]
pub struct ConfigShowArgs {
    /// Configuration file. Default: ./mts.toml when present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A named profile of the file (`[profile.NAME]`). [env: MTS_CONFIG_PROFILE]
    #[arg(long, value_name = "NAME")]
    pub config_profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// NHS number of a test patient the target holds (repeatable): the first found is the
    /// existing patient, the first with clinical records the patient with records.
    #[arg(long = "nhs-number", value_name = "N")]
    pub nhs_numbers: Vec<String>,
    /// The configuration file to write.
    #[arg(long, value_name = "FILE", default_value = "mts.toml")]
    pub file: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard run folders, in any order.
    #[arg(required = true, num_args = 1..)]
    pub folders: Vec<PathBuf>,
    /// Folder for the merged report (must not exist or be empty). Default: reports/<timestamp>-<id>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Which report files to write (comma-separated; default all).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_format)]
    pub format: Vec<crate::report::Format>,
    /// Sign the merged folder's manifest with this Ed25519 private key (PKCS#8 PEM).
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
    /// Print only the verdict line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Which requirements get a row in the console table: failures, errors, waivers and
    /// skipped MUSTs, the rest counted per area (default); or all.
    #[arg(long, value_enum, default_value_t = ShowRows::Failures)]
    pub show: ShowRows,
}

#[derive(Debug, Args)]
pub struct RejudgeArgs {
    /// The run folder whose evidence is judged again.
    #[arg(required_unless_present = "har")]
    pub folder: Option<PathBuf>,
    /// Judge traffic captured by another tool instead (HAR 1.2): the passive checks only.
    #[arg(long, value_name = "FILE", conflicts_with = "folder")]
    pub har: Option<PathBuf>,
    /// With --har: the FHIR base URL the traffic went to.
    #[arg(long, value_name = "URL", requires = "har")]
    pub target: Option<String>,
    /// With --har: the rule-set to judge against (default apim).
    #[arg(long, value_parser = parse_profile, requires = "har")]
    pub profile: Option<Profile>,
    /// Folder for the new report (must not exist or be empty). Default: reports/<timestamp>-<id>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Judge under this catalogue (a folder like standards/) instead of the built-in one.
    #[arg(long = "catalogue", value_name = "DIR")]
    pub catalogue_dir: Option<PathBuf>,
    /// The supplier's OpenAPI document (a file), for the response-conformance check.
    #[arg(long, value_name = "FILE")]
    pub openapi: Option<PathBuf>,
    /// Which report files to write (comma-separated; default all).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_format)]
    pub format: Vec<crate::report::Format>,
    /// Print only the verdict line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Which requirements get a row in the console table: failures, errors, waivers and
    /// skipped MUSTs, the rest counted per area (default); or all.
    #[arg(long, value_enum, default_value_t = ShowRows::Failures)]
    pub show: ShowRows,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Lint these features instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub features_dir: Option<PathBuf>,
    /// Lint against this catalogue instead of the built-in one.
    #[arg(long, value_name = "DIR")]
    pub catalogue_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier run folder (holding report.json).
    pub before: PathBuf,
    /// The later run folder.
    pub after: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The run folder (holding manifest.json).
    pub folder: PathBuf,
    /// PEM Ed25519 public key the folder must be signed with.
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key (PKCS#8 PEM, mode 0600); the public key goes to FILE.pub.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// FHIR base URL of the API under test. Without it, the embedded sandbox is started and tested. [env: MTS_TARGET]
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Rule-set to judge against: apim (NHS API platform), ukca (UK Core Access), gpc (GP Connect) or all (generic). [env: MTS_PROFILE]
    #[arg(long, value_parser = parse_profile)]
    pub profile: Option<Profile>,
    /// Folder for this run's report (must not exist or be empty). Default: reports/<timestamp>-<id>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Configuration file. Default: ./mts.toml when present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A named profile of the configuration file (`[profile.NAME]`) laid over the rest of it. [env: MTS_CONFIG_PROFILE]
    #[arg(long, value_name = "NAME")]
    pub config_profile: Option<String>,
    /// Only these requirements: comma-separated ids or prefixes (e.g. IOP-FHIR,API-HDR-001).
    #[arg(long, value_name = "IDS")]
    pub requirements: Option<String>,
    /// Only requirements at these levels under the profile: MUST, SHOULD, MAY (comma-separated).
    #[arg(long = "level", value_name = "LEVELS", value_delimiter = ',')]
    pub levels: Vec<String>,
    /// Only these areas: a prefix (SEC-TLS) or words of an area's title (comma-separated).
    #[arg(long = "area", value_name = "AREAS", value_delimiter = ',')]
    pub areas: Vec<String>,
    /// Run only the K-th of N deterministic shares of the scenarios (e.g. 2/4); put the run
    /// folders back together with `mts merge`. [env: MTS_SHARD]
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<crate::runner::Shard>,
    /// Only the requirements that failed or errored in that earlier run folder.
    #[arg(long, value_name = "DIR", conflicts_with = "requirements")]
    pub rerun_failed: Option<PathBuf>,
    /// Only scenarios matching this tag expression (e.g. "@REQ-IOP-FHIR-001 or @serial").
    #[arg(long, value_name = "EXPR")]
    pub tags: Option<String>,
    /// Scenarios run at once (and requests in flight at once against the target). [env: MTS_CONCURRENCY]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: Option<u16>,
    /// Deadline per request in seconds, covering connect, headers and body. Default 30. [env: MTS_TIMEOUT]
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<f64>,
    /// PEM file of a private CA to trust for the target's certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Client certificate (PEM, with any intermediates) for a target behind mutual TLS. [env: MTS_TLS_CLIENT_CERT]
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// Private key (PEM) of --client-cert. [env: MTS_TLS_CLIENT_KEY]
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// The CA (PEM) the target trusts for client certificates, with its key (--client-ca-key):
    /// the mutual-TLS probes mint expired and wrong-name certificates from it. [env: MTS_TLS_CLIENT_CA_CERT]
    #[arg(long, value_name = "FILE", requires = "client_ca_key")]
    pub client_ca_cert: Option<PathBuf>,
    /// Private key (PEM) of --client-ca-cert. [env: MTS_TLS_CLIENT_CA_KEY]
    #[arg(long, value_name = "FILE", requires = "client_ca_cert")]
    pub client_ca_key: Option<PathBuf>,
    /// A client certificate the target's CA has revoked, with its key (--revoked-client-key). [env: MTS_TLS_REVOKED_CERT]
    #[arg(long, value_name = "FILE", requires = "revoked_client_key")]
    pub revoked_client_cert: Option<PathBuf>,
    /// Private key (PEM) of --revoked-client-cert. [env: MTS_TLS_REVOKED_KEY]
    #[arg(long, value_name = "FILE", requires = "revoked_client_cert")]
    pub revoked_client_key: Option<PathBuf>,
    /// Report files to write, comma-separated: json, junit, html, markdown, testreport, har
    /// (default: all). manifest.json is always written; the table always printed.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_format)]
    pub format: Vec<crate::report::Format>,
    /// Sign the run folder's manifest with this Ed25519 private key (PKCS#8 PEM; `mts keygen`).
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
    /// Allow scenarios that create or change data on the target.
    #[arg(long)]
    pub allow_writes: bool,
    /// With --allow-writes: leave what the run created on the target instead of deleting it
    /// after the scenarios (the report still lists it). [env: MTS_KEEP_WRITTEN]
    #[arg(long)]
    pub keep_written: bool,
    /// Print only the verdict line: no progress, no requirement table.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,
    /// Which requirements get a row in the console table: failures, errors, waivers and
    /// skipped MUSTs, the rest counted per area (default); or all.
    #[arg(long, value_enum, default_value_t = ShowRows::Failures)]
    pub show: ShowRows,
    /// Print each scenario as it finishes.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// SHOULD failures make the run non-conformant too, not only MUST failures. [env: MTS_STRICT]
    #[arg(long)]
    pub strict: bool,
    /// Allow the rate-limit probe: a burst of three times the declared limit within a second
    /// (at most 300 requests). Only against loopback or a consenting target.
    #[arg(long)]
    pub allow_load: bool,
    /// The rate limit the supplier declares, in requests per second (default 5, the NHS API
    /// platform's default per application). [env: MTS_RATE_LIMIT]
    #[arg(long, value_name = "PER_SECOND", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub rate_limit: Option<u32>,
    /// Accept any server certificate (curl's -k); certificate problems are still reported by SEC-TLS-005.
    #[arg(long)]
    pub insecure: bool,
    /// The supplier's OpenAPI 3 document (file or http(s) URL): every response is checked against it. [env: MTS_OPENAPI]
    #[arg(long, value_name = "FILE|URL")]
    pub openapi: Option<String>,
    /// The supplier's answers to the attestation requirements (GOV-ASR-*): statement,
    /// evidence, who and when per requirement; evidence files are copied into the run folder.
    /// [env: MTS_ATTESTATIONS]
    #[arg(long, value_name = "FILE")]
    pub attestations: Option<PathBuf>,
    /// Switch on a sandbox fault (embedded sandbox only; repeatable).
    #[arg(long = "fault", value_name = "NAME", value_parser = parse_fault)]
    pub faults: Vec<crate::sandbox::Fault>,
    /// Run the features in this folder instead of the built-in suite.
    #[arg(long, value_name = "DIR")]
    pub features_dir: Option<PathBuf>,
    /// Use the catalogue in this folder instead of the built-in one.
    #[arg(long, value_name = "DIR")]
    pub catalogue_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
    /// Only the requirements that apply to this profile.
    #[arg(long, value_parser = parse_profile)]
    pub profile: Option<Profile>,
    /// List the clauses of an assurance framework instead (dtac, dsic, dspt,
    /// cyber-essentials, cyber-charter, scal), each with the requirements that give evidence
    /// for it.
    #[arg(long, value_name = "NAME")]
    pub framework: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Requirement id, e.g. IOP-FHIR-006.
    pub id: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("https").args(["tls", "tls_cert"]).multiple(true)))]
pub struct SandboxArgs {
    /// Port to listen on (127.0.0.1). 0 picks a free port.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Switch on a deliberate violation (repeatable). `--fault list` shows them.
    #[arg(long = "fault", value_name = "NAME")]
    pub faults: Vec<String>,
    /// Serve data endpoints without requiring a bearer token.
    #[arg(long)]
    pub no_auth: bool,
    /// Serve HTTPS with a certificate from a CA made at start-up (its PEM path is printed as MTS_CA_CERT=…).
    #[arg(long)]
    pub tls: bool,
    /// Serve HTTPS with this certificate (PEM, leaf first, intermediates after) instead of one
    /// from a CA made at start-up; implies --tls. MTS_CA_CERT is not printed: the sandbox made
    /// no CA, so trust the certificate as clients of your server would (e.g. pin it with
    /// `mts run --ca-cert FILE`).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Require client certificates (mutual TLS, with --tls): prints MTS_TLS_CLIENT_CERT/KEY (an
    /// accepted certificate), MTS_TLS_CLIENT_CA_CERT/KEY (its CA) and MTS_TLS_REVOKED_CERT/KEY.
    #[arg(long, requires = "https")]
    pub mtls: bool,
    /// Lifetime in seconds of the access tokens the token endpoint issues.
    #[arg(long, default_value_t = 599)]
    pub token_lifetime: u64,
    /// Serve these AllergyIntolerance and MedicationStatement resources too (a JSON resource,
    /// array or Bundle, or NDJSON), e.g. to see how mts judges your own coded data.
    #[arg(long, value_name = "FILE", conflicts_with = "hostile")]
    pub seed: Option<std::path::PathBuf>,
    /// Instead of the FHIR API, answer every request with one kind of broken or malicious HTTP
    /// (plain HTTP only). `--hostile list` shows the cases.
    #[arg(long, value_name = "CASE", conflicts_with_all = ["tls", "tls_cert", "faults"])]
    pub hostile: Option<String>,
    /// Where `--hostile redirect-other-host` sends clients.
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://127.0.0.1:9",
        requires = "hostile"
    )]
    pub redirect_to: String,
}

fn parse_format(text: &str) -> Result<crate::report::Format, String> {
    text.parse()
}

impl RunArgs {
    /// `mts run` with no flags: what the environment and the file give alone.
    pub fn without_flags() -> Self {
        use clap::FromArgMatches as _;
        let matches =
            <Self as clap::Args>::augment_args(clap::Command::new("run")).get_matches_from(["run"]);
        Self::from_arg_matches(&matches).unwrap_or_else(|_| unreachable!("no flag is required"))
    }
}

fn parse_profile(text: &str) -> Result<Profile, String> {
    text.parse()
}

fn parse_shard(text: &str) -> Result<crate::runner::Shard, String> {
    text.parse()
}

fn parse_fault(text: &str) -> Result<crate::sandbox::Fault, String> {
    text.parse()
}

pub(crate) fn parse_timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 3600.0 => Ok(seconds),
        _ => Err(format!(
            "`{text}` is not a number of seconds between 0 and 3600"
        )),
    }
}
