//! The emulated Platform and IMS endpoints: the router, the per-request wrapper that applies
//! faults and keeps the request log, and the response helpers every service shares.
//!
//! One file per service: [`ims`] (tokens), [`gateway`] (the API gateway's header checks, which
//! every Platform handler runs first, reference §5.3), [`exports`] (segment export jobs),
//! [`flows`] (Flow Service flows and runs), [`segments`] (segment definitions) and [`adhoc`]
//! (ad-hoc activation). Handlers take the
//! body as bytes and parse it themselves, so a malformed body gets the platform's error shape
//! rather than the framework's.

mod adhoc;
mod exports;
mod flows;
mod gateway;
mod ims;
mod respond;
mod segments;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, DATE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::Notify;
use tower_service::Service;

use super::app::{App, HttpResponse, MAX_BODY_BYTES};
use super::faults::{self, LoggedRequest};
use super::state::World;
pub use adhoc::ADHOC_V2_MEDIA_TYPE;
use gateway::gateway_error;
use respond::problem;

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/ims/token/v3", post(ims::token))
        .route("/data/core/ups/export/jobs", get(exports::list))
        .route("/data/core/ups/export/jobs/{id}", get(exports::get))
        .route(
            "/data/core/ups/segment/definitions/{id}",
            get(segments::get_definition),
        )
        .route("/data/foundation/flowservice/flows", get(flows::list_flows))
        .route(
            "/data/foundation/flowservice/flows/{id}",
            get(flows::get_flow),
        )
        .route("/data/foundation/flowservice/runs", get(flows::list_runs))
        .route(
            "/data/foundation/flowservice/runs/{id}",
            get(flows::get_run),
        )
        .route(
            "/data/core/activation/disflowprovider/adhocrun",
            post(adhoc::post),
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
            // Promise the whole body, send half, then close: hyper sizes the body by its size
            // hint, so the promise is the body's own (a `Content-Length` header alone would
            // only be believed in release builds, and the connection kept open).
            parts.headers.insert(
                axum::http::header::CONNECTION,
                HeaderValue::from_static("close"),
            );
            Body::new(CutOff::new(bytes))
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

/// A body that promises all of `whole` (at least one byte), sends its first half, then fails,
/// which makes hyper close the connection: the client sees the answer cut off at once, whether
/// it keeps connections alive or not (issue 14). Before failing it waits a moment, so that hyper
/// has flushed the half to the socket.
struct CutOff {
    half: Option<Bytes>,
    promised: u64,
    grace: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl CutOff {
    fn new(whole: Bytes) -> Self {
        let promised = u64::try_from(whole.len().max(1)).unwrap_or(u64::MAX);
        Self {
            half: Some(whole.slice(..whole.len() / 2)),
            promised,
            grace: None,
        }
    }
}

impl hyper::body::Body for CutOff {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        if let Some(half) = self.half.take() {
            return std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(half))));
        }
        let grace = self
            .grace
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(20))));
        std::task::ready!(grace.as_mut().poll(cx));
        std::task::Poll::Ready(Some(Err(std::io::Error::other(
            "the `truncated` fault cuts the body off here",
        ))))
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.promised)
    }
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

async fn not_found(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> HttpResponse {
    if !uri.path().starts_with("/_emulator") && !uri.path().starts_with("/ims/") {
        let checked = app.read(|world| gateway::check(world, &headers, &method).map(|_| ()));
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
