//! Operational errors: what stops a command before or outside the plan checks (I/O on our own
//! output, configuration, HTTP, lockfiles, saved plans). Plan problems are not errors but
//! [`crate::plan::Diagnostic`]s, collected and reported together.

use std::io;

/// The result of a command: its exit status, or an error that ends it.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("cannot write the output")]
    #[diagnostic(
        code(aepact::output),
        help("check that standard output is writable (a full disk, a closed pipe)")
    )]
    Output(#[source] io::Error),

    /// A file aepact was asked to write (`schema --out`, `init`).
    #[error("cannot write `{path}`")]
    #[diagnostic(
        code(aepact::write_file),
        help("check that the directory exists or can be created, and that you may write to it")
    )]
    WriteFile {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Emulator(#[from] crate::emulator::EmulatorError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Lockfile(#[from] crate::lockfile::LockfileError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] crate::api::ConfigError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Api(#[from] crate::api::ApiError),

    #[error("{0}")]
    #[diagnostic(
        code(aepact::saved_plan),
        help("make the saved plan again with `aepact plan --out FILE`")
    )]
    SavedPlan(String),

    /// An `AEPACT_*` test/operations knob with a value that cannot work.
    #[error("{0}")]
    #[diagnostic(
        code(aepact::setting),
        help("unset it, or give a duration such as `5s` or `500ms`")
    )]
    Setting(String),
}

impl From<crate::planner::resolve::ResolveError> for Error {
    fn from(err: crate::planner::resolve::ResolveError) -> Self {
        match err {
            crate::planner::resolve::ResolveError::Api(e) => Error::Api(e),
            crate::planner::resolve::ResolveError::Lockfile(e) => Error::Lockfile(e),
        }
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        Error::Output(err)
    }
}
