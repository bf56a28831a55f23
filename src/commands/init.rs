//! `aepact init NAME`: a commented starter plan.

use std::path::{Path, PathBuf};

use crate::Exit;
use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::output;

/// The schema path for the modeline: the nearest `schemas/plan.schema.json` in the directory
/// the plan goes to or above it, relative to that directory; else the usual `../schemas/…`.
fn schema_path(plan_dir: &Path) -> String {
    let dir = std::fs::canonicalize(plan_dir).unwrap_or_else(|_| plan_dir.to_path_buf());
    let mut up = String::new();
    for ancestor in dir.ancestors() {
        if ancestor.join("schemas/plan.schema.json").is_file() {
            return format!("{up}schemas/plan.schema.json");
        }
        up.push_str("../");
    }
    "../schemas/plan.schema.json".to_owned()
}

fn is_slug(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.len() <= 63
}

/// The starter plan's text.
pub fn starter(name: &str, schema: &str) -> String {
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

pub fn run(args: &InitArgs) -> Result<Exit> {
    if !is_slug(&args.name) {
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
    std::fs::create_dir_all(dir).map_err(Error::Output)?;
    let text = starter(&args.name, &schema_path(dir));
    std::fs::File::create_new(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .map_err(Error::Output)?;
    output::write_stdout(&format!(
        "Wrote `{}`: fill in the dataflow and segment IDs, then `aepact validate {}`.\n",
        path.display(),
        path.display()
    ))?;
    Ok(Exit::Success)
}
