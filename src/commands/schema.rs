//! `aepact schema`: prints the plan schema generated from the model, or writes it to a file
//! (`--out`) for editors to resolve a plan's modeline against.

use std::path::Path;

use crate::Exit;
use crate::cli::SchemaArgs;
use crate::error::{Error, Result};
use crate::output;
use crate::plan::schema;

pub(crate) fn run(args: &SchemaArgs) -> Result<Exit> {
    if args.policy {
        let text = crate::policy::schema::generate_text();
        match &args.out {
            None => output::write_stdout(&text)?,
            Some(path) => {
                write_text(path, &text)?;
                output::write_stdout(&format!(
                    "Wrote the policy schema to `{}`.\n",
                    path.display()
                ))?;
            }
        }
        return Ok(Exit::Success);
    }
    match &args.out {
        None => output::write_stdout(&schema::generate_text())?,
        Some(path) => {
            write(path)?;
            output::write_stdout(&format!("Wrote the plan schema to `{}`.\n", path.display()))?;
        }
    }
    Ok(Exit::Success)
}

/// Writes the current schema to `path`, creating its directory.
///
/// Returns whether the file changed (false when it already held this schema).
pub(crate) fn write(path: &Path) -> Result<bool> {
    write_text(path, &schema::generate_text())
}

/// Writes `text` to `path` unless it already holds it, creating its directory.
///
/// Returns whether the file changed.
fn write_text(path: &Path, text: &str) -> Result<bool> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    let failed = |source| Error::WriteFile {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    std::fs::write(path, text).map_err(failed)?;
    Ok(true)
}
