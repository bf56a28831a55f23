//! The error bodies of the Platform, its API gateway and IMS (reference §5), as the emulator
//! writes them.
//!
//! The client reads an error body as JSON and takes its message with
//! [`error_message`](super::error_message) (and "Run already going on" with
//! [`RunAlreadyGoing`](super::RunAlreadyGoing)), because the platform's shapes vary by service.
//! The tests below tie the two sides: every shape the emulator sends yields the message the
//! client shows.

use serde::{Deserialize, Serialize};

/// A Platform problem body (RFC 7807 style).
///
/// The emulator's own problems carry `type`, `title`, `status`, `detail`, the detail again as
/// `message`, and `report.request-id`. Flow Service's not-found body has `errorMessage` and a
/// fuller `report` instead of `detail`; the gateway's `BadRequestError` has no `message` and no
/// `report`. What a body lacks is left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Problem {
    /// `https://ns.adobe.com/aep/errors/<code>`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) title: String,
    pub(crate) status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
    #[serde(
        rename = "errorMessage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) report: Option<ProblemReport>,
}

impl Problem {
    /// The emulator's problem for `code` (`DEST-ADH-400`, `EMU-0404-404`, ...): the detail is
    /// also the `message`, and `report` has the request ID.
    pub(crate) fn new(
        code: &str,
        title: &str,
        status: u16,
        detail: String,
        request_id: String,
    ) -> Self {
        Self {
            kind: format!("https://ns.adobe.com/aep/errors/{code}"),
            title: title.to_owned(),
            status,
            message: Some(detail.clone()),
            detail: Some(detail),
            error_message: None,
            report: Some(ProblemReport {
                detailed_message: None,
                id: None,
                request_id,
                kind: None,
            }),
        }
    }

    /// Flow Service's documented not-found body (reference §4.4) for a resource of `kind`
    /// (`flows`, `runs`).
    pub(crate) fn flow_not_found(kind: &str, id: &str, request_id: String) -> Self {
        let message = format!(
            "The requested {kind} resource {id} is not found. Verify the resource ID before trying again."
        );
        Self {
            kind: "https://ns.adobe.com/aep/errors/FLOW-1439-404".into(),
            title: "Resource not found".into(),
            status: 404,
            detail: None,
            message: None,
            error_message: Some(message.clone()),
            report: Some(ProblemReport {
                detailed_message: Some(message),
                id: Some(id.to_owned()),
                request_id,
                kind: Some(kind.to_owned()),
            }),
        }
    }

    /// The gateway's refusal of a body without `Content-Type: application/json` (reference
    /// §5.3): no `message`, no `report`.
    pub(crate) fn missing_content_type() -> Self {
        Self {
            kind: "/placeholder/type/uri".into(),
            title: "BadRequestError".into(),
            status: 400,
            detail: Some("A valid content-type must be specified".into()),
            message: None,
            error_message: None,
            report: None,
        }
    }
}

/// A problem's `report`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ProblemReport {
    #[serde(
        rename = "detailed-message",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) detailed_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    #[serde(rename = "request-id")]
    pub(crate) request_id: String,
    /// The kind of resource not found (`flows`, `runs`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
}

/// The API gateway's own refusal: `{"error_code": "403010", "message": "Oauth token is missing."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GatewayError {
    pub(crate) error_code: String,
    pub(crate) message: String,
}

/// An OAuth error from IMS: `{"error": "invalid_client", "error_description": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OAuthError {
    pub(crate) error: String,
    pub(crate) error_description: String,
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde_json::Value;

    use super::*;
    use crate::api::types::{RunAlreadyGoing, error_message};

    fn json(body: &impl Serialize) -> Value {
        serde_json::to_value(body).unwrap()
    }

    #[test]
    fn the_client_reads_the_message_of_every_error_body_the_emulator_sends() {
        let problem = Problem::new(
            "DEST-ADH-400",
            "Bad Request",
            400,
            "Segments x".into(),
            "q".into(),
        );
        let gateway = GatewayError {
            error_code: "403010".into(),
            message: "Oauth token is missing.".into(),
        };
        let oauth = OAuthError {
            error: "invalid_client".into(),
            error_description: "invalid client_secret parameter".into(),
        };
        let cases = [
            (json(&problem), "Segments x"),
            (
                json(&Problem::flow_not_found("runs", "r-1", "q".into())),
                "The requested runs resource r-1 is not found. Verify the resource ID before trying again.",
            ),
            (
                json(&Problem::missing_content_type()),
                "A valid content-type must be specified",
            ),
            (json(&gateway), "Oauth token is missing."),
            (json(&oauth), "invalid client_secret parameter"),
        ];
        for (body, message) in cases {
            assert_eq!(error_message(&body), Some(message), "{body}");
        }
    }

    #[test]
    fn bodies_leave_out_what_they_lack() {
        assert_eq!(
            json(&Problem::missing_content_type()).to_string(),
            r#"{"detail":"A valid content-type must be specified","status":400,"title":"BadRequestError","type":"/placeholder/type/uri"}"#
        );
        assert_eq!(
            json(&Problem::new(
                "EMU-0404-404",
                "Not Found",
                404,
                "d".into(),
                "q".into()
            ))
            .to_string(),
            r#"{"detail":"d","message":"d","report":{"request-id":"q"},"status":404,"title":"Not Found","type":"https://ns.adobe.com/aep/errors/EMU-0404-404"}"#
        );
    }

    #[test]
    fn a_run_already_going_is_found_in_a_problem() {
        let text = "Run already going on for segment s-1 for order o-1 with run id r-1";
        let problem = Problem::new("DEST-ADH-409", "Conflict", 409, text.into(), "q".into());
        let found = RunAlreadyGoing::from_body(&json(&problem)).unwrap();
        assert_eq!(
            (found.segment, found.order, found.run_id),
            (Some("s-1".into()), Some("o-1".into()), Some("r-1".into()))
        );
    }
}
