//! The plan's labels beside the platform's names: each segment's name from the dataflow's
//! segment selectors, and the labels that disagree (`aepact::label_mismatch`).
//!
//! A label agrees with the platform's name when the two are equal once trimmed, with runs of
//! whitespace taken as one space and letters compared without case: `Loyalty  Gold ` agrees with
//! `Loyalty gold`, `Loyalty gold` does not agree with `Loyalty platinum`. A segment's name is
//! the dataflow selector's; when the selector has none, the Segmentation API's definition of the
//! segment (`GET /data/core/ups/segment/definitions/{id}`, read once per sandbox and segment by
//! [`crate::planner::resolve`]). A label is compared only when the platform gives a name.

use std::collections::HashMap;

use super::model::{DestinationInfo, LABEL_MISMATCH, Reason, SegmentInfo};
use crate::api::Flow;
use crate::plan::model::Destination;

/// Each segment of `dest` with its label and its name on the platform: in `flow`'s segment
/// selectors, else in `defined` (the Segmentation API's names by lowercase segment ID).
pub fn segments(
    dest: &Destination,
    flow: Option<&Flow>,
    defined: &HashMap<String, String>,
) -> Vec<SegmentInfo> {
    dest.segments
        .iter()
        .map(|s| SegmentInfo {
            id: s.id.clone(),
            label: s.name.clone(),
            platform_name: flow
                .and_then(|f| f.segment_name(&s.id))
                .or_else(|| defined.get(&s.id.to_ascii_lowercase()).map(String::as_str))
                .map(|name| crate::text::one_line(name).into_owned()),
        })
        .collect()
}

/// Whether a plan label and the platform's name say the same.
pub fn agree(label: &str, platform: &str) -> bool {
    let normal = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    normal(label) == normal(platform)
}

/// A warning per label that disagrees with the platform's name, destinations first, then
/// their segments, in the plan's order.
pub fn mismatches(destinations: &[DestinationInfo]) -> Vec<Reason> {
    let mut found = Vec::new();
    let mut warn = |message: String, help: &str| {
        found.push(Reason {
            code: LABEL_MISMATCH.to_owned(),
            message,
            help: help.to_owned(),
            temporary: false,
            clears_at: None,
        });
    };
    for d in destinations {
        if let (Some(label), Some(platform)) = (&d.label, &d.platform_name)
            && !agree(label, platform)
        {
            warn(
                format!(
                    "destination `{}` is labelled `{label}`, the platform calls it `{platform}`",
                    d.id
                ),
                "check that the ID is the dataflow meant, then correct the `name:` (or the ID)",
            );
        }
        for s in &d.segment_names {
            if let (Some(label), Some(platform)) = (&s.label, &s.platform_name)
                && !agree(label, platform)
            {
                warn(
                    format!(
                        "segment `{}` to `{}` is labelled `{label}`, the platform calls it `{platform}`",
                        s.id, d.id
                    ),
                    "check that the ID is the audience meant (a copy-pasted UUID sends the wrong one), then correct the `name:` (or the ID)",
                );
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_agree_whatever_the_case_and_spacing() {
        assert!(agree("Loyalty gold", "Loyalty gold"));
        assert!(agree("  loyalty  GOLD ", "Loyalty gold"));
        assert!(!agree("Loyalty gold", "Loyalty platinum"));
        assert!(!agree("Loyalty-gold", "Loyalty gold"));
    }

    #[test]
    fn a_mismatch_names_both() {
        let info = DestinationInfo {
            id: "d".into(),
            label: Some("Email".into()),
            platform_name: Some("Email vendor (SFTP)".into()),
            segments: 2,
            segment_names: vec![
                SegmentInfo {
                    id: "s1".into(),
                    label: Some("Loyalty gold".into()),
                    platform_name: Some("Loyalty platinum".into()),
                },
                SegmentInfo {
                    id: "s2".into(),
                    label: Some("Anything".into()),
                    platform_name: None,
                },
            ],
        };
        let found = mismatches(&[info]);
        let messages: Vec<&str> = found.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "destination `d` is labelled `Email`, the platform calls it `Email vendor (SFTP)`",
                "segment `s1` to `d` is labelled `Loyalty gold`, the platform calls it `Loyalty platinum`",
            ]
        );
        assert!(
            found
                .iter()
                .all(|r| r.code == LABEL_MISMATCH && !r.temporary)
        );
    }
}
