//! The JSON pointer -> source span table of one parsed document.
//!
//! Apart from `load.rs` because it is its own data structure, tuned for the common case (issue
//! 13): every plan records a span for each of its ~60 nodes and keys, but only the few files with
//! problems ever look one up. The table is the document's tree of nodes: each node a 36-byte
//! entry holding its parent's index and its own segment (a list index, or a mapping key kept
//! once in one shared string), so recording copies no JSON pointer; a pointer is followed down
//! the tree segment by segment when it is looked up. The first few lookups scan the entries; a
//! file that asks for more (one with many problems) has its entries sorted once by parent and
//! segment, and every later step binary-searches them.

use std::borrow::Cow;
use std::cell::Cell;
use std::cmp::Ordering as Order;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Lookups answered by a scan before the entries are sorted: a valid plan asks for a span or
/// two (an export ID's text), which a scan of its ~60 entries answers faster than a sort.
const SCANS_BEFORE_SORT: u32 = 8;

use super::source::{CharSpan, SPARE_MAX_BYTES};

/// A node of the table (the index of its entry), as [`SpanIndex::root`] and the children
/// methods return it.
pub(super) type Node = u32;

/// The parent of the root.
const NO_PARENT: u32 = u32::MAX;
/// The `len` of an entry whose segment is a list index (held in `at`).
const INDEX: u32 = u32::MAX;

/// JSON pointer -> source span, for values and for mapping keys.
///
/// Both the schema check (jsonschema reports instance paths) and the guardrails blame nodes
/// through this one table. A node's span is recorded when it begins and again with its whole
/// extent once it ends (a collection); a key met twice in one mapping (an error) gives its
/// value a node of its own, and a pointer leads to the last of the two.
#[derive(Debug, Default)]
pub struct SpanIndex {
    /// The mapping keys of the nodes, back to back.
    keys: String,
    entries: Vec<Entry>,
    /// Indices of `entries` ordered by (parent, segment, recording order); built once lookups
    /// pass [`SCANS_BEFORE_SORT`].
    sorted: OnceLock<Vec<u32>>,
    /// Lookups answered by a scan so far.
    scans: AtomicU32,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    parent: u32,
    /// The segment: a key, `keys[at..at + len]`, or when `len` is [`INDEX`] the list index
    /// `at`. The root's is the empty key.
    at: u32,
    len: u32,
    node: Option<CharSpan>,
    /// For a mapping's value, its key's span (none for a key met twice).
    key: Option<CharSpan>,
}

/// A segment as compared: list indices before keys (a node's children are all of one kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Segment<'a> {
    Index(u32),
    Key(&'a str),
}

impl SpanIndex {
    /// An empty table sized for a document of `text_len` bytes (about one node per 25 bytes,
    /// and keys a third of the text), so that recording rarely grows it.
    ///
    /// The two buffers are those of the last table this thread dropped, when there is one
    /// (see [`SPARE`]).
    pub(super) fn for_text(text_len: usize) -> Self {
        let (mut keys, mut entries) = SPARE
            .try_with(Cell::take)
            .ok()
            .flatten()
            .unwrap_or_default();
        keys.reserve(text_len / 3);
        entries.reserve(text_len / 25 + 8);
        Self {
            keys,
            entries,
            sorted: OnceLock::new(),
            scans: AtomicU32::new(0),
        }
    }

    fn push(&mut self, parent: u32, at: u32, len: u32) -> Node {
        // Files are capped at 1 MiB and nodes at `load::MAX_NODES`, so the table stays far
        // below 4 GiB and the indices fit.
        self.entries.push(Entry {
            parent,
            at,
            len,
            node: None,
            key: None,
        });
        // A record made after a lookup: the next lookup sorts again. The loader looks nothing up
        // while it records, so this only keeps the table right for any later caller.
        if self.sorted.get().is_some() {
            self.sorted = OnceLock::new();
        }
        *self.scans.get_mut() = 0;
        (self.entries.len() - 1) as Node
    }

    /// The document's root node (pointer `""`).
    pub(super) fn root(&mut self) -> Node {
        self.push(NO_PARENT, 0, 0)
    }

    /// The node of the value of `key` in the mapping `parent`, with the key's span when
    /// `key_span` is given (a key met twice records no span the second time).
    pub(super) fn key_child(
        &mut self,
        parent: Node,
        key: &str,
        key_span: Option<CharSpan>,
    ) -> Node {
        let at = self.keys.len() as u32;
        self.keys.push_str(key);
        let node = self.push(parent, at, key.len() as u32);
        self.entries[node as usize].key = key_span;
        node
    }

    /// The node of item `index` of the list `parent`.
    pub(super) fn index_child(&mut self, parent: Node, index: usize) -> Node {
        self.push(parent, index as u32, INDEX)
    }

    /// Records the span of `node` (a later record wins).
    pub(super) fn record_node(&mut self, node: Node, span: CharSpan) {
        self.entries[node as usize].node = Some(span);
    }

    /// The span of the first key `key` recorded in the mapping `parent`.
    pub(super) fn first_key(&self, parent: Node, key: &str) -> Option<CharSpan> {
        self.entries[parent as usize..]
            .iter()
            .filter(|e| e.parent == parent && self.segment(e) == Segment::Key(key))
            .find_map(|e| e.key)
    }

    /// The JSON pointer of `node`, escaped (RFC 6901).
    pub(super) fn pointer(&self, node: Node) -> String {
        let mut path = Vec::new();
        let mut at = node;
        while at != NO_PARENT {
            let entry = &self.entries[at as usize];
            if entry.parent != NO_PARENT {
                path.push(entry);
            }
            at = entry.parent;
        }
        let mut pointer = String::new();
        for entry in path.into_iter().rev() {
            pointer.push('/');
            match self.segment(entry) {
                Segment::Index(i) => pointer.push_str(&i.to_string()),
                Segment::Key(key) => pointer.push_str(&escape_pointer_segment(key)),
            }
        }
        pointer
    }

    fn segment<'a>(&'a self, e: &Entry) -> Segment<'a> {
        if e.len == INDEX {
            Segment::Index(e.at)
        } else {
            Segment::Key(&self.keys[e.at as usize..(e.at + e.len) as usize])
        }
    }

    /// The last recorded child of `parent` whose segment is the pointer's segment `text`
    /// (unescaped).
    fn child(&self, parent: Node, text: &str, sorted: Option<&[u32]>) -> Option<Node> {
        let index = list_index(text);
        let Some(sorted) = sorted else {
            return self
                .entries
                .iter()
                .enumerate()
                .skip(parent as usize + 1)
                .rev()
                .find(|(_, e)| {
                    e.parent == parent
                        && match self.segment(e) {
                            Segment::Index(i) => Some(i) == index,
                            Segment::Key(key) => key == text,
                        }
                })
                .map(|(i, _)| i as Node);
        };
        let last_of = |segment: Segment<'_>| {
            let end = sorted.partition_point(|&j| self.cmp_entry(j, parent, segment).is_le());
            let last = *sorted.get(end.checked_sub(1)?)?;
            self.cmp_entry(last, parent, segment)
                .is_eq()
                .then_some(last)
        };
        last_of(Segment::Key(text)).or_else(|| last_of(Segment::Index(index?)))
    }

    fn cmp_entry(&self, j: u32, parent: Node, segment: Segment<'_>) -> Order {
        let e = &self.entries[j as usize];
        (e.parent, self.segment(e)).cmp(&(parent, segment))
    }

    /// The entries sorted by (parent, segment), once lookups pass [`SCANS_BEFORE_SORT`]; `None`
    /// while this lookup is answered by scans.
    fn sorted_for_lookup(&self) -> Option<&[u32]> {
        if self.sorted.get().is_none()
            && self.scans.fetch_add(1, Ordering::Relaxed) < SCANS_BEFORE_SORT
        {
            return None;
        }
        let sorted = self.sorted.get_or_init(|| {
            let mut order: Vec<u32> = (0..self.entries.len() as u32).collect();
            // Stable: records of one segment stay in recording order, the last one last.
            order.sort_by(|&a, &b| {
                let (x, y) = (&self.entries[a as usize], &self.entries[b as usize]);
                (x.parent, self.segment(x)).cmp(&(y.parent, self.segment(y)))
            });
            order
        });
        Some(sorted)
    }

    /// Follows `pointer` from the root: calls `visit` with each node on the way, and says
    /// whether the whole pointer was found.
    fn walk(&self, pointer: &str, mut visit: impl FnMut(&Entry)) -> bool {
        let Some(root) = self.entries.first() else {
            return false;
        };
        let sorted = self.sorted_for_lookup();
        visit(root);
        if pointer.is_empty() {
            return true;
        }
        let Some(rest) = pointer.strip_prefix('/') else {
            return false;
        };
        let mut at: Node = 0;
        for text in rest.split('/') {
            match self.child(at, &unescape(text), sorted) {
                Some(child) => {
                    visit(&self.entries[child as usize]);
                    at = child;
                }
                None => return false,
            }
        }
        true
    }

    /// The span of the node at `pointer`, or of its nearest ancestor that has one (nodes inside an
    /// alias expansion point at the alias).
    pub fn node(&self, pointer: &str) -> CharSpan {
        let mut nearest = CharSpan::default();
        self.walk(pointer, |e| {
            if let Some(span) = e.node {
                nearest = span;
            }
        });
        nearest
    }

    /// The span of the key whose value is at `pointer`, if that node is a mapping value.
    pub fn key(&self, pointer: &str) -> Option<CharSpan> {
        let mut last = None;
        let found = self.walk(pointer, |e| last = Some(e.key));
        last.flatten().filter(|_| found)
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

/// Escapes a mapping key as a JSON-pointer segment (RFC 6901).
pub fn escape_pointer_segment(key: &str) -> std::borrow::Cow<'_, str> {
    // Bytes, not chars: both are ASCII.
    if key.bytes().any(|b| matches!(b, b'~' | b'/')) {
        key.replace('~', "~0").replace('/', "~1").into()
    } else {
        key.into()
    }
}

/// A pointer segment read as a list index: decimal digits, no leading zero (RFC 6901).
fn list_index(text: &str) -> Option<u32> {
    let digits = text.bytes().all(|b| b.is_ascii_digit());
    (digits && !text.is_empty() && (text == "0" || !text.starts_with('0')))
        .then(|| text.parse().ok())
        .flatten()
}

/// A pointer segment's text: `~1` is `/`, `~0` is `~` (RFC 6901).
fn unescape(text: &str) -> Cow<'_, str> {
    if text.contains('~') {
        Cow::Owned(text.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(text)
    }
}

thread_local! {
    /// The emptied buffers of the last table this thread dropped, for the next one to record
    /// into (issue 13): a table's buffers are a few KiB, over the size the allocator serves
    /// from its per-thread caches, and taking fresh ones for every plan cost about 2,000
    /// instructions each (a search of the free lists, merging the parser's freed strings).
    static SPARE: Cell<Option<(String, Vec<Entry>)>> = const { Cell::new(None) };
}

impl Drop for SpanIndex {
    fn drop(&mut self) {
        let (mut keys, mut entries) = (
            std::mem::take(&mut self.keys),
            std::mem::take(&mut self.entries),
        );
        if keys.capacity() > SPARE_MAX_BYTES
            || entries.capacity() * std::mem::size_of::<Entry>() > SPARE_MAX_BYTES
        {
            return;
        }
        keys.clear();
        entries.clear();
        // During the thread's exit the spare is gone already: the buffers are freed here.
        let _ = SPARE.try_with(|spare| spare.set(Some((keys, entries))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{a: [x, {id: y}], "b/~c": z}`, recorded as the loader records it.
    fn table() -> SpanIndex {
        let mut index = SpanIndex::default();
        let root = index.root();
        index.record_node(root, CharSpan::new(0, 1));
        let a = index.key_child(root, "a", Some(CharSpan::new(0, 1)));
        index.record_node(a, CharSpan::new(3, 4));
        let x = index.index_child(a, 0);
        index.record_node(x, CharSpan::new(5, 6));
        let item = index.index_child(a, 1);
        index.record_node(item, CharSpan::new(7, 8));
        let id = index.key_child(item, "id", Some(CharSpan::new(9, 10)));
        index.record_node(id, CharSpan::new(11, 12));
        index.record_node(item, CharSpan::new(7, 13));
        index.record_node(a, CharSpan::new(3, 13));
        let b = index.key_child(root, "b/~c", Some(CharSpan::new(14, 15)));
        index.record_node(b, CharSpan::new(16, 17));
        index
    }

    #[test]
    fn a_node_takes_36_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 36);
    }

    #[test]
    fn the_last_record_of_a_node_wins_and_keys_are_apart() {
        let index = table();
        assert_eq!(index.node("/a"), CharSpan::new(3, 13));
        assert_eq!(index.key("/a"), Some(CharSpan::new(0, 1)));
        assert_eq!(index.key("/a/0"), None);
        assert_eq!(index.node("/a/1/id"), CharSpan::new(11, 12));
        assert_eq!(index.key("/a/1/id"), Some(CharSpan::new(9, 10)));
        assert_eq!(index.node("/b~1~0c"), CharSpan::new(16, 17));
        // An unrecorded pointer falls back to its nearest recorded ancestor.
        assert_eq!(index.node("/a/0/x/y"), CharSpan::new(5, 6));
        assert_eq!(index.node("/z"), CharSpan::new(0, 1));
        // Indices are written without leading zeros.
        assert_eq!(index.node("/a/01"), CharSpan::new(3, 13));
        assert_eq!(index.key("/a/1/nope"), None);
    }

    #[test]
    fn pointers_and_first_keys_are_read_back() {
        let mut index = table();
        assert_eq!(index.pointer(0), "");
        assert_eq!(index.pointer(4), "/a/1/id");
        assert_eq!(index.pointer(5), "/b~1~0c");
        assert_eq!(index.first_key(0, "b/~c"), Some(CharSpan::new(14, 15)));
        // A key met again: its value is a node of its own, without a key span; a pointer
        // leads to it.
        let again = index.key_child(0, "a", None);
        index.record_node(again, CharSpan::new(20, 21));
        assert_eq!(index.first_key(0, "a"), Some(CharSpan::new(0, 1)));
        assert_eq!(index.node("/a"), CharSpan::new(20, 21));
    }

    #[test]
    fn scans_and_sorted_lookups_agree() {
        let mut index = SpanIndex::default();
        let root = index.root();
        let a = index.key_child(root, "a", Some(CharSpan::new(0, 1)));
        let k = index.key_child(root, "k", Some(CharSpan::new(0, 1)));
        for i in 0..50 {
            let item = index.index_child(a, i);
            index.record_node(item, CharSpan::new(i, i + 1));
            let key = index.key_child(k, &i.to_string(), Some(CharSpan::new(100 + i, 101 + i)));
            index.record_node(key, CharSpan::new(300 + i, 301 + i));
        }
        // Answered by scans first, then (past the threshold) from the sorted entries.
        for _ in 0..3 {
            for i in 0..50u32 {
                assert_eq!(index.node(&format!("/a/{i}")).start, i);
                assert_eq!(
                    index.key(&format!("/k/{i}")).map(|s| s.start),
                    Some(100 + i)
                );
                assert_eq!(index.node(&format!("/k/{i}")).start, 300 + i);
            }
        }
        // Records made after a lookup are found too.
        let late = index.index_child(a, 50);
        index.record_node(late, CharSpan::new(77, 78));
        assert_eq!(index.node("/a/50"), CharSpan::new(77, 78));
    }
}
