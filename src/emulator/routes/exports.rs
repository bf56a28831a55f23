//! Segment export jobs: `GET /data/core/ups/export/jobs` and `GET …/export/jobs/{id}`.

use std::collections::HashSet;
use std::sync::Arc;

use crate::api::types::{ExportJobLink, ExportJobList, ExportJobPage};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

use super::gateway::with_sandbox;
use super::respond::{json_response, last_segment, parse_limit, problem, query_pairs, query_value};
use crate::emulator::app::{App, HttpResponse};
use crate::emulator::state::JobStatus;

/// `GET /data/core/ups/export/jobs`: newest first, `limit`, `offset` (the cursor from
/// `link.next`) and `status` filters.
pub(super) async fn list(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> HttpResponse {
    with_sandbox(&app, &headers, &method, |world, _, sandbox| {
        let bad = |detail: String| {
            problem(
                StatusCode::BAD_REQUEST,
                "UPS-1400-400",
                "Bad Request",
                detail,
            )
        };
        let pairs = match query_pairs(&uri) {
            Ok(p) => p,
            Err(e) => return bad(e),
        };
        let limit = match parse_limit(&pairs, usize::MAX) {
            Ok(l) => l,
            Err(e) => return bad(e),
        };
        let mut statuses = HashSet::new();
        if let Some(text) = query_value(&pairs, "status") {
            for s in text.split(',') {
                match JobStatus::parse(s.trim()) {
                    Some(status) => {
                        statuses.insert(status);
                    }
                    None => {
                        return bad(format!(
                            "invalid `status` value `{s}`: expected NEW, PROCESSING, SUCCEEDED or FAILED"
                        ));
                    }
                }
            }
        }
        let after = match query_value(&pairs, "offset") {
            None => None,
            Some(text) => match parse_cursor(text) {
                Some(c) => Some(c),
                None => {
                    return bad(format!(
                        "invalid `offset` `{text}`: use the value from `link.next`"
                    ));
                }
            },
        };
        let mut jobs: Vec<_> = sandbox
            .export_jobs
            .iter()
            .filter(|j| statuses.is_empty() || statuses.contains(&j.status))
            .collect();
        jobs.sort_by_key(|j| std::cmp::Reverse((j.created_at, j.id)));
        let start = after.map_or(0, |cursor| {
            jobs.iter()
                .position(|j| (j.created_at, j.id) < cursor)
                .unwrap_or(jobs.len())
        });
        let page: Vec<_> = jobs.iter().skip(start).take(limit).collect();
        let more = start + page.len() < jobs.len();
        let last_cursor = page.last().map(|j| format!("{}_{}", j.created_at, j.id));
        let next = last_cursor.as_ref().filter(|_| more).map(|cursor| {
            let mut next = format!("/export/jobs/?limit={limit}&offset={cursor}");
            if let Some(status) = query_value(&pairs, "status") {
                next.push_str("&status=");
                next.push_str(status);
            }
            next
        });
        json_response(
            StatusCode::OK,
            &ExportJobList {
                records: page.iter().map(|j| j.to_api(&world.org_id)).collect(),
                page: Some(ExportJobPage {
                    sort_field: Some("createdTime".into()),
                    sort: Some("desc".into()),
                    page_offset: Some(last_cursor.unwrap_or_default()),
                    page_size: Some(page.len() as u64),
                }),
                link: Some(ExportJobLink { next }),
            },
        )
    })
}

/// Parses an export-job cursor `<creation time ms>_<job id>`.
fn parse_cursor(text: &str) -> Option<(i64, u64)> {
    let (time, id) = text.split_once('_')?;
    Some((time.parse().ok()?, id.parse().ok()?))
}

/// `GET /data/core/ups/export/jobs/{id}`.
pub(super) async fn get(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> HttpResponse {
    let id = last_segment(&uri);
    with_sandbox(&app, &headers, &method, |world, sandbox_name, sandbox| {
        let Ok(number) = id.parse::<u64>() else {
            return problem(
                StatusCode::BAD_REQUEST,
                "UPS-1400-400",
                "Bad Request",
                format!("export job ID `{id}` is not a number"),
            );
        };
        match sandbox.export_job(number) {
            Some(job) => json_response(StatusCode::OK, &job.to_api(&world.org_id)),
            None => problem(
                StatusCode::NOT_FOUND,
                "UPS-1404-404",
                "Not Found",
                format!("Export job {number} was not found in sandbox {sandbox_name}."),
            ),
        }
    })
}
