//! `aepact lock verify`: check lockfiles without touching them, so CI can gate on them.
//!
//! The checks are [`crate::lockfile::verify`]'s and the text is [`crate::output::lock`]'s; this
//! command runs one, renders it with the other and turns the verdict into an exit status.

use crate::Exit;
use crate::cli::{LockVerifyArgs, LockVerifyFormat};
use crate::error::Result;
use crate::lockfile::verify::verify_paths;
use crate::output::{self, Style};

pub(crate) fn run(args: &LockVerifyArgs, style: Style) -> Result<Exit> {
    let report = verify_paths(&args.paths);
    let text = match args.format {
        LockVerifyFormat::Human => output::lock::human(&report, style),
        LockVerifyFormat::Json => output::lock::json(&report),
    };
    output::write_stdout(&text)?;
    Ok(if report.problems() == 0 {
        Exit::Success
    } else {
        Exit::Failure
    })
}
