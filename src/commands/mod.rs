//! One module per subcommand; each `run` returns the command's [`crate::Exit`] status.

pub mod apply;
pub mod completions;
pub mod emulator;
pub mod init;
pub mod lock;
pub mod online;
pub mod plan;
pub mod schema;
pub mod status;
pub mod validate;
