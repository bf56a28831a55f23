//! `aepact plan`: the offline checks, then online resolution, request bodies and diffs.

use crate::Exit;
use crate::cli::{PlanArgs, PlanFormat};
use crate::commands::online;
use crate::error::Result;
use crate::output::{self, Style};
use crate::planner::model::refusal_exit;
use crate::planner::resolve::resolve;

pub fn run(args: &PlanArgs, style: Style) -> Result<Exit> {
    let options = args.guardrails.options();
    let human = args.format == PlanFormat::Human;
    let Some(plans) = online::checked_plans(&args.paths, &options, style, human)? else {
        return Ok(Exit::Failure);
    };
    let (client, _emulator) = online::connect(&args.emulator)?;
    let runtime = online::runtime()?;
    let resolution = runtime.block_on(resolve(&client, &plans, &options))?;

    let refused = &resolution.refusals;
    let text = match args.format {
        PlanFormat::Human => output::plan::human(&resolution.set, refused, style),
        PlanFormat::Json => output::plan::json(&resolution.set),
        PlanFormat::Markdown => output::plan::markdown(&resolution.set, refused),
        PlanFormat::Github => output::github::plan(&resolution.set, refused),
    };
    output::write_stdout(&text)?;
    if !refused.is_empty() {
        if args.format == PlanFormat::Json {
            output::write_stderr(&output::plan::refusals(refused, style))?;
        }
        return Ok(refusal_exit(refused));
    }
    if let Some(out) = &args.out {
        crate::lockfile::write_atomic(out, output::plan::json(&resolution.set).as_bytes())?;
        if human {
            output::write_stdout(&format!("Saved the plan to `{}`.\n", out.display()))?;
        }
    }
    Ok(match (args.detailed_exitcode, resolution.set.to_apply()) {
        (true, n) if n > 0 => Exit::Changes,
        _ => Exit::Success,
    })
}
