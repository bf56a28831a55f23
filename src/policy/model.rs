//! The policy format `aepact/policy-v1`: the raw types as written (serde + schemars, for
//! `schemas/policy.schema.json`), and the checked [`Policy`] with the place of every rule.
//!
//! Apart from the plan's model because a policy governs plans: the plan model holds a policy
//! (`Plan::policy`), so this file must not import it (the patterns it shares are repeated here
//! and a test keeps them equal).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::plan::diags::{Code, Diagnostic};
use crate::plan::load::{self, Document};
use crate::plan::source::{CharSpan, SourceFile};
use crate::plan::spans::SpanIndex;

/// The file name looked for in a plan's directory and its parents.
pub const FILE_NAME: &str = "aepact.policy.yaml";
/// The one policy format this aepact reads.
pub const VERSION: &str = "aepact/policy-v1";
/// The key whose rules apply to every sandbox the policy does not name.
pub const DEFAULT_SANDBOX: &str = "default";
/// Dataflow IDs: lowercase UUIDs (`plan::model::UUID_PATTERN`).
pub const UUID_PATTERN: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
/// A sandbox name as plans write it (`plan::model::SANDBOX_PATTERN`).
pub const SANDBOX_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,255}$";
/// A duration as `--guard-window` reads it (`plan::model::DURATION_PATTERN`).
pub const DURATION_PATTERN: &str = "^(0|[0-9]+h([0-9]+m)?([0-9]+s)?([0-9]+ms)?|[0-9]+m([0-9]+s)?([0-9]+ms)?|[0-9]+s([0-9]+ms)?|[0-9]+ms)$";
/// A window's hours: `HH:MM-HH:MM`, local wall-clock time, the end `24:00` at the latest.
pub const HOURS_PATTERN: &str =
    "^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$";

/// An aepact policy: rules that the plans below it must keep, per sandbox.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "aepact policy")]
pub struct RawPolicy {
    /// Format of this file. Always `aepact/policy-v1`.
    pub api_version: PolicyVersion,
    /// Rules by sandbox name. `default` applies to every sandbox not named; a named sandbox
    /// takes its own rules only (nothing of `default`).
    #[schemars(extend("propertyNames" = {"pattern": SANDBOX_PATTERN}))]
    pub sandboxes: BTreeMap<String, RawRules>,
}

/// The policy format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum PolicyVersion {
    /// The first policy format.
    #[serde(rename = "aepact/policy-v1")]
    V1,
}

/// The rules of one sandbox. Every rule is optional; a rule left out allows everything.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawRules {
    /// The only destination dataflow IDs plans may activate to in this sandbox.
    #[serde(default)]
    #[schemars(with = "Vec<DataflowId>")]
    pub destinations: Option<Vec<DataflowId>>,
    /// Most distinct segments one plan may activate.
    #[serde(default)]
    #[schemars(with = "Count")]
    pub max_segments_per_plan: Option<Count>,
    /// Most distinct segments the plans given to one command may activate together.
    #[serde(default)]
    #[schemars(with = "Count")]
    pub max_segments_per_apply: Option<Count>,
    /// When activations may be sent: `apply` refuses outside every window (exit 75) and says
    /// when the next one opens.
    #[serde(default)]
    #[schemars(with = "Vec<RawWindow>", length(min = 1))]
    pub windows: Option<Vec<RawWindow>>,
    /// The least time between two deliveries of one segment to one destination, e.g. `12h`
    /// (from the platform's runs and the lockfiles).
    #[serde(default)]
    #[schemars(with = "String", regex(pattern = DURATION_PATTERN))]
    pub min_interval: Option<String>,
    /// Every plan must have a `description`.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub require_description: Option<bool>,
    /// Every destination and segment of a plan must have a `name:` label.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub require_labels: Option<bool>,
}

/// A send window: days of the week and hours, in a time zone.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawWindow {
    /// Days of the week the window is open.
    #[schemars(length(min = 1))]
    pub days: Vec<Day>,
    /// Local wall-clock hours, `HH:MM-HH:MM` (end excluded, `24:00` for midnight), e.g.
    /// `08:00-18:00`.
    #[schemars(regex(pattern = HOURS_PATTERN))]
    pub hours: String,
    /// IANA time zone of the hours, e.g. `Europe/Berlin` or `UTC`.
    pub time_zone: String,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    fn weekday(self) -> Weekday {
        match self {
            Day::Mon => Weekday::Monday,
            Day::Tue => Weekday::Tuesday,
            Day::Wed => Weekday::Wednesday,
            Day::Thu => Weekday::Thursday,
            Day::Fri => Weekday::Friday,
            Day::Sat => Weekday::Saturday,
            Day::Sun => Weekday::Sunday,
        }
    }
}

/// A destination dataflow ID: a lowercase UUID.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct DataflowId(pub String);

impl JsonSchema for DataflowId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DataflowId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A destination dataflow ID: a lowercase UUID.",
            "type": "string",
            "pattern": UUID_PATTERN,
        })
    }
}

/// A count of 1 or more: `20` (or `20.0`, as JSON Schema's `integer` allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a whole number of 1 or more")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Count, E> {
                if n == 0 {
                    return Err(E::invalid_value(serde::de::Unexpected::Unsigned(0), &self));
                }
                Ok(Count(n))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Count, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::invalid_value(serde::de::Unexpected::Signed(n), &self)),
                }
            }
            fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<Count, E> {
                if f.is_finite() && f.fract() == 0.0 && (1.0..1e15).contains(&f) {
                    Ok(Count(f as u64))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Float(f), &self))
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl JsonSchema for Count {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Count".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "integer", "minimum": 1})
    }
}

/// A policy that passed every check, with the place of each of its rules.
#[derive(Debug)]
pub struct Policy {
    /// The policy file's text, named as found (relative to where aepact runs when it can be).
    pub source: SourceFile,
    spans: SpanIndex,
    /// Rules by the sandbox key as written (`default` included).
    pub sandboxes: BTreeMap<String, Rules>,
}

/// Two plans share one policy when they read the same file.
impl PartialEq for Policy {
    fn eq(&self, other: &Self) -> bool {
        self.source.name() == other.source.name() && self.source.text() == other.source.text()
    }
}

impl Eq for Policy {}

/// The checked rules of one sandbox key.
#[derive(Debug)]
pub struct Rules {
    /// The key as written: a sandbox name, or `default`.
    pub key: String,
    pub destinations: Option<Vec<String>>,
    pub max_segments_per_plan: Option<u64>,
    pub max_segments_per_apply: Option<u64>,
    pub windows: Vec<Window>,
    pub min_interval: Option<Duration>,
    pub require_description: bool,
    pub require_labels: bool,
}

/// A checked send window.
#[derive(Debug, Clone)]
pub struct Window {
    pub days: Vec<Weekday>,
    /// Minutes after local midnight: the window is open from `start` to just before `end`.
    pub start: u16,
    pub end: u16,
    pub time_zone: TimeZone,
    /// The zone's IANA name, as written.
    pub zone_name: String,
    /// The window as written: `mon-fri 08:00-18:00 Europe/Berlin`.
    pub text: String,
}

impl Policy {
    /// Reads and checks the policy file at `path`, named `display` in diagnostics.
    ///
    /// Returns the policy, or every problem found (each at its line and column).
    pub fn load(path: &Path, display: &str) -> Result<Policy, Vec<Diagnostic>> {
        let source = crate::plan::read::read_source(path, display).map_err(|d| vec![d])?;
        Policy::parse(source)
    }

    /// Checks a policy's text.
    ///
    /// Returns the policy, or every problem found.
    pub fn parse(source: SourceFile) -> Result<Policy, Vec<Diagnostic>> {
        let doc = load::parse(&source)?;
        check_version(&doc, &source)?;
        let raw: RawPolicy = match serde_path_to_error::deserialize(&doc.value) {
            Ok(raw) => raw,
            Err(err) => return Err(vec![serde_problem(&err, &doc, &source)]),
        };
        let mut problems = Vec::new();
        let mut sandboxes = BTreeMap::new();
        for (key, raw) in raw.sandboxes {
            let base = format!("/sandboxes/{}", load::escape_pointer_segment(&key));
            if !is_sandbox_name(&key) {
                // A plan's sandbox is lowercase: rules under `Prod` would govern nothing.
                let span = doc
                    .spans
                    .key(&base)
                    .unwrap_or_else(|| doc.spans.node(&base));
                problems.push(
                    Diagnostic::at(
                        Code::InvalidValue,
                        &source,
                        span,
                        format!("`{key}` is not a sandbox name: no plan's sandbox can match it"),
                    )
                    .with_pointer(base.clone())
                    .with_help(
                        "sandbox names are lowercase letters, digits and hyphens (`prod`, `dev-eu`), as plans write them",
                    ),
                );
            }
            let rules = check_rules(&key, raw, &base, &doc, &source, &mut problems);
            sandboxes.insert(key, rules);
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Policy {
            source,
            spans: doc.spans,
            sandboxes,
        })
    }

    /// The rules of `sandbox`: its own, else `default`'s, else none.
    pub fn rules_for(&self, sandbox: &str) -> Option<&Rules> {
        self.sandboxes
            .get(sandbox)
            .or_else(|| self.sandboxes.get(DEFAULT_SANDBOX))
    }

    /// Where a rule of `rules` is written: its key (`/sandboxes/prod/windows`).
    pub fn rule_span(&self, rules: &Rules, rule: &str) -> CharSpan {
        let pointer = format!(
            "/sandboxes/{}/{rule}",
            load::escape_pointer_segment(&rules.key)
        );
        self.spans
            .key(&pointer)
            .unwrap_or_else(|| self.spans.node(&pointer))
    }

    /// The line (1-based) a rule is written on.
    pub fn rule_line(&self, rules: &Rules, rule: &str) -> usize {
        let span = self.rule_span(rules, rule);
        self.source.line_col(self.source.byte_of_char(span.start)).0
    }

    /// `aepact.policy.yaml:7` for a rule: the policy file and the rule's line.
    pub fn rule_place(&self, rules: &Rules, rule: &str) -> String {
        format!("{}:{}", self.source.name(), self.rule_line(rules, rule))
    }

    /// A diagnostic in the policy file at a rule: the secondary side of a violation.
    pub fn rule_diagnostic(&self, rules: &Rules, rule: &str, text: String) -> Diagnostic {
        Diagnostic::at(
            Code::PolicyRule,
            &self.source,
            self.rule_span(rules, rule),
            format!("the rule `{rule}` of sandbox `{}`", rules.key),
        )
        .with_label_text(text)
        .warning()
    }
}

/// A shared, checked policy, as plans hold it.
pub type SharedPolicy = Arc<Policy>;

/// The top level must say `apiVersion: aepact/policy-v1`: anything else is named for what it
/// is, with the version this aepact reads.
fn check_version(doc: &Document, source: &SourceFile) -> Result<(), Vec<Diagnostic>> {
    let found = doc.value.get("apiVersion");
    if found.and_then(serde_json::Value::as_str) == Some(VERSION) {
        return Ok(());
    }
    let (span, message) = match found {
        Some(value) => (
            doc.spans.node("/apiVersion"),
            format!(
                "`{}` is not a policy format this aepact reads",
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned)
            ),
        ),
        None => (
            doc.spans.node(""),
            "the policy file has no `apiVersion`".to_owned(),
        ),
    };
    Err(vec![
        Diagnostic::at(Code::PolicyVersion, source, span, message)
            .with_pointer("/apiVersion")
            .with_label_text("this aepact reads `aepact/policy-v1`")
            .with_help(format!(
                "write `apiVersion: {VERSION}` (the policy formats this aepact reads: `{VERSION}`)"
            )),
    ])
}

/// Where serde stopped reading the policy, as a diagnostic on that line.
fn serde_problem(
    err: &serde_path_to_error::Error<serde_json::Error>,
    doc: &Document,
    source: &SourceFile,
) -> Diagnostic {
    let mut pointer = load::pointer_of(err.path());
    let message = err.inner().to_string();
    let quoted = message.split('`').nth(1).unwrap_or_default().to_owned();
    let (code, span, help) = if message.starts_with("unknown field") {
        if !pointer.ends_with(&format!("/{quoted}")) {
            pointer = format!("{pointer}/{}", load::escape_pointer_segment(&quoted));
        }
        let span = doc
            .spans
            .key(&pointer)
            .unwrap_or_else(|| doc.spans.node(&pointer));
        let allowed = message.split_once("expected ").map_or("", |(_, a)| a);
        (
            Code::UnknownKey,
            span,
            format!("remove the key or fix its spelling; expected {allowed} (docs/policy.md)"),
        )
    } else if message.starts_with("missing field") {
        (
            Code::MissingKey,
            doc.spans.blame(&pointer, doc.value.pointer(&pointer)),
            format!("add `{quoted}:` (docs/policy.md lists every key)"),
        )
    } else if message.starts_with("invalid type") {
        (
            Code::WrongType,
            doc.spans.blame(&pointer, doc.value.pointer(&pointer)),
            "see docs/policy.md for the type of each rule".to_owned(),
        )
    } else {
        (
            Code::InvalidValue,
            doc.spans.blame(&pointer, doc.value.pointer(&pointer)),
            "see docs/policy.md for the values each rule takes".to_owned(),
        )
    };
    let place = if pointer.is_empty() { "/" } else { &pointer };
    Diagnostic::at(
        code,
        source,
        span,
        format!("in the policy at `{place}`: {message}"),
    )
    .with_pointer(pointer)
    .with_help(help)
}

/// Checks one sandbox's rules past what serde reads: patterns, time zones, hours.
fn check_rules(
    key: &str,
    raw: RawRules,
    base: &str,
    doc: &Document,
    source: &SourceFile,
    problems: &mut Vec<Diagnostic>,
) -> Rules {
    let mut bad = |pointer: String, message: String, help: &str| {
        let span = doc.spans.node(&pointer);
        problems.push(
            Diagnostic::at(Code::InvalidValue, source, span, message)
                .with_pointer(pointer)
                .with_help(help),
        );
    };
    let uuid = |id: &str| {
        id.len() == 36
            && id.char_indices().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => c == '-',
                _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
            })
    };
    let mut destinations = None;
    if let Some(list) = raw.destinations {
        for (i, id) in list.iter().enumerate() {
            if !uuid(&id.0) {
                bad(
                    format!("{base}/destinations/{i}"),
                    format!("`{}` is not a valid destination ID", id.0),
                    "a destination (dataflow) ID is a lowercase UUID, like `0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f`",
                );
            }
        }
        destinations = Some(list.into_iter().map(|d| d.0).collect());
    }
    let min_interval = raw
        .min_interval
        .and_then(|text| match crate::time::parse_duration(&text) {
            Ok(d) => Some(d),
            Err(e) => {
                bad(
                    format!("{base}/minInterval"),
                    format!("`{text}` is not a duration: {e}"),
                    "write hours, minutes and seconds, largest first: `12h`, `90m`, `1h30m`",
                );
                None
            }
        });
    let mut windows = Vec::new();
    // No window at all would read as no rule (send at any time), the opposite of what an
    // empty list says: refused, as the schema refuses it (`minItems: 1`).
    if raw.windows.as_ref().is_some_and(Vec::is_empty) {
        bad(
            format!("{base}/windows"),
            "`windows` lists no window".to_owned(),
            "list at least one window, e.g. `[{days: [mon, tue, wed, thu, fri], hours: \"08:00-18:00\", timeZone: Europe/Berlin}]`, or leave `windows` out to allow sending at any time",
        );
    }
    for (i, window) in raw.windows.unwrap_or_default().into_iter().enumerate() {
        let at = format!("{base}/windows/{i}");
        let hours = parse_hours(&window.hours);
        if hours.is_none() {
            bad(
                format!("{at}/hours"),
                format!("`{}` is not a range of hours", window.hours),
                "write `HH:MM-HH:MM` with the start before the end, e.g. `08:00-18:00`; a window \
                 over midnight is two windows (`22:00-24:00` and `00:00-06:00` of the next days)",
            );
        }
        let zone = jiff::tz::db().get(&window.time_zone).ok();
        if zone.is_none() {
            bad(
                format!("{at}/timeZone"),
                format!("`{}` is not an IANA time zone", window.time_zone),
                "use a name of the IANA time zone database, e.g. `Europe/Berlin`, `America/New_York` or `UTC`",
            );
        }
        if window.days.is_empty() {
            bad(
                format!("{at}/days"),
                "a window needs at least one day".to_owned(),
                "list the days it is open, e.g. `[mon, tue, wed, thu, fri]`",
            );
        }
        if let (Some((start, end)), Some(zone)) = (hours, zone) {
            let days: Vec<&str> = window.days.iter().map(|d| day_name(*d)).collect();
            windows.push(Window {
                days: window.days.iter().map(|d| d.weekday()).collect(),
                start,
                end,
                time_zone: zone,
                text: format!("{} {} {}", days.join(","), window.hours, window.time_zone),
                zone_name: window.time_zone,
            });
        }
    }
    Rules {
        key: key.to_owned(),
        destinations,
        max_segments_per_plan: raw.max_segments_per_plan.map(|c| c.0),
        max_segments_per_apply: raw.max_segments_per_apply.map(|c| c.0),
        windows,
        min_interval,
        require_description: raw.require_description.unwrap_or(false),
        require_labels: raw.require_labels.unwrap_or(false),
    }
}

fn day_name(day: Day) -> &'static str {
    match day {
        Day::Mon => "mon",
        Day::Tue => "tue",
        Day::Wed => "wed",
        Day::Thu => "thu",
        Day::Fri => "fri",
        Day::Sat => "sat",
        Day::Sun => "sun",
    }
}

/// `08:00-18:00` as minutes after midnight, the start before the end; `None` otherwise.
fn parse_hours(text: &str) -> Option<(u16, u16)> {
    let (start, end) = text.split_once('-')?;
    let minutes = |t: &str| -> Option<u16> {
        let (h, m) = t.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
    };
    let (start, end) = (minutes(start)?, minutes(end)?);
    (start < end && start < 24 * 60).then_some((start, end))
}

/// Whether `key` can be a plan's sandbox ([`SANDBOX_PATTERN`]).
fn is_sandbox_name(key: &str) -> bool {
    let bytes = key.as_bytes();
    (1..=256).contains(&bytes.len())
        && bytes[0] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandbox_key_no_plan_can_have_is_refused() {
        let yaml = "apiVersion: aepact/policy-v1\nsandboxes:\n  Prod: {requireLabels: true}\n  dev-eu2: {}\n";
        let problems = Policy::parse(SourceFile::new("p.yaml", yaml)).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].message,
            "`Prod` is not a sandbox name: no plan's sandbox can match it"
        );
        assert!(is_sandbox_name("default") && is_sandbox_name("0dev"));
        assert!(!is_sandbox_name("-x") && !is_sandbox_name("") && !is_sandbox_name("a_b"));
    }

    #[test]
    fn shares_the_plan_patterns() {
        assert_eq!(UUID_PATTERN, crate::plan::model::UUID_PATTERN);
        assert_eq!(DURATION_PATTERN, crate::plan::model::DURATION_PATTERN);
        assert_eq!(SANDBOX_PATTERN, crate::plan::model::SANDBOX_PATTERN);
    }

    #[test]
    fn an_empty_list_of_windows_is_refused_not_read_as_no_rule() {
        let yaml = "apiVersion: aepact/policy-v1\nsandboxes:\n  prod:\n    windows: []\n";
        let problems = Policy::parse(SourceFile::new("p.yaml", yaml)).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].message, "`windows` lists no window");
    }

    #[test]
    fn reads_hours() {
        assert_eq!(parse_hours("08:00-18:00"), Some((480, 1080)));
        assert_eq!(parse_hours("00:00-24:00"), Some((0, 1440)));
        assert_eq!(parse_hours("18:00-08:00"), None);
        assert_eq!(parse_hours("8:00-18:00"), None);
        assert_eq!(parse_hours("08:00-24:30"), None);
        assert_eq!(parse_hours("08:60-09:00"), None);
    }
}
