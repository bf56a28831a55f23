//! Where a checked plan's parts are in its file: the line of `exports` and of each destination
//! and segment ID, kept with the plan so that what the platform says about a part (a refusal of
//! `plan`) can be annotated on its line.

use super::load::Document;
use super::source::SourceFile;

/// The lines (1-based) of a plan's parts: `exports`, and each destination and segment ID (the
/// first place it appears).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines {
    pub exports: Option<usize>,
    /// Destination and segment IDs, lowercase.
    pub ids: std::collections::BTreeMap<String, usize>,
    /// The plan's labels (`name:`): a destination's under its ID, a segment's under
    /// `destination/segment` (IDs lowercase).
    pub labels: std::collections::BTreeMap<String, usize>,
}

impl Lines {
    /// The lines of a checked plan's parts.
    pub(super) fn of_plan(doc: &Document, source: &SourceFile) -> Lines {
        let line = |pointer: &str| {
            let span = doc.spans.node(pointer);
            source.line_col(source.byte_of_char(span.start)).0
        };
        let mut lines = Lines {
            exports: doc.spans.key("/exports").map(|_| line("/exports")),
            ..Lines::default()
        };
        let destinations = doc.value["destinations"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        for (i, dest) in destinations.iter().enumerate() {
            let dest_id = dest["id"].as_str().map(str::to_ascii_lowercase);
            if let Some(id) = &dest_id {
                let at = line(&format!("/destinations/{i}/id"));
                lines.ids.entry(id.clone()).or_insert(at);
                if dest["name"].is_string() {
                    let at = line(&format!("/destinations/{i}/name"));
                    lines.labels.entry(id.clone()).or_insert(at);
                }
            }
            let segments = dest["segments"].as_array().map_or(&[][..], Vec::as_slice);
            for (j, segment) in segments.iter().enumerate() {
                if let Some(id) = segment.as_str().or_else(|| segment["id"].as_str()) {
                    let at = line(&format!("/destinations/{i}/segments/{j}"));
                    let id = id.to_ascii_lowercase();
                    lines.ids.entry(id.clone()).or_insert(at);
                    if let Some(dest_id) = &dest_id
                        && segment["name"].is_string()
                    {
                        let at = line(&format!("/destinations/{i}/segments/{j}/name"));
                        lines.labels.entry(format!("{dest_id}/{id}")).or_insert(at);
                    }
                }
            }
        }
        lines
    }

    /// The line of the label a label-mismatch message is about: "segment `S` to `D` ..." is
    /// on the segment's `name:` under `D`, "destination `D` ..." on the destination's.
    pub fn of_label(&self, message: &str) -> Option<usize> {
        let quoted: Vec<String> = message
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_ascii_lowercase)
            .collect();
        match quoted.as_slice() {
            [segment, dest, ..] if message.starts_with("segment") => {
                self.labels.get(&format!("{dest}/{segment}")).copied()
            }
            [dest, ..] => self.labels.get(dest).copied(),
            [] => None,
        }
    }

    /// The line a platform message is about: the first destination or segment ID it names in
    /// backticks, else `exports` for a message about export jobs.
    pub fn of_message(&self, code: &str, message: &str) -> Option<usize> {
        message
            .split('`')
            .skip(1)
            .step_by(2)
            .find_map(|quoted| self.ids.get(&quoted.to_ascii_lowercase()).copied())
            .or_else(|| code.contains("export").then_some(self.exports).flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_placed_on_the_first_part_it_names() {
        let text = "apiVersion: aepact/v1\nname: p\nexports: [7]\ndestinations:\n  - id: 0B7C2F9E-1a2b-4c3d-8e9f-0a1b2c3d4e5f\n    segments:\n      - 00000000-0000-4000-8000-000000000001\n      - {id: 00000000-0000-4000-8000-000000000002, name: Gold}\n";
        let source = SourceFile::new("p.yaml", text);
        let doc = crate::plan::load::parse(&source).unwrap();
        let lines = Lines::of_plan(&doc, &source);
        assert_eq!(lines.exports, Some(3));
        let at = |code: &str, message: &str| lines.of_message(code, message);
        assert_eq!(
            at(
                "run_in_flight",
                "segment `00000000-0000-4000-8000-000000000002` has a run"
            ),
            Some(8)
        );
        assert_eq!(
            at(
                "flow_missing",
                "dataflow `0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f` is gone"
            ),
            Some(5),
            "IDs match whatever their case"
        );
        assert_eq!(
            at(
                "export_missing",
                "export job 9 does not exist in sandbox `prod`"
            ),
            Some(3)
        );
        assert_eq!(at("unrecorded_run", "nothing this plan names"), None);
        assert_eq!(
            lines.of_label(
                "segment `00000000-0000-4000-8000-000000000002` to `0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f` is labelled `Gold`, the platform calls it `Platinum`"
            ),
            Some(8),
            "a segment's label given inline is on its line"
        );
    }

    #[test]
    fn labels_have_their_own_lines() {
        let text = "apiVersion: aepact/v1\nname: p\nexports: [7]\ndestinations:\n  - id: 0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\n    name: Email\n    segments:\n      - id: 00000000-0000-4000-8000-000000000002\n        name: Gold\n";
        let source = SourceFile::new("p.yaml", text);
        let doc = crate::plan::load::parse(&source).unwrap();
        let lines = Lines::of_plan(&doc, &source);
        let dest = "0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
        let seg = "00000000-0000-4000-8000-000000000002";
        let at = |message: &str| lines.of_label(message);
        assert_eq!(
            at(&format!(
                "destination `{dest}` is labelled `Mail`, the platform calls it `Email`"
            )),
            Some(6)
        );
        assert_eq!(
            at(&format!(
                "segment `{seg}` to `{dest}` is labelled `Gold`, the platform calls it `Platinum`"
            )),
            Some(9)
        );
    }
}
