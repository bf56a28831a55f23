//! Small text helpers every layer uses (the decision's messages and the renderers alike), kept
//! in a leaf module so that using them imports nothing else.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;

/// "1 file", "3 files".
pub fn plural(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// A name from the platform as one line of text: every control character (newlines and tabs
/// too) written as `\u{…}`, so that a dataflow or audience name cannot split a line of a plan,
/// a warning or an annotation, nor hide part of it.
pub fn one_line(name: &str) -> Cow<'_, str> {
    escape_chars(name, char::is_control)
}

/// `text` with every character `escaped` picks written as `\u{…}`; borrowed when there is none.
pub fn escape_chars(text: &str, escaped: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&escaped) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// The path of `file` relative to the directory `from` (both absolute), with `/` separators
/// and `..` for each level up.
pub fn relative_path(from: &Path, file: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = file.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_escapes_every_control_character_and_keeps_the_rest() {
        assert_eq!(one_line("Loyalty gold"), "Loyalty gold");
        assert_eq!(
            one_line("Evil\nnext\tcol\u{1b}[31m"),
            "Evil\\u{a}next\\u{9}col\\u{1b}[31m"
        );
        assert_eq!(one_line("Café – 20 %"), "Café – 20 %");
    }
}
