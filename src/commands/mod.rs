//! One module per subcommand; each `run` returns the command's [`crate::Exit`] status.

pub(crate) mod apply;
pub(crate) mod completions;
pub(crate) mod emulator;
pub(crate) mod init;
pub(crate) mod lock;
pub(crate) mod log;
pub(crate) mod online;
pub(crate) mod plan;
pub(crate) mod schema;
pub(crate) mod status;
pub(crate) mod validate;
