//! An operational error as JSON, for the `--format json` documents of `apply`, `status` and
//! `lock verify`, which print one document also when the command fails.

use miette::Diagnostic;
use serde::Serialize;

use crate::error::Error;

/// An error as a JSON object: its code, its message and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDoc {
    /// The diagnostic code, e.g. `aepact::api::transport`.
    pub code: Option<String>,
    pub message: String,
    pub help: Option<String>,
    /// Whether anything was sent before it happened (`false`: certainly nothing).
    pub nothing_sent: bool,
}

impl ErrorDoc {
    pub fn of(err: &Error) -> Self {
        let mut message = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        ErrorDoc {
            code: err.code().map(|c| c.to_string()),
            message,
            help: err.help().map(|h| h.to_string()),
            nothing_sent: matches!(err, Error::BeforeSending(_)),
        }
    }
}

/// How a command ended, for its JSON document: its exit status and, when it failed with an
/// error, that error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ending {
    pub exit: i32,
    pub error: Option<ErrorDoc>,
}

impl Ending {
    pub fn of(result: &crate::error::Result<crate::Exit>) -> Self {
        match result {
            Ok(exit) => Ending {
                exit: i32::from(exit.code()),
                error: None,
            },
            Err(err) => Ending {
                exit: i32::from(err.exit().code()),
                error: Some(ErrorDoc::of(err)),
            },
        }
    }
}
