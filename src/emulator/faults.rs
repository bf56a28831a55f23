//! Injected faults and the log of requests received: the emulator's test and demo controls.
//!
//! Both live in memory only (never in the state file): they describe this process's network
//! weather, not the world. Faults are set per route through `/_emulator/faults`; each request
//! takes at most one fault, the first whose route matches and that has uses left.

use std::collections::VecDeque;

use axum::http;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every route a fault can name, as `route` in a fault and in the request log.
pub(super) const ROUTES: &[&str] = &[
    "ims.token",
    "exportJobs.list",
    "exportJobs.get",
    "flows.list",
    "flows.get",
    "runs.list",
    "runs.get",
    "segments.get",
    "adhocrun",
];

/// The route name of a request (see [`ROUTES`]), or `None` for paths we do not serve.
pub(super) fn route_of(method: &http::Method, path: &str) -> Option<&'static str> {
    let path = path.trim_end_matches('/');
    let get = method == http::Method::GET;
    let post = method == http::Method::POST;
    let one_segment = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
    };
    match path {
        "/ims/token/v3" if post => Some("ims.token"),
        "/data/core/ups/export/jobs" if get => Some("exportJobs.list"),
        "/data/foundation/flowservice/flows" if get => Some("flows.list"),
        "/data/foundation/flowservice/runs" if get => Some("runs.list"),
        "/data/core/activation/disflowprovider/adhocrun" if post => Some("adhocrun"),
        _ if get && one_segment("/data/core/ups/export/jobs/") => Some("exportJobs.get"),
        _ if get && one_segment("/data/foundation/flowservice/flows/") => Some("flows.get"),
        _ if get && one_segment("/data/foundation/flowservice/runs/") => Some("runs.get"),
        _ if get && one_segment("/data/core/ups/segment/definitions/") => Some("segments.get"),
        _ => None,
    }
}

/// One fault rule, as posted to `/_emulator/faults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// A route name from `ROUTES`, or `*` for every route.
    pub route: String,
    /// Delay before the request is handled, in milliseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub latency_ms: u64,
    /// Answer with this status instead of handling the request (429, 500, 503, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The `Retry-After` header (seconds) sent with `status`; 429 and 503 default to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Handle the request (a POST takes effect), then close the connection with no response.
    #[serde(default, skip_serializing_if = "is_false")]
    pub drop: bool,
    /// Spoil the body of the answer (the injected `status`'s, or else the real one, in which
    /// case the request is handled and takes effect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseFault>,
    /// How many matching requests the fault applies to; unlimited when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
}

/// How a [`Fault::response`] spoils the answer's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResponseFault {
    /// `application/json` that does not parse.
    MalformedJson,
    /// The first half of the body, with a `Content-Length` of the whole; then the connection
    /// closes.
    Truncated,
    /// An HTML error page (`text/html`), as a proxy or load balancer sends.
    Html,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
fn is_false(b: &bool) -> bool {
    !*b
}

impl Fault {
    /// Checks a fault as posted. Returns a message for the client on error.
    pub fn check(&self) -> Result<(), String> {
        if self.route != "*" && !ROUTES.contains(&self.route.as_str()) {
            return Err(format!(
                "unknown route `{}`; expected `*` or one of: {}",
                self.route,
                ROUTES.join(", ")
            ));
        }
        if let Some(status) = self.status
            && !(400..=599).contains(&status)
        {
            return Err(format!("`status` must be 400-599, not {status}"));
        }
        if self.status.is_some() && self.drop {
            return Err(
                "a fault either answers with `status` or drops the connection, not both".into(),
            );
        }
        if self.response.is_some() && self.drop {
            return Err("a dropped connection has no response to spoil".into());
        }
        if self.retry_after.is_some() && self.status.is_none() {
            return Err("`retryAfter` needs a `status`".into());
        }
        if self.times == Some(0) {
            return Err("`times` must be at least 1 (leave it out for no limit)".into());
        }
        if self.latency_ms > 600_000 {
            return Err("`latencyMs` must be at most 600000 (10 minutes)".into());
        }
        if self.status.is_none() && !self.drop && self.latency_ms == 0 && self.response.is_none() {
            return Err("a fault needs `latencyMs`, `status`, `drop` or `response`".into());
        }
        Ok(())
    }

    /// The `Retry-After` value to send with the fault's status, if any.
    pub fn retry_after_header(&self) -> Option<u64> {
        match (self.status, self.retry_after) {
            (Some(_), Some(secs)) => Some(secs),
            (Some(429 | 503), None) => Some(1),
            _ => None,
        }
    }
}

/// The active fault rules.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<Fault>,
}

impl Faults {
    pub(crate) fn add(&mut self, fault: Fault) {
        self.rules.push(fault);
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn list(&self) -> &[Fault] {
        &self.rules
    }

    /// Takes the fault for one request on `route`, spending one of its uses.
    pub(crate) fn take(&mut self, route: &str) -> Option<Fault> {
        let index = self
            .rules
            .iter()
            .position(|f| f.route == "*" || f.route == route)?;
        let fault = self.rules[index].clone();
        if let Some(times) = &mut self.rules[index].times {
            *times -= 1;
            if *times == 0 {
                self.rules.remove(index);
            }
        }
        Some(fault)
    }
}

/// Most requests kept in the log; older ones are dropped first.
pub(super) const LOG_CAPACITY: usize = 10_000;

/// One request as received, with secrets masked.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LoggedRequest {
    pub seq: u64,
    /// Epoch ms (virtual clock).
    pub at: i64,
    pub method: String,
    pub path: String,
    /// The query string as sent (percent-encoded; the IMS secret masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The query decoded into `[name, value]` pairs, in order, repeated names kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<Vec<(String, String)>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<&'static str>,
    /// Header names in lowercase; `authorization` shows only its scheme.
    pub headers: serde_json::Map<String, Value>,
    /// The body: JSON when it parses, a form as an object (secret masked), else text.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub body: Value,
    /// The status answered; `null` when the connection was dropped.
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
}

/// The log of requests received.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    next_seq: u64,
    entries: VecDeque<LoggedRequest>,
}

impl RequestLog {
    /// Logs a request as it arrives (its `status` still `null`); returns its `seq`.
    pub(crate) fn push(&mut self, mut entry: LoggedRequest) -> u64 {
        self.next_seq += 1;
        entry.seq = self.next_seq;
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
        self.next_seq
    }

    /// Records the status answered to request `seq` (`None`: the connection was dropped).
    pub(crate) fn answered(&mut self, seq: u64, status: Option<u16>) {
        if let Some(entry) = self.entries.iter_mut().rev().find(|e| e.seq == seq) {
            entry.status = status;
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = &LoggedRequest> {
        self.entries.iter()
    }
}

/// Masks a header value for the log: credentials keep only their scheme.
pub(super) fn mask_header(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("authorization") {
        match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} ***"),
            None => "***".into(),
        }
    } else {
        value.to_owned()
    }
}

/// Form fields whose values are never logged.
pub(super) const SECRET_FIELDS: &[&str] = &["client_secret", "code", "refresh_token", "jwt_token"];

/// A form body or query string as a JSON object with secrets masked.
pub(super) fn masked_form(text: &str) -> Value {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text).unwrap_or_default();
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        let v = if SECRET_FIELDS.contains(&k.as_str()) {
            "***".to_owned()
        } else {
            v
        };
        map.insert(k, Value::String(v));
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(route: &str, times: Option<u64>) -> Fault {
        Fault {
            route: route.into(),
            latency_ms: 0,
            status: Some(503),
            retry_after: None,
            drop: false,
            response: None,
            times,
        }
    }

    #[test]
    fn faults_are_spent_in_order() {
        let mut faults = Faults::default();
        faults.add(fault("adhocrun", Some(2)));
        faults.add(fault("*", Some(1)));
        assert!(faults.take("runs.get").is_some());
        assert!(faults.take("runs.get").is_none());
        assert!(faults.take("adhocrun").is_some());
        assert!(faults.take("adhocrun").is_some());
        assert!(faults.take("adhocrun").is_none());
    }

    #[test]
    fn routes_are_recognised() {
        let get = http::Method::GET;
        assert_eq!(
            route_of(&get, "/data/foundation/flowservice/runs/abc"),
            Some("runs.get")
        );
        assert_eq!(
            route_of(&get, "/data/foundation/flowservice/runs/"),
            Some("runs.list")
        );
        assert_eq!(
            route_of(&get, "/data/foundation/flowservice/runs/a/b"),
            None
        );
        assert_eq!(
            route_of(&http::Method::POST, "/ims/token/v3"),
            Some("ims.token")
        );
        assert_eq!(route_of(&get, "/ims/token/v3"), None);
    }

    #[test]
    fn secrets_are_masked() {
        assert_eq!(mask_header("Authorization", "Bearer abc.def"), "Bearer ***");
        let form = masked_form("grant_type=client_credentials&client_secret=s3cret&client_id=x");
        assert_eq!(form["client_secret"], "***");
        assert_eq!(form["client_id"], "x");
    }
}
