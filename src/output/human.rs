//! Human output: miette's graphical diagnostics (source snippet, labels, help) and summaries.

use std::fmt::Write;

use miette::{GraphicalReportHandler, GraphicalTheme};

use super::{Style, escape_controls, is_escaped_control, plural};
use crate::plan::diags::Label;
use crate::plan::{CheckReport, Diagnostic, FileReport, SourceFile};

/// Renders one diagnostic with its snippet, the way every command shows plan problems.
pub fn diagnostic(diag: &Diagnostic, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        // IDs are UUIDs full of hyphens: wrap at spaces only, so they stay copyable.
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        .with_break_words(false)
        .with_show_related_as_nested(true);
    let mut out = String::new();
    // Control characters from the file (or its name) would reach the terminal raw.
    let escaped = escape_diagnostic(diag);
    let diag = escaped.as_ref().unwrap_or(diag);
    // miette pads label lines with `{:width$}`, and Rust refuses widths above 65,535 with a
    // panic: a label that starts or ends that far into a line (a 1 MiB key) is shown without
    // its snippet, its position in the message instead.
    let snippetless;
    let diag = if has_overwide_label(diag) {
        snippetless = without_snippet(diag);
        &snippetless
    } else {
        diag
    };
    if handler.render_report(&mut out, diag).is_err() {
        // Rendering into a String cannot fail short of a bug in miette; fall back to one line.
        out = format!("{}: {}\n", diag.code, diag.message);
    }
    out
}

/// Longest source line we let miette draw (it pads label lines with `{:width$}`, which panics
/// past 65,535, and prints context lines whole).
const MAX_LABEL_COLUMN: usize = 10_000;

/// The bytes of the lines a snippet shows for `label`: the labelled lines and the one line of
/// context miette shows before and after them.
fn snippet_lines(source: &SourceFile, label: &Label) -> std::ops::Range<usize> {
    let text = source.text();
    let span = source.label_span(label.span);
    let start = span.offset().min(text.len());
    let end = (start + span.len()).min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let from = text[..line_start.saturating_sub(1)]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let to = text
        .get(line_end + 1..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |i| line_end + 1 + i);
    from..to
}

/// Whether a snippet would show a line longer than [`MAX_LABEL_COLUMN`].
fn has_overwide_label(diag: &Diagnostic) -> bool {
    let Some(source) = &diag.source else {
        return false;
    };
    diag.labels.iter().any(|label| {
        source.text()[snippet_lines(source, label)]
            .split('\n')
            .any(|line| line.len() > MAX_LABEL_COLUMN && line.chars().count() > MAX_LABEL_COLUMN)
    })
}

/// The diagnostic with every control character it would print made harmless: escaped
/// (`\u{1b}`) in its message, help, labels and path, and drawn as a visible symbol (`␛`, one
/// character for one, so every span stays where it was) in the lines of its snippet.
///
/// Returns `None` when there is nothing to escape, the usual case.
fn escape_diagnostic(diag: &Diagnostic) -> Option<Diagnostic> {
    let has = |text: &str| text.chars().any(is_escaped_control);
    let snippet_has = diag.source.as_ref().is_some_and(|source| {
        has(source.name())
            || diag
                .labels
                .iter()
                .any(|label| has(&source.text()[snippet_lines(source, label)]))
    });
    let texts_have = has(&diag.message)
        || has(&diag.path)
        || diag.help.as_deref().is_some_and(has)
        || diag
            .labels
            .iter()
            .any(|l| l.text.as_deref().is_some_and(has));
    let related: Vec<Option<Diagnostic>> = diag.related.iter().map(escape_diagnostic).collect();
    if !snippet_has && !texts_have && related.iter().all(Option::is_none) {
        return None;
    }
    let mut out = diag.clone();
    let escape = |text: &str| escape_controls(text).into_owned();
    out.message = escape(&diag.message);
    out.path = escape(&diag.path).into();
    out.help = diag.help.as_deref().map(escape);
    for label in &mut out.labels {
        label.text = label.text.as_deref().map(escape);
    }
    if snippet_has {
        out.source = diag.source.as_ref().map(visible_source);
    }
    for (slot, escaped) in out.related.iter_mut().zip(related) {
        if let Some(escaped) = escaped {
            *slot = escaped;
        }
    }
    Some(out)
}

thread_local! {
    /// The last source made visible, and its original: a file's diagnostics are rendered one
    /// after the other, so each file is converted once (a 1 MiB file may have 40,000 of them).
    /// Holding the original keeps its text alive, so its address cannot be reused by another.
    static VISIBLE: std::cell::RefCell<Option<(SourceFile, SourceFile)>> =
        const { std::cell::RefCell::new(None) };
}

/// The source with its control characters drawn as Unicode control pictures (U+2400..), DEL as
/// `␡` and the C1 codes as `�`; LF, tab and the CR of a CRLF stay.
fn visible_source(source: &SourceFile) -> SourceFile {
    VISIBLE.with(|cell| {
        let mut cached = cell.borrow_mut();
        if let Some((original, visible)) = cached.as_ref()
            && std::ptr::eq(original.text(), source.text())
        {
            return visible.clone();
        }
        let text = source.text();
        let mut chars = text.chars().peekable();
        let mut shown = String::with_capacity(text.len());
        while let Some(c) = chars.next() {
            shown.push(match c {
                '\r' if chars.peek() == Some(&'\n') => c,
                c if !is_escaped_control(c) => c,
                c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
                '\u{7f}' => '\u{2421}',
                _ => '\u{fffd}',
            });
        }
        let visible = SourceFile::new(escape_controls(source.name()).into_owned(), shown);
        *cached = Some((source.clone(), visible.clone()));
        visible
    })
}

/// The diagnostic with its labels dropped and its position appended to the message.
fn without_snippet(diag: &Diagnostic) -> Diagnostic {
    let mut plain = diag.clone();
    if let Some(pos) = diag.position() {
        plain.message = format!(
            "{} (at {}:{}:{})",
            diag.message, diag.path, pos.line, pos.column
        );
    }
    plain.labels.clear();
    plain.source = None;
    plain
}

/// A file's diagnostics, each followed by a blank line, as `validate` shows them
/// ([`super::stream::Validate`]).
pub(crate) fn file_diagnostics(out: &mut String, file: &FileReport, style: Style) {
    for diag in &file.diagnostics {
        out.push_str(&diagnostic(diag, style));
        out.push('\n');
    }
}

/// The jobs of a plan that `--split` packs into more than one, as [`validate`] lists them
/// after every diagnostic; nothing for any other file.
pub(crate) fn split_plan(out: &mut String, file: &FileReport, limit: usize, style: Style) {
    let Some(jobs) = file.jobs.as_ref().filter(|jobs| jobs.len() > 1) else {
        return;
    };
    let total: usize = jobs.iter().map(|j| j.segments.len()).sum();
    let _ = writeln!(
        out,
        "{} plan `{}` ({}): {} over {} of at most {limit}",
        style.paint(super::style::note(), "split"),
        file.plan_name.as_deref().unwrap_or("?"),
        escape_controls(&file.path),
        plural(total, "distinct segment", "distinct segments"),
        plural(jobs.len(), "job", "jobs"),
    );
    for (n, job) in jobs.iter().enumerate() {
        let _ = writeln!(
            out,
            "  job {}: {} to {}",
            n + 1,
            plural(job.segments.len(), "segment", "segments"),
            plural(job.destinations.len(), "destination", "destinations"),
        );
        for segment in &job.segments {
            let _ = writeln!(out, "    {segment}");
        }
    }
    out.push('\n');
}

/// Counts of a check's files, for the summary line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    /// Plan files (and paths that yielded none).
    pub files: usize,
    /// Plan files with at least one error.
    pub invalid: usize,
    /// Policy files reported (one with problems, or one named on the command line).
    pub policies: usize,
    /// Policy files with at least one error.
    pub invalid_policies: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Tally {
    /// Counts `file` in.
    pub fn add(&mut self, file: &FileReport) {
        self.count(file.policy, file.errors(), file.warnings());
    }

    /// Counts in a file (a policy file when `policy`) with these numbers of problems.
    pub fn count(&mut self, policy: bool, errors: usize, warnings: usize) {
        if policy {
            self.policies += 1;
            self.invalid_policies += usize::from(errors > 0);
        } else {
            self.files += 1;
            self.invalid += usize::from(errors > 0);
        }
        self.errors += errors;
        self.warnings += warnings;
    }

    /// The counts of a whole report.
    pub fn of(report: &CheckReport) -> Self {
        let mut tally = Self::default();
        for file in &report.files {
            tally.add(file);
        }
        tally
    }
}

/// One line: how many files were checked and what was found.
pub fn summary(report: &CheckReport, style: Style) -> String {
    summary_of(&Tally::of(report), report.skipped.len(), style)
}

/// [`summary`] from the counts alone: `tally` of the files, `skipped` other YAML files.
pub(crate) fn summary_of(tally: &Tally, skipped: usize, style: Style) -> String {
    let total = tally.files;
    let invalid = tally.invalid;
    let errors = tally.errors;
    let warnings = tally.warnings;
    let warn = if warnings > 0 {
        format!(", {}", plural(warnings, "warning", "warnings"))
    } else {
        String::new()
    };
    // Other YAML met in directory walks (CI workflows, manifests): counted, never checked.
    let skipped = match skipped {
        0 => String::new(),
        n => format!(
            ", {} skipped",
            plural(n, "other YAML file", "other YAML files")
        ),
    };
    // Policy files are reported only when named or with problems, and counted apart.
    let policies = |valid_or_invalid: String| match tally.policies {
        0 => String::new(),
        n => format!(
            ", {valid_or_invalid}{} {}",
            plural(n, "policy file", "policy files"),
            if valid_or_invalid.is_empty() {
                "valid"
            } else {
                "invalid"
            }
        ),
    };
    if errors == 0 {
        let ok = style.paint(super::style::good(), "ok");
        format!(
            "{ok}: {} valid{}{warn}{skipped}\n",
            plural(total, "plan file", "plan files"),
            policies(String::new()),
        )
    } else {
        let err = style.paint(super::style::bad(), "error");
        format!(
            "{err}: {invalid} of {} invalid{} ({}{warn}){skipped}\n",
            plural(total, "plan file", "plan files"),
            policies(format!("{} of ", tally.invalid_policies)),
            plural(errors, "error", "errors"),
        )
    }
}
