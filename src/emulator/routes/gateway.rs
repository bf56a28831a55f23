//! The API gateway in front of every Platform endpoint: the header and credential checks, in
//! the gateway's order, and its own error shape (reference §5.3).

use crate::api::types::{GatewayError, Problem};
use axum::http::{HeaderMap, Method, StatusCode};

use super::ims::verify_token;
use super::respond::{json_response, media_type, problem};
use crate::emulator::app::{App, HttpResponse};
use crate::emulator::seed::is_org_id;
use crate::emulator::state::{Sandbox, World};

/// Who is calling, once the gateway let the request through.
pub(super) struct Caller {
    pub(super) client_id: String,
    pub(super) sandbox: String,
}

/// The API gateway's header checks, in this order: token present, token valid, API key present,
/// API key matches the token's client, org header present, org well-formed, org matches the
/// token's org, Content-Type on a body-carrying method, and the sandbox exists.
pub(super) fn check(
    world: &World,
    headers: &HeaderMap,
    method: &Method,
) -> Result<Caller, HttpResponse> {
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
            &Problem::missing_content_type(),
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

/// Runs `f` on the caller's sandbox after the gateway checks.
pub(super) fn with_sandbox(
    app: &App,
    headers: &HeaderMap,
    method: &Method,
    f: impl FnOnce(&World, &str, &Sandbox) -> HttpResponse,
) -> HttpResponse {
    app.read(|world| match check(world, headers, method) {
        Ok(caller) => f(world, &caller.sandbox, &world.sandboxes[&caller.sandbox]),
        Err(response) => response,
    })
}

/// The API gateway's own error shape (reference §5.3).
pub(super) fn gateway_error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    json_response(
        status,
        &GatewayError {
            error_code: code.to_owned(),
            message: message.to_owned(),
        },
    )
}
