//! `validate`'s human and github reports written file by file, as
//! [`check_each`](crate::plan::check_each) hands the reports over, so that no report is held
//! per file (issue 13: memory stays flat as the number of plans grows): a file with
//! diagnostics is held only as its rendered text ([`Validate::render`]), a valid plan as the
//! key of its name. The github bytes are those of [`github::validate`] over the whole
//! report: every file's diagnostics, then (human) the split plans, then the summary line.

use super::human::Tally;
use super::{StdoutStream, Style, github, human};
use crate::plan::{FileReport, Outcome, Rendered};

/// Which report [`Validate`] writes.
#[derive(Debug, Clone, Copy)]
pub enum Format {
    Human(Style),
    Github,
}

/// A `validate` report being written: each file's diagnostics as the file comes, then (human)
/// the plans `--split` packs into several jobs, then the summary line.
pub struct Validate {
    format: Format,
    limit: usize,
    out: StdoutStream,
    /// The rendered job lists of split plans (only with `--split`), shown after every
    /// diagnostic.
    split: String,
    buf: String,
    tally: Tally,
}

impl Validate {
    /// Starts a report on stdout; `limit` is the segments a job may hold (for `--split`).
    pub fn new(format: Format, limit: usize) -> Self {
        Self {
            format,
            limit,
            out: StdoutStream::new(),
            split: String::new(),
            buf: String::new(),
            tally: Tally::default(),
        }
    }

    /// Renders a file's diagnostics as [`Validate::file`] writes them, for
    /// [`check_each`](crate::plan::check_each) to render files as they are checked.
    pub fn render(format: Format) -> impl Fn(&FileReport) -> String + Sync {
        move |file| {
            let mut out = String::new();
            match format {
                Format::Human(style) => human::file_diagnostics(&mut out, file, style),
                Format::Github => github::file_annotations(&mut out, file),
            }
            out
        }
    }

    /// Writes one file's part of the report, as a report or as rendered by
    /// [`Validate::render`], and counts it.
    pub fn outcome(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Report(file) => self.file(&file),
            Outcome::Valid => self.tally.count(false, 0, 0),
            Outcome::Rendered(Rendered {
                text,
                errors,
                warnings,
                policy,
            }) => {
                self.tally.count(policy, errors, warnings);
                self.out.write(&text);
            }
        }
    }

    /// Writes one file's part of the report and counts it.
    pub fn file(&mut self, file: &FileReport) {
        self.tally.add(file);
        self.buf.clear();
        match self.format {
            Format::Human(style) => {
                human::file_diagnostics(&mut self.buf, file, style);
                human::split_plan(&mut self.split, file, self.limit, style);
            }
            Format::Github => github::file_annotations(&mut self.buf, file),
        }
        self.out.write(&self.buf);
    }

    /// Writes the end of the report: split plans and the summary, given the number of other
    /// YAML files `skipped`.
    ///
    /// Returns the counts, or [`Error::Output`](crate::error::Error::Output) when stdout
    /// failed (a closed pipe is no failure).
    pub fn finish(mut self, skipped: usize) -> crate::error::Result<Tally> {
        let style = match self.format {
            Format::Human(style) => style,
            Format::Github => Style::plain(),
        };
        let split = std::mem::take(&mut self.split);
        self.out.write(&split);
        self.out
            .write(&human::summary_of(&self.tally, skipped, style));
        self.out.finish()?;
        Ok(self.tally)
    }
}
