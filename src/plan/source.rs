//! Plan source text and positions.
//!
//! The YAML parser reports positions in characters; miette and our JSON/GitHub output want
//! bytes, lines and columns. [`SourceFile`] owns the text once (behind an `Arc`, so every
//! diagnostic can hold it cheaply) and converts between the three.

use std::fmt;
use std::sync::{Arc, OnceLock};

use miette::{MietteError, SourceCode, SourceSpan, SpanContents};

/// A span in characters, as the parser reports it: `start..end`, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CharSpan {
    pub start: u32,
    pub end: u32,
}

impl CharSpan {
    pub fn new(start: usize, end: usize) -> Self {
        // Files are capped at a few MiB (see `read::MAX_FILE_BYTES`), so u32 never truncates.
        Self {
            start: start as u32,
            end: end.max(start) as u32,
        }
    }
}

/// One plan file's text, shared by every diagnostic that points into it.
///
/// Cloning is cheap. Implements [`miette::SourceCode`] with the file's path as its name.
#[derive(Clone)]
pub struct SourceFile(Arc<Inner>);

struct Inner {
    name: String,
    text: String,
    /// Whether `text` is ASCII (character and byte offsets agree): computed on first use (only
    /// files with problems convert positions), then once for all of a file's diagnostics.
    ascii: OnceLock<bool>,
    /// Byte offset of the start of each line; built on first use (only files with problems).
    line_starts: OnceLock<Vec<usize>>,
    /// Byte offset of each character, for non-ASCII text only; built on first use.
    char_bytes: OnceLock<Vec<u32>>,
}

/// Buffers above this capacity are freed with their owner rather than kept for the next plan
/// (a plan is a few KiB; see [`SPARE_TEXT`] and the span tables' spares): a spare is not a
/// reserve as large as the largest file.
pub(super) const SPARE_MAX_BYTES: usize = 64 * 1024;

thread_local! {
    /// The emptied text of the last source this thread dropped, for the next file read to fill
    /// (issue 13): as the span tables' buffers, it is over the size the allocator serves from
    /// its per-thread caches, and a fresh one per plan cost about 2,000 instructions.
    static SPARE_TEXT: std::cell::Cell<Option<String>> = const { std::cell::Cell::new(None) };
}

/// An empty buffer for a file of about `len` bytes: the spare text of the last source this
/// thread dropped, or a new one.
pub(super) fn text_buffer(len: usize) -> Vec<u8> {
    let mut bytes = SPARE_TEXT
        .try_with(std::cell::Cell::take)
        .ok()
        .flatten()
        .map(String::into_bytes)
        .unwrap_or_default();
    bytes.reserve(len);
    bytes
}

impl Drop for Inner {
    fn drop(&mut self) {
        let mut text = std::mem::take(&mut self.text);
        if text.capacity() > SPARE_MAX_BYTES {
            return;
        }
        text.clear();
        // During the thread's exit the spare is gone already: the text is freed here.
        let _ = SPARE_TEXT.try_with(|spare| spare.set(Some(text)));
    }
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        Self(Arc::new(Inner {
            name: name.into(),
            ascii: OnceLock::new(),
            text,
            line_starts: OnceLock::new(),
            char_bytes: OnceLock::new(),
        }))
    }

    /// The path as the user wrote it (or as found under a directory they named).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    pub fn text(&self) -> &str {
        &self.0.text
    }

    /// Converts a character index into a byte offset.
    pub fn byte_of_char(&self, index: u32) -> usize {
        let text = &self.0.text;
        if *self.0.ascii.get_or_init(|| text.is_ascii()) {
            return (index as usize).min(text.len());
        }
        let table = self.0.char_bytes.get_or_init(|| {
            text.char_indices()
                .map(|(b, _)| b as u32)
                .chain([text.len() as u32])
                .collect()
        });
        table
            .get(index as usize)
            .copied()
            .unwrap_or(text.len() as u32) as usize
    }

    /// Converts a parser span into the byte span a label shows.
    ///
    /// A block collection's span runs to the start of the line after it; a label over many lines
    /// is hard to read, so spans are cut at the end of their first line (trailing blanks and
    /// comments dropped).
    pub fn label_span(&self, span: CharSpan) -> SourceSpan {
        let start = self.byte_of_char(span.start);
        let end = self.byte_of_char(span.end);
        let text = &self.0.text;
        let first_line_end = text[start..]
            .find(['\n', '\r'])
            .map_or(text.len(), |i| start + i);
        let mut end = end.min(first_line_end);
        if end < first_line_end || span.start == span.end {
            return SourceSpan::new(start.into(), end - start);
        }
        // The whole first line: trim a trailing comment and blanks.
        let line = &text[start..end];
        if let Some(hash) = find_comment(line) {
            end = start + hash;
        }
        end = start + text[start..end].trim_end().len();
        SourceSpan::new(start.into(), end - start)
    }

    /// Returns the 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = &self.0.text;
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        let line_start = self.line_starts()[line];
        let column = text[line_start..offset].chars().count() + 1;
        (line + 1, column)
    }

    /// Byte offset of the start of each line.
    fn line_starts(&self) -> &[usize] {
        let text = &self.0.text;
        self.0.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// The 0-based line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts()
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }
}

/// Finds ` #` that starts a YAML comment outside quotes; good enough for label trimming.
fn find_comment(line: &str) -> Option<usize> {
    let mut quote = None;
    let mut prev_blank = false;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev_blank => return Some(i),
            _ => {}
        }
        prev_blank = c == ' ' || c == '\t';
    }
    None
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("name", &self.0.name)
            .field("len", &self.0.text.len())
            .finish()
    }
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // miette's `str` implementation counts lines from the start of the text, which is
        // quadratic over a file with thousands of diagnostics; hand it only the lines around
        // the span (one spare line each side) and shift the result back.
        let text = &self.0.text;
        let start = span.offset().min(text.len());
        let end = (span.offset() + span.len()).min(text.len());
        let starts = self.line_starts();
        let first = self.line_of(start).saturating_sub(context_lines_before + 1);
        let last = self.line_of(end) + context_lines_after + 2;
        let base = starts[first];
        let stop = starts.get(last).copied().unwrap_or(text.len());
        let local = SourceSpan::new((start - base).into(), end - start);
        let contents =
            text[base..stop].read_span(&local, context_lines_before, context_lines_after)?;
        let data_start = contents.span().offset() + base;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.0.name.clone(),
            contents.data(),
            SourceSpan::new(data_start.into(), contents.span().len()),
            contents.line() + first,
            contents.column(),
            contents.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_char_indices_to_bytes_in_non_ascii_text() {
        let src = SourceFile::new("x.yaml", "name: Déploiement ✓\nrun: 1\n");
        // "run" starts at char 20 and at byte 23 (é is 2 bytes, ✓ is 3).
        assert_eq!(src.byte_of_char(20), 23);
        assert_eq!(src.line_col(23), (2, 1));
        assert_eq!(src.line_col(src.byte_of_char(18)), (1, 19));
    }

    #[test]
    fn label_spans_stop_at_the_end_of_the_first_line() {
        let src = SourceFile::new("x.yaml", "a:\n  - id: x   # note\n  - y\nb: 1\n");
        let span = src.label_span(CharSpan::new(5, 29));
        assert_eq!(
            &src.text()[span.offset()..span.offset() + span.len()],
            "- id: x"
        );
    }
}
