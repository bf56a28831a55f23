//! Ad-hoc activation: `POST /data/core/activation/disflowprovider/adhocrun`, its body, its
//! rules in the order the platform checks them, and the runs it starts.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

use super::gateway;
use super::respond::{json_response, problem};
use crate::api::types::{AdhocResponse, Order};
use crate::emulator::app::{App, HttpResponse};
use crate::emulator::state::{
    JobStatus, Outcome, PROFILE_SCHEMA, Run, RunKind, Sandbox, date_of, new_etag, new_uuid,
};

/// The `Accept` media type that selects version 2 of the ad-hoc activation API.
pub const ADHOC_V2_MEDIA_TYPE: &str = "application/vnd.adobe.adhoc.activation+json";

/// Where a run's `statusURL` points, on the emulator's base URL.
const RUNS: &str = "/data/foundation/flowservice/runs";

/// Most segments in one ad-hoc job, per API version.
const MAX_SEGMENTS_V1: usize = 20;
const MAX_SEGMENTS_V2: usize = 80;

/// Whether the `Accept` header asks for version 2 of the ad-hoc API.
fn wants_v2(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            parts
                .next()
                .is_some_and(|t| t.eq_ignore_ascii_case(ADHOC_V2_MEDIA_TYPE))
                && parts.any(|p| {
                    p.split_once('=').is_some_and(|(k, v)| {
                        k.trim().eq_ignore_ascii_case("version")
                            && v.trim().trim_matches('"') == "2"
                    })
                })
        })
}

/// A rejected ad-hoc request.
struct Rejection {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
}

impl Rejection {
    fn bad(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "DEST-ADH-400",
            title: "Bad Request",
            detail: detail.into(),
        }
    }

    fn conflict(detail: String) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            code: "DEST-ADH-409",
            title: "Conflict",
            detail,
        }
    }

    fn into_response(self) -> HttpResponse {
        problem(self.status, self.code, self.title, self.detail)
    }
}

/// A well-formed ad-hoc request body: destination -> segments, in request order.
struct AdhocRequest {
    activation: Vec<(String, Vec<String>)>,
    export_ids: Option<Vec<u64>>,
}

fn parse_adhoc(body: &[u8], v2: bool) -> Result<AdhocRequest, Rejection> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Rejection::bad(format!("The request body is not valid JSON: {e}")))?;
    let Value::Object(top) = value else {
        return Err(Rejection::bad(
            "The request body must be a JSON object with `activationInfo`.",
        ));
    };
    for key in top.keys() {
        if key != "activationInfo" && key != "exportIds" {
            return Err(Rejection::bad(format!(
                "Unknown field `{key}`: the body has `activationInfo` and, optionally under version 2, `exportIds`."
            )));
        }
    }
    let Some(info) = top.get("activationInfo") else {
        return Err(Rejection::bad("`activationInfo` is required."));
    };
    let Value::Object(info) = info else {
        return Err(Rejection::bad(
            "`activationInfo` must be an object: destination ID -> array of segment IDs.",
        ));
    };
    if info.is_empty() {
        return Err(Rejection::bad("`activationInfo` names no destination."));
    }
    let mut activation = Vec::new();
    for (dest, segments) in info {
        let Value::Array(segments) = segments else {
            return Err(Rejection::bad(format!(
                "`activationInfo.{dest}` must be an array of segment IDs."
            )));
        };
        if segments.is_empty() {
            return Err(Rejection::bad(format!(
                "`activationInfo.{dest}` lists no segment."
            )));
        }
        let mut ids = Vec::new();
        let mut seen = HashSet::new();
        for segment in segments {
            let Some(id) = segment.as_str() else {
                return Err(Rejection::bad(format!(
                    "`activationInfo.{dest}` must hold segment IDs as strings, not `{segment}`."
                )));
            };
            let id = id.to_ascii_lowercase();
            if !seen.insert(id.clone()) {
                return Err(Rejection::bad(format!(
                    "Segment {id} is listed twice for destination {dest}."
                )));
            }
            ids.push(id);
        }
        activation.push((dest.to_ascii_lowercase(), ids));
    }
    let export_ids = match top.get("exportIds") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(Rejection::bad(
                    "`exportIds` is empty: give the ID of the latest profile export job.",
                ));
            }
            let mut ids = Vec::new();
            for item in items {
                let id = match item {
                    Value::String(s) => s.trim().parse::<u64>().ok(),
                    Value::Number(n) => n.as_u64(),
                    _ => None,
                };
                match id {
                    Some(id) => ids.push(id),
                    None => {
                        return Err(Rejection::bad(format!(
                            "`exportIds` must hold export job IDs (digits), not `{item}`."
                        )));
                    }
                }
            }
            Some(ids)
        }
        Some(other) => {
            return Err(Rejection::bad(format!(
                "`exportIds` must be an array of export job IDs, not `{other}`."
            )));
        }
    };
    if export_ids.is_none() && !v2 {
        return Err(Rejection::bad(format!(
            "`exportIds` is required: give the ID of the latest profile export job (or send `Accept: {ADHOC_V2_MEDIA_TYPE}; version=2`, where it is optional)."
        )));
    }
    Ok(AdhocRequest {
        activation,
        export_ids,
    })
}

/// `POST /data/core/activation/disflowprovider/adhocrun`.
pub(super) async fn post(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let caller = match app.read(|world| gateway::check(world, &headers, &method)) {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let v2 = wants_v2(&headers);
    let request = match parse_adhoc(&body, v2) {
        Ok(r) => r,
        Err(rejection) => return rejection.into_response(),
    };
    let duration = app.run_duration_ms;
    let outcome = app.write(|world| -> Result<_, Rejection> {
        let now = world.now();
        let sandbox = world
            .sandboxes
            .get_mut(&caller.sandbox)
            .ok_or_else(|| Rejection::bad(format!("Sandbox {} does not exist.", caller.sandbox)))?;
        check_adhoc(sandbox, &request, v2, now)?;
        let mut order = Vec::new();
        for (dest, segments) in &request.activation {
            for segment_id in segments {
                let segment = sandbox.segment(segment_id);
                let run = Run {
                    id: new_uuid(),
                    flow_id: dest.clone(),
                    segment_id: segment_id.clone(),
                    client_id: caller.client_id.clone(),
                    kind: RunKind::Adhoc,
                    created_at: now,
                    duration_ms: duration,
                    outcome: segment.map_or(Outcome::Success, |s| s.outcome),
                    profiles: segment.map_or(0, |s| s.profiles),
                    etag: new_etag(),
                };
                order.push(Order {
                    segment: segment_id.clone(),
                    order: dest.clone(),
                    status_url: format!("{}{RUNS}/{}", app.base_url, run.id),
                });
                sandbox.runs.push(run);
            }
        }
        Ok((order, true))
    });
    match outcome {
        Ok(Ok(order)) => json_response(StatusCode::OK, &AdhocResponse { order }),
        Ok(Err(rejection)) => rejection.into_response(),
        Err(err) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "EMU-0500-500",
            "Internal Server Error",
            format!("the emulator could not save its state: {err}"),
        ),
    }
}

/// The platform's rules for an ad-hoc job, in the order we check them: the segment limit,
/// destinations, mappings and schedules, export IDs, then the two "try again later" conditions
/// (a running export job, a run still going for a segment).
fn check_adhoc(
    sandbox: &Sandbox,
    request: &AdhocRequest,
    v2: bool,
    now: i64,
) -> Result<(), Rejection> {
    let distinct: HashSet<&str> = request
        .activation
        .iter()
        .flat_map(|(_, segs)| segs.iter().map(String::as_str))
        .collect();
    let (limit, noun) = if v2 {
        (MAX_SEGMENTS_V2, "audiences")
    } else {
        (MAX_SEGMENTS_V1, "segments")
    };
    if distinct.len() > limit {
        return Err(Rejection::bad(format!(
            "An ad-hoc activation job can activate at most {limit} {noun}; this one has {}.",
            distinct.len()
        )));
    }
    let today = date_of(now);
    for (dest, segments) in &request.activation {
        let flow = match sandbox.flow(dest) {
            Some(flow) if flow.destination => flow,
            Some(_) => {
                return Err(Rejection {
                    status: StatusCode::BAD_REQUEST,
                    code: "DEST-ADH-400",
                    title: "Bad Request",
                    detail: format!("Dataflow {dest} is not a destination dataflow."),
                });
            }
            None => {
                return Err(Rejection {
                    status: StatusCode::NOT_FOUND,
                    code: "DEST-ADH-404",
                    title: "Not Found",
                    detail: format!(
                        "Destination {dest} was not found: no destination dataflow has this ID in this sandbox."
                    ),
                });
            }
        };
        if !flow.enabled {
            return Err(Rejection::bad(format!(
                "Dataflow {dest} is disabled: enable it before activating segments through it."
            )));
        }
        let outside: Vec<String> = segments
            .iter()
            .filter(|s| {
                !flow
                    .selectors
                    .iter()
                    .any(|sel| &sel.segment_id == *s && sel.covers(&today))
            })
            .map(|s| {
                sandbox
                    .segment(s)
                    .map_or_else(|| s.clone(), |seg| seg.name.clone())
            })
            .collect();
        if !outside.is_empty() {
            return Err(Rejection::bad(format!(
                "Segments {} are not part of this dataflow or out of schedule range!",
                outside.join(", ")
            )));
        }
    }
    if let Some(ids) = &request.export_ids {
        for id in ids {
            match sandbox.export_job(*id) {
                None => {
                    return Err(Rejection::bad(format!(
                        "Export job {id} does not exist in this sandbox."
                    )));
                }
                Some(job) if job.schema != PROFILE_SCHEMA => {
                    return Err(Rejection::bad(format!(
                        "Export job {id} is not a profile export job (its schema is {}, not {PROFILE_SCHEMA}).",
                        job.schema
                    )));
                }
                Some(job) if job.status != JobStatus::Succeeded => {
                    return Err(Rejection::bad(format!(
                        "Export job {id} has not succeeded (its status is {}).",
                        job.status.as_str()
                    )));
                }
                Some(_) => {}
            }
        }
    }
    if let Some(job) = sandbox.running_export_job() {
        return Err(Rejection::conflict(format!(
            "Ad-hoc activation jobs cannot run while the scheduled segment export job {} is processing. Try again after it finishes.",
            job.id
        )));
    }
    let noun = if v2 { "audience" } else { "segment" };
    for (_, segments) in &request.activation {
        for segment in segments {
            if let Some(run) = sandbox.active_run(segment, now) {
                return Err(Rejection::conflict(format!(
                    "Run already going on for {noun} {segment} for order {} with run id {}",
                    run.flow_id, run.id
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn v2_is_chosen_by_the_accept_header_only() {
        let mut headers = HeaderMap::new();
        assert!(!wants_v2(&headers));
        headers.insert(
            "accept",
            HeaderValue::from_static("application/vnd.adobe.adhoc.activation+json; version=2"),
        );
        assert!(wants_v2(&headers));
        headers.insert(
            "accept",
            HeaderValue::from_static(
                "application/json, application/vnd.adobe.adhoc.activation+json;version=\"2\"",
            ),
        );
        assert!(wants_v2(&headers));
        headers.insert(
            "accept",
            HeaderValue::from_static("application/vnd.adobe.adhoc.activation+json; version=1"),
        );
        assert!(!wants_v2(&headers));
    }
}
