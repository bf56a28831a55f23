//! The JSON pointer -> source span table of one parsed document.
//!
//! Apart from `load.rs` because it is its own data structure, tuned for the common case (issue
//! 13): every plan records a span for each of its ~100 nodes and keys, but only the few files with
//! problems ever look one up. Recording appends the pointer to one shared string and a 20-byte
//! entry to one list (no allocation or hashing per node). The first few lookups scan the list;
//! a file that asks for more (one with many problems) has its entries sorted once, and every
//! later lookup binary-searches them.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Lookups answered by a scan before the entries are sorted: a valid plan asks for a span or
/// two (an export ID's text), which a scan of its ~100 entries answers faster than a sort.
const SCANS_BEFORE_SORT: u32 = 8;

use super::source::CharSpan;

/// JSON pointer -> source span, for values and for mapping keys.
///
/// Both the schema check (jsonschema reports instance paths) and the guardrails blame nodes
/// through this one table. A pointer recorded twice as a node keeps its last span (a
/// collection is recorded at its start, then again with its whole extent).
#[derive(Debug, Default)]
pub struct SpanIndex {
    /// Every recorded pointer, back to back.
    text: String,
    entries: Vec<Entry>,
    /// Indices of `entries` ordered by (kind, pointer, recording order); built once lookups
    /// pass [`SCANS_BEFORE_SORT`].
    sorted: OnceLock<Vec<u32>>,
    /// Lookups answered by a scan so far.
    scans: AtomicU32,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The pointer: `text[start..start + len]`.
    start: u32,
    len: u32,
    span: CharSpan,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Node,
    Key,
}

impl SpanIndex {
    /// An empty table sized for a document of `text_len` bytes (about one record per 12 bytes,
    /// and pointers twice as long as the text), so that recording rarely grows it.
    ///
    /// The two buffers are those of the last table this thread dropped, when there is one
    /// (see [`SPARE`]).
    pub(super) fn for_text(text_len: usize) -> Self {
        let (mut text, mut entries) = SPARE
            .try_with(Cell::take)
            .ok()
            .flatten()
            .unwrap_or_default();
        text.reserve(text_len * 2);
        entries.reserve(text_len / 12 + 8);
        Self {
            text,
            entries,
            sorted: OnceLock::new(),
            scans: AtomicU32::new(0),
        }
    }

    /// Records the span of the node at `pointer` (a later record of the same pointer wins).
    pub(super) fn record_node(&mut self, pointer: &str, span: CharSpan) {
        self.record(pointer, span, Kind::Node);
    }

    /// Records the span of the key whose value is at `pointer`. The loader records each key
    /// once: a duplicate key is an error, not a record.
    pub(super) fn record_key(&mut self, pointer: &str, span: CharSpan) {
        self.record(pointer, span, Kind::Key);
    }

    #[inline]
    fn record(&mut self, pointer: &str, span: CharSpan, kind: Kind) {
        // Files are capped at 1 MiB and nodes at `load::MAX_NODES`, so the table stays far
        // below 4 GiB and the offsets fit.
        let start = self.text.len() as u32;
        self.text.push_str(pointer);
        self.entries.push(Entry {
            start,
            len: pointer.len() as u32,
            span,
            kind,
        });
        // A record made after a lookup: the next lookup sorts again. The loader looks nothing up
        // while it records, so this only keeps the table right for any later caller.
        if self.sorted.get().is_some() {
            self.sorted = OnceLock::new();
        }
        *self.scans.get_mut() = 0;
    }

    /// How many records there are; with [`SpanIndex::keys_since`], lets the loader look at the
    /// keys of one mapping.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The keys recorded since record number `from`, as (pointer, span).
    pub(super) fn keys_since(&self, from: usize) -> impl Iterator<Item = (&str, CharSpan)> {
        self.entries[from..]
            .iter()
            .filter(|e| e.kind == Kind::Key)
            .map(|e| (self.pointer(e), e.span))
    }

    fn pointer(&self, e: &Entry) -> &str {
        &self.text[e.start as usize..(e.start + e.len) as usize]
    }

    fn cmp_entry(&self, j: u32, kind: Kind, pointer: &str) -> std::cmp::Ordering {
        let e = &self.entries[j as usize];
        (e.kind, self.pointer(e)).cmp(&(kind, pointer))
    }

    /// The last span recorded for `pointer` as `kind`.
    fn get(&self, kind: Kind, pointer: &str) -> Option<CharSpan> {
        if self.sorted.get().is_none()
            && self.scans.fetch_add(1, Ordering::Relaxed) < SCANS_BEFORE_SORT
        {
            return self
                .entries
                .iter()
                .rev()
                .find(|e| e.kind == kind && self.pointer(e) == pointer)
                .map(|e| e.span);
        }
        let sorted = self.sorted.get_or_init(|| {
            let mut order: Vec<u32> = (0..self.entries.len() as u32).collect();
            // Stable: records of one pointer stay in recording order, the last one last.
            order.sort_by(|&a, &b| {
                let (x, y) = (&self.entries[a as usize], &self.entries[b as usize]);
                (x.kind, self.pointer(x)).cmp(&(y.kind, self.pointer(y)))
            });
            order
        });
        let end = sorted.partition_point(|&j| self.cmp_entry(j, kind, pointer).is_le());
        let last = *sorted.get(end.checked_sub(1)?)?;
        self.cmp_entry(last, kind, pointer)
            .is_eq()
            .then(|| self.entries[last as usize].span)
    }

    /// The span of the node at `pointer`, or of its nearest ancestor that has one (nodes inside an
    /// alias expansion point at the alias).
    pub fn node(&self, pointer: &str) -> CharSpan {
        let mut p = pointer;
        loop {
            if let Some(span) = self.get(Kind::Node, p) {
                return span;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return CharSpan::default(),
            }
        }
    }

    /// The span of the key whose value is at `pointer`, if that node is a mapping value.
    pub fn key(&self, pointer: &str) -> Option<CharSpan> {
        self.get(Kind::Key, pointer)
    }

    /// Where to point when blaming a node: a scalar itself, a collection by its key (a whole
    /// block is no useful label), or the collection's first line when it has no key.
    pub fn blame(&self, pointer: &str, value: Option<&serde_json::Value>) -> CharSpan {
        match value {
            Some(serde_json::Value::Object(_) | serde_json::Value::Array(_)) => {
                self.key(pointer).unwrap_or_else(|| self.node(pointer))
            }
            _ => self.node(pointer),
        }
    }
}

/// Buffers above this capacity are freed with their table rather than kept for the next one:
/// a spare is for the next plan of a few KiB, not a reserve as large as the largest file.
const SPARE_MAX_BYTES: usize = 64 * 1024;

thread_local! {
    /// The emptied buffers of the last table this thread dropped, for the next one to record
    /// into (issue 13): a table's buffers are a few KiB, over the size the allocator serves
    /// from its per-thread caches, and taking fresh ones for every plan cost about 2,000
    /// instructions each (a search of the free lists, merging the parser's freed strings).
    static SPARE: Cell<Option<(String, Vec<Entry>)>> = const { Cell::new(None) };
}

impl Drop for SpanIndex {
    fn drop(&mut self) {
        let (mut text, mut entries) = (
            std::mem::take(&mut self.text),
            std::mem::take(&mut self.entries),
        );
        if text.capacity() > SPARE_MAX_BYTES
            || entries.capacity() * std::mem::size_of::<Entry>() > SPARE_MAX_BYTES
        {
            return;
        }
        text.clear();
        entries.clear();
        // During the thread's exit the spare is gone already: the buffers are freed here.
        let _ = SPARE.try_with(|spare| spare.set(Some((text, entries))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_record_of_a_node_wins_and_keys_are_apart() {
        let mut index = SpanIndex::default();
        index.record_node("", CharSpan::new(0, 1));
        index.record_node("/a", CharSpan::new(3, 4));
        index.record_key("/a", CharSpan::new(0, 1));
        index.record_node("/a/0", CharSpan::new(5, 6));
        index.record_node("/a", CharSpan::new(3, 9));
        assert_eq!(index.node("/a"), CharSpan::new(3, 9));
        assert_eq!(index.key("/a"), Some(CharSpan::new(0, 1)));
        assert_eq!(index.key("/a/0"), None);
        // An unrecorded pointer falls back to its nearest recorded ancestor.
        assert_eq!(index.node("/a/0/x/y"), CharSpan::new(5, 6));
        assert_eq!(index.node("/b"), CharSpan::new(0, 1));
        // Records made after a lookup are found too.
        index.record_key("/b", CharSpan::new(10, 11));
        index.record_node("/a", CharSpan::new(3, 12));
        assert_eq!(index.key("/b"), Some(CharSpan::new(10, 11)));
        assert_eq!(index.node("/a"), CharSpan::new(3, 12));
    }

    #[test]
    fn scans_and_sorted_lookups_agree() {
        let mut index = SpanIndex::default();
        for i in 0..50 {
            index.record_node(&format!("/a/{i}"), CharSpan::new(i, i + 1));
            index.record_key(&format!("/k/{i}"), CharSpan::new(100 + i, 101 + i));
            index.record_node(&format!("/a/{}", i / 2), CharSpan::new(200 + i, 201 + i));
        }
        // Answered by scans first, then (past the threshold) from the sorted entries.
        for _ in 0..3 {
            for i in 0..50u32 {
                let last = if i < 25 { 200 + 2 * i + 1 } else { i };
                assert_eq!(index.node(&format!("/a/{i}")).start, last);
                assert_eq!(
                    index.key(&format!("/k/{i}")).map(|s| s.start),
                    Some(100 + i)
                );
            }
        }
    }
}
