//! aepact: declarative ad-hoc audience activation for Adobe Experience Platform.
//!
//! Teams keep activation plans (YAML) in git; aepact validates them offline, shows what would be
//! sent, applies them and records each activation in a lockfile. The crate is a library with a
//! thin binary (`src/main.rs`), so tests can drive commands and checks directly.
//!
//! Data flows one way, and each step is one module:
//!
//! | step | module | what it does |
//! |---|---|---|
//! | load, check | [`plan`] | the plan format, YAML with positions, schema, guardrails, diagnostics |
//! | | [`policy`] | the policy file: which one governs a plan, its offline rules, its time rules |
//! | resolve | [`planner::resolve`] | what the platform says: export jobs, dataflows, runs (the witness) |
//! | decide | [`planner::decide`] | the one verdict per plan: apply, already applied, refused and why |
//! | execute, record | `execute` (private) | send a plan's jobs exactly once, every step recorded first |
//! | track, record | `track` (private) | follow the recorded orders, settle jobs in doubt; `expect` (private) compares their numbers with the plan's bounds |
//! | wait | `wait` (private) | the one way `status --wait` and `apply --wait-for-clear` wait: backoff, signals, deadline |
//! | record | [`lockfile`] | the per-plan activation record: format, state machine, verify, the one save path |
//! | render | [`output`] | every byte of stdout; one renderer per `--format` |
//!
//! Around them: [`cli`] (every clap type; doc comments are the `--help` text), `commands` (private)
//! (thin: arguments → the steps above → a renderer → an [`Exit`]), [`api`] (the HTTP client and
//! the platform's JSON types), [`emulator`] (the local platform, serving those same types),
//! [`target`] (where activations go and where their lockfiles are), [`error`] and [`exit`]
//! (errors with a kind, and the one mapping to exit statuses), [`codes`] (every code aepact
//! prints, in one registry), [`digest`], `diff`, [`time`] and [`fsx`] (the one atomic write
//! and the one file lock).
//!
//! Validation is synchronous and starts no async runtime or HTTP client: `aepact validate` on one
//! file is a pre-commit hook and must start fast.

#![allow(clippy::result_large_err)]

pub mod api;
pub mod cli;
pub mod codes;
mod commands;
mod diff;
pub mod digest;
pub mod emulator;
pub mod error;
mod execute;
pub mod exit;
mod expect;
pub mod fsx;
pub mod lockfile;
pub mod output;
pub mod plan;
pub mod planner;
pub mod policy;
pub mod target;
pub mod text;
pub mod time;
mod track;
mod wait;

use std::process::ExitCode;

use cli::{Cli, Command};
pub use exit::Exit;

/// Runs a parsed command line: dispatches, prints operational errors on stderr and maps the
/// outcome to an exit code. A closed stdout pipe changes nothing: `output::write_stdout` skips
/// the writes, and the command's own exit status stands.
pub fn run(cli: Cli) -> ExitCode {
    // The offline commands log nothing unless asked: setting up the subscriber costs the
    // pre-commit path (`validate` of one file) time and memory for no event.
    let offline = matches!(
        cli.command,
        Command::Validate(_)
            | Command::Log(_)
            | Command::Schema(_)
            | Command::Init(_)
            | Command::Completions(_)
            | Command::Man(_)
    );
    let asked = cli.verbose > 0 || std::env::var_os("RUST_LOG").is_some_and(|v| !v.is_empty());
    if !offline || asked {
        init_logging(cli.verbose, cli.color);
    }
    let style = output::Style::for_stdout(cli.color);
    let result = match &cli.command {
        Command::Validate(args) => commands::validate::run(args, style),
        Command::Plan(args) => commands::plan::run(args, style),
        Command::Apply(args) => commands::apply::run(args, style),
        Command::Status(args) => commands::status::run(args, style),
        Command::Log(args) => commands::log::run(args, style),
        Command::Lock(cli::LockCommand::Verify(args)) => commands::lock::run(args, style),
        Command::Schema(args) => commands::schema::run(args),
        Command::Init(args) => commands::init::run(args),
        Command::Completions(args) => commands::completions::completions(args),
        Command::Man(args) => commands::completions::man(args),
        Command::Emulator(args) => commands::emulator::run(args),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(err) => {
            let exit = err.exit();
            let before_sending = matches!(err, error::Error::BeforeSending(_));
            let mut text = format!("{:?}\n", miette::Report::new(err));
            if before_sending {
                text.push_str("Nothing was sent.\n");
            }
            let _ = output::write_stderr(&text);
            exit.into()
        }
    }
}

/// Sends `tracing` events to stderr (stdout carries reports and JSON): aepact's own at the
/// level `-v` asks for (none: warnings only, `-v` info, `-vv` debug, `-vvv` trace), or what a
/// non-empty `RUST_LOG` says instead (`RUST_LOG=trace` includes the HTTP stack's events).
///
/// Events carry methods, URL paths, statuses, timings, plan names and job numbers; never a
/// header value, token, secret or form body (`tests/it/secrets.rs` checks at `-vvv` and
/// `RUST_LOG=trace`). An unreadable `RUST_LOG` falls back to the `-v` level.
fn init_logging(verbose: u8, color: cli::ColorMode) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;

    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let default = || EnvFilter::new(format!("aepact={level}"));
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(spec.trim()).unwrap_or_else(|_| default())
        }
        _ => default(),
    };
    let ansi = output::color_enabled(color, std::io::stderr().is_terminal());
    // `try_init` fails only when a subscriber is already set (a test calling `run` twice).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(true)
        .try_init();
}
