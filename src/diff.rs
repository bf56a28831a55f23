//! What changed since the last applied run: typed changes first, then a unified text diff of
//! the request bodies for people.

use std::collections::BTreeSet;
use std::time::Duration;

use similar::{Algorithm, TextDiff};

use crate::api::AdhocRequest;

/// One segment gained or lost by a destination, compared with the last applied run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Change {
    Added {
        destination: String,
        segment: String,
    },
    Removed {
        destination: String,
        segment: String,
    },
}

/// Destination -> segment pairs of a set of request bodies.
fn pairs(bodies: &[AdhocRequest]) -> BTreeSet<(String, String)> {
    bodies.iter().flat_map(AdhocRequest::pairs).collect()
}

/// The segments added and removed per destination between `old` and `new` request bodies.
pub(crate) fn changes(old: &[AdhocRequest], new: &[AdhocRequest]) -> Vec<Change> {
    let (old, new) = (pairs(old), pairs(new));
    let mut out: Vec<Change> = new
        .difference(&old)
        .map(|(d, s)| Change::Added {
            destination: d.clone(),
            segment: s.clone(),
        })
        .chain(old.difference(&new).map(|(d, s)| Change::Removed {
            destination: d.clone(),
            segment: s.clone(),
        }))
        .collect();
    out.sort();
    out
}

/// Pretty JSON of request bodies, one job after another, as diffed and shown.
pub(crate) fn bodies_text(bodies: &[AdhocRequest]) -> String {
    let mut text = String::new();
    for (i, body) in bodies.iter().enumerate() {
        if bodies.len() > 1 {
            text.push_str(&format!("// job {}\n", i + 1));
        }
        text.push_str(&body.to_pretty_json());
        text.push('\n');
    }
    text
}

/// A unified diff from `old` to `new` (CRLF normalised, Patience, a short timeout so a huge
/// input can never hang a plan). Returns an empty string when they are equal.
pub(crate) fn unified(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    let old = old.replace("\r\n", "\n");
    let new = new.replace("\r\n", "\n");
    if old == new {
        return String::new();
    }
    TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .timeout(Duration::from_millis(500))
        .diff_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn req(value: serde_json::Value) -> AdhocRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn lists_added_and_removed_segments() {
        let old = [req(
            json!({"activationInfo": {"d1": ["s1", "s2"]}, "exportIds": ["1"]}),
        )];
        let new = [req(
            json!({"activationInfo": {"d1": ["s2", "s3"], "d2": ["s1"]}, "exportIds": ["2"]}),
        )];
        assert_eq!(
            changes(&old, &new),
            [
                Change::Added {
                    destination: "d1".into(),
                    segment: "s3".into()
                },
                Change::Added {
                    destination: "d2".into(),
                    segment: "s1".into()
                },
                Change::Removed {
                    destination: "d1".into(),
                    segment: "s1".into()
                },
            ]
        );
    }

    #[test]
    fn unified_diff_of_bodies() {
        let old = bodies_text(&[req(json!({"activationInfo": {"d1": ["s1"]}}))]);
        let new = bodies_text(&[req(json!({"activationInfo": {"d1": ["s1", "s2"]}}))]);
        insta::assert_snapshot!(unified(&old, &new, "applied (run 1)", "planned"), @r#"
        --- applied (run 1)
        +++ planned
        @@ -1,7 +1,8 @@
         {
           "activationInfo": {
             "d1": [
        -      "s1"
        +      "s1",
        +      "s2"
             ]
           }
         }
        "#);
        assert_eq!(unified(&old, &old, "a", "b"), "");
    }
}
