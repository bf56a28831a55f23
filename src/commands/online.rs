//! What the online commands (`plan`, `apply`, `status`) share: the one async runtime, the
//! client (from `AEP_*` or the in-process emulator) and the offline checks they start with.

use std::path::PathBuf;
use std::sync::Arc;

use crate::api::{ApiConfig, Client};
use crate::cli::{ClientArgs, EmulatorFlags, PlanFormat};
use crate::emulator::{Emulator, EmulatorBuilder, EmulatorError};
use crate::error::Result;
use crate::output::{self, Style};
use crate::plan::check::check_paths_with;
use crate::plan::{CheckOptions, CheckReport, Plan};
use crate::policy::PolicyChoice;
use crate::target::Target;

/// The tokio runtime of an online command, built once at the command's edge.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(EmulatorError::Runtime)?)
}

/// An online command's connection: the client, its target, and the in-process emulator it
/// talks to when `--emulator` was given (the emulator stops when this is dropped).
pub(crate) struct Connection {
    pub(crate) client: Arc<Client>,
    pub(crate) target: Target,
    /// Held, not read: the in-process emulator serves until this is dropped.
    pub(crate) _emulator: Option<Emulator>,
}

/// The client and target from `AEP_*`, or the in-process emulator with `--emulator`.
pub(crate) fn connect(flags: &EmulatorFlags, client: &ClientArgs) -> Result<Connection> {
    if flags.emulator {
        let state: &PathBuf = &flags.emulator_state;
        if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| crate::error::Error::Io {
                doing: "create the emulator's state directory",
                path: dir.display().to_string(),
                source,
            })?;
        }
        let emulator = EmulatorBuilder::new().state_file(state.clone()).start()?;
        let mut config = emulator.info().api_config();
        config.sandbox = std::env::var("AEP_SANDBOX").ok().filter(|s| !s.is_empty());
        config.concurrency = client.concurrency;
        let target = Target::emulator(&config.org_id, state);
        let client = Client::new(with_timeout_override(config)?)?;
        return Ok(Connection {
            client: Arc::new(client),
            target,
            _emulator: Some(emulator),
        });
    }
    let mut config = ApiConfig::from_env(|name| std::env::var(name).ok())?;
    config.concurrency = client.concurrency;
    let target = Target::platform(&config.platform_url, &config.org_id);
    Ok(Connection {
        client: Arc::new(Client::new(with_timeout_override(config)?)?),
        target,
        _emulator: None,
    })
}

/// `AEPACT_HTTP_TIMEOUT` (`500ms`, `5s`, ...): the per-request timeout instead of 60 s (and
/// the connect timeout, when shorter). A test and operations knob (`docs/api-client.md`).
fn with_timeout_override(config: ApiConfig) -> Result<ApiConfig> {
    let Some(text) = std::env::var("AEPACT_HTTP_TIMEOUT")
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(config);
    };
    match crate::time::parse_duration(&text) {
        Ok(timeout) if !timeout.is_zero() => {
            let connect = config.connect_timeout.min(timeout);
            Ok(config.with_timeouts(connect, timeout))
        }
        Ok(_) => Err(crate::error::Error::Setting(
            "`AEPACT_HTTP_TIMEOUT` must be longer than 0".into(),
        )),
        Err(e) => Err(crate::error::Error::Setting(format!(
            "`AEPACT_HTTP_TIMEOUT`: {e}"
        ))),
    }
}

/// Runs the offline checks. Returns the checked plans, or `None` after printing the problems
/// (to stdout when `human`, else to stderr so that stdout stays machine-readable).
pub(crate) fn checked_plans(
    paths: &[PathBuf],
    options: &CheckOptions,
    policy: PolicyChoice,
    style: Style,
    human: bool,
) -> Result<Option<Vec<Plan>>> {
    let report: CheckReport = check_paths_with(paths, options, true, policy);
    finish_checks(report, style, human, None)
}

/// [`checked_plans`] for `plan --format FORMAT`: when a plan is invalid, stdout still carries a
/// document in that format, so a pull-request comment or a JSON consumer always learns why
/// (issue 12). Markdown gets a comment with the marker and a table of the problems, JSON the
/// `validate --format json` report, github the annotations; the human rendering goes to
/// stderr as before, for the job's log.
pub(crate) fn checked_plans_for(
    paths: &[PathBuf],
    options: &CheckOptions,
    policy: PolicyChoice,
    style: Style,
    format: PlanFormat,
) -> Result<Option<Vec<Plan>>> {
    let report: CheckReport = check_paths_with(paths, options, true, policy);
    let document = (!report.is_valid()).then(|| match format {
        PlanFormat::Human => None,
        PlanFormat::Json => Some(output::json::validate(&report)),
        PlanFormat::Markdown => Some(output::plan::markdown_problems(&report)),
        PlanFormat::Github => Some(output::github::validate(&report)),
    });
    finish_checks(
        report,
        style,
        format == PlanFormat::Human,
        document.flatten(),
    )
}

/// Prints the problems of `report` (and `document`, the invalid report in the output format,
/// on stdout). Returns the checked plans, or `None` when any plan is invalid.
fn finish_checks(
    report: CheckReport,
    style: Style,
    human: bool,
    document: Option<String>,
) -> Result<Option<Vec<Plan>>> {
    let problems: String = report
        .files
        .iter()
        .flat_map(|f| &f.diagnostics)
        .map(|d| output::human::diagnostic(d, style) + "\n")
        .collect();
    if !problems.is_empty() {
        let text = if report.is_valid() {
            problems
        } else {
            problems + &output::human::summary(&report, style)
        };
        if human {
            output::write_stdout(&text)?;
        } else {
            output::write_stderr(&text)?;
        }
    }
    if let Some(document) = document {
        output::write_stdout(&document)?;
    }
    if !report.is_valid() {
        return Ok(None);
    }
    Ok(Some(
        report
            .files
            .into_iter()
            .filter_map(|f| f.plan.map(|p| *p))
            .collect(),
    ))
}

/// The decision rules of `plan` and `apply`: the guardrail options and the witness flags, and
/// the saved plan being applied (what was reviewed), if any.
pub(crate) fn rules<'a>(
    witness: &crate::cli::WitnessArgs,
    options: CheckOptions,
    reviewed: Option<&'a crate::planner::model::PlanSet>,
) -> crate::planner::decide::Rules<'a> {
    crate::planner::decide::Rules {
        options,
        guard_window: witness.guard_window,
        allow_unrecorded: witness.allow_unrecorded_runs,
        reviewed,
        strict_labels: witness.strict_labels,
    }
}

/// Runs a command that also speaks `--format json`: `body` fills its report as it goes; with
/// `json`, one document is printed at the end from the report and how the command ended (also
/// when it failed), by `render`.
pub(crate) fn reporting<R: Default>(
    json: bool,
    body: impl FnOnce(&mut R) -> Result<crate::Exit>,
    render: impl FnOnce(&R, &output::error::Ending) -> String,
) -> Result<crate::Exit> {
    let mut report = R::default();
    let result = body(&mut report);
    if json {
        let ending = output::error::Ending::of(&result);
        output::write_stdout(&render(&report, &ending))?;
    }
    result
}
