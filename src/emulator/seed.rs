//! Seed files: the YAML that describes a world (`--seed FILE`), and the built-in demo world.
//!
//! A seed is what a person writes: names, mappings and relative times. [`Seed::build`] turns it
//! into a [`World`] with concrete timestamps, connection IDs and etags. The demo world is itself
//! a seed (`demo-world.yaml`, compiled in), so the format is exercised every time the emulator
//! starts. YAML goes through the plan loader (`plan::load`), so seed errors point at their line
//! and column: the checks here blame nodes by JSON pointer, and serde's own errors (unknown
//! keys, wrong types) are placed by the path `serde_path_to_error` records.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use super::error::EmulatorError;
use super::state::{
    Client, ExportJob, Flow, JobStatus, Outcome, PROFILE_SCHEMA, STATE_FORMAT, Sandbox, Segment,
    Selector, World, date_of, days_of, is_uuid, new_etag, new_hex24, new_uuid,
};
use crate::plan::diags::{Code, Diagnostic};
use crate::plan::source::SourceFile;
use crate::plan::{load, read};

/// The demo world's seed, compiled into the binary.
pub(super) const DEMO_SEED: &str = include_str!("demo-world.yaml");

/// A world as described in a seed file. See `docs/emulator.md` for the format.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// The IMS org ID, `<24 hex digits>@AdobeOrg`.
    pub(crate) org: String,
    /// OAuth server-to-server credentials that may get tokens.
    pub clients: Vec<SeedClient>,
    /// Sandboxes by name.
    pub(crate) sandboxes: BTreeMap<String, SeedSandbox>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedClient {
    pub id: String,
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SeedSandbox {
    /// The sandbox UUID; random when left out.
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) segments: Vec<SeedSegment>,
    #[serde(default)]
    pub(crate) dataflows: Vec<SeedFlow>,
    #[serde(default)]
    pub(crate) export_jobs: Vec<SeedExportJob>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SeedSegment {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(default = "default_profiles")]
    pub(crate) profiles: u64,
    #[serde(default = "default_outcome")]
    pub(crate) outcome: Outcome,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SeedFlow {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(default = "yes")]
    pub(crate) enabled: bool,
    #[serde(default = "yes")]
    pub(crate) destination: bool,
    #[serde(default)]
    pub(crate) segments: Vec<SeedSelector>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SeedSelector {
    pub(crate) id: String,
    #[serde(default = "default_frequency")]
    pub(crate) frequency: String,
    #[serde(default = "default_start_date")]
    pub(crate) start_date: String,
    #[serde(default)]
    pub(crate) end_date: Option<String>,
    #[serde(default = "default_start_time")]
    pub(crate) start_time: String,
    /// `false`: the dataflow's selector leaves the segment's name out (the Segmentation API
    /// still has it).
    #[serde(default = "yes")]
    pub(crate) named: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SeedExportJob {
    pub(crate) id: u64,
    pub(crate) status: JobStatus,
    #[serde(default = "default_schema")]
    pub(crate) schema: String,
    /// How long before the world's creation the job was created.
    #[serde(default)]
    pub(crate) hours_ago: f64,
    #[serde(default)]
    pub(crate) profiles: u64,
}

fn default_profiles() -> u64 {
    1000
}
fn default_outcome() -> Outcome {
    Outcome::Success
}
fn yes() -> bool {
    true
}
fn default_frequency() -> String {
    "DAILY".into()
}
fn default_start_date() -> String {
    "today-30".into()
}
fn default_start_time() -> String {
    "08:00".into()
}
fn default_schema() -> String {
    PROFILE_SCHEMA.into()
}

impl Seed {
    /// The built-in demo world.
    pub fn demo() -> Self {
        // The demo seed is compiled in and covered by a test: failing here is a bug.
        Self::from_source(&SourceFile::new("demo-world.yaml", DEMO_SEED))
            .expect("the built-in demo world is a valid seed (this is a bug)")
    }

    /// Reads and checks a seed file.
    pub(crate) fn read(path: &Path) -> Result<Self, EmulatorError> {
        let display = path.display().to_string();
        let source = read::read_source(path, &display).map_err(|d| EmulatorError::Seed {
            path: display.clone(),
            diagnostics: vec![d],
        })?;
        Self::from_source(&source).map_err(|diagnostics| EmulatorError::Seed {
            path: display,
            diagnostics,
        })
    }

    /// Parses and checks a seed from YAML text.
    ///
    /// Returns the seed, or every problem found.
    pub(crate) fn from_source(source: &SourceFile) -> Result<Self, Vec<Diagnostic>> {
        let doc = load::parse(source)?;
        let seed: Seed = serde_path_to_error::deserialize(&doc.value)
            .map_err(|err| vec![shape_error(source, &doc, &err)])?;
        let mut diags = Vec::new();
        let mut problem = |pointer: String, message: String| {
            let span = doc.spans.blame(&pointer, None);
            diags.push(
                Diagnostic::at(Code::InvalidValue, source, span, message).with_pointer(pointer),
            );
        };
        if !is_org_id(&seed.org) {
            problem(
                "/org".into(),
                format!(
                    "`{}` is not an IMS org ID (24 hex digits, then `@AdobeOrg`)",
                    seed.org
                ),
            );
        }
        if seed.clients.is_empty() {
            problem(
                "/clients".into(),
                "a world needs at least one client".into(),
            );
        }
        if seed.sandboxes.is_empty() {
            problem(
                "/sandboxes".into(),
                "a world needs at least one sandbox".into(),
            );
        }
        let mut job_ids = HashSet::new();
        for (name, sb) in &seed.sandboxes {
            let at = format!("/sandboxes/{}", load::escape_pointer_segment(name));
            if !is_sandbox_name(name) {
                problem(
                    at.clone(),
                    format!(
                        "`{name}` is not a sandbox name (lowercase letters, digits and hyphens)"
                    ),
                );
            }
            if let Some(id) = &sb.id
                && !is_uuid(id)
            {
                problem(format!("{at}/id"), format!("`{id}` is not a UUID"));
            }
            let mut segment_ids = HashSet::new();
            for (i, seg) in sb.segments.iter().enumerate() {
                if !is_uuid(&seg.id) {
                    problem(
                        format!("{at}/segments/{i}/id"),
                        format!("`{}` is not a UUID", seg.id),
                    );
                }
                if !segment_ids.insert(seg.id.to_ascii_lowercase()) {
                    problem(
                        format!("{at}/segments/{i}/id"),
                        format!("segment `{}` is listed twice", seg.id),
                    );
                }
            }
            let mut flow_ids = HashSet::new();
            for (i, flow) in sb.dataflows.iter().enumerate() {
                let fat = format!("{at}/dataflows/{i}");
                if !is_uuid(&flow.id) {
                    problem(format!("{fat}/id"), format!("`{}` is not a UUID", flow.id));
                }
                if !flow_ids.insert(flow.id.to_ascii_lowercase()) {
                    problem(
                        format!("{fat}/id"),
                        format!("dataflow `{}` is listed twice", flow.id),
                    );
                }
                if !flow.destination && !flow.segments.is_empty() {
                    problem(
                        format!("{fat}/segments"),
                        "a source dataflow (`destination: false`) maps no segments".into(),
                    );
                }
                let mut mapped = HashSet::new();
                for (j, sel) in flow.segments.iter().enumerate() {
                    let sat = format!("{fat}/segments/{j}");
                    if !segment_ids.contains(&sel.id.to_ascii_lowercase()) {
                        problem(
                            format!("{sat}/id"),
                            format!("segment `{}` is not among this sandbox's segments", sel.id),
                        );
                    }
                    if !mapped.insert(sel.id.to_ascii_lowercase()) {
                        problem(
                            format!("{sat}/id"),
                            format!("segment `{}` is mapped twice to this dataflow", sel.id),
                        );
                    }
                    if resolve_date(&sel.start_date, 0).is_none() {
                        problem(
                            format!("{sat}/startDate"),
                            format!(
                                "`{}` is not a date (`YYYY-MM-DD`, `today`, `today-N` or `today+N`)",
                                sel.start_date
                            ),
                        );
                    }
                    if let Some(end) = &sel.end_date
                        && resolve_date(end, 0).is_none()
                    {
                        problem(
                            format!("{sat}/endDate"),
                            format!(
                                "`{end}` is not a date (`YYYY-MM-DD`, `today`, `today-N` or `today+N`)"
                            ),
                        );
                    }
                }
            }
            for (i, job) in sb.export_jobs.iter().enumerate() {
                if !job_ids.insert(job.id) {
                    problem(
                        format!("{at}/exportJobs/{i}/id"),
                        format!(
                            "export job {} is listed twice (IDs are unique across sandboxes)",
                            job.id
                        ),
                    );
                }
                if !(job.hours_ago.is_finite() && job.hours_ago >= 0.0) {
                    problem(
                        format!("{at}/exportJobs/{i}/hoursAgo"),
                        "`hoursAgo` must be zero or more".into(),
                    );
                }
            }
        }
        if diags.is_empty() {
            Ok(seed)
        } else {
            Err(diags)
        }
    }

    /// Builds the world at the instant `now` (epoch ms, virtual clock), keeping `clock_offset_ms`.
    pub(crate) fn build(&self, now: i64, clock_offset_ms: i64) -> World {
        let mut sandboxes = BTreeMap::new();
        let mut next_job = 1;
        for (name, sb) in &self.sandboxes {
            let segments = sb
                .segments
                .iter()
                .map(|s| Segment {
                    id: s.id.to_ascii_lowercase(),
                    name: s.name.clone(),
                    profiles: s.profiles,
                    outcome: s.outcome,
                })
                .collect();
            let flows = sb
                .dataflows
                .iter()
                .map(|f| Flow {
                    id: f.id.to_ascii_lowercase(),
                    name: f.name.clone(),
                    destination: f.destination,
                    enabled: f.enabled,
                    created_at: now - 180 * 86_400_000,
                    etag: new_etag(),
                    source_connection_id: new_uuid(),
                    target_connection_id: new_uuid(),
                    selectors: f
                        .segments
                        .iter()
                        .map(|s| Selector {
                            segment_id: s.id.to_ascii_lowercase(),
                            frequency: s.frequency.clone(),
                            start_date: resolve_date(&s.start_date, now)
                                .unwrap_or_else(|| s.start_date.clone()),
                            end_date: s
                                .end_date
                                .as_ref()
                                .map(|e| resolve_date(e, now).unwrap_or_else(|| e.clone())),
                            start_time: s.start_time.clone(),
                            named: s.named,
                        })
                        .collect(),
                })
                .collect();
            let mut export_jobs: Vec<ExportJob> = sb
                .export_jobs
                .iter()
                .map(|j| {
                    next_job = next_job.max(j.id + 1);
                    let created_at = now - (j.hours_ago * 3_600_000.0) as i64;
                    // A finished job took 42 minutes, or as long as it has existed when it
                    // was created less than that ago: never finished in the future.
                    let updated_at = if j.status.is_running() {
                        created_at
                    } else {
                        (created_at + 42 * 60_000).min(now)
                    };
                    ExportJob {
                        id: j.id,
                        status: j.status,
                        schema: j.schema.clone(),
                        created_at,
                        updated_at,
                        profiles: j.profiles,
                        dataset_id: new_hex24(),
                        batch_id: uuid::Uuid::new_v4().simple().to_string(),
                        request_id: new_uuid(),
                    }
                })
                .collect();
            export_jobs.sort_by_key(|j| std::cmp::Reverse((j.created_at, j.id)));
            sandboxes.insert(
                name.clone(),
                Sandbox {
                    id: sb.id.clone().unwrap_or_else(new_uuid),
                    segments,
                    flows,
                    export_jobs,
                    runs: Vec::new(),
                },
            );
        }
        World {
            format: STATE_FORMAT,
            org_id: self.org.clone(),
            clients: self
                .clients
                .iter()
                .map(|c| Client::new(c.id.clone(), &c.secret))
                .collect(),
            token_key: uuid::Uuid::new_v4().as_u64_pair().0,
            clock_offset_ms,
            created_at: now,
            next_export_job_id: next_job,
            sandboxes,
        }
    }
}

/// A seed that does not fit the format (an unknown key, a missing one, a wrong type, an unknown
/// status), at the key or value serde stopped at (issue 14: these had no line or column).
fn shape_error(
    source: &SourceFile,
    doc: &load::Document,
    err: &serde_path_to_error::Error<serde_json::Error>,
) -> Diagnostic {
    let pointer = load::pointer_of(err.path());
    let message = err.inner().to_string();
    let code = if message.starts_with("unknown field") {
        Code::UnknownKey
    } else if message.starts_with("missing field") {
        Code::MissingKey
    } else if message.starts_with("invalid type") {
        Code::WrongType
    } else {
        Code::InvalidValue
    };
    // An unknown key is blamed by its name; anything else by its value (a mapping by its key).
    let span = match code {
        Code::UnknownKey => doc
            .spans
            .key(&pointer)
            .unwrap_or_else(|| doc.spans.node(&pointer)),
        _ => doc.spans.blame(&pointer, doc.value.pointer(&pointer)),
    };
    Diagnostic::at(code, source, span, format!("invalid seed: {message}"))
        .with_pointer(pointer)
        .with_help("see the seed format in docs/emulator.md; the built-in demo world (`src/emulator/demo-world.yaml`) is a complete example")
}

/// Resolves `YYYY-MM-DD`, `today`, `today-N` or `today+N` (days) against the instant `now`.
pub(super) fn resolve_date(text: &str, now: i64) -> Option<String> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("today") {
        let offset: i64 = match rest.as_bytes().first() {
            None => 0,
            Some(b'-') => -rest[1..].parse::<u16>().ok().map(i64::from)?,
            Some(b'+') => rest[1..].parse::<u16>().ok().map(i64::from)?,
            Some(_) => return None,
        };
        return Some(date_of(now + offset * 86_400_000));
    }
    days_of(text).map(|_| text.to_owned())
}

/// Whether `text` is an IMS org ID: 24 hex digits and `@AdobeOrg`.
pub(super) fn is_org_id(text: &str) -> bool {
    text.strip_suffix("@AdobeOrg")
        .is_some_and(|hex| hex.len() == 24 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_sandbox_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_world_is_a_valid_seed_with_the_example_ids() {
        let world = Seed::demo().build(1_764_400_000_000, 0);
        let prod = &world.sandboxes["prod"];
        let email = prod.flow("0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f").unwrap();
        assert_eq!(email.name, "Email vendor (SFTP)");
        assert_eq!(email.selectors.len(), 16);
        let dev = &world.sandboxes["dev"];
        assert_eq!(dev.export_job(11037).unwrap().status, JobStatus::Succeeded);
        let segments: usize = world.sandboxes.values().map(|s| s.segments.len()).sum();
        assert!((28..=40).contains(&segments), "{segments} segments");
        let destinations: usize = world
            .sandboxes
            .values()
            .map(|s| s.flows.iter().filter(|f| f.destination).count())
            .sum();
        assert_eq!(destinations, 3);
        assert_eq!(world.next_export_job_id, 11045);
    }

    #[test]
    fn a_finished_job_seeded_moments_ago_did_not_finish_in_the_future() {
        let text = "org: A1B2C3D4E5F6A7B8C9D0E1F2@AdobeOrg\nclients: [{id: c, secret: s}]\nsandboxes:\n  prod:\n    exportJobs: [{id: 7, status: SUCCEEDED}, {id: 8, status: FAILED, hoursAgo: 3}]\n";
        let seed = Seed::from_source(&SourceFile::new("s.yaml", text)).unwrap();
        let now = 1_764_400_000_000;
        let world = seed.build(now, 0);
        let prod = &world.sandboxes["prod"];
        let fresh = prod.export_job(7).unwrap();
        assert_eq!((fresh.created_at, fresh.updated_at), (now, now));
        let old = prod.export_job(8).unwrap();
        assert_eq!(old.updated_at - old.created_at, 42 * 60_000);
        assert!(old.updated_at <= now);
    }

    #[test]
    fn relative_dates_resolve_against_now() {
        let now = 1_764_400_000_000; // 2025-11-29
        assert_eq!(resolve_date("today", now).unwrap(), "2025-11-29");
        assert_eq!(resolve_date("today-30", now).unwrap(), "2025-10-30");
        assert_eq!(resolve_date("today+3", now).unwrap(), "2025-12-02");
        assert_eq!(resolve_date("2026-01-31", now).unwrap(), "2026-01-31");
        assert_eq!(resolve_date("tomorrow", now), None);
        assert_eq!(resolve_date("today-x", now), None);
    }

    #[test]
    fn seed_errors_point_at_their_line() {
        let text = "org: nope\nclients: []\nsandboxes:\n  prod:\n    segments:\n      - { id: not-a-uuid, name: x }\n";
        let diags = Seed::from_source(&SourceFile::new("s.yaml", text)).unwrap_err();
        let messages: Vec<_> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("IMS org ID"));
        assert!(diags[2].position().is_some());
    }
}
