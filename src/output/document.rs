//! `validate`'s machine documents (`json`, `sarif`, `junit`) written file by file, as
//! [`check_each`](crate::plan::check_each) hands the files over, so that memory does not grow
//! with the number of plans (issue 13) though the documents lead with counts: each file's
//! entry is rendered as the file is checked, the entries are kept in order (past 256 KiB in
//! the run's temporary file, as `check_each` keeps what it holds), and once every file is in
//! and counted the head is written, then the entries, then the foot. The bytes are those of
//! [`json::validate`], [`sarif::validate`] and [`junit::validate`] over the whole report: both
//! build the document from the same parts.

use std::sync::Arc;

use super::{StdoutStream, json, junit, sarif};
use crate::plan::spill::{self, Spill, Written};
use crate::plan::{CheckOptions, FileReport, Outcome, Rendered};

/// Which document [`Document`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Json,
    Sarif,
    Junit,
}

impl Kind {
    /// Whether the document lists valid plans by name (a SARIF log lists only results).
    pub fn names_plans(self) -> bool {
        self != Kind::Sarif
    }
}

/// A document being written: its entries as the files come, the rest at the end.
pub struct Document {
    kind: Kind,
    options: CheckOptions,
    counts: json::Counts,
    entries: usize,
    body: Body,
}

impl Document {
    pub fn new(kind: Kind, options: CheckOptions) -> Self {
        Self {
            kind,
            options,
            counts: json::Counts::default(),
            entries: 0,
            body: Body::new(),
        }
    }

    /// A file's entry, as [`Document::outcome`] writes a report's, for
    /// [`check_each`](crate::plan::check_each) to render files as they are checked.
    pub fn render(kind: Kind) -> impl Fn(&FileReport) -> String + Sync {
        move |file| match kind {
            Kind::Json => json::file_entry(file),
            Kind::Sarif => sarif::file_results(file),
            Kind::Junit => junit::testcase(file),
        }
    }

    /// Counts one file and keeps its entry.
    pub fn outcome(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Report(file) => {
                self.count(file.errors(), file.warnings());
                let entry = Self::render(self.kind)(&file);
                self.entry(&entry);
            }
            Outcome::Rendered(Rendered {
                text,
                errors,
                warnings,
                ..
            }) => {
                self.count(errors, warnings);
                self.entry(&text);
            }
            // A valid plan a SARIF log has no result for.
            Outcome::Valid => self.count(0, 0),
        }
    }

    fn count(&mut self, errors: usize, warnings: usize) {
        self.counts.files += 1;
        self.counts.invalid += usize::from(errors > 0);
        self.counts.errors += errors;
        self.counts.warnings += warnings;
    }

    fn entry(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if self.kind != Kind::Junit {
            self.body.push(if self.entries == 0 { "\n" } else { ",\n" });
        }
        self.body.push(text);
        self.entries += 1;
    }

    /// Writes the document, given the other YAML files `skipped`, and returns its counts.
    ///
    /// Returns [`Error::Output`](crate::error::Error::Output) when stdout failed (a closed
    /// pipe is no failure), or [`Error::Io`](crate::error::Error::Io) when the entries kept
    /// in the temporary file cannot be read back: then the document is not finished.
    pub fn finish(self, skipped: &[Arc<str>]) -> crate::error::Result<json::Counts> {
        let counts = self.counts;
        let ((head, foot), list) = match self.kind {
            Kind::Json => (
                json::frame(&counts, &self.options, skipped),
                Some(json::FILES_INDENT),
            ),
            Kind::Sarif => (sarif::frame(), Some(sarif::RESULTS_INDENT)),
            Kind::Junit => (
                (
                    junit::head(counts.files, counts.invalid),
                    junit::FOOT.to_owned(),
                ),
                None,
            ),
        };
        let mut out = StdoutStream::new();
        out.write(&head);
        match list {
            Some(_) if self.entries == 0 => out.write("[]"),
            Some(_) => out.write("["),
            None => {}
        }
        self.body
            .write_to(&mut out)
            .map_err(|source| crate::error::Error::Io {
                doing: "read back",
                path: "(temporary file)".to_owned(),
                source,
            })?;
        if let Some(indent) = list.filter(|_| self.entries > 0) {
            out.write("\n");
            out.write(&" ".repeat(indent));
            out.write("]");
        }
        out.write(&foot);
        out.finish()?;
        Ok(counts)
    }
}

/// The entries, in order: held up to the spill's budget, then written to a temporary file.
struct Body {
    spill: Spill,
    chunks: Vec<Chunk>,
    pending: String,
    held: usize,
}

enum Chunk {
    Held(String),
    Written(Written),
}

/// Entries are kept, and written, in pieces of about this many bytes.
const PIECE: usize = 64 * 1024;

impl Body {
    fn new() -> Self {
        Self {
            spill: Spill::new(spill::budget()),
            chunks: Vec::new(),
            pending: String::new(),
            held: 0,
        }
    }

    fn push(&mut self, text: &str) {
        self.pending.push_str(text);
        if self.pending.len() >= PIECE {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        if self.spill.past_budget(self.held)
            && let Some(written) = self.spill.write(self.pending.as_bytes())
        {
            self.pending.clear();
            self.chunks.push(Chunk::Written(written));
            return;
        }
        self.held += self.pending.len();
        self.chunks
            .push(Chunk::Held(std::mem::take(&mut self.pending)));
    }

    fn write_to(mut self, out: &mut StdoutStream) -> std::io::Result<()> {
        self.flush();
        let mut bytes = Vec::new();
        for chunk in self.chunks {
            match chunk {
                Chunk::Held(text) => out.write(&text),
                Chunk::Written(written) => {
                    self.spill.read(written, &mut bytes)?;
                    out.write(std::str::from_utf8(&bytes).map_err(std::io::Error::other)?);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_that_cannot_be_read_back_fail_the_document() {
        let outcome = || {
            Outcome::Rendered(Rendered {
                text: "x".repeat(1000).into_boxed_str(),
                errors: 1,
                warnings: 0,
                policy: false,
            })
        };
        let finish = |lose: bool| {
            let write = || {
                let mut doc = Document::new(Kind::Junit, CheckOptions::default());
                for _ in 0..200 {
                    doc.outcome(outcome());
                }
                doc.finish(&[])
            };
            spill::with_budget(Some(0), || {
                if lose {
                    spill::with_lost_reads(write)
                } else {
                    write()
                }
            })
        };
        assert_eq!(finish(false).unwrap().errors, 200);
        let err = finish(true).unwrap_err();
        assert!(
            matches!(&err, crate::error::Error::Io { path, .. } if path == "(temporary file)"),
            "{err:?}"
        );
    }
}
