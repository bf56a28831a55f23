//! Small text helpers every layer uses (the decision's messages and the renderers alike), kept
//! in a leaf module so that using them imports nothing else.

/// "1 file", "3 files".
pub fn plural(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// A name from the platform as one line of text: every control character (newlines and tabs
/// too) written as `\u{…}`, so that a dataflow or audience name cannot split a line of a plan,
/// a warning or an annotation, nor hide part of it.
pub fn one_line(name: &str) -> std::borrow::Cow<'_, str> {
    if !name.chars().any(char::is_control) {
        return name.into();
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out.into()
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
