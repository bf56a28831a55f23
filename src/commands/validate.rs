//! `aepact validate`: the offline checks over files and directories, in every output format.

use crate::Exit;
use crate::cli::{ValidateArgs, ValidateFormat};
use crate::error::Result;
use crate::output::document::{self, Document};
use crate::output::{Style, stream};
use crate::plan::{CheckOptions, Rendering, check_each};

pub(crate) fn run(args: &ValidateArgs, style: Style) -> Result<Exit> {
    let options = args.guardrails.options();
    // The human and github reports are written file by file; the documents of the other
    // formats lead with counts, so their entries are kept (past a budget, in a temporary
    // file) until every file is counted.
    match args.format {
        ValidateFormat::Human => streamed(args, &options, stream::Format::Human(style)),
        ValidateFormat::Github => streamed(args, &options, stream::Format::Github),
        ValidateFormat::Json => documented(args, &options, document::Kind::Json),
        ValidateFormat::Sarif => documented(args, &options, document::Kind::Sarif),
        ValidateFormat::Junit => documented(args, &options, document::Kind::Junit),
    }
}

/// Checks the files and writes one machine document over them (issue 13: memory does not
/// grow with the plans but by a valid plan's name).
fn documented(args: &ValidateArgs, options: &CheckOptions, kind: document::Kind) -> Result<Exit> {
    let mut doc = Document::new(kind, *options);
    let render = Document::render(kind);
    let rendering = Rendering {
        render: &render,
        names: kind.names_plans(),
    };
    let checked = check(args, options, rendering, &mut |outcome| {
        doc.outcome(outcome);
    });
    log_spilled(checked.spilled);
    let counts = doc.finish(&checked.skipped)?;
    Ok(verdict(counts.errors == 0))
}

/// Checks and writes each file's part of the report as it comes, holding nothing per file
/// but the rendered diagnostics of files that have some.
fn streamed(args: &ValidateArgs, options: &CheckOptions, format: stream::Format) -> Result<Exit> {
    let mut report = stream::Validate::new(format, options.segment_limit());
    let render = stream::Validate::render(format);
    let rendering = Rendering {
        render: &render,
        names: false,
    };
    let checked = check(args, options, rendering, &mut |outcome| {
        report.outcome(outcome);
    });
    log_spilled(checked.spilled);
    let tally = report.finish(checked.skipped.len())?;
    Ok(verdict(tally.errors == 0))
}

/// The checks of every format, from one place (a second call of `check_each` changed how the
/// release build inlined the checks; see docs/performance.md on the binary's code pages).
#[inline(never)]
fn check(
    args: &ValidateArgs,
    options: &CheckOptions,
    rendering: Rendering<'_>,
    each: &mut dyn FnMut(crate::plan::Outcome),
) -> crate::plan::Checked {
    check_each(
        &args.paths,
        options,
        false,
        args.guardrails.policy(),
        Some(rendering),
        each,
    )
}

fn log_spilled(bytes: u64) {
    if bytes > 0 {
        tracing::debug!("{bytes} bytes of what the run held went to its temporary file");
    }
}

fn verdict(valid: bool) -> Exit {
    if valid { Exit::Success } else { Exit::Failure }
}
