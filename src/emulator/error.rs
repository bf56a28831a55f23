//! Errors that stop the emulator from starting or from keeping its state.

use crate::plan::Diagnostic;

/// Errors that stop the emulator from starting or from keeping its state.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum EmulatorError {
    #[error("cannot listen on `{addr}`")]
    #[diagnostic(
        code(aepact::emulator::bind),
        help("choose another `--port`, or `--port 0` for any free port")
    )]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the seed file `{path}` is not a valid world ({})", crate::text::plural(diagnostics.len(), "problem", "problems"))]
    #[diagnostic(
        code(aepact::emulator::seed),
        help("fix the problems below; docs/emulator.md describes the seed format")
    )]
    Seed {
        path: String,
        #[related]
        diagnostics: Vec<Diagnostic>,
    },

    #[error("cannot read the emulator state file `{path}`")]
    #[diagnostic(
        code(aepact::emulator::state_read),
        help("check that the file is readable, or point `--state` elsewhere")
    )]
    StateRead {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the emulator state file `{path}` is not valid: {message}")]
    #[diagnostic(
        code(aepact::emulator::state_invalid),
        help(
            "the file was not written by this version of `aepact emulator`: delete it to start from a fresh world"
        )
    )]
    StateInvalid { path: String, message: String },

    #[error("cannot write the emulator state file `{path}`")]
    #[diagnostic(
        code(aepact::emulator::state_write),
        help("check that the directory exists and is writable, and that the disk is not full")
    )]
    StateWrite {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot start the emulator's runtime")]
    #[diagnostic(
        code(aepact::emulator::runtime),
        help(
            "the system refused a thread or a socket: check resource limits (`ulimit -n`, `ulimit -u`)"
        )
    )]
    Runtime(#[source] std::io::Error),
}
