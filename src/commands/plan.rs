//! `aepact plan`: the offline checks, then online resolution, the verdict of each plan, request
//! bodies, diffs and the platform's last deliveries.

use crate::Exit;
use crate::cli::{PlanArgs, PlanFormat};
use crate::commands::online;
use crate::error::{Error, Result};
use crate::output::{self, Style};
use crate::planner::resolve::resolve;

pub(crate) fn run(args: &PlanArgs, style: Style) -> Result<Exit> {
    let options = args.guardrails.options();
    let human = args.format == PlanFormat::Human;
    let Some(plans) = online::checked_plans_for(
        &args.paths,
        &options,
        args.guardrails.policy(),
        style,
        args.format,
    )?
    else {
        return Ok(Exit::Failure);
    };
    // `plan` never sends: whatever stops it, nothing was sent.
    let set = (|| -> Result<_> {
        let connection = online::connect(&args.emulator, &args.client)?;
        let runtime = online::runtime()?;
        let rules = online::rules(&args.witness, options, None);
        Ok(runtime.block_on(resolve(
            &connection.client,
            &connection.target,
            &plans,
            &rules,
        ))?)
    })()
    .map_err(crate::error::Error::before_sending)?;

    let text = match args.format {
        PlanFormat::Human => output::plan::human(&set, style),
        PlanFormat::Json => output::plan::json(&set),
        PlanFormat::Markdown => output::plan::markdown(&set),
        PlanFormat::Github => output::github::plan(&set),
    };
    output::write_stdout(&text)?;
    if let Some(out) = &args.out {
        crate::fsx::write_atomic(out, output::plan::json(&set).as_bytes()).map_err(|source| {
            Error::Io {
                doing: "write the saved plan",
                path: out.display().to_string(),
                source,
            }
        })?;
        if human {
            output::write_stdout(&format!("Saved the plan to `{}`.\n", out.display()))?;
        }
    }
    Ok(match set.exit() {
        Exit::Success if args.detailed_exitcode && set.to_apply() > 0 => Exit::Changes,
        exit => exit,
    })
}
