//! The emulated Platform and IMS endpoints, and the per-request wrapper that applies faults and
//! keeps the request log.
//!
//! Handlers take the body as bytes and parse it themselves, so a malformed body gets the
//! platform's error shape rather than the framework's. Every Platform handler starts with
//! [`gateway`], which applies the header checks of the API gateway (reference §5.3).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, DATE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tower_service::Service;

use super::faults::{self, LoggedRequest};
use super::filter::Property;
use super::seed::is_org_id;
use super::state::{PROFILE_SCHEMA, Run, Sandbox, World, new_etag, new_uuid};
use super::{App, HttpResponse, MAX_BODY_BYTES};

/// The `Accept` media type that selects version 2 of the ad-hoc activation API.
pub const ADHOC_V2_MEDIA_TYPE: &str = "application/vnd.adobe.adhoc.activation+json";

/// Most segments in one ad-hoc job, per API version.
const MAX_SEGMENTS_V1: usize = 20;
const MAX_SEGMENTS_V2: usize = 80;

/// Access tokens live this long (seconds), as IMS says in `expires_in`.
const TOKEN_LIFETIME_SECS: i64 = 86_399;

/// Default page size of the Flow Service lists (export jobs return everything unless asked),
/// and the largest `limit` any list accepts.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/ims/token/v3", post(ims_token))
        .route("/data/core/ups/export/jobs", get(export_jobs_list))
        .route("/data/core/ups/export/jobs/{id}", get(export_job_get))
        .route("/data/foundation/flowservice/flows", get(flows_list))
        .route("/data/foundation/flowservice/flows/{id}", get(flow_get))
        .route("/data/foundation/flowservice/runs", get(runs_list))
        .route("/data/foundation/flowservice/runs/{id}", get(run_get))
        .route(
            "/data/core/activation/disflowprovider/adhocrun",
            post(adhocrun),
        )
        .merge(super::admin::router())
        .fallback(not_found)
        .with_state(app)
}

/// Handles one request (see [`answer`]) and dates the response with the platform's clock.
///
/// Every response the emulator sends (platform, IMS, control endpoints, faults and errors)
/// carries `Date` with the *virtual* now, which includes the offset set by `POST
/// /_emulator/clock`: as against Adobe, a client measures times in the platform's clock by
/// reading it. Hyper adds its own `Date` (the system clock) only when a response has none.
pub(crate) async fn handle(
    app: Arc<App>,
    router: Router,
    kill: Arc<Notify>,
    req: Request<hyper::body::Incoming>,
) -> HttpResponse {
    let mut response = answer(app.clone(), router, kill, req).await;
    let now = app.read(World::now);
    if let Ok(date) = HeaderValue::from_str(&crate::time::http_date(now)) {
        response.headers_mut().insert(DATE, date);
    }
    response
}

/// Reads the body, applies a fault if one is set for the route, routes, and logs. A `drop`
/// fault handles the request and then never answers: it wakes `kill`, which closes the
/// connection.
async fn answer(
    app: Arc<App>,
    mut router: Router,
    kill: Arc<Notify>,
    req: Request<hyper::body::Incoming>,
) -> HttpResponse {
    let (parts, body) = req.into_parts();
    let admin = parts.uri.path().starts_with("/_emulator");
    let bytes = match axum::body::to_bytes(Body::new(body), MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "EMU-0413-413",
                "Payload Too Large",
                format!(
                    "the request body could not be read or is larger than {MAX_BODY_BYTES} bytes"
                ),
            );
        }
    };
    if admin {
        let req = Request::from_parts(parts, Body::from(bytes));
        return router
            .call(req)
            .await
            .unwrap_or_else(|never| match never {});
    }
    let route = faults::route_of(&parts.method, parts.uri.path());
    let fault = route.and_then(|r| app.lock().faults.take(r));
    // Logged on arrival, so a test can see a request that is still being handled (a latency
    // fault); its status is filled in when it is answered.
    let mut entry = log_entry(
        &app,
        &parts.method,
        &parts.uri,
        &parts.headers,
        &bytes,
        route,
    );
    entry.fault = fault.clone();
    let seq = app.lock().log.push(entry);
    // Handled on its own task: like the platform, the emulator finishes a request it has read
    // even when the client goes away meanwhile (a killed or timed-out client).
    let task = tokio::spawn({
        let app = app.clone();
        async move {
            if let Some(fault) = &fault
                && fault.latency_ms > 0
            {
                tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
            }
            let response = match fault.as_ref().and_then(|f| f.status.map(|s| (f, s))) {
                Some((fault, status)) => fault_response(status, fault.retry_after_header()),
                None => {
                    let req = Request::from_parts(parts, Body::from(bytes));
                    router
                        .call(req)
                        .await
                        .unwrap_or_else(|never| match never {})
                }
            };
            let response = match fault.as_ref().and_then(|f| f.response) {
                Some(spoil) => spoil_response(response, spoil).await,
                None => response,
            };
            let dropped = fault.as_ref().is_some_and(|f| f.drop);
            app.lock()
                .log
                .answered(seq, (!dropped).then(|| response.status().as_u16()));
            (response, dropped)
        }
    });
    let Ok((response, dropped)) = task.await else {
        return problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "EMU-0500-500",
            "Internal Server Error",
            "the emulator failed handling this request".into(),
        );
    };
    if dropped {
        kill.notify_one();
        std::future::pending::<()>().await;
    }
    response
}

/// The answer with its body spoiled as `spoil` says (a [`faults::ResponseFault`]).
async fn spoil_response(response: HttpResponse, spoil: faults::ResponseFault) -> HttpResponse {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let body = match spoil {
        faults::ResponseFault::MalformedJson => {
            parts
                .headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Body::from("{\"order\": [{\"segment\": ")
        }
        faults::ResponseFault::Truncated => {
            // Promise the whole body, send half: the client sees the connection close early.
            parts.headers.insert(
                axum::http::header::CONTENT_LENGTH,
                HeaderValue::from(bytes.len() + 64),
            );
            Body::from(bytes.slice(..bytes.len() / 2))
        }
        faults::ResponseFault::Html => {
            parts.headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            let status = parts.status;
            Body::from(format!(
                "<!DOCTYPE html>\n<html><head><title>{status}</title></head><body><h1>{status}</h1><hr><center>nginx</center></body></html>\n"
            ))
        }
    };
    HttpResponse::from_parts(parts, body)
}

fn log_entry(
    app: &App,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    route: Option<&'static str>,
) -> LoggedRequest {
    let is_ims = route == Some("ims.token");
    let mut logged = serde_json::Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        logged.insert(
            name.as_str().to_owned(),
            Value::String(faults::mask_header(name.as_str(), &value)),
        );
    }
    let body = if body.is_empty() {
        Value::Null
    } else if is_ims {
        faults::masked_form(&String::from_utf8_lossy(body))
    } else if let Ok(json) = serde_json::from_slice::<Value>(body) {
        json
    } else {
        let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
        Value::String(text.into_owned())
    };
    // The query as sent, and decoded into its (name, value) pairs, repeated names kept, so a
    // test can read `property=` filters without decoding them. IMS also takes its parameters
    // in the query string: the secret is masked there too.
    let params = uri.query().map(|q| {
        let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap_or_default();
        if is_ims {
            for (k, v) in &mut pairs {
                if faults::SECRET_FIELDS.contains(&k.as_str()) {
                    *v = "***".into();
                }
            }
        }
        pairs
    });
    let query = uri.query().map(|q| match (&params, is_ims) {
        (Some(pairs), true) => serde_urlencoded::to_string(pairs).unwrap_or_default(),
        _ => q.to_owned(),
    });
    let at = app.lock().world.now();
    LoggedRequest {
        seq: 0,
        at,
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        query,
        params,
        route,
        headers: logged,
        body,
        status: None,
        fault: None,
    }
}

fn fault_response(status: u16, retry_after: Option<u64>) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = if status == StatusCode::TOO_MANY_REQUESTS {
        gateway_error(status, "429050", "Too many requests")
    } else {
        let title = status.canonical_reason().unwrap_or("Error");
        problem(
            status,
            &format!("EMU-{:04}-{}", status.as_u16(), status.as_u16()),
            title,
            format!("injected fault: {} {title}", status.as_u16()),
        )
    };
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

// ---------------------------------------------------------------------------------------------
// Response shapes.

fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    let mut response = HttpResponse::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    response
}

/// A Platform problem body (RFC 7807 style): `type`, `title`, `status`, `detail`, `report`, and
/// the detail again as `message` for clients that read that field.
pub(crate) fn problem(status: StatusCode, code: &str, title: &str, detail: String) -> HttpResponse {
    json_response(
        status,
        &json!({
            "type": format!("https://ns.adobe.com/aep/errors/{code}"),
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
            "message": detail,
            "report": {"request-id": new_uuid()},
        }),
    )
}

/// The API gateway's own error shape (reference §5.3).
fn gateway_error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    json_response(status, &json!({"error_code": code, "message": message}))
}

/// An OAuth error from IMS.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    json_response(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

/// Flow Service's documented not-found body (reference §4.4).
fn flow_not_found(kind: &str, id: &str) -> HttpResponse {
    let message = format!(
        "The requested {kind} resource {id} is not found. Verify the resource ID before trying again."
    );
    json_response(
        StatusCode::NOT_FOUND,
        &json!({
            "type": "https://ns.adobe.com/aep/errors/FLOW-1439-404",
            "title": "Resource not found",
            "status": 404,
            "report": {
                "detailed-message": message,
                "id": id,
                "request-id": new_uuid(),
                "type": kind,
            },
            "errorMessage": message,
        }),
    )
}

async fn not_found(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> HttpResponse {
    if !uri.path().starts_with("/_emulator") && !uri.path().starts_with("/ims/") {
        let checked = app.read(|world| gateway(world, &headers, &method).map(|_| ()));
        if let Err(response) = checked {
            return response;
        }
    }
    problem(
        StatusCode::NOT_FOUND,
        "EMU-0404-404",
        "Not Found",
        format!("no such endpoint: {method} {}", uri.path()),
    )
}

// ---------------------------------------------------------------------------------------------
// IMS.

/// `POST /ims/token/v3`: OAuth server-to-server client credentials.
async fn ims_token(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> HttpResponse {
    let mut params: Vec<(String, String)> = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    if !body.is_empty() {
        let form = media_type(&headers).is_some_and(|t| t == "application/x-www-form-urlencoded");
        let parsed = std::str::from_utf8(&body)
            .ok()
            .and_then(|text| serde_urlencoded::from_str::<Vec<(String, String)>>(text).ok());
        match parsed {
            Some(pairs) if form => params.extend(pairs),
            _ => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the body must be form-encoded (Content-Type: application/x-www-form-urlencoded)",
                );
            }
        }
    }
    let param = |name: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let Some(grant_type) = param("grant_type") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing grant_type parameter",
        );
    };
    if grant_type != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        );
    }
    let Some(client_id) = param("client_id") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing client_id parameter",
        );
    };
    let Some(secret) = param("client_secret") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing client_secret parameter",
        );
    };
    if param("scope").is_none() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "missing scope parameter",
        );
    }
    app.read(|world| {
        let Some(client) = world.client(client_id) else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "invalid client_id parameter",
            );
        };
        if !client.secret_matches(secret) {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "invalid client_secret parameter",
            );
        }
        let expires = world.now().saturating_add(TOKEN_LIFETIME_SECS * 1000);
        json_response(
            StatusCode::OK,
            &json!({
                "access_token": issue_token(world, client_id, expires),
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME_SECS,
            }),
        )
    })
}

/// Tokens are signed, not stored: `emu1.<client id, hex>.<expiry ms>.<nonce>.<mac>`, where the
/// mac is a keyed hash under the world's `tokenKey`. Any process sharing the state file accepts
/// them, and issuing one writes nothing.
fn issue_token(world: &World, client_id: &str, expires: i64) -> String {
    let client_hex: String = client_id.bytes().map(|b| format!("{b:02x}")).collect();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let payload = format!("emu1.{client_hex}.{expires}.{nonce}");
    let mac = token_mac(world.token_key, &payload);
    format!("{payload}.{mac:016x}")
}

fn token_mac(key: u64, payload: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    payload.hash(&mut hasher);
    hasher.finish()
}

/// Checks a token: returns its client ID when it is ours, untampered and not expired at `now`.
fn verify_token(world: &World, token: &str, now: i64) -> Option<String> {
    let (payload, mac) = token.rsplit_once('.')?;
    if u64::from_str_radix(mac, 16).ok()? != token_mac(world.token_key, payload) {
        return None;
    }
    let mut parts = payload.split('.');
    let (Some("emu1"), Some(client_hex), Some(expires), Some(_nonce), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if expires.parse::<i64>().ok()? <= now || client_hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..client_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(client_hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

// ---------------------------------------------------------------------------------------------
// The gateway.

/// Who is calling, once the gateway let the request through.
pub(crate) struct Caller {
    pub(crate) client_id: String,
    pub(crate) sandbox: String,
}

/// The API gateway's header checks, in this order: token present, token valid, API key present,
/// API key matches the token's client, org header present, org well-formed, org matches the
/// token's org, Content-Type on a body-carrying method, and the sandbox exists.
fn gateway(world: &World, headers: &HeaderMap, method: &Method) -> Result<Caller, HttpResponse> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let Some(auth) = header("authorization") else {
        return Err(gateway_error(
            StatusCode::FORBIDDEN,
            "403010",
            "Oauth token is missing.",
        ));
    };
    let invalid_token = || {
        gateway_error(
            StatusCode::UNAUTHORIZED,
            "401013",
            "Oauth token is not valid",
        )
    };
    let token = match auth.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(invalid_token()),
    };
    let Some(client_id) = verify_token(world, token, world.now()) else {
        return Err(invalid_token());
    };
    let Some(api_key) = header("x-api-key") else {
        return Err(gateway_error(
            StatusCode::FORBIDDEN,
            "403000",
            "Api Key is required",
        ));
    };
    if api_key != client_id || world.client(api_key).is_none() {
        return Err(gateway_error(
            StatusCode::FORBIDDEN,
            "403003",
            "Api Key is invalid",
        ));
    }
    let Some(org) = header("x-gw-ims-org-id") else {
        return Err(gateway_error(
            StatusCode::BAD_REQUEST,
            "400003",
            "Missing header",
        ));
    };
    if !is_org_id(org) {
        return Err(gateway_error(
            StatusCode::FORBIDDEN,
            "403027",
            "User region is missing",
        ));
    }
    if org != world.org_id {
        return Err(gateway_error(
            StatusCode::FORBIDDEN,
            "403025",
            "Profile is not valid",
        ));
    }
    if matches!(*method, Method::POST | Method::PUT | Method::PATCH)
        && media_type(headers).is_none_or(|t| t != "application/json")
    {
        return Err(json_response(
            StatusCode::BAD_REQUEST,
            &json!({
                "type": "/placeholder/type/uri",
                "status": 400,
                "title": "BadRequestError",
                "detail": "A valid content-type must be specified",
            }),
        ));
    }
    let sandbox = header("x-sandbox-name").unwrap_or("prod");
    if !world.sandboxes.contains_key(sandbox) {
        return Err(problem(
            StatusCode::FORBIDDEN,
            "SMS-2010-403",
            "Sandbox not found",
            format!(
                "Sandbox `{sandbox}` does not exist in organization {} or you have no access to it.",
                world.org_id
            ),
        ));
    }
    Ok(Caller {
        client_id,
        sandbox: sandbox.to_owned(),
    })
}

/// The media type of `Content-Type`, lowercased, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let media = value.split(';').next()?.trim().to_ascii_lowercase();
    (!media.is_empty()).then_some(media)
}

/// The last path segment, as sent: IDs are plain ASCII, so there is nothing to decode, and a
/// strange one is simply not found rather than refused by the framework.
fn last_segment(uri: &Uri) -> String {
    uri.path().rsplit('/').next().unwrap_or_default().to_owned()
}

/// Runs `f` on the caller's sandbox after the gateway checks.
fn with_sandbox(
    app: &App,
    headers: &HeaderMap,
    method: &Method,
    f: impl FnOnce(&World, &str, &Sandbox) -> HttpResponse,
) -> HttpResponse {
    app.read(|world| match gateway(world, headers, method) {
        Ok(caller) => f(world, &caller.sandbox, &world.sandboxes[&caller.sandbox]),
        Err(response) => response,
    })
}

// ---------------------------------------------------------------------------------------------
// Query strings.

/// The query string as (name, value) pairs, repeated names kept.
fn query_pairs(uri: &Uri) -> Result<Vec<(String, String)>, String> {
    match uri.query() {
        None => Ok(Vec::new()),
        Some(q) => {
            serde_urlencoded::from_str(q).map_err(|e| format!("malformed query string: {e}"))
        }
    }
}

fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The `limit` parameter: `default` when absent, else 1 to [`MAX_PAGE`].
fn parse_limit(pairs: &[(String, String)], default: usize) -> Result<usize, String> {
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

// ---------------------------------------------------------------------------------------------
// Segment export jobs.

/// `GET /data/core/ups/export/jobs`: newest first, `limit`, `offset` (the cursor from
/// `link.next`) and `status` filters.
async fn export_jobs_list(
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
                match super::state::JobStatus::parse(s.trim()) {
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
        let mut link = serde_json::Map::new();
        if more && let Some(cursor) = &last_cursor {
            let mut next = format!("/export/jobs/?limit={limit}&offset={cursor}");
            if let Some(status) = query_value(&pairs, "status") {
                next.push_str("&status=");
                next.push_str(status);
            }
            link.insert("next".into(), Value::String(next));
        }
        json_response(
            StatusCode::OK,
            &json!({
                "records": page.iter().map(|j| j.to_json(&world.org_id)).collect::<Vec<_>>(),
                "page": {
                    "sortField": "createdTime",
                    "sort": "desc",
                    "pageOffset": last_cursor.unwrap_or_default(),
                    "pageSize": page.len(),
                },
                "link": link,
            }),
        )
    })
}

/// Parses an export-job cursor `<creation time ms>_<job id>`.
fn parse_cursor(text: &str) -> Option<(i64, u64)> {
    let (time, id) = text.split_once('_')?;
    Some((time.parse().ok()?, id.parse().ok()?))
}

/// `GET /data/core/ups/export/jobs/{id}`.
async fn export_job_get(
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
            Some(job) => json_response(StatusCode::OK, &job.to_json(&world.org_id)),
            None => problem(
                StatusCode::NOT_FOUND,
                "UPS-1404-404",
                "Not Found",
                format!("Export job {number} was not found in sandbox {sandbox_name}."),
            ),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Flow Service.

/// How a Flow Service list is ordered: by a top-level field of its items, or by their stored
/// order when `field` is `None`; ties always go by the stored order, in the same direction.
#[derive(Debug, Clone, Copy)]
struct Order<'a> {
    field: Option<&'a str>,
    desc: bool,
}

impl Order<'_> {
    /// The sort key of an item: its `field`, or `null` (all equal) without one.
    fn key(&self, item: &Value) -> Value {
        self.field
            .and_then(|f| item.get(f))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Compares two (key, stored place) positions in this order.
    fn cmp(&self, a: (&Value, usize), b: (&Value, usize)) -> std::cmp::Ordering {
        let ord = compare_keys(a.0, b.0).then(a.1.cmp(&b.1));
        if self.desc { ord.reverse() } else { ord }
    }
}

/// Orders sort keys: `null` first, then booleans, numbers (by value), strings, anything else.
fn compare_keys(a: &Value, b: &Value) -> std::cmp::Ordering {
    let rank = |v: &Value| match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        _ => 4,
    };
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A `continuationToken`: `emu1.<stored place>.<sort key as JSON>` of a page's last item. The
/// next page starts after that position, not at an offset, so a run created between two page
/// requests (anywhere in the order: `POST /_emulator/runs` can date it back) neither repeats an
/// item on the next page nor pushes one off it.
fn continuation_token(place: usize, key: &Value) -> String {
    format!("emu1.{place}.{key}")
}

fn parse_continuation_token(token: &str) -> Option<(usize, Value)> {
    let (place, key) = token.strip_prefix("emu1.")?.split_once('.')?;
    Some((place.parse().ok()?, serde_json::from_str(key).ok()?))
}

/// Applies `property`, `orderby`, `count`, `limit` and `continuationToken` to a list of items,
/// given with their place in the stored list (the tie-breaker of every order), and ordered by
/// `default` unless `orderby` says otherwise.
fn list_items(
    path: &str,
    uri: &Uri,
    items: Vec<(usize, Value)>,
    default: Order<'_>,
) -> HttpResponse {
    let bad = |detail: String| {
        problem(
            StatusCode::BAD_REQUEST,
            "FLOW-1400-400",
            "Bad Request",
            detail,
        )
    };
    let pairs = match query_pairs(uri) {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    let mut filters = Vec::new();
    for (k, v) in &pairs {
        if k == "property" {
            match Property::parse(v) {
                Ok(p) => filters.push(p),
                Err(e) => return bad(e),
            }
        }
    }
    let mut items: Vec<(usize, Value)> = items
        .into_iter()
        .filter(|(_, item)| filters.iter().all(|f| f.matches(item)))
        .collect();
    if query_value(&pairs, "count").is_some_and(|c| c.eq_ignore_ascii_case("true")) {
        return json_response(StatusCode::OK, &json!({"count": items.len()}));
    }
    let order = match query_value(&pairs, "orderby").map(str::trim) {
        None => default,
        Some(text) => {
            // An unencoded `+` arrives as a space, which the trim has removed.
            let (desc, field) = match text.strip_prefix('-') {
                Some(f) => (true, f),
                None => (false, text.strip_prefix('+').unwrap_or(text)),
            };
            if !matches!(field, "createdAt" | "updatedAt" | "name" | "id") {
                return bad(format!(
                    "cannot order by `{field}`: use createdAt, updatedAt, name or id, with `-` for descending"
                ));
            }
            Order {
                field: Some(field),
                desc,
            }
        }
    };
    let mut keyed: Vec<(Value, usize, Value)> = items
        .drain(..)
        .map(|(place, item)| (order.key(&item), place, item))
        .collect();
    keyed.sort_by(|a, b| order.cmp((&a.0, a.1), (&b.0, b.1)));
    let limit = match parse_limit(&pairs, DEFAULT_PAGE) {
        Ok(l) => l,
        Err(e) => return bad(e),
    };
    let start = match query_value(&pairs, "continuationToken") {
        None => 0,
        Some(token) => match parse_continuation_token(token) {
            Some((place, key)) => keyed.partition_point(|(k, p, _)| {
                order.cmp((k, *p), (&key, place)) != std::cmp::Ordering::Greater
            }),
            None => {
                return bad(format!(
                    "invalid `continuationToken` `{token}`: use the value from `_links.next.href`"
                ));
            }
        },
    };
    let end = start.saturating_add(limit).min(keyed.len());
    let mut links = serde_json::Map::new();
    if end < keyed.len()
        && let Some((key, place, _)) = keyed.get(end - 1)
    {
        let mut next: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != "continuationToken")
            .cloned()
            .collect();
        next.push(("continuationToken".into(), continuation_token(*place, key)));
        let query = serde_urlencoded::to_string(&next).unwrap_or_default();
        links.insert("next".into(), json!({"href": format!("{path}?{query}")}));
    }
    let page: Vec<Value> = keyed
        .drain(start.min(end)..end)
        .map(|(_, _, item)| item)
        .collect();
    json_response(StatusCode::OK, &json!({"items": page, "_links": links}))
}

/// `GET /data/foundation/flowservice/flows`, in stored order unless `orderby` says otherwise.
async fn flows_list(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> HttpResponse {
    with_sandbox(&app, &headers, &method, |_, name, sandbox| {
        let items = sandbox
            .flows
            .iter()
            .map(|f| f.to_json(name, sandbox))
            .enumerate()
            .collect();
        let stored = Order {
            field: None,
            desc: false,
        };
        list_items("/data/foundation/flowservice/flows", &uri, items, stored)
    })
}

/// `GET /data/foundation/flowservice/flows/{id}`: `{items: [flow]}`.
async fn flow_get(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> HttpResponse {
    let id = last_segment(&uri);
    with_sandbox(&app, &headers, &method, |_, name, sandbox| {
        match sandbox.flow(&id.to_ascii_lowercase()) {
            Some(flow) => json_response(
                StatusCode::OK,
                &json!({"items": [flow.to_json(name, sandbox)]}),
            ),
            None => flow_not_found("flows", &id),
        }
    })
}

/// `GET /data/foundation/flowservice/runs`: newest first (by `createdAt`, ties the later
/// created first) unless `orderby` says otherwise.
async fn runs_list(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> HttpResponse {
    // The usual query has `property=flowId==<id>[,<id>…]`: pick those runs before rendering
    // any JSON. Only a shortcut: `list_items` applies every filter again, this one included.
    let flow_filters: Vec<Vec<String>> = query_pairs(&uri)
        .map(|pairs| {
            pairs
                .iter()
                .filter(|(k, _)| k == "property")
                .filter_map(|(_, v)| Property::parse(v).ok()?.equals_on("flowId"))
                .collect()
        })
        .unwrap_or_default();
    with_sandbox(&app, &headers, &method, |world, name, sandbox| {
        let now = world.now();
        let items = sandbox
            .runs
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                flow_filters
                    .iter()
                    .all(|ids| ids.iter().any(|id| id.eq_ignore_ascii_case(&r.flow_id)))
            })
            .map(|(place, r)| (place, r.to_json(name, sandbox, now)))
            .collect();
        let newest_first = Order {
            field: Some("createdAt"),
            desc: true,
        };
        list_items(
            "/data/foundation/flowservice/runs",
            &uri,
            items,
            newest_first,
        )
    })
}

/// `GET /data/foundation/flowservice/runs/{id}`: `{items: [run]}`, the target of `statusURL`.
async fn run_get(
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
        |world, name, sandbox| match sandbox.run(&id.to_ascii_lowercase()) {
            Some(run) => json_response(
                StatusCode::OK,
                &json!({"items": [run.to_json(name, sandbox, world.now())]}),
            ),
            None => flow_not_found("runs", &id),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Ad-hoc activation.

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
async fn adhocrun(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let caller = match app.read(|world| gateway(world, &headers, &method)) {
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
                    kind: super::state::RunKind::Adhoc,
                    created_at: now,
                    duration_ms: duration,
                    outcome: segment.map_or(super::state::Outcome::Success, |s| s.outcome),
                    profiles: segment.map_or(0, |s| s.profiles),
                    etag: new_etag(),
                };
                order.push((segment_id.clone(), dest.clone(), run.id.clone()));
                sandbox.runs.push(run);
            }
        }
        Ok((order, true))
    });
    match outcome {
        Ok(Ok(order)) => json_response(
            StatusCode::OK,
            &json!({
                "order": order
                    .iter()
                    .map(|(segment, dest, run)| json!({
                        "segment": segment,
                        "order": dest,
                        "statusURL": format!("{}/data/foundation/flowservice/runs/{run}", app.base_url),
                    }))
                    .collect::<Vec<_>>(),
            }),
        ),
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
    let today = super::state::date_of(now);
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
                Some(job) if job.status != super::state::JobStatus::Succeeded => {
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

    #[test]
    fn tokens_verify_until_they_expire_and_resist_tampering() {
        let world = super::super::Seed::demo().build(1_000_000, 0);
        let token = issue_token(&world, "aepact-demo-client", 5_000);
        assert_eq!(
            verify_token(&world, &token, 4_999).as_deref(),
            Some("aepact-demo-client")
        );
        assert_eq!(verify_token(&world, &token, 5_000), None);
        let tampered = token.replacen(".5000.", ".9000.", 1);
        assert_eq!(verify_token(&world, &tampered, 0), None);
        assert_eq!(verify_token(&world, "garbage", 0), None);
        assert_eq!(verify_token(&world, "a.b.c.d.e.f", 0), None);
    }
}
