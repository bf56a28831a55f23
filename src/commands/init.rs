//! `aepact init NAME`: a commented starter plan.

use std::path::{Path, PathBuf};

use crate::Exit;
use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::output;

/// Where `init` keeps the schema when the repository has none: beside the emulator's state.
pub(crate) const LOCAL_SCHEMA: &str = ".aepact/plan.schema.json";

/// Where a new plan's modeline points so that it resolves, and the schema file to write first
/// (when the repository has none yet).
///
/// The nearest `schemas/plan.schema.json` or [`LOCAL_SCHEMA`] in the plan's directory or above
/// it (a stale `.aepact` copy is refreshed); else [`LOCAL_SCHEMA`] at the repository's root (the
/// nearest directory with `.git`), or in the current directory when the plan is below it.
fn modeline_target(plan_dir: &Path) -> (String, Option<PathBuf>) {
    let dir = std::fs::canonicalize(plan_dir).unwrap_or_else(|_| plan_dir.to_path_buf());
    for ancestor in dir.ancestors() {
        let committed = ancestor.join("schemas/plan.schema.json");
        if committed.is_file() {
            return (crate::text::relative_path(&dir, &committed), None);
        }
        let local = ancestor.join(LOCAL_SCHEMA);
        if local.is_file() {
            return (crate::text::relative_path(&dir, &local), Some(local));
        }
    }
    let cwd = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .ok()
        .filter(|cwd| dir.starts_with(cwd));
    let root = dir
        .ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
        .or(cwd)
        .unwrap_or_else(|| dir.clone());
    let local = root.join(LOCAL_SCHEMA);
    (crate::text::relative_path(&dir, &local), Some(local))
}

/// A path for messages: relative to the current directory when below it.
fn shown(file: &Path) -> String {
    std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .ok()
        .filter(|cwd| file.starts_with(cwd))
        .map_or_else(
            || file.display().to_string(),
            |cwd| crate::text::relative_path(&cwd, file),
        )
}

/// The starter plan's text.
pub(crate) fn starter(name: &str, schema: &str) -> String {
    format!(
        r#"# yaml-language-server: $schema={schema}
# An aepact activation plan. Check it with `aepact validate`, see what it would send with
# `aepact plan`, and send it with `aepact apply`. Format: docs/validate.md.
apiVersion: aepact/v1
name: {name}                      # unique in the repository; names the lockfile entry
description: What this activation is for   # shown in plans, never sent
sandbox: prod                     # sent as x-sandbox-name
exports: latest                   # the newest finished profile export job; or [11037, "11038"]
destinations:
  # The activation dataflow's ID: Destinations > Browse, select the row, the right rail.
  - id: REPLACE-WITH-DATAFLOW-ID
    name: Email vendor (SFTP)     # a label for people, never sent
    segments:
      # Segment (audience) IDs, as bare IDs or with a label.
      - id: REPLACE-WITH-SEGMENT-ID
        name: Loyalty gold
run: 1                            # bump to activate the same plan again
"#
    )
}

pub(crate) fn run(args: &InitArgs) -> Result<Exit> {
    if !crate::plan::model::is_plan_name(&args.name) {
        output::write_stderr(&format!(
            "error: `{}` is not a plan name\n  help: use lowercase letters, digits and dashes, starting with a letter or digit, at most 63 characters\n",
            args.name
        ))?;
        return Ok(Exit::Failure);
    }
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.yaml", args.name)));
    if path.exists() {
        output::write_stderr(&format!(
            "error: `{}` already exists\n  help: choose another name or `--out FILE`; aepact never overwrites a plan\n",
            path.display()
        ))?;
        return Ok(Exit::Failure);
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let failed = |source| Error::WriteFile {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    let (modeline, schema_file) = match &args.schema {
        Some(target) => (target.clone(), None),
        None => modeline_target(dir),
    };
    let mut report = String::new();
    if let Some(file) = schema_file
        && crate::commands::schema::write(&file)?
    {
        report.push_str(&format!(
            "Wrote the plan schema to `{}` for the modeline: commit it, or refresh it with `aepact schema --out {LOCAL_SCHEMA}`.\n",
            shown(&file)
        ));
    }
    let text = starter(&args.name, &modeline);
    std::fs::File::create_new(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .map_err(failed)?;
    report.push_str(&format!(
        "Wrote `{}`: fill in the dataflow and segment IDs, then `aepact validate {}`.\n",
        path.display(),
        path.display()
    ));
    output::write_stdout(&report)?;
    Ok(Exit::Success)
}
