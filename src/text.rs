//! Small text helpers every layer uses (the decision's messages and the renderers alike), kept
//! in a leaf module so that using them imports nothing else.

/// "1 file", "3 files".
pub fn plural(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}
