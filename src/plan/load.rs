//! Turning a plan's YAML into a JSON tree with a span for every node.
//!
//! We drive saphyr's event parser ourselves rather than use a ready-made tree because the tree
//! would have to be walked again for spans, silently keeps the last of two duplicate keys, and
//! expands aliases without a bound. One pass over the events here builds the
//! [`serde_json::Value`] that the schema check and serde consume, the [`SpanIndex`] from JSON
//! pointer to source span, and catches duplicate keys, alias bombs, extra documents and runaway
//! nesting on the way.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Number, Value};

use super::diags::{Code, Diagnostic};
use super::source::{CharSpan, SourceFile};
use super::spans::Node;
pub use super::spans::{SpanIndex, escape_pointer_segment};

/// Most nodes a document may expand to, aliases included. A plan with 80 segments under 10
/// destinations has about 2,000 nodes; a "billion laughs" file hits this within microseconds.
pub const MAX_NODES: usize = 100_000;

/// Deepest nesting of collections. The plan format nests 4 levels; nothing legitimate goes
/// anywhere near this, and the bound keeps recursive drops and serde away from stack overflows.
pub const MAX_DEPTH: usize = 64;

/// A parsed plan document: the JSON tree and where each node came from.
#[derive(Debug)]
pub struct Document {
    pub value: Value,
    pub spans: SpanIndex,
}

/// The JSON pointer of where serde stopped reading a document, from `serde_path_to_error`'s
/// path: the place a shape error (an unknown key, a wrong type) is reported at.
pub fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&escape_pointer_segment(key));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    pointer
}

/// Every YAML file under `examples/` and `tests/fixtures/` that loads, with its tree: for the
/// tests that hold two readings of a tree together (`typed.rs`, `accept.rs`).
#[cfg(test)]
pub(super) fn fixture_trees() -> Vec<(std::path::PathBuf, Value)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![root.join("examples"), root.join("tests/fixtures")];
    let mut trees = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                let text = std::fs::read_to_string(&path).unwrap();
                if let Ok(doc) = parse(&SourceFile::new("plan.yaml", text)) {
                    trees.push((path, doc.value));
                }
            }
        }
    }
    trees
}

/// Parses the single YAML document in `source`.
///
/// Returns the document, or every problem found. Duplicate keys are all collected; any other
/// problem stops the parse at its position.
pub fn parse(source: &SourceFile) -> Result<Document, Vec<Diagnostic>> {
    let mut builder = Builder {
        source,
        spans: SpanIndex::for_text(source.text().len()),
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        root: None,
        documents: 0,
        diags: Vec::new(),
    };
    match builder.run() {
        Ok(()) if builder.diags.is_empty() => match builder.root {
            Some(value) => Ok(Document {
                value,
                spans: builder.spans,
            }),
            None => Err(vec![empty_file(source)]),
        },
        Ok(()) => Err(builder.diags),
        Err(fatal) => {
            builder.diags.push(*fatal);
            Err(builder.diags)
        }
    }
}

fn empty_file(source: &SourceFile) -> Diagnostic {
    Diagnostic::error(
        Code::EmptyFile,
        source.name(),
        format!("`{}` is empty: it holds no YAML document", source.name()),
    )
    .with_help("write a plan (`aepact init NAME` prints a starter), or delete the file")
}

type Fatal = Box<Diagnostic>;

enum Frame {
    Seq {
        items: Vec<Value>,
        start: CharSpan,
        /// This list's node in the span table.
        node: Node,
        anchor: usize,
        nodes_before: usize,
    },
    Map {
        entries: Map<String, Value>,
        /// The key just read, waiting for its value.
        key: Option<String>,
        /// The node of that key's value.
        value_node: Node,
        start: CharSpan,
        /// This mapping's node in the span table.
        node: Node,
        anchor: usize,
        nodes_before: usize,
    },
}

struct Builder<'s> {
    source: &'s SourceFile,
    spans: SpanIndex,
    stack: Vec<Frame>,
    /// Anchor ID -> (value, node count, nesting depth) for alias expansion.
    anchors: HashMap<usize, (Value, usize, usize)>,
    nodes: usize,
    root: Option<Value>,
    documents: usize,
    diags: Vec<Diagnostic>,
}

impl Builder<'_> {
    fn run(&mut self) -> Result<(), Fatal> {
        let mut parser = Parser::new_from_str(self.source.text());
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| self.scan_error(&e))?;
            match event {
                Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
                Event::StreamEnd => break,
                Event::DocumentStart(_) => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(self.multiple_documents(span));
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let span = char_span(span);
                    if self.expecting_key() {
                        self.begin_key(text.into_owned(), span);
                        continue;
                    }
                    let value = self.scalar(text, style, tag.as_deref(), span)?;
                    self.count_nodes(1, span)?;
                    let node = self.value_node();
                    self.spans.record_node(node, span);
                    if anchor != 0 {
                        self.anchors.insert(anchor, (value.clone(), 1, 0));
                    }
                    self.finish_value(value);
                }
                Event::Alias(id) => {
                    let span = char_span(span);
                    if self.expecting_key() {
                        return Err(self.unsupported(span, "an alias used as a mapping key"));
                    }
                    let Some(&(_, count, depth)) = self.anchors.get(&id) else {
                        return Err(Box::new(Diagnostic::at(
                            Code::YamlSyntax,
                            self.source,
                            span,
                            "alias refers to an anchor that is not defined before it",
                        )));
                    };
                    // The expansion nests the anchor's value here: the depth limit holds for
                    // the expanded tree, not only for what the parser saw.
                    if self.stack.len() + depth > MAX_DEPTH {
                        return Err(self.too_deep(
                            span,
                            "a plan nests 4 levels at most: this alias nests its anchor's value too deep",
                        ));
                    }
                    self.count_nodes(count, span)?;
                    let value = self.anchors[&id].0.clone();
                    let node = self.value_node();
                    self.spans.record_node(node, span);
                    self.finish_value(value);
                }
                Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    let span = char_span(span);
                    if self.expecting_key() {
                        return Err(self.unsupported(span, "a collection used as a mapping key"));
                    }
                    if let Some(tag) = tag.as_deref()
                        && !is_plain_collection_tag(tag)
                    {
                        return Err(self.unsupported_tag(tag, span));
                    }
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(self.too_deep(
                            span,
                            "a plan nests 4 levels at most: check the indentation",
                        ));
                    }
                    self.count_nodes(1, span)?;
                    let node = self.value_node();
                    self.spans.record_node(node, span);
                    let nodes_before = self.nodes;
                    self.stack.push(if is_map {
                        Frame::Map {
                            entries: Map::new(),
                            key: None,
                            value_node: node,
                            start: span,
                            node,
                            anchor,
                            nodes_before,
                        }
                    } else {
                        Frame::Seq {
                            items: Vec::new(),
                            start: span,
                            node,
                            anchor,
                            nodes_before,
                        }
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        continue;
                    };
                    let end = char_span(span);
                    let (value, start, node, anchor, nodes_before) = match frame {
                        Frame::Seq {
                            items,
                            start,
                            node,
                            anchor,
                            nodes_before,
                        } => (Value::Array(items), start, node, anchor, nodes_before),
                        Frame::Map {
                            entries,
                            start,
                            node,
                            anchor,
                            nodes_before,
                            ..
                        } => (Value::Object(entries), start, node, anchor, nodes_before),
                    };
                    let whole = CharSpan {
                        start: start.start,
                        end: end.end.max(start.end),
                    };
                    self.spans.record_node(node, whole);
                    if anchor != 0 {
                        let count = self.nodes - nodes_before + 1;
                        let depth = nesting_depth(&value);
                        self.anchors.insert(anchor, (value.clone(), count, depth));
                    }
                    self.finish_value(value);
                }
            }
        }
        Ok(())
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    /// Records a mapping key, catching duplicates, and gives its value a node.
    fn begin_key(&mut self, key: String, span: CharSpan) {
        let Some(Frame::Map {
            entries,
            key: slot,
            value_node,
            node,
            ..
        }) = self.stack.last_mut()
        else {
            return;
        };
        if entries.contains_key(&key) {
            let first = self.spans.first_key(*node, &key);
            *value_node = self.spans.key_child(*node, &key, None);
            let mut diag = Diagnostic::at(
                Code::DuplicateKey,
                self.source,
                span,
                format!("key `{key}` appears twice in the same mapping"),
            )
            .with_label_text("listed again here")
            .with_pointer(self.spans.pointer(*value_node))
            .with_help("remove one of the two entries: YAML keeps only one, and aepact will not guess which");
            if let Some(first) = first {
                diag = diag.with_label(first, "first listed here");
            }
            self.diags.push(diag);
        } else {
            *value_node = self.spans.key_child(*node, &key, Some(span));
        }
        *slot = Some(key);
    }

    /// The span table's node for the value about to be built: the root, the value of the key
    /// just read, or the next item of a list.
    fn value_node(&mut self) -> Node {
        match self.stack.last() {
            None => self.spans.root(),
            Some(Frame::Map { value_node, .. }) => *value_node,
            Some(Frame::Seq { items, node, .. }) => self.spans.index_child(*node, items.len()),
        }
    }

    /// Attaches a finished value to its parent (or makes it the root).
    fn finish_value(&mut self, value: Value) {
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map { entries, key, .. }) => {
                if let Some(key) = key.take() {
                    // A duplicate was reported in `begin_key`; keep the first value.
                    if let serde_json::map::Entry::Vacant(slot) = entries.entry(key) {
                        slot.insert(value);
                    }
                }
            }
        }
    }

    fn too_deep(&self, span: CharSpan, help: &str) -> Fatal {
        Box::new(
            Diagnostic::at(
                Code::TooDeep,
                self.source,
                span,
                format!("the document nests more than {MAX_DEPTH} levels deep"),
            )
            .with_label_text("too deep here")
            .with_help(help.to_owned()),
        )
    }

    fn count_nodes(&mut self, count: usize, span: CharSpan) -> Result<(), Fatal> {
        self.nodes += count;
        if self.nodes > MAX_NODES {
            return Err(Box::new(
                Diagnostic::at(
                    Code::AliasLimit,
                    self.source,
                    span,
                    format!("the document expands to more than {MAX_NODES} nodes"),
                )
                .with_label_text("expansion passes the limit here")
                .with_help("anchors and aliases are allowed, but not nested expansions that multiply (a \"billion laughs\" file): write the values out or use fewer aliases"),
            ));
        }
        Ok(())
    }

    /// Resolves a scalar by the YAML 1.2 core schema: plain `null`, booleans and numbers become
    /// JSON values; everything quoted, block or otherwise plain is a string.
    fn scalar(
        &self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: CharSpan,
    ) -> Result<Value, Fatal> {
        if let Some(tag) = tag {
            if !tag.is_yaml_core_schema() {
                return Err(self.unsupported_tag(tag, span));
            }
            return match tag.suffix.as_str() {
                "str" => Ok(Value::String(text.into_owned())),
                "null" | "bool" | "int" | "float" => {
                    match (tag.suffix.as_str(), self.plain(&text, span)?) {
                        ("null", Some(v @ Value::Null))
                        | ("bool", Some(v @ Value::Bool(_)))
                        | ("int" | "float", Some(v @ Value::Number(_))) => Ok(v),
                        _ => Err(self.unsupported(
                            span,
                            &format!("`{text}` tagged `!!{}`, which it is not", tag.suffix),
                        )),
                    }
                }
                _ => Err(self.unsupported_tag(tag, span)),
            };
        }
        if style != ScalarStyle::Plain {
            return Ok(Value::String(text.into_owned()));
        }
        match self.plain(&text, span)? {
            Some(value) => Ok(value),
            None => Ok(Value::String(text.into_owned())),
        }
    }

    /// A plain scalar's value: `null`, a boolean or a number, or `None` for a string (left to
    /// the caller, which owns the text).
    fn plain(&self, text: &str, span: CharSpan) -> Result<Option<Value>, Fatal> {
        match text {
            "" | "~" | "null" | "Null" | "NULL" => return Ok(Some(Value::Null)),
            "true" | "True" | "TRUE" => return Ok(Some(Value::Bool(true))),
            "false" | "False" | "FALSE" => return Ok(Some(Value::Bool(false))),
            _ => {}
        }
        // Every core-schema number starts with a digit, a sign or a dot: most strings (names,
        // IDs starting with a letter) are told apart here without the full checks.
        if !text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) {
            return Ok(None);
        }
        if let Some(int) = parse_int(text) {
            return match int {
                Some(n) => Ok(Some(Value::Number(n))),
                None => Err(self.unsupported(
                    span,
                    &format!("integer `{text}`, which is too large for a plan value"),
                )),
            };
        }
        if is_float(text) {
            let lower = text.to_ascii_lowercase();
            let finite = text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && !lower.contains("inf") && !lower.contains("nan"));
            return match finite.and_then(Number::from_f64) {
                Some(n) => Ok(Some(Value::Number(n))),
                None => Err(self.unsupported(span, &format!("the non-finite number `{text}`"))),
            };
        }
        Ok(None)
    }

    fn unsupported(&self, span: CharSpan, what: &str) -> Fatal {
        Box::new(
            Diagnostic::at(
                Code::UnsupportedYaml,
                self.source,
                span,
                format!("plan files cannot contain {what}"),
            )
            .with_help("plans use plain YAML mappings, lists, strings and numbers: quote the value to make it a string"),
        )
    }

    fn unsupported_tag(&self, tag: &Tag, span: CharSpan) -> Fatal {
        Box::new(
            Diagnostic::at(
                Code::UnsupportedYaml,
                self.source,
                span,
                format!(
                    "plan files cannot use the YAML tag `{}{}`",
                    tag.handle, tag.suffix
                ),
            )
            .with_label_text("tagged value")
            .with_help("remove the tag; plans use plain YAML mappings, lists, strings and numbers"),
        )
    }

    fn multiple_documents(&self, span: Span) -> Fatal {
        Box::new(
            Diagnostic::at(
                Code::MultipleDocuments,
                self.source,
                char_span(span),
                format!("`{}` holds more than one YAML document", self.source.name()),
            )
            .with_label_text("a second document starts here")
            .with_help("put each plan in a file of its own; remove the `---` line if it was not meant to start a new document"),
        )
    }

    /// The character index of the first tab on the line holding character `index`.
    fn tab_on_line_of(&self, index: usize) -> Option<usize> {
        let text = self.source.text();
        let byte = self.source.byte_of_char(index as u32);
        let line_start = text[..byte].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let tab = text[line_start..line_end].find('\t')? + line_start;
        Some(text[..tab].chars().count())
    }

    /// Whether the line holding character `index` has more than 1,024 characters before it: the
    /// scanner gave up on a key longer than YAML allows an implicit key to be.
    fn long_key_before(&self, index: usize) -> bool {
        let text = self.source.text();
        let at = self.source.byte_of_char(index as u32);
        let line_start = text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        text[line_start..at].chars().count() > 1024
    }

    fn scan_error(&self, err: &ScanError) -> Fatal {
        let mark = err.marker();
        let info = err.info();
        let mut span = CharSpan::new(mark.index(), mark.index() + 1);
        if info.contains("tab") {
            // The scanner marks the character after the indentation; point at the tab itself.
            if let Some(tab) = self.tab_on_line_of(mark.index()) {
                span = CharSpan::new(tab, tab + 1);
            }
        }
        let (code, help) = if info.contains("recursion limit") {
            (
                Code::TooDeep,
                "a plan nests 4 levels at most: check the brackets".to_owned(),
            )
        } else if info.contains("tab") {
            (
                Code::YamlSyntax,
                "YAML indentation must use spaces: replace the tab characters with spaces"
                    .to_owned(),
            )
        } else if info.contains("simple key expect ':'") && self.long_key_before(mark.index()) {
            // YAML's limit on implicit keys, quoted ones too (issue 14).
            (
                Code::YamlSyntax,
                "a key written on one line, plain or quoted, is at most 1,024 characters: write a longer one as an explicit key, `? key` on a line of its own and `: value` on the next"
                    .to_owned(),
            )
        } else {
            (
                Code::YamlSyntax,
                "fix the YAML syntax at this position (check indentation, quotes and `:` after keys)"
                    .to_owned(),
            )
        };
        Box::new(
            Diagnostic::at(code, self.source, span, format!("invalid YAML: {info}"))
                .with_label_text(info.to_owned())
                .with_help(help),
        )
    }
}

/// Collections nested in `value`, itself included (0 for a scalar). Bounded: the value was built
/// under the depth limit.
fn nesting_depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(nesting_depth).max().unwrap_or(0),
        Value::Object(entries) => 1 + entries.values().map(nesting_depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn char_span(span: Span) -> CharSpan {
    CharSpan::new(span.start.index(), span.end.index())
}

fn is_plain_collection_tag(tag: &Tag) -> bool {
    tag.is_yaml_core_schema() && matches!(tag.suffix.as_str(), "map" | "seq")
}

/// Parses a YAML 1.2 core-schema integer: decimal with optional sign, `0o` octal or `0x` hex.
///
/// Returns `None` when `text` is no integer, `Some(None)` when it is one but does not fit in 64
/// bits.
fn parse_int(text: &str) -> Option<Option<Number>> {
    let (digits, radix) = if let Some(rest) = text.strip_prefix("0x") {
        (rest, 16)
    } else if let Some(rest) = text.strip_prefix("0o") {
        (rest, 8)
    } else {
        (text, 10)
    };
    let unsigned = if radix == 10 {
        digits.strip_prefix(['-', '+']).unwrap_or(digits)
    } else {
        digits
    };
    if unsigned.is_empty() || !unsigned.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if radix == 10 && digits.starts_with('-') {
        return Some(digits.parse::<i64>().ok().map(Number::from));
    }
    Some(u64::from_str_radix(unsigned, radix).ok().map(Number::from))
}

/// Whether `text` is a YAML 1.2 core-schema float (including `.inf` and `.nan`).
fn is_float(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(t, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (!int.is_empty() || !frac.is_empty())
                && int.chars().all(|c| c.is_ascii_digit())
                && frac.chars().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::read::source_from_bytes;

    fn load(text: &str) -> Result<Document, Vec<Diagnostic>> {
        parse(&SourceFile::new("t.yaml", text))
    }

    fn codes(text: &str) -> Vec<Code> {
        load(text).unwrap_err().iter().map(|d| d.code).collect()
    }

    #[test]
    fn builds_json_and_spans() {
        let doc = load("a: 1\nb:\n  - x\n  - {id: 'y', n: ~}\n").unwrap();
        assert_eq!(
            doc.value,
            serde_json::json!({"a": 1, "b": ["x", {"id": "y", "n": null}]})
        );
        let span = doc.spans.node("/b/1/id");
        assert_eq!(
            &"a: 1\nb:\n  - x\n  - {id: 'y', n: ~}\n"[span.start as usize..span.end as usize],
            "'y'"
        );
        assert_eq!(doc.spans.key("/b").map(|s| s.start), Some(5));
    }

    #[test]
    fn resolves_core_schema_scalars() {
        let doc = load("[1, -2, 0x1F, 0o17, 1.5, .5, 1e3, true, False, null, ~, yes, '3', 011037]")
            .unwrap();
        assert_eq!(
            doc.value,
            serde_json::json!([
                1, -2, 31, 15, 1.5, 0.5, 1000.0, true, false, null, null, "yes", "3", 11037
            ])
        );
    }

    #[test]
    fn rejects_duplicate_keys_and_keeps_both_positions() {
        let diags = load("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::DuplicateKey);
        assert_eq!(diags[0].labels.len(), 2);
        assert_eq!(diags[0].position().unwrap().line, 3);
    }

    #[test]
    fn refuses_second_document() {
        assert_eq!(codes("a: 1\n---\nb: 2\n"), [Code::MultipleDocuments]);
    }

    #[test]
    fn empty_and_comment_only_files_are_empty() {
        assert_eq!(codes(""), [Code::EmptyFile]);
        assert_eq!(codes("# nothing here\n\n"), [Code::EmptyFile]);
    }

    #[test]
    fn expands_aliases_but_bounds_the_expansion() {
        let doc = load("a: &x [1, 2]\nb: *x\n").unwrap();
        assert_eq!(doc.value, serde_json::json!({"a": [1, 2], "b": [1, 2]}));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert_eq!(codes(&bomb), [Code::AliasLimit]);
    }

    #[test]
    fn bounds_nesting_depth() {
        let deep_flow = "[".repeat(10_000);
        assert_eq!(codes(&deep_flow), [Code::TooDeep]);
        let mut deep_block = String::new();
        for i in 0..200 {
            deep_block.push_str(&" ".repeat(i * 2));
            deep_block.push_str("a:\n");
        }
        assert_eq!(codes(&deep_block), [Code::TooDeep]);
    }

    #[test]
    fn bounds_nesting_depth_through_aliases() {
        // Each alias nests the previous anchor one level deeper: 100 levels from 100 lines.
        let mut text = String::from("d0: &d0 [x]\n");
        for i in 1..100 {
            text.push_str(&format!("d{i}: &d{i} [*d{}]\n", i - 1));
        }
        assert_eq!(codes(&text), [Code::TooDeep]);
        // Up to the limit is fine.
        let mut text = String::from("d0: &d0 [x]\n");
        for i in 1..MAX_DEPTH - 1 {
            text.push_str(&format!("d{i}: &d{i} [*d{}]\n", i - 1));
        }
        assert!(load(&text).is_ok());
    }

    #[test]
    fn rejects_tabs_with_a_hint() {
        let diags = load("a:\n\t- x\n").unwrap_err();
        assert_eq!(diags[0].code, Code::YamlSyntax);
        assert!(
            diags[0].help.as_deref().unwrap().contains("spaces"),
            "{diags:?}"
        );
    }

    #[test]
    fn rejects_custom_tags_and_complex_keys() {
        assert_eq!(codes("a: !secret x\n"), [Code::UnsupportedYaml]);
        assert_eq!(codes("? [a]\n: b\n"), [Code::UnsupportedYaml]);
        assert_eq!(
            codes("a: 99999999999999999999999\n"),
            [Code::UnsupportedYaml]
        );
    }

    #[test]
    fn reports_invalid_utf8_where_it_is() {
        let err = source_from_bytes("t.yaml", b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert_eq!(err.code, Code::NotUtf8);
        let pos = err.position().unwrap();
        assert_eq!((pos.line, pos.column), (2, 4));
    }

    #[test]
    fn drops_bom_and_accepts_crlf() {
        let source =
            source_from_bytes("t.yaml", b"\xef\xbb\xbfa: 1\r\nb: [x]\r\n".to_vec()).unwrap();
        let doc = parse(&source).unwrap();
        assert_eq!(doc.value, serde_json::json!({"a": 1, "b": ["x"]}));
    }

    /// Issue 12: a file with CR-only line endings was reported at "line 0".
    #[test]
    fn reads_cr_only_line_endings_with_right_positions() {
        let source = source_from_bytes("t.yaml", b"a: 1\rb: [x]\r\nc: 2\r".to_vec()).unwrap();
        assert_eq!(source.text(), "a: 1\nb: [x]\r\nc: 2\n");
        let doc = parse(&source).unwrap();
        assert_eq!(doc.value, serde_json::json!({"a": 1, "b": ["x"], "c": 2}));
        let span = doc.spans.node("/c");
        let byte = source.byte_of_char(span.start);
        assert_eq!(source.line_col(byte), (3, 4));
    }

    #[test]
    fn escapes_pointer_segments() {
        let doc = load("\"a/b~c\": 1\n").unwrap();
        assert!(doc.spans.key("/a~1b~0c").is_some());
    }
}
