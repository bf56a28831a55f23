//! One module per subcommand; each `run` returns the command's [`crate::Exit`] status.

pub mod emulator;
pub mod schema;
pub mod validate;
