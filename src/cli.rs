//! Every command-line type: the top-level [`Cli`], its [`Command`]s and one `*Args` per
//! subcommand. Doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::api::AdhocApiVersion;

/// The variables clap reads for flags (`env = …` below).
const FLAG_VARIABLES: &[&str] = &[
    "AEP_ADHOC_API_VERSION",
    "AEPACT_CONCURRENCY",
    "AEPACT_POLICY",
];

/// Parses the command line as [`Cli::try_parse`] does, with an empty flag variable
/// (`AEPACT_CONCURRENCY=`) taken as unset, as every other variable of aepact is, instead of as
/// the flag given without its value.
pub fn parse() -> Result<Cli, clap::Error> {
    fn unset(command: clap::Command, empty: &[&str]) -> clap::Command {
        command
            .mut_args(|arg| match arg.get_env() {
                Some(env) if empty.iter().any(|name| env == *name) => arg.env(None::<&str>),
                _ => arg,
            })
            .mut_subcommands(|sub| unset(sub, empty))
    }
    let mut command = <Cli as clap::CommandFactory>::command();
    let empty: Vec<&str> = FLAG_VARIABLES
        .iter()
        .copied()
        .filter(|name| std::env::var_os(name).is_some_and(|v| v.is_empty()))
        .collect();
    if !empty.is_empty() {
        command = unset(command, &empty);
    }
    let matches = command.try_get_matches()?;
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches)
}
use crate::plan::CheckOptions;

/// Declarative ad-hoc audience activation for Adobe Experience Platform
///
/// Validate activation plans kept in git, see exactly what would be sent, apply them and record
/// every activation in a lockfile.
#[derive(Debug, Parser)]
#[command(name = "aepact", version, propagate_version = true)]
pub struct Cli {
    /// When to use colour: `auto` uses it on a terminal unless `NO_COLOR` is set
    #[arg(long, value_enum, default_value_t = ColorMode::Auto, global = true)]
    pub color: ColorMode,

    /// Log what aepact does to stderr: -v info, -vv debug, -vvv trace (can be repeated)
    ///
    /// `RUST_LOG` (e.g. `RUST_LOG=aepact=debug`) overrides it. Logs never show a secret, token,
    /// header value or form body.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Validate(ValidateArgs),
    Plan(PlanArgs),
    Apply(ApplyArgs),
    Status(StatusArgs),
    Log(LogArgs),
    #[command(subcommand)]
    Lock(LockCommand),
    Schema(SchemaArgs),
    Init(InitArgs),
    Completions(CompletionsArgs),
    Man(ManArgs),
    Emulator(EmulatorArgs),
}

/// Colour choice for human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorMode {
    /// Colour on a terminal, unless `NO_COLOR` is set
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

/// Check plans offline: schema and guardrails, every problem of every file at once
///
/// Reads plan files and directories (below them, every `*.yaml` and `*.yml` with `apiVersion:
/// aepact/...`; other YAML is skipped and counted), checks them in parallel and reports each
/// problem at its line and column. Exits 0 when every plan is valid (warnings allowed) and 1
/// otherwise.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Plan files or directories (can be repeated)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = ValidateFormat::Human)]
    pub format: ValidateFormat,

    #[command(flatten)]
    pub guardrails: GuardrailArgs,
}

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// Diagnostics with source snippets, for people
    Human,
    /// One JSON document: per file, its diagnostics with code, position and JSON pointer
    Json,
    /// GitHub Actions workflow commands (`::error file=…,line=…::…`) that annotate the diff
    Github,
    /// SARIF 2.1.0 for code-scanning dashboards: one rule per diagnostic code
    Sarif,
    /// JUnit XML for CI test reports: one test case per plan file
    Junit,
}

/// Options of the offline guardrails, shared by every command that checks plans.
#[derive(Debug, Clone, Args)]
pub struct GuardrailArgs {
    /// Ad-hoc activation API version: 1 (the beta: `exports` required, 20 segments per job) or 2
    /// (80 segments per job, `exports` optional)
    #[arg(long, value_enum, env = "AEP_ADHOC_API_VERSION", default_value = "1")]
    pub api_version: AdhocApiVersion,

    /// Most distinct segments in one job, overriding the API version's limit (20 or 80)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_segments_per_job: Option<u32>,

    /// Pack plans over the segment limit into several jobs of whole segments instead of failing
    #[arg(long)]
    pub split: bool,

    /// Policy file for every plan, instead of the nearest `aepact.policy.yaml` in each plan's
    /// directory or its parents (up to the repository root)
    #[arg(long, value_name = "FILE", env = "AEPACT_POLICY")]
    pub policy: Option<PathBuf>,
}

impl GuardrailArgs {
    pub fn options(&self) -> CheckOptions {
        CheckOptions {
            api_version: self.api_version,
            max_segments_per_job: self.max_segments_per_job.map(|n| n as usize),
            split: self.split,
        }
    }

    /// Which policy governs each plan: `--policy FILE`, else the nearest one.
    pub fn policy(&self) -> crate::policy::PolicyChoice {
        match &self.policy {
            Some(file) => crate::policy::PolicyChoice::File(file.clone()),
            None => crate::policy::PolicyChoice::Nearest,
        }
    }
}

/// Show what `apply` would send
///
/// Checks the plans offline as `validate` does, then resolves them online: `exports: latest`,
/// the destination dataflows and their segment mappings, export jobs and runs still in flight.
/// Prints each job's exact request body and a diff against the last applied run in the lockfile.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Plan files or directories (can be repeated)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,

    /// Exit 0 when there is nothing to apply, 2 when there is, 1 on errors (as `terraform plan`)
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Save the plan (request bodies, resolved exports, digests) for `apply FILE`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub guardrails: GuardrailArgs,

    #[command(flatten)]
    pub witness: WitnessArgs,

    #[command(flatten)]
    pub client: ClientArgs,

    #[command(flatten)]
    pub emulator: EmulatorFlags,
}

/// How `plan` and `apply` weigh what the platform says: its own runs (the second witness of
/// what was sent) and its names for the plan's destinations and segments.
#[derive(Debug, Clone, Args)]
pub struct WitnessArgs {
    /// Refuse pairs the platform delivered this recently by a run no lockfile records, e.g.
    /// `30m`, `2h`; `0` turns the check off [default: the plan's `guardWindow`, else 1h]
    #[arg(long, value_name = "DURATION", value_parser = crate::time::parse_duration)]
    pub guard_window: Option<std::time::Duration>,

    /// Send even when the platform shows recent deliveries no lockfile records (the runs are
    /// recorded in the lockfile as the run's `override`)
    #[arg(long)]
    pub allow_unrecorded_runs: bool,

    /// Refuse a plan whose destination or segment `name:` disagrees with the platform's name
    /// (`aepact::label_mismatch`, otherwise a warning)
    #[arg(long)]
    pub strict_labels: bool,
}

/// Output formats of `apply` and `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Lines for people
    Human,
    /// One JSON document at the end (also when the command fails), for scripts
    Json,
}

/// Output formats of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Request bodies, diffs and a summary, for people
    Human,
    /// The plan as one JSON document (the format `--out` saves)
    Json,
    /// A pull-request comment: summary table, collapsed bodies and diffs
    Markdown,
    /// GitHub Actions workflow commands: a notice per plan to apply, an error per refusal
    Github,
}

/// Submit the plans' ad-hoc activation jobs and record them in the lockfiles
///
/// Takes plan files and directories (checked and resolved again, as `plan` does) or one saved
/// plan from `plan --out`, applied exactly as saved or refused as stale. Asks for `yes` on a
/// terminal unless `--auto-approve`. A plan whose intent is already recorded as submitted is
/// not sent again.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Plan files or directories (can be repeated), or one saved plan file
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Apply without asking for confirmation (required without a terminal)
    #[arg(long)]
    pub auto_approve: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,

    /// How long to wait for another aepact holding a plan's lock, e.g. `30s`, `2m`
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::time::parse_duration)]
    pub lock_timeout: std::time::Duration,

    /// When every refusal clears by itself (an export job processing, a run in flight, "Run
    /// already going on"), wait for it, check again as a fresh apply does, and apply; give up
    /// after DURATION (exit 75) [default without a value: 2h]
    ///
    /// Plans that are clear are applied at once, the others as they clear. A refusal that
    /// needs someone to act (a wrong destination, a job in doubt) means no waiting.
    #[arg(
        long,
        value_name = "DURATION",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "2h",
        value_parser = crate::time::parse_duration
    )]
    pub wait_for_clear: Option<std::time::Duration>,

    #[command(flatten)]
    pub guardrails: GuardrailArgs,

    #[command(flatten)]
    pub witness: WitnessArgs,

    #[command(flatten)]
    pub client: ClientArgs,

    #[command(flatten)]
    pub emulator: EmulatorFlags,
}

/// Poll the recorded orders' status and update the lockfiles
///
/// Follows each non-final order's status URL, records status, times and metrics, and resolves
/// jobs left `pending` or `unknown` by a crash or a lost response. Exits 0 when every order
/// succeeded, 1 when any failed, 75 when `--wait` timed out.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Plan files or directories (can be repeated)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Keep polling until every order is final
    #[arg(long)]
    pub wait: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,

    /// Give up waiting after this long, e.g. `10m` or `1h30m` (exit 75)
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = crate::time::parse_duration)]
    pub timeout: std::time::Duration,

    /// How long to wait for another aepact holding a plan's lock, e.g. `30s`, `2m`
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::time::parse_duration)]
    pub lock_timeout: std::time::Duration,

    #[command(flatten)]
    pub client: ClientArgs,

    #[command(flatten)]
    pub emulator: EmulatorFlags,
}

/// Check lockfiles
///
/// Commands that read lockfiles without changing them.
#[derive(Debug, Subcommand)]
pub enum LockCommand {
    Verify(LockVerifyArgs),
}

/// Check lockfiles without changing them, so CI can gate on them
///
/// Finds `*.lock.json` files (the lockfile of each plan file given, and every lockfile below
/// each directory given; hidden directories are skipped) and reports every problem, one line
/// each with the file and its line and column or JSON pointer: merge-conflict markers, invalid
/// JSON, the format, job statuses that contradict their fields, the plan name, run numbering,
/// request bodies and orders. Never writes and takes no lock. Exits 0 when every lockfile is
/// sound and 1 otherwise.
#[derive(Debug, Args)]
pub struct LockVerifyArgs {
    /// Lockfiles, plan files or directories (can be repeated)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = LockVerifyFormat::Human)]
    pub format: LockVerifyFormat,
}

/// Print the activation history recorded in lockfiles: the audit trail, from git
///
/// One entry per segment and destination of every apply: when, which plan and run, where
/// (sandbox and platform), who applied it (`GITHUB_ACTOR`, `GITLAB_USER_LOGIN` or `USER` at
/// apply time), the outcome and the records exported, oldest first. Reads only lockfiles: no
/// platform call, no credentials. A path is a lockfile, a plan file (its lockfile) or a
/// directory (every `*.lock.json` below it, hidden directories skipped); the current directory
/// when none is given.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Lockfiles, plan files or directories (can be repeated; default `.`)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    pub format: LogFormat,

    /// Only activations applied at or after this time: a day (`2026-11-27`, UTC), an RFC 3339
    /// time (`2026-11-27T09:00:00Z`), or a time ago (`30d`, `12h`, `90m`)
    #[arg(long, value_name = "WHEN", value_parser = crate::time::parse_since)]
    pub since: Option<crate::time::Timestamp>,

    /// Only this destination dataflow ID (can be repeated)
    #[arg(long, value_name = "ID")]
    pub destination: Vec<String>,

    /// Only this segment ID (can be repeated)
    #[arg(long, value_name = "ID")]
    pub segment: Vec<String>,

    /// Read the built-in emulator's lockfiles (`.aepact/lockfiles/`, see `--emulator-state`)
    /// instead of the committed ones beside the plans
    #[arg(long)]
    pub emulator: bool,

    /// Where `--emulator` keeps its world; its lockfiles are in `lockfiles/` beside it
    #[arg(
        long,
        value_name = "FILE",
        default_value = ".aepact/emulator-state.json",
        requires = "emulator"
    )]
    pub emulator_state: PathBuf,
}

/// Output formats of `log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// A table, oldest first, then a summary line
    Human,
    /// One JSON document: `{aepactLogVersion, lockfiles, entries}`
    Json,
    /// Comma-separated values with a header row (RFC 4180 quoting)
    Csv,
    /// A Markdown table, for a report or a pull-request comment
    Markdown,
}

/// Output formats of `lock verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LockVerifyFormat {
    /// One line per problem, then a summary
    Human,
    /// One JSON document: per lockfile, its problems with kind, position and JSON pointer
    Json,
}

/// How the online commands talk to the platform.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Most requests to the platform in flight at once (independent reads run side by side)
    #[arg(
        long,
        value_name = "N",
        env = "AEPACT_CONCURRENCY",
        default_value_t = crate::api::DEFAULT_CONCURRENCY,
        value_parser = parse_concurrency
    )]
    pub concurrency: usize,
}

/// `--concurrency`: a whole number from 1 to 64.
fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a whole number from 1 to 64 (`--concurrency`, `AEPACT_CONCURRENCY`)"
        )),
    }
}

/// Run against the built-in emulator instead of Adobe Experience Platform.
#[derive(Debug, Clone, Args)]
pub struct EmulatorFlags {
    /// Start the built-in emulator in-process with its demo organisation and use it
    #[arg(long)]
    pub emulator: bool,

    /// Where `--emulator` keeps its world between runs
    #[arg(
        long,
        value_name = "FILE",
        default_value = ".aepact/emulator-state.json",
        requires = "emulator"
    )]
    pub emulator_state: PathBuf,
}

/// Print the plan file's JSON schema
///
/// The schema is generated from aepact's own types; point editors at it with a
/// `# yaml-language-server: $schema=…` line at the top of each plan, for example
/// `aepact schema --out .aepact/plan.schema.json` and a modeline with the path to it.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write the schema to this file (creating its directory) instead of printing it
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// The policy file's schema (`aepact.policy.yaml`) instead of the plan's
    #[arg(long)]
    pub policy: bool,
}

/// Serve the local AEP emulator on 127.0.0.1
///
/// A stand-in for Adobe Experience Platform: IMS tokens, the gateway's header checks, segment
/// export jobs, Flow Service flows and runs, and ad-hoc activation, with a built-in demo
/// organisation whose IDs match `examples/`. Prints its base URL and the environment to point
/// aepact at it, then serves until interrupted. Control endpoints live under `/_emulator/`; see
/// docs/emulator.md.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1; 0 picks a free one
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// YAML file describing another world instead of the demo one (format in docs/emulator.md)
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,

    /// Keep the world in this JSON file, so separate runs share it (created when missing)
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// How long an ad-hoc run takes to finish, e.g. `30s`, `2m`, `500ms`; 0 finishes at once
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::time::parse_duration)]
    pub run_duration: std::time::Duration,
}

/// Write a commented starter plan
///
/// The plan is valid as written except for the IDs you must fill in, which `aepact validate`
/// then points at.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The plan's name: lowercase letters, digits and dashes
    pub name: String,

    /// Where to write the plan [default: NAME.yaml]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// The modeline's schema: a URL or a path relative to the plan [default: the nearest
    /// `schemas/plan.schema.json` or `.aepact/plan.schema.json`, written at the repository's
    /// root when there is none]
    #[arg(long, value_name = "URL|PATH")]
    pub schema: Option<String>,
}

/// Print shell completions
///
/// For example `aepact completions bash > ~/.local/share/bash-completion/completions/aepact`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Print the manual page (roff)
///
/// For example `aepact man > aepact.1 && man ./aepact.1`, or `--out-dir` for one page per
/// subcommand.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write aepact.1 and one page per subcommand (aepact-plan.1, ...) into this directory
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every variable a flag reads is one `parse` takes as unset when empty.
    #[test]
    fn every_flag_variable_is_known() {
        fn walk(command: &clap::Command, found: &mut Vec<String>) {
            for arg in command.get_arguments() {
                if let Some(env) = arg.get_env() {
                    found.push(env.to_string_lossy().into_owned());
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, found);
            }
        }
        let mut found = Vec::new();
        walk(&Cli::command(), &mut found);
        found.sort();
        found.dedup();
        let mut known: Vec<String> = FLAG_VARIABLES.iter().map(|s| (*s).to_owned()).collect();
        known.sort();
        assert_eq!(found, known);
    }
}
