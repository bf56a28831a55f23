//! Pieces of `serde_json`'s pretty printing, for documents written a part at a time
//! ([`document`](super::document)): a part rendered alone, indented for its place, and the
//! lists the parts stand in, byte for byte as the whole document would print.

/// `text` with `by` spaces before each of its lines.
pub(crate) fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    let mut out = String::with_capacity(text.len() + by * 8);
    out.push_str(&pad);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&pad);
        }
        out.push_str(line);
    }
    out
}

/// Appends the list of `entries` (each indented for its place) as `serde_json`'s pretty
/// printer writes it: `[]` when empty, else one entry a line, its `]` `close` spaces in.
pub(crate) fn list<'a>(out: &mut String, entries: impl Iterator<Item = &'a str>, close: usize) {
    let mut any = false;
    for entry in entries {
        out.push_str(if any { ",\n" } else { "[\n" });
        out.push_str(entry);
        any = true;
    }
    if any {
        out.push('\n');
        out.push_str(&" ".repeat(close));
        out.push(']');
    } else {
        out.push_str("[]");
    }
}

/// A pretty-printed document whose list under `key` (a line's start, indented as the key
/// stands: a key of the same name deeper in is indented further, and one in a string would
/// have its quotes escaped) is empty, cut around that `[]`.
pub(crate) fn split_at_list(text: String, key: &str) -> (String, String) {
    let at = text
        .find(key)
        .map(|at| at + key.len())
        .filter(|&at| text[at..].starts_with("[]"))
        .expect("invariant: the document holds its empty list");
    (text[..at].to_owned(), text[at + 2..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indent_pads_every_line() {
        assert_eq!(
            indent("{\n  \"a\": 1\n}", 4),
            "    {\n      \"a\": 1\n    }"
        );
    }

    #[test]
    fn lists_are_written_as_serde_json_pretty_prints_them() {
        for entries in [vec![], vec![1], vec![1, 2, 3]] {
            let doc = serde_json::json!({ "a": 1, "list": entries.iter().map(|n| serde_json::json!({ "n": n })).collect::<Vec<_>>() });
            let empty = serde_json::json!({ "a": 1, "list": [] });
            let (head, foot) = split_at_list(
                serde_json::to_string_pretty(&empty).unwrap(),
                "\n  \"list\": ",
            );
            let items: Vec<String> = entries
                .iter()
                .map(|n| {
                    indent(
                        &serde_json::to_string_pretty(&serde_json::json!({ "n": n })).unwrap(),
                        4,
                    )
                })
                .collect();
            let mut text = head;
            list(&mut text, items.iter().map(String::as_str), 2);
            text.push_str(&foot);
            assert_eq!(text, serde_json::to_string_pretty(&doc).unwrap());
        }
    }
}
