//! `/_emulator/…`: the emulator's own control endpoints, for tests and demos.
//!
//! They are not part of the platform: no gateway checks, no faults, not in the request log.
//! Bodies are JSON; errors are `{"error": "…"}` with status 400, 404 or 409.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::app::{App, HttpResponse};
use super::faults::Fault;
use super::state::{
    ExportJob, JobStatus, Outcome, PROFILE_SCHEMA, Run, RunKind, new_etag, new_hex24, new_uuid,
};

pub(crate) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/_emulator/info", get(info))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/clock", get(clock).post(advance_clock))
        .route("/_emulator/export-jobs", post(start_export_job))
        .route("/_emulator/runs", post(create_runs))
        .route(
            "/_emulator/export-jobs/{id}/finish",
            post(finish_export_job),
        )
        .route(
            "/_emulator/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_emulator/requests", get(requests).delete(clear_requests))
}

fn reply(status: StatusCode, body: Value) -> HttpResponse {
    let mut response = HttpResponse::new(axum::body::Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

fn error(status: StatusCode, message: impl Into<String>) -> HttpResponse {
    reply(status, json!({"error": message.into()}))
}

/// Parses an optional JSON body; an empty body is `T::default()`.
fn body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, HttpResponse> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

fn save_failed(err: super::error::EmulatorError) -> HttpResponse {
    error(StatusCode::INTERNAL_SERVER_ERROR, format!("{err}"))
}

/// The answer to a change made with [`App::write`]: its JSON, the refusal it returned, or a 500
/// when the state file could not be saved.
fn answer_change(
    result: Result<Result<Value, HttpResponse>, super::error::EmulatorError>,
) -> HttpResponse {
    match result {
        Ok(Ok(body)) => reply(StatusCode::OK, body),
        Ok(Err(response)) => response,
        Err(err) => save_failed(err),
    }
}

/// `GET /_emulator/info`: base URLs, org, client ID and sandboxes.
async fn info(State(app): State<Arc<App>>) -> HttpResponse {
    let info = app.info();
    reply(
        StatusCode::OK,
        json!({
            "platformUrl": info.platform_url,
            "imsUrl": info.ims_url,
            "orgId": info.org_id,
            "clientId": info.client_id,
            "sandboxes": info.sandboxes,
            "runDurationMs": app.run_duration_ms,
            "demo": info.is_demo,
        }),
    )
}

/// `POST /_emulator/reset`: the world as first seeded (fresh times, clock offset zero); clears
/// faults and the request log.
async fn reset(State(app): State<Arc<App>>) -> HttpResponse {
    let now = super::state::system_now_ms();
    let fresh = app.seed.build(now, 0);
    let result = app.write(|world| {
        *world = fresh;
        Ok::<_, ()>(((), true))
    });
    if let Err(err) = result {
        return save_failed(err);
    }
    {
        let mut inner = app.lock();
        inner.faults.clear();
        inner.log.clear();
    }
    reply(StatusCode::OK, json!({"reset": true}))
}

/// `GET /_emulator/clock`: the virtual now.
async fn clock(State(app): State<Arc<App>>) -> HttpResponse {
    app.read(|world| {
        reply(
            StatusCode::OK,
            json!({"now": world.now(), "offsetMs": world.clock_offset_ms}),
        )
    })
}

/// How far the virtual clock may run ahead, so that no time arithmetic can overflow.
const MAX_CLOCK_OFFSET_MS: i64 = 100 * 366 * 86_400_000;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Advance {
    advance_ms: u64,
}

/// `POST /_emulator/clock` `{"advanceMs": N}`: moves the virtual clock forward (runs progress,
/// tokens expire, schedules move).
async fn advance_clock(State(app): State<Arc<App>>, bytes: Bytes) -> HttpResponse {
    let advance: Advance = match body(&bytes) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let too_far = || {
        error(
            StatusCode::BAD_REQUEST,
            format!("the clock may move at most {MAX_CLOCK_OFFSET_MS} ms (about 100 years) in all"),
        )
    };
    let Ok(ms) = i64::try_from(advance.advance_ms) else {
        return too_far();
    };
    match app.write(|world| {
        let offset = world.clock_offset_ms.saturating_add(ms);
        if offset > MAX_CLOCK_OFFSET_MS {
            return Err(());
        }
        world.clock_offset_ms = offset;
        Ok(((world.now(), offset), ms != 0))
    }) {
        Ok(Ok((now, offset))) => reply(StatusCode::OK, json!({"now": now, "offsetMs": offset})),
        Ok(Err(())) => too_far(),
        Err(err) => save_failed(err),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StartJob {
    sandbox: Option<String>,
    schema: Option<String>,
    profiles: Option<u64>,
}

/// `POST /_emulator/export-jobs` `{"sandbox": "prod"}`: a scheduled segment export job starts
/// (status `PROCESSING`); ad-hoc jobs in that sandbox are refused until it finishes.
async fn start_export_job(State(app): State<Arc<App>>, bytes: Bytes) -> HttpResponse {
    let start: StartJob = match body(&bytes) {
        Ok(s) => s,
        Err(response) => return response,
    };
    let sandbox = start.sandbox.unwrap_or_else(|| "prod".into());
    let result = app.write(|world| {
        let now = world.now();
        let id = world.next_export_job_id;
        let org = world.org_id.clone();
        let Some(sb) = world.sandboxes.get_mut(&sandbox) else {
            return Err(error(
                StatusCode::NOT_FOUND,
                format!("no sandbox `{sandbox}`"),
            ));
        };
        let job = ExportJob {
            id,
            status: JobStatus::Processing,
            schema: start.schema.unwrap_or_else(|| PROFILE_SCHEMA.into()),
            created_at: now,
            updated_at: now,
            profiles: start.profiles.unwrap_or(1_000_000),
            dataset_id: new_hex24(),
            batch_id: uuid::Uuid::new_v4().simple().to_string(),
            request_id: new_uuid(),
        };
        let json = json!(job.to_api(&org));
        sb.export_jobs.insert(0, job);
        world.next_export_job_id += 1;
        Ok((json, true))
    });
    answer_change(result)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FinishJob {
    status: Option<String>,
}

/// `POST /_emulator/export-jobs/{id}/finish` `{"status": "SUCCEEDED" | "FAILED"}`.
async fn finish_export_job(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> HttpResponse {
    let finish: FinishJob = match body(&bytes) {
        Ok(f) => f,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("`{id}` is not an export job ID"),
        );
    };
    let status = match finish.status.as_deref().map(JobStatus::parse) {
        None => JobStatus::Succeeded,
        Some(Some(s @ (JobStatus::Succeeded | JobStatus::Failed))) => s,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "`status` must be SUCCEEDED or FAILED",
            );
        }
    };
    let result = app.write(|world| {
        let now = world.now();
        let org = world.org_id.clone();
        let Some((_, job)) = world.export_job_mut(id) else {
            return Err(error(StatusCode::NOT_FOUND, format!("no export job {id}")));
        };
        if !job.status.is_running() {
            return Err(error(
                StatusCode::CONFLICT,
                format!(
                    "export job {id} is not running (its status is {})",
                    job.status.as_str()
                ),
            ));
        }
        job.status = status;
        job.updated_at = now;
        Ok((json!(job.to_api(&org)), true))
    });
    answer_change(result)
}

/// How far in the future `createdAt` may put a run (a year), so no time arithmetic overflows.
const MAX_FUTURE_MS: i64 = 366 * 86_400_000;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewRuns {
    sandbox: Option<String>,
    flow_id: Option<String>,
    segments: Option<Vec<String>>,
    /// Epoch ms (virtual clock); may be in the future.
    created_at: Option<i64>,
    /// How long before now, as `--run-duration` spells durations (`10h`, `30m`); never ahead.
    ago: Option<String>,
    outcome: Option<Outcome>,
    duration_ms: Option<u64>,
    kind: Option<RunKind>,
    /// The API client of an `adhoc` run (the world's first client by default).
    client_id: Option<String>,
}

/// `POST /_emulator/runs` `{"flowId", "segments": [...], "ago": "10h", ...}`: runs that no
/// ad-hoc request of ours started, as the platform's scheduler (last night's export) or a
/// click on "Export file now" makes them. One run per segment (our choice: the shape of a real
/// scheduled run, with many entity summaries, is UNCONFIRMED).
///
/// Returns `{"runs": [run]}`, each as `GET /runs/{id}` shows it.
async fn create_runs(State(app): State<Arc<App>>, bytes: Bytes) -> HttpResponse {
    let new: NewRuns = match body(&bytes) {
        Ok(n) => n,
        Err(response) => return response,
    };
    let bad = |message: String| error(StatusCode::BAD_REQUEST, message);
    let Some(flow_id) = new.flow_id.as_deref().map(str::to_ascii_lowercase) else {
        return bad("`flowId` is required: the dataflow the runs belong to".into());
    };
    let segments: Vec<String> = new
        .segments
        .iter()
        .flatten()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    if segments.is_empty() {
        return bad("`segments` must list at least one segment ID (one run each)".into());
    }
    if let Some(twice) = segments
        .iter()
        .enumerate()
        .find_map(|(i, s)| segments[..i].contains(s).then_some(s))
    {
        return bad(format!("segment `{twice}` is listed twice in `segments`"));
    }
    let ago_ms = match new.ago.as_deref().map(crate::time::parse_duration) {
        None => None,
        Some(Ok(d)) => Some(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        Some(Err(message)) => return bad(format!("`ago`: {message}")),
    };
    if ago_ms.is_some() && new.created_at.is_some() {
        return bad("give `createdAt` or `ago`, not both".into());
    }
    let duration_ms = new.duration_ms.unwrap_or(app.run_duration_ms);
    if duration_ms > super::app::MAX_RUN_DURATION_MS {
        return bad(format!(
            "`durationMs` must be at most {} (a year)",
            super::app::MAX_RUN_DURATION_MS
        ));
    }
    let kind = new.kind.unwrap_or(RunKind::Scheduled);
    if new.client_id.is_some() && kind != RunKind::Adhoc {
        return bad("`clientId` is for `\"kind\": \"adhoc\"` runs only".into());
    }
    let sandbox_name = new.sandbox.unwrap_or_else(|| "prod".into());
    let result = app.write(|world| {
        let now = world.now();
        let created_at = match (new.created_at, ago_ms) {
            (Some(at), _) if !(0..=now.saturating_add(MAX_FUTURE_MS)).contains(&at) => {
                return Err(bad(format!(
                    "`createdAt` must be an epoch-ms instant from 0 to a year from now ({now})"
                )));
            }
            (Some(at), _) => at,
            (None, Some(ago)) => now.saturating_sub(ago),
            (None, None) => now,
        };
        let client_id = match (kind, new.client_id) {
            (RunKind::Adhoc, Some(id)) if world.client(&id).is_none() => {
                return Err(bad(format!("no client `{id}` in this world")));
            }
            (RunKind::Adhoc, Some(id)) => id,
            (RunKind::Adhoc, None) => world
                .clients
                .first()
                .map(|c| c.id.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        let known: Vec<String> = world.sandboxes.keys().cloned().collect();
        let Some(sandbox) = world.sandboxes.get_mut(&sandbox_name) else {
            return Err(bad(format!(
                "no sandbox `{sandbox_name}`; this world has {}",
                known.join(", ")
            )));
        };
        let Some(flow) = sandbox.flow(&flow_id) else {
            return Err(bad(format!(
                "no dataflow `{flow_id}` in sandbox `{sandbox_name}`"
            )));
        };
        if !flow.destination {
            return Err(bad(format!(
                "dataflow `{flow_id}` ({}) is a source dataflow: it activates no segments",
                flow.name
            )));
        }
        let mut runs = Vec::new();
        for segment_id in &segments {
            let Some(segment) = sandbox.segment(segment_id) else {
                return Err(bad(format!(
                    "no segment `{segment_id}` in sandbox `{sandbox_name}`"
                )));
            };
            if !flow.selectors.iter().any(|s| &s.segment_id == segment_id) {
                return Err(bad(format!(
                    "segment `{segment_id}` ({}) is not mapped by dataflow `{flow_id}` ({})",
                    segment.name, flow.name
                )));
            }
            runs.push(Run {
                id: new_uuid(),
                flow_id: flow_id.clone(),
                segment_id: segment_id.clone(),
                client_id: client_id.clone(),
                kind,
                created_at,
                duration_ms,
                outcome: new.outcome.unwrap_or(Outcome::Success),
                profiles: segment.profiles,
                etag: new_etag(),
            });
        }
        sandbox.runs.extend(runs.iter().cloned());
        let json: Vec<_> = runs
            .iter()
            .map(|r| r.to_api(&sandbox_name, sandbox, now))
            .collect();
        Ok((json, true))
    });
    answer_change(result.map(|r| r.map(|runs| json!({"runs": runs}))))
}

/// `GET /_emulator/faults`.
async fn list_faults(State(app): State<Arc<App>>) -> HttpResponse {
    let faults = app.lock().faults.list().to_vec();
    reply(StatusCode::OK, json!({"faults": faults}))
}

/// `POST /_emulator/faults`: adds one fault rule (see `Fault`).
async fn add_fault(State(app): State<Arc<App>>, bytes: Bytes) -> HttpResponse {
    let fault: Fault = match serde_json::from_slice(&bytes) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid fault: {e}")),
    };
    if let Err(message) = fault.check() {
        return error(StatusCode::BAD_REQUEST, message);
    }
    app.lock().faults.add(fault.clone());
    reply(StatusCode::OK, json!({"fault": fault}))
}

/// `DELETE /_emulator/faults`.
async fn clear_faults(State(app): State<Arc<App>>) -> HttpResponse {
    app.lock().faults.clear();
    reply(StatusCode::OK, json!({"faults": []}))
}

/// `GET /_emulator/requests[?route=adhocrun]`: the requests received, oldest first.
async fn requests(State(app): State<Arc<App>>, uri: Uri) -> HttpResponse {
    let pairs: Vec<(String, String)> = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let route = pairs
        .iter()
        .find(|(k, _)| k == "route")
        .map(|(_, v)| v.clone());
    let inner = app.lock();
    let entries: Vec<_> = inner
        .log
        .entries()
        .filter(|e| route.as_deref().is_none_or(|r| e.route == Some(r)))
        .collect();
    reply(StatusCode::OK, json!({"requests": entries}))
}

/// `DELETE /_emulator/requests`.
async fn clear_requests(State(app): State<Arc<App>>) -> HttpResponse {
    app.lock().log.clear();
    reply(StatusCode::OK, json!({"requests": []}))
}
