//! `aepact validate`: the offline checks over files and directories, in every output format.

use crate::Exit;
use crate::cli::{ValidateArgs, ValidateFormat};
use crate::error::Result;
use crate::output::{self, Style, stream};
use crate::plan::check::check_paths_with;
use crate::plan::{CheckOptions, check_each};

pub(crate) fn run(args: &ValidateArgs, style: Style) -> Result<Exit> {
    let options = args.guardrails.options();
    // The documents of these formats lead with counts, so they are built whole; the human and
    // github reports are written file by file.
    let text = match args.format {
        ValidateFormat::Human => return streamed(args, &options, stream::Format::Human(style)),
        ValidateFormat::Github => return streamed(args, &options, stream::Format::Github),
        ValidateFormat::Json => output::json::validate,
        ValidateFormat::Sarif => output::sarif::validate,
        ValidateFormat::Junit => output::junit::validate,
    };
    let report = check_paths_with(&args.paths, &options, false, args.guardrails.policy());
    output::write_stdout(&text(&report))?;
    Ok(verdict(report.is_valid()))
}

/// Checks and writes each file's part of the report as it comes, holding nothing per file
/// but the rendered diagnostics of files that have some.
fn streamed(args: &ValidateArgs, options: &CheckOptions, format: stream::Format) -> Result<Exit> {
    let mut report = stream::Validate::new(format, options.segment_limit());
    let render = stream::Validate::render(format);
    let policy = args.guardrails.policy();
    let checked = check_each(
        &args.paths,
        options,
        false,
        policy,
        Some(&render),
        &mut |outcome| {
            report.outcome(outcome);
        },
    );
    if checked.spilled > 0 {
        tracing::debug!(
            "{} bytes of what the run held went to its temporary file",
            checked.spilled
        );
    }
    let tally = report.finish(checked.skipped.len())?;
    Ok(verdict(tally.errors == 0))
}

fn verdict(valid: bool) -> Exit {
    if valid { Exit::Success } else { Exit::Failure }
}
