//! `aepact schema`: prints the plan schema generated from the model.

use crate::Exit;
use crate::error::Result;
use crate::output;
use crate::plan::schema;

pub fn run() -> Result<Exit> {
    output::write_stdout(&schema::generate_text())?;
    Ok(Exit::Success)
}
