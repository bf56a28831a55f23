//! The only code that writes to stdout: one renderer per `--format`, all working from the same
//! report data (diagnostics, plan summaries), so every surface says the same thing.

pub(crate) mod apply;
pub mod document;
pub mod error;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod lock;
pub(crate) mod log;
pub mod plan;
pub mod pretty;
pub mod sarif;
pub(crate) mod status;
pub mod stream;
pub mod style;

pub use style::{Style, color_enabled};

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to stdout found the pipe closed (`aepact plan | head`).
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes a rendered report to stdout in one go.
///
/// A closed stdout (the reader of a pipe went away) is not an error and never changes what a
/// command does or how it exits: the verdict's exit status stands, and `apply` goes on
/// recording what it sent. Later writes are skipped.
///
/// Returns [`Error::Output`](crate::error::Error::Output) for any other failure (a full disk).
pub fn write_stdout(text: &str) -> crate::error::Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        other => other.map_err(crate::error::Error::Output),
    }
}

/// Stdout written in pieces through one buffer, with [`write_stdout`]'s rules: a closed pipe
/// is not an error and skips what follows; any other failure is kept and returned by
/// [`StdoutStream::finish`], and nothing more is written after it.
pub struct StdoutStream {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    failed: Option<std::io::Error>,
}

impl StdoutStream {
    /// Holds stdout's lock until [`finish`](Self::finish).
    pub fn new() -> Self {
        Self {
            out: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock()),
            failed: None,
        }
    }

    /// Writes `text` (to the buffer; the buffer to stdout when it is full).
    pub fn write(&mut self, text: &str) {
        if self.failed.is_some() || STDOUT_CLOSED.load(Ordering::Relaxed) {
            return;
        }
        if let Err(err) = self.out.write_all(text.as_bytes()) {
            self.fail(err);
        }
    }

    fn fail(&mut self, err: std::io::Error) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
        } else {
            self.failed = Some(err);
        }
    }

    /// Flushes what is buffered.
    ///
    /// Returns [`Error::Output`](crate::error::Error::Output) for the first failure other
    /// than a closed pipe.
    pub fn finish(mut self) -> crate::error::Result<()> {
        if self.failed.is_none()
            && !STDOUT_CLOSED.load(Ordering::Relaxed)
            && let Err(err) = self.out.flush()
        {
            self.fail(err);
        }
        match self.failed.take() {
            Some(err) => Err(crate::error::Error::Output(err)),
            None => Ok(()),
        }
    }
}

impl Default for StdoutStream {
    fn default() -> Self {
        Self::new()
    }
}

/// [`write_stdout`] when `human` (the human format), else nothing: a command with
/// `--format json` keeps stdout for its one document.
pub fn write_stdout_if(human: bool, text: &str) -> crate::error::Result<()> {
    if human { write_stdout(text) } else { Ok(()) }
}

/// Writes text to stderr (problems, when stdout carries JSON or markdown). A closed stderr is
/// not an error either.
pub fn write_stderr(text: &str) -> crate::error::Result<()> {
    let mut err = std::io::stderr().lock();
    match err.write_all(text.as_bytes()).and_then(|()| err.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(crate::error::Error::Output),
    }
}

/// Escapes control characters (ESC, BEL, CR, DEL, C1 codes...) as `\u{1b}`, so that text from a
/// plan, a file name or the platform cannot move the cursor, recolour or retitle the terminal
/// that shows it. Newlines and tabs are kept.
///
/// Returns the text unchanged (borrowed) when it has nothing to escape.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    crate::text::escape_chars(text, is_escaped_control)
}

/// The characters [`escape_controls`] escapes: Unicode's control category except LF and tab.
pub(crate) fn is_escaped_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

pub use crate::text::plural;
