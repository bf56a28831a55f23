//! Flow Service dataflows (`/data/foundation/flowservice/flows`, reference §3): the segment
//! selectors with their schedules, and how a segment stands in a dataflow on a day ([`Mapping`]).

use serde::{Deserialize, Serialize};

use super::common::lenient;
use crate::time::UtcDate;

/// A dataflow, with the parts `plan` checks: state, kind, and the segment selectors with their
/// schedules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flow {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub inherited_attributes: Option<InheritedAttributes>,
    #[serde(default)]
    pub transformations: Vec<Transformation>,
    /// The other top-level fields, boxed: a flow stays small where the planner passes it around.
    #[serde(flatten)]
    pub details: Box<FlowDetails>,
}

/// The top-level fields of a flow that the client does not read: there so the emulator writes
/// the whole flow from [`Flow`], and read leniently (`lenient`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowDetails {
    #[serde(default, deserialize_with = "lenient")]
    pub flow_spec: Option<FlowSpecRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub version: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub etag: Option<String>,
    /// Epoch ms.
    #[serde(default, deserialize_with = "lenient")]
    pub created_at: Option<i64>,
    /// Epoch ms.
    #[serde(default, deserialize_with = "lenient")]
    pub updated_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub sandbox_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub sandbox_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub source_connection_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient")]
    pub target_connection_ids: Option<Vec<String>>,
    /// The flow's runs, as a path with a query: `/runs?property=flowId==<id>`.
    #[serde(default, deserialize_with = "lenient")]
    pub runs: Option<String>,
}

/// The flow spec a dataflow was made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FlowSpecRef {
    pub id: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InheritedAttributes {
    #[serde(default)]
    pub properties: Option<FlowProperties>,
    #[serde(default, deserialize_with = "lenient")]
    pub source_connections: Option<Vec<ConnectionRef>>,
    #[serde(default, deserialize_with = "lenient")]
    pub target_connections: Option<Vec<ConnectionRef>>,
}

/// A source or target connection of a dataflow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionRef {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowProperties {
    #[serde(default)]
    pub is_destination_flow: Option<bool>,
    #[serde(default)]
    pub is_source_flow: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transformation {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub params: Option<TransformationParams>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransformationParams {
    #[serde(default)]
    pub segment_selectors: Option<SegmentSelectors>,
    #[serde(default, deserialize_with = "lenient")]
    pub profile_selectors: Option<ProfileSelectors>,
}

/// The profile attributes a destination dataflow exports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileSelectors {
    pub selectors: Vec<ProfileSelector>,
}

/// One exported attribute (`type: JSON_PATH`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileSelector {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: ProfileSelectorValue,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileSelectorValue {
    /// An XDM path, such as `personalEmail.address`.
    pub path: String,
    /// `EXISTS`.
    pub operator: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentSelectors {
    #[serde(default)]
    pub selectors: Vec<SegmentSelector>,
}

/// One segment mapped to the dataflow (`type: PLATFORM_SEGMENT`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSelector {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub value: SelectorValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectorValue {
    #[serde(default)]
    pub id: Option<String>,
    /// Absent on a selector that does not name its segment (the Segmentation API then does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub filename_template: Option<String>,
    #[serde(default)]
    pub export_mode: Option<String>,
    #[serde(default)]
    pub schedule: Option<Schedule>,
}

/// A mapped segment's export schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    #[serde(default)]
    pub frequency: Option<String>,
    #[serde(default)]
    pub trigger_type: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub start_date: Option<String>,
    /// `YYYY-MM-DD`; absent or null: no end.
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub start_time: Option<String>,
}

impl Schedule {
    /// Whether the schedule covers the whole day `day`: `startDate <= day <= endDate`, inclusive,
    /// UTC, no `startDate` or no `endDate` = open on that side. `startTime` and `frequency` are
    /// not used (inference: the platform's message speaks of the date only). A date that does
    /// not parse covers nothing.
    pub fn covers(&self, day: UtcDate) -> bool {
        let bound = |date: &Option<String>| match date.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(text) => UtcDate::parse(text).map(Some),
        };
        let (Some(start), Some(end)) = (bound(&self.start_date), bound(&self.end_date)) else {
            return false;
        };
        start.is_none_or(|s| s <= day) && end.is_none_or(|e| day <= e)
    }
}

/// How a segment stands in a dataflow on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping<'a> {
    /// Mapped with a schedule that covers the day.
    Covered(&'a SegmentSelector),
    /// Mapped, but its schedule has not started, has ended, or is missing.
    OutOfSchedule(&'a SegmentSelector),
    /// Not among the dataflow's segment selectors.
    NotMapped,
}

impl Flow {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `state` is `enabled`.
    pub fn is_enabled(&self) -> bool {
        self.state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("enabled"))
    }

    /// A destination (activation) dataflow: `inheritedAttributes.properties.isDestinationFlow`.
    /// When the flag is absent, a flow with segment selectors counts as one (inference).
    pub fn is_destination(&self) -> bool {
        self.inherited_attributes
            .as_ref()
            .and_then(|a| a.properties.as_ref())
            .and_then(|p| p.is_destination_flow)
            .unwrap_or_else(|| self.selectors().next().is_some())
    }

    /// An enabled destination dataflow: the first online check of a plan's destination.
    pub fn is_enabled_destination(&self) -> bool {
        self.is_enabled() && self.is_destination()
    }

    /// Every segment selector of every transformation.
    pub fn selectors(&self) -> impl Iterator<Item = &SegmentSelector> {
        self.transformations
            .iter()
            .filter_map(|t| t.params.as_ref()?.segment_selectors.as_ref())
            .flat_map(|s| s.selectors.iter())
    }

    /// The selector of a segment ID (IDs compare without regard to case).
    pub fn selector(&self, segment_id: &str) -> Option<&SegmentSelector> {
        self.selectors().find(|s| {
            s.value
                .id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(segment_id))
        })
    }

    /// Whether `segment_id` is mapped, and whether its schedule covers `day` (today, UTC, for
    /// an ad-hoc job). When several selectors name the segment, any covering one counts.
    pub fn mapping(&self, segment_id: &str, day: UtcDate) -> Mapping<'_> {
        let mut found = None;
        for selector in self.selectors().filter(|s| {
            s.value
                .id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(segment_id))
        }) {
            if selector
                .value
                .schedule
                .as_ref()
                .is_some_and(|s| s.covers(day))
            {
                return Mapping::Covered(selector);
            }
            found.get_or_insert(selector);
        }
        found.map_or(Mapping::NotMapped, Mapping::OutOfSchedule)
    }

    /// Whether `segment_id` is mapped with a schedule covering `day`.
    pub fn covers_segment(&self, segment_id: &str, day: UtcDate) -> bool {
        matches!(self.mapping(segment_id, day), Mapping::Covered(_))
    }

    /// The name the dataflow gives a mapped segment, if any.
    pub fn segment_name(&self, segment_id: &str) -> Option<&str> {
        self.selector(segment_id)?
            .value
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_cover_inclusive_ranges() {
        let day = UtcDate::parse("2026-11-29").unwrap();
        let schedule = |start: Option<&str>, end: Option<&str>| Schedule {
            frequency: None,
            trigger_type: None,
            start_date: start.map(str::to_owned),
            end_date: end.map(str::to_owned),
            start_time: None,
        };
        assert!(schedule(Some("2026-11-29"), Some("2026-11-29")).covers(day));
        assert!(schedule(Some("2026-01-01"), None).covers(day));
        assert!(schedule(None, None).covers(day));
        assert!(!schedule(Some("2026-11-30"), None).covers(day));
        assert!(!schedule(Some("2026-01-01"), Some("2026-11-28")).covers(day));
        assert!(!schedule(Some("soon"), None).covers(day));
    }
}
