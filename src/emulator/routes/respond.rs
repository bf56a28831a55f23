//! What every route answers with: JSON and problem bodies, and reading the request's path and
//! query.

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use serde::Serialize;

use crate::api::types::Problem;
use crate::emulator::app::HttpResponse;
use crate::emulator::state::new_uuid;

/// The largest `limit` any list accepts.
pub(super) const MAX_PAGE: usize = 1000;

/// A JSON response. Bodies the client reads are `api::types` values, so a change of shape on
/// either side fails to compile. They go through [`Value`], whose maps keep their keys sorted:
/// the bytes sent do not depend on the order of a struct's fields.
pub(super) fn json_response(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    let text = match serde_json::to_value(body) {
        Ok(value) => value.to_string(),
        Err(e) => return cannot_serialise(&e),
    };
    let mut response = HttpResponse::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    response
}

/// The 500 answer when a body cannot be serialised, which our bodies never fail to be.
pub(super) fn cannot_serialise(error: &serde_json::Error) -> HttpResponse {
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "EMU-0500-500",
        "Internal Server Error",
        format!("the emulator cannot serialise its answer: {error}"),
    )
}

/// A Platform problem body (RFC 7807 style): `type`, `title`, `status`, `detail`, `report`, and
/// the detail again as `message` for clients that read that field.
pub(super) fn problem(status: StatusCode, code: &str, title: &str, detail: String) -> HttpResponse {
    json_response(
        status,
        &Problem::new(code, title, status.as_u16(), detail, new_uuid()),
    )
}

/// The last path segment, as sent: IDs are plain ASCII, so there is nothing to decode, and a
/// strange one is simply not found rather than refused by the framework.
pub(super) fn last_segment(uri: &Uri) -> String {
    uri.path().rsplit('/').next().unwrap_or_default().to_owned()
}

// Query strings.

/// The query string as (name, value) pairs, repeated names kept.
pub(super) fn query_pairs(uri: &Uri) -> Result<Vec<(String, String)>, String> {
    match uri.query() {
        None => Ok(Vec::new()),
        Some(q) => {
            serde_urlencoded::from_str(q).map_err(|e| format!("malformed query string: {e}"))
        }
    }
}

pub(super) fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The `limit` parameter: `default` when absent, else 1 to [`MAX_PAGE`].
pub(super) fn parse_limit(pairs: &[(String, String)], default: usize) -> Result<usize, String> {
    match query_value(pairs, "limit") {
        None => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(format!(
                "`limit` must be a whole number from 1 to {MAX_PAGE}, not `{text}`"
            )),
        },
    }
}

/// The media type of `Content-Type`, lowercased, without parameters.
pub(super) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    let media = value.split(';').next()?.trim().to_ascii_lowercase();
    (!media.is_empty()).then_some(media)
}
