//! IMS: `POST /ims/token/v3` (OAuth server-to-server client credentials), and the signed
//! tokens the gateway checks.

use std::sync::Arc;

use crate::api::TokenResponse;
use crate::api::types::OAuthError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};

use super::respond::{json_response, media_type};
use crate::emulator::app::{App, HttpResponse};
use crate::emulator::state::World;

/// Access tokens live this long (seconds), as IMS says in `expires_in`.
const TOKEN_LIFETIME_SECS: i64 = 86_399;

/// `POST /ims/token/v3`: OAuth server-to-server client credentials.
pub(super) async fn token(
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
            &token_response(issue_token(world, client_id, expires)),
        )
    })
}

/// The 200 answer: `{access_token, token_type: "bearer", expires_in}`.
fn token_response(access_token: String) -> TokenResponse {
    TokenResponse {
        access_token,
        token_type: Some("bearer".into()),
        expires_in: Some(TOKEN_LIFETIME_SECS.into()),
    }
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
pub(super) fn verify_token(world: &World, token: &str, now: i64) -> Option<String> {
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

fn oauth_error(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    json_response(
        status,
        &OAuthError {
            error: error.to_owned(),
            error_description: description.to_owned(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_reads_the_token_and_its_lifetime() {
        let body = serde_json::to_value(token_response("emu1.x".into())).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"access_token": "emu1.x", "token_type": "bearer", "expires_in": 86_399})
        );
        let issued = serde_json::from_value::<TokenResponse>(body)
            .unwrap()
            .into_issued();
        assert_eq!(issued.token.expose(), "emu1.x");
        assert_eq!(issued.lifetime.as_secs(), 86_399);
    }

    #[test]
    fn tokens_verify_until_they_expire_and_resist_tampering() {
        let world = crate::emulator::Seed::demo().build(1_000_000, 0);
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
