//! Reading a lockfile: merge-conflict markers, UTF-8, JSON syntax, the format version and the
//! format itself, each refused with its line and column ([`Lockfile::parse_format`]), then the
//! consistency every lockfile aepact writes has ([`Lockfile::problems`]).
//!
//! Separate from the types because `lock verify` needs the steps one by one: it reports every
//! problem, where `apply` and `status` refuse at the first.

use std::fs;
use std::io;
use std::path::Path;

use miette::{NamedSource, SourceSpan};
use serde_json::Value;

use super::error::{LockfileError, Result};
use super::format::{
    JobStatus, LOCKFILE_VERSION, Lockfile, READABLE_VERSIONS, run_id_from_status_url,
};

impl Lockfile {
    /// Parses a lockfile's text; `path` names it in errors.
    ///
    /// Returns an error with the line and column for invalid JSON, an unknown or misspelt key,
    /// a missing field or a value of the wrong type, and for a `lockfileVersion` other than 1.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let lockfile = Lockfile::parse_format(text, path)?;
        lockfile.check_consistent(&path.display().to_string())?;
        Ok(lockfile)
    }

    /// Parses a lockfile's text as [`parse`](Self::parse) does, without the consistency checks
    /// of [`problems`](Self::problems): for `aepact lock verify`, which reports every problem
    /// instead of the first.
    ///
    /// Returns an error for merge-conflict markers, invalid JSON, a `lockfileVersion` other
    /// than 1, and anything that does not fit the format (with line and column).
    pub fn parse_format(text: &str, path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let source = || NamedSource::new(name.clone(), text.to_owned());
        if let Some((line, offset, marker)) = conflict_marker(text) {
            return Err(LockfileError::MergeConflict {
                path: name.clone(),
                marker: marker.to_owned(),
                line,
                src: source(),
                at: SourceSpan::from((offset, marker.len())),
            });
        }
        // Where serde_json stopped, as (message, line, column, span).
        let place = |err: &serde_json::Error| {
            let (line, column) = (err.line(), err.column());
            (
                strip_position(err),
                line,
                column,
                span_at(text, line, column),
            )
        };
        let value: Value = serde_json::from_str(text).map_err(|err| {
            let (message, line, column, at) = place(&err);
            LockfileError::Syntax {
                path: name.clone(),
                message,
                line,
                column,
                src: source(),
                at,
            }
        })?;
        if let Some(version) = value.get("lockfileVersion")
            && !version
                .as_u64()
                .is_some_and(|v| READABLE_VERSIONS.iter().any(|r| u64::from(*r) == v))
        {
            let offset = text.find("\"lockfileVersion\"");
            let at = offset
                .map(|i| SourceSpan::from((i, "\"lockfileVersion\"".len())))
                .unwrap_or_else(|| SourceSpan::from((0, 0)));
            let (line, column) = line_column(text, offset.unwrap_or(0));
            return Err(LockfileError::UnsupportedVersion {
                path: name.clone(),
                found: version.to_string(),
                line,
                column,
                src: source(),
                at,
            });
        }
        let mut lockfile: Lockfile = serde_json::from_str(text).map_err(|err| {
            let (message, line, column, at) = place(&err);
            LockfileError::Invalid {
                path: name.clone(),
                message,
                line,
                column,
                src: source(),
                at,
            }
        })?;
        // In memory a lockfile is always the current format: an older one is upgraded when it
        // is next written (version 1 lacks only fields that read as `null`).
        lockfile.lockfile_version = LOCKFILE_VERSION;
        Ok(lockfile)
    }

    /// Refuses a lockfile with a [`problem`](Self::problems), naming the first one.
    fn check_consistent(&self, path: &str) -> Result<()> {
        let problems = self.problems();
        let Some(first) = problems.first() else {
            return Ok(());
        };
        let more = match problems.len() {
            1 => String::new(),
            2 => " (and 1 more problem: `aepact lock verify` lists it)".to_owned(),
            n => format!(
                " (and {} more problems: `aepact lock verify` lists them)",
                n - 1
            ),
        };
        Err(LockfileError::Inconsistent {
            path: path.to_owned(),
            message: format!("at `{}`: {}{more}", first.pointer, first.message),
        })
    }

    /// What the types cannot check but every lockfile aepact writes satisfies: each job's
    /// `index` is its position, each job's fields fit its status (see [`JobStatus`]), and an
    /// order's `runId` is the run its `statusUrl` names. A lockfile with such a problem was
    /// edited by hand (or merged badly): `apply` and `status` refuse it.
    ///
    /// Returns every problem found, in document order, each at its JSON pointer.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut push =
            |pointer: String, message: String| problems.push(Problem { pointer, message });
        for (r, run) in self.runs.iter().enumerate() {
            for (i, job) in run.jobs.iter().enumerate() {
                let at = format!("/runs/{r}/jobs/{i}");
                if job.index != i {
                    push(
                        format!("{at}/index"),
                        format!(
                            "job {i} of run {} has `index` {}; jobs are numbered 0, 1, 2, … in order",
                            run.run, job.index
                        ),
                    );
                }
                let status = job.status;
                let sent = job.sent_at.is_some();
                // Sent, except a job `status` settled as never sent (`rejected`, `reconciledAt`).
                let needs_sent = match status {
                    JobStatus::Pending => false,
                    JobStatus::Rejected => job.reconciled_at.is_none(),
                    JobStatus::Submitted | JobStatus::Unknown => true,
                };
                if needs_sent && !sent {
                    push(
                        format!("{at}/sentAt"),
                        format!("a `{status}` job must have a `sentAt`: it was sent"),
                    );
                }
                if status != JobStatus::Submitted && !job.orders.is_empty() {
                    push(
                        format!("{at}/orders"),
                        format!("a `{status}` job has no orders; only `submitted` jobs do"),
                    );
                }
                let needs_error = matches!(status, JobStatus::Rejected | JobStatus::Unknown);
                if needs_error && job.error.is_none() {
                    push(
                        format!("{at}/error"),
                        format!("a `{status}` job must record its `error`"),
                    );
                }
                if status == JobStatus::Pending && job.error.is_some() {
                    push(
                        format!("{at}/error"),
                        "a `pending` job has no `error`: its outcome is not recorded yet"
                            .to_owned(),
                    );
                }
                if matches!(status, JobStatus::Pending | JobStatus::Unknown)
                    && job.reconciled_at.is_some()
                {
                    push(
                        format!("{at}/reconciledAt"),
                        format!("a `{status}` job is not settled, so it has no `reconciledAt`"),
                    );
                }
                for (o, order) in job.orders.iter().enumerate() {
                    if let (Some(id), Some(from_url)) =
                        (&order.run_id, run_id_from_status_url(&order.status_url))
                        && *id != from_url
                    {
                        push(
                            format!("{at}/orders/{o}/runId"),
                            format!(
                                "`runId` `{id}` is not the run `{from_url}` that `statusUrl` names"
                            ),
                        );
                    }
                }
            }
        }
        problems
    }

    /// Reads the lockfile at `path`.
    ///
    /// Returns `None` when there is no file (the plan was never applied), and an error for a
    /// file that cannot be read or is not a valid lockfile: such a file is never replaced.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        match fs::read(path) {
            Ok(bytes) => Lockfile::parse(&utf8(bytes, path)?, path).map(Some),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(LockfileError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }
}

/// A consistency problem in a lockfile that parsed: where (a JSON pointer) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// RFC 6901 pointer to the offending value, e.g. `/runs/0/jobs/1/sentAt`.
    pub pointer: String,
    /// One sentence for people.
    pub message: String,
}

/// The first git merge-conflict marker in `text`: its 1-based line, byte offset and the marker.
///
/// A marker is a line starting with seven `<`, `=`, `|` or `>`, as git writes them (`<<<<<<<
/// HEAD`, `=======`, `|||||||` for diff3, `>>>>>>> branch`). No valid lockfile has such a
/// line: JSON strings never span lines, and keys and values are indented.
fn conflict_marker(text: &str) -> Option<(usize, usize, &'static str)> {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        for marker in ["<<<<<<<", "=======", "|||||||", ">>>>>>>"] {
            if let Some(rest) = line.strip_prefix(marker)
                && (rest.trim().is_empty() || rest.starts_with(' '))
            {
                return Some((i + 1, offset, marker));
            }
        }
        offset += line.len();
    }
    None
}

/// A lockfile's bytes as text; bytes that are not UTF-8 are a syntax error at their place.
pub(super) fn utf8(bytes: Vec<u8>, path: &Path) -> Result<String> {
    String::from_utf8(bytes).map_err(|err| {
        let valid = err.utf8_error().valid_up_to();
        let bytes = err.into_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let before = String::from_utf8_lossy(&bytes[..valid]);
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        LockfileError::Syntax {
            path: path.display().to_string(),
            message: "bytes that are not UTF-8".to_owned(),
            line,
            column,
            at: SourceSpan::from((before.len(), 0)),
            src: NamedSource::new(path.display().to_string(), text),
        }
    })
}

/// serde_json appends " at line L column C" to its messages; we report those separately.
fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) if err.line() > 0 => text[..i].to_owned(),
        _ => text,
    }
}

/// The 1-based (line, column) of byte `offset`, counted as serde_json counts them (the column
/// in bytes), so every parse error of a lockfile is placed the same way.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, offset.min(text.len()) - line_start + 1)
}

/// The byte span of serde_json's 1-based (line, column), clamped to the text.
fn span_at(text: &str, line: usize, column: usize) -> SourceSpan {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut offset = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    SourceSpan::from((offset, 0))
}
