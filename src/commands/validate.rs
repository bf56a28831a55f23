//! `aepact validate`: the offline checks over files and directories, in every output format.

use crate::Exit;
use crate::cli::{ValidateArgs, ValidateFormat};
use crate::error::Result;
use crate::output::{self, Style};
use crate::plan::check::check_paths_with;

pub(crate) fn run(args: &ValidateArgs, style: Style) -> Result<Exit> {
    let report = check_paths_with(
        &args.paths,
        &args.guardrails.options(),
        false,
        args.guardrails.policy(),
    );
    let text = match args.format {
        ValidateFormat::Human => output::human::validate(&report, style),
        ValidateFormat::Json => output::json::validate(&report),
        ValidateFormat::Github => output::github::validate(&report),
        ValidateFormat::Sarif => output::sarif::validate(&report),
        ValidateFormat::Junit => output::junit::validate(&report),
    };
    output::write_stdout(&text)?;
    Ok(if report.is_valid() {
        Exit::Success
    } else {
        Exit::Failure
    })
}
