//! Every command-line type: the top-level [`Cli`], its [`Command`]s and one `*Args` per
//! subcommand. Doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::plan::{AdhocApiVersion, CheckOptions};

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

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Validate(ValidateArgs),
    Schema(SchemaArgs),
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
/// Reads plan files and directories (every `*.yaml` and `*.yml` below them), checks them in
/// parallel and reports each problem at its line and column. Exits 0 when every plan is valid
/// (warnings allowed) and 1 otherwise.
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
}

impl GuardrailArgs {
    pub fn options(&self) -> CheckOptions {
        CheckOptions {
            api_version: self.api_version,
            max_segments_per_job: self.max_segments_per_job.map(|n| n as usize),
            split: self.split,
        }
    }
}

/// Print the plan file's JSON schema
///
/// The schema is generated from aepact's own types; point editors at it with a
/// `# yaml-language-server: $schema=…` line at the top of each plan.
#[derive(Debug, Args)]
pub struct SchemaArgs {}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
