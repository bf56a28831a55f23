//! `aepact completions SHELL` and `aepact man`: generated from the clap definitions, so they
//! never drift from the real arguments.

use clap::CommandFactory;

use crate::Exit;
use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::error::{Error, Result};
use crate::output;

pub fn completions(args: &CompletionsArgs) -> Result<Exit> {
    let mut command = Cli::command();
    let mut bytes = Vec::new();
    clap_complete::generate(args.shell, &mut command, "aepact", &mut bytes);
    output::write_stdout(&String::from_utf8_lossy(&bytes))?;
    Ok(Exit::Success)
}

pub fn man(args: &ManArgs) -> Result<Exit> {
    let command = Cli::command();
    match &args.out_dir {
        None => {
            let mut bytes = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut bytes)
                .map_err(Error::Output)?;
            output::write_stdout(&String::from_utf8_lossy(&bytes))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(Error::Output)?;
            clap_mangen::generate_to(command, dir).map_err(Error::Output)?;
            output::write_stdout(&format!("Wrote the manual pages to `{}`.\n", dir.display()))?;
        }
    }
    Ok(Exit::Success)
}
