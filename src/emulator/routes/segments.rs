//! Segmentation Service: `GET /data/core/ups/segment/definitions/{id}`, one segment's
//! definition (reference §4.3). The client reads it for a segment's name when a dataflow's
//! selector has none (a seed selector with `named: false`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::json;

use super::gateway::with_sandbox;
use super::respond::{json_response, last_segment, problem};
use crate::api::SegmentDefinition;
use crate::emulator::app::{App, HttpResponse};

/// `GET /data/core/ups/segment/definitions/{id}`: the definition, or the platform's 404.
pub(super) async fn get_definition(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> HttpResponse {
    let id = last_segment(&uri);
    with_sandbox(
        &app,
        &headers,
        &method,
        |_, sandbox_name, sandbox| match sandbox.segment(&id.to_ascii_lowercase()) {
            Some(segment) => json_response(
                StatusCode::OK,
                &SegmentDefinition {
                    id: segment.id.clone(),
                    name: Some(segment.name.clone()),
                    description: None,
                    expression: json!({"type": "PQL", "format": "pql/text", "value": "true"}),
                    merge_policy_id: None,
                    creation_time: None,
                    update_time: None,
                },
            ),
            None => problem(
                StatusCode::NOT_FOUND,
                "UPS-1404-404",
                "Not Found",
                format!("Segment definition {id} was not found in sandbox {sandbox_name}."),
            ),
        },
    )
}
