//! Operational errors: what stops a command before or outside the plan checks (I/O on our own
//! output, configuration, HTTP, lockfiles, saved plans). Plan problems are not errors but
//! [`crate::plan::Diagnostic`]s, collected and reported together.

use std::io;

use crate::exit::{Exit, Kind};

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

    /// A file or directory aepact reads or makes for itself (a saved plan, the emulator's state
    /// directory), or the terminal's answer.
    #[error("cannot {doing} `{path}`")]
    #[diagnostic(
        code(aepact::io),
        help("check that the path exists and that you may read (or write) it")
    )]
    Io {
        doing: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("{0}")]
    #[diagnostic(
        code(aepact::saved_plan),
        help("make the saved plan again with `aepact plan --out FILE`")
    )]
    SavedPlan(String),

    /// `apply -`: a plan read from standard input has no file, so no lockfile to record in.
    #[error(
        "a plan read from standard input cannot be applied: it has no lockfile to record the activation in"
    )]
    #[diagnostic(
        code(aepact::stdin_plan),
        help(
            "save the plan to a file (committed, beside its lockfile) and apply that file; `validate -` and `plan -` accept standard input"
        )
    )]
    StdinPlan,

    /// An error before anything was sent (planning, or `apply` before its first POST): shown as
    /// the error it wraps, followed by "Nothing was sent."
    #[error(transparent)]
    #[diagnostic(transparent)]
    BeforeSending(Box<Error>),

    /// A path given to `aepact log` that does not exist.
    #[error("`{0}` does not exist")]
    #[diagnostic(
        code(aepact::log_path),
        help(
            "give lockfiles, plan files or directories that exist (with `--emulator`, the emulator's lockfiles are read: apply with `--emulator` first)"
        )
    )]
    LogPath(String),

    /// An `AEPACT_*` test/operations knob with a value that cannot work.
    #[error("{0}")]
    #[diagnostic(
        code(aepact::setting),
        help("unset it, or give a duration such as `5s` or `500ms`")
    )]
    Setting(String),
}

impl Error {
    /// Wraps an error that stopped a command before it sent anything.
    pub fn before_sending(self) -> Self {
        match self {
            Error::BeforeSending(_) => self,
            other => Error::BeforeSending(Box::new(other)),
        }
    }

    /// What kind of failure this is (see [`crate::exit`]).
    pub fn kind(&self) -> Kind {
        match self {
            Error::Output(_) | Error::WriteFile { .. } | Error::Io { .. } => Kind::Internal,
            Error::Emulator(_) => Kind::Internal,
            Error::Lockfile(e) => lockfile_kind(e),
            Error::Config(_)
            | Error::SavedPlan(_)
            | Error::Setting(_)
            | Error::StdinPlan
            | Error::LogPath(_) => Kind::User,
            Error::Api(e) => api_kind(e),
            Error::BeforeSending(e) => e.kind(),
        }
    }

    /// The exit status this error ends a command with.
    pub fn exit(&self) -> Exit {
        self.kind().exit()
    }
}

/// A lockfile that cannot be trusted is the user's to fix; a lock held by another aepact clears
/// by itself; a failed read or write of the disk is ours.
fn lockfile_kind(err: &crate::lockfile::LockfileError) -> Kind {
    use crate::lockfile::LockfileError as E;
    match err {
        E::LockTimeout { .. } => Kind::Transient,
        E::Read { .. } | E::Write { .. } | E::Lock { .. } => Kind::Internal,
        E::Transition { .. } | E::NoEntry { .. } => Kind::Internal,
        _ => Kind::User,
    }
}

/// The network, rate limits and the platform's own failures (after the retries) clear by
/// themselves; a refusal of the request or of the credentials does not.
fn api_kind(err: &crate::api::ApiError) -> Kind {
    use crate::api::ApiError as E;
    match err {
        E::Transport { .. } => Kind::Transient,
        E::Http { status, .. } | E::Token { status, .. } if *status == 429 || *status >= 500 => {
            Kind::Transient
        }
        E::Http { .. } | E::Decode { .. } | E::ListingTooLong { .. } => Kind::Platform,
        E::Token { .. } | E::Config(_) | E::ForeignStatusUrl { .. } | E::Certificate { .. } => {
            Kind::User
        }
        E::ClientBuild(_) => Kind::Internal,
    }
}
