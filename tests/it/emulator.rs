//! Conformance of the AEP emulator, over real HTTP on 127.0.0.1: IMS, the gateway's header
//! checks, export jobs, flows, runs, ad-hoc activation with every rejection, sandboxes, faults,
//! the request log, reset and the state file. Time moves only through `/_emulator/clock`, so no
//! assertion depends on how fast anything runs.

pub(crate) mod client;

use std::time::Duration;

use aepact::emulator::{Emulator, EmulatorBuilder};
use serde_json::{Value, json};

use client::{Reply, send};

pub(crate) const ORG: &str = "A1B2C3D4E5F6A7B8C9D0E1F2@AdobeOrg";
pub(crate) const CLIENT_ID: &str = "aepact-demo-client";
pub(crate) const SECRET: &str = "p8e-aepact-demo-secret";
pub(crate) const V2: &str = "application/vnd.adobe.adhoc.activation+json; version=2";

pub(crate) const EMAIL: &str = "0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
pub(crate) const DIRECT_MAIL: &str = "3f9d6c1a-7e2b-4a5c-9d8e-1f2a3b4c5d6e";
pub(crate) const SOURCE_FLOW: &str = "26201c81-429c-4f90-93d5-1582c98ed1b6";
pub(crate) const NEWSLETTER: &str = "5e8a7b6c-4d3e-4f2a-8b1c-9d0e1f2a3b4c";
pub(crate) const GOLD: &str = "db8961e9-d52f-45bc-b3fb-76d0382a6851";
pub(crate) const SILVER: &str = "6a1f0c3e-5b7d-4e9f-a1b2-c3d4e5f6a7b8";
pub(crate) const HIGH_VALUE: &str = "6cd8b7ba-6556-4312-b637-d4a5af211801";
const LAPSED_90: &str = "7d1e3f5a-9b2c-4d6e-8f0a-1b3c5d7e9f2a";
pub(crate) const EMPLOYEES: &str = "f19f3ffe-7e79-4732-b7c2-78c7ce369ef7";
const HOLIDAY: &str = "599702c1-937c-4df4-bcb9-dfd8b2913966";
const SPRING: &str = "d4407746-9a0d-490c-a93f-18b0506f3fa6";
pub(crate) const CATALOG: &str = "a62ea7d4-ac30-4a29-a1d8-f413b18eb143";
pub(crate) const ADDRESS: &str = "d774ba7d-cfb9-4e66-8bd1-88988831b26d";
pub(crate) const NEWSLETTER_SUBS: &str = "2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d";
const RECENT_PURCHASERS: &str = "8f0a2b4c-6d8e-4f1a-8b3c-5d7e9f1a2b4c";
pub(crate) const ADHOC: &str = "/data/core/activation/disflowprovider/adhocrun";

/// A running emulator and a token for it.
pub(crate) struct Api {
    pub(crate) emulator: Emulator,
    pub(crate) token: String,
}

impl Api {
    /// The demo world with runs that take an hour, so tests step them with the clock.
    pub(crate) fn new() -> Self {
        Self::with(EmulatorBuilder::new().run_duration(Duration::from_secs(3600)))
    }

    pub(crate) fn with(builder: EmulatorBuilder) -> Self {
        let emulator = builder.start().unwrap();
        let token = token(&emulator);
        Self { emulator, token }
    }

    pub(crate) fn raw(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> std::io::Result<Reply> {
        send(
            self.emulator.addr(),
            method,
            target,
            headers,
            body.map(str::as_bytes),
        )
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// A GET with every gateway header, in `sandbox` (`None`: no `x-sandbox-name`).
    pub(crate) fn get_in(&self, sandbox: Option<&str>, target: &str) -> Reply {
        let auth = self.auth();
        let mut headers = vec![
            ("Authorization", auth.as_str()),
            ("x-api-key", CLIENT_ID),
            ("x-gw-ims-org-id", ORG),
        ];
        if let Some(sb) = sandbox {
            headers.push(("x-sandbox-name", sb));
        }
        self.raw("GET", target, &headers, None).unwrap()
    }

    pub(crate) fn get(&self, target: &str) -> Reply {
        self.get_in(Some("prod"), target)
    }

    /// An ad-hoc POST in `sandbox`, version 2 when `v2`.
    pub(crate) fn adhoc_in(&self, sandbox: &str, v2: bool, body: &Value) -> Reply {
        self.adhoc_raw(sandbox, v2, &body.to_string()).unwrap()
    }

    pub(crate) fn adhoc(&self, body: &Value) -> Reply {
        self.adhoc_in("prod", false, body)
    }

    pub(crate) fn adhoc_raw(&self, sandbox: &str, v2: bool, body: &str) -> std::io::Result<Reply> {
        let auth = self.auth();
        let mut headers = vec![
            ("Authorization", auth.as_str()),
            ("x-api-key", CLIENT_ID),
            ("x-gw-ims-org-id", ORG),
            ("x-sandbox-name", sandbox),
            ("Content-Type", "application/json"),
        ];
        if v2 {
            headers.push(("Accept", V2));
        }
        self.raw("POST", ADHOC, &headers, Some(body))
    }

    /// A control request under `/_emulator/`.
    pub(crate) fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        admin(&self.emulator, method, path, body)
    }

    pub(crate) fn advance(&self, ms: u64) {
        self.admin("POST", "clock", Some(json!({"advanceMs": ms})));
    }

    /// The run behind a `statusURL`, fetched through that very URL.
    pub(crate) fn follow(&self, status_url: &str) -> Value {
        let prefix = self.emulator.platform_url();
        let path = status_url
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{status_url} does not point at the emulator {prefix}"));
        let reply = self.get(path);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body = reply.json();
        assert_eq!(body["items"].as_array().unwrap().len(), 1);
        body["items"][0].clone()
    }
}

/// Gets a token from the demo client.
pub(crate) fn token(emulator: &Emulator) -> String {
    token_with(emulator, CLIENT_ID, SECRET)
}

/// Gets a token for a client of the emulator's world.
pub(crate) fn token_with(emulator: &Emulator, client_id: &str, secret: &str) -> String {
    let body = format!(
        "grant_type=client_credentials&client_id={client_id}&client_secret={secret}&scope=openid,AdobeID,read_organizations"
    );
    let reply = send(
        emulator.addr(),
        "POST",
        "/ims/token/v3",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(body.as_bytes()),
    )
    .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

/// A control request under `/_emulator/`; asserts it succeeded.
pub(crate) fn admin(emulator: &Emulator, method: &str, path: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string());
    let reply = send(
        emulator.addr(),
        method,
        &format!("/_emulator/{path}"),
        &[("Content-Type", "application/json")],
        body.as_deref().map(str::as_bytes),
    )
    .unwrap();
    assert_eq!(
        reply.status, 200,
        "{method} /_emulator/{path}: {}",
        reply.body
    );
    reply.json()
}

fn activation(pairs: &[(&str, &[&str])]) -> Value {
    let mut info = serde_json::Map::new();
    for (dest, segs) in pairs {
        info.insert((*dest).to_owned(), json!(segs));
    }
    Value::Object(info)
}

pub(crate) fn v1_body(pairs: &[(&str, &[&str])], exports: Value) -> Value {
    json!({"activationInfo": activation(pairs), "exportIds": exports})
}

/// Asserts a problem body with status `status` whose detail contains `needle`.
#[track_caller]
pub(crate) fn assert_problem(reply: &Reply, status: u16, needle: &str) -> Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("https://ns.adobe.com/aep/errors/"),
        "{body}"
    );
    assert!(body["title"].is_string(), "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(needle),
        "`{detail}` does not contain `{needle}`"
    );
    assert_eq!(body["message"], body["detail"]);
    body
}

// ---------------------------------------------------------------------------------------------
// IMS.

#[test]
fn ims_issues_bearer_tokens_for_the_demo_client() {
    let api = Api::new();
    let body = format!(
        "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={SECRET}&scope=openid"
    );
    let reply = api
        .raw(
            "POST",
            "/ims/token/v3",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(&body),
        )
        .unwrap();
    assert_eq!(reply.status, 200);
    let token = reply.json();
    assert_eq!(token["token_type"], "bearer");
    assert_eq!(token["expires_in"], 86399);
    assert!(!token["access_token"].as_str().unwrap().is_empty());
    // The parameters may also travel in the query string.
    let reply = api
        .raw("POST", &format!("/ims/token/v3?{body}"), &[], None)
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn ims_refuses_wrong_credentials_with_oauth_errors() {
    let api = Api::new();
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let cases = [
        (
            "grant_type=client_credentials&client_id=aepact-demo-client&client_secret=wrong&scope=openid",
            "invalid_client",
            "client_secret",
        ),
        (
            "grant_type=client_credentials&client_id=nobody&client_secret=x&scope=openid",
            "invalid_client",
            "client_id",
        ),
        (
            "grant_type=password&client_id=aepact-demo-client&client_secret=x&scope=openid",
            "unsupported_grant_type",
            "client_credentials",
        ),
        (
            "client_id=aepact-demo-client&client_secret=x&scope=openid",
            "invalid_request",
            "grant_type",
        ),
        (
            "grant_type=client_credentials&client_secret=x&scope=openid",
            "invalid_request",
            "client_id",
        ),
        (
            "grant_type=client_credentials&client_id=aepact-demo-client&scope=openid",
            "invalid_request",
            "client_secret",
        ),
        (
            "grant_type=client_credentials&client_id=aepact-demo-client&client_secret=p8e-aepact-demo-secret",
            "invalid_scope",
            "scope",
        ),
    ];
    for (body, error, mentions) in cases {
        let reply = api.raw("POST", "/ims/token/v3", &form, Some(body)).unwrap();
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        let err = reply.json();
        assert_eq!(err["error"], error, "{body}");
        assert!(
            err["error_description"]
                .as_str()
                .unwrap()
                .contains(mentions),
            "{err}"
        );
    }
    let reply = api
        .raw(
            "POST",
            "/ims/token/v3",
            &[("Content-Type", "application/json")],
            Some("{\"client_id\":\"x\"}"),
        )
        .unwrap();
    assert_eq!(reply.json()["error"], "invalid_request");
}

// ---------------------------------------------------------------------------------------------
// Gateway.

#[test]
fn gateway_refuses_missing_and_invalid_headers_with_the_documented_bodies() {
    let api = Api::new();
    let auth = format!("Bearer {}", api.token);
    let jobs = "/data/core/ups/export/jobs";
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, Value);
    let cases: Vec<Case<'_>> = vec![
        (
            vec![("x-api-key", CLIENT_ID), ("x-gw-ims-org-id", ORG)],
            403,
            json!({"error_code": "403010", "message": "Oauth token is missing."}),
        ),
        (
            vec![
                ("Authorization", "Bearer forged"),
                ("x-api-key", CLIENT_ID),
                ("x-gw-ims-org-id", ORG),
            ],
            401,
            json!({"error_code": "401013", "message": "Oauth token is not valid"}),
        ),
        (
            vec![
                ("Authorization", api.token.as_str()),
                ("x-api-key", CLIENT_ID),
                ("x-gw-ims-org-id", ORG),
            ],
            401,
            json!({"error_code": "401013", "message": "Oauth token is not valid"}),
        ),
        (
            vec![("Authorization", &auth), ("x-gw-ims-org-id", ORG)],
            403,
            json!({"error_code": "403000", "message": "Api Key is required"}),
        ),
        (
            vec![
                ("Authorization", &auth),
                ("x-api-key", "someone-else"),
                ("x-gw-ims-org-id", ORG),
            ],
            403,
            json!({"error_code": "403003", "message": "Api Key is invalid"}),
        ),
        (
            vec![("Authorization", &auth), ("x-api-key", CLIENT_ID)],
            400,
            json!({"error_code": "400003", "message": "Missing header"}),
        ),
        (
            vec![
                ("Authorization", &auth),
                ("x-api-key", CLIENT_ID),
                ("x-gw-ims-org-id", "not-an-org"),
            ],
            403,
            json!({"error_code": "403027", "message": "User region is missing"}),
        ),
        (
            vec![
                ("Authorization", &auth),
                ("x-api-key", CLIENT_ID),
                ("x-gw-ims-org-id", "000000000000000000000000@AdobeOrg"),
            ],
            403,
            json!({"error_code": "403025", "message": "Profile is not valid"}),
        ),
    ];
    for (headers, status, body) in cases {
        let reply = api.raw("GET", jobs, &headers, None).unwrap();
        assert_eq!(reply.status, status, "{headers:?}: {}", reply.body);
        assert_eq!(reply.json(), body, "{headers:?}");
    }

    // A POST without Content-Type.
    let reply = api
        .raw(
            "POST",
            ADHOC,
            &[
                ("Authorization", &auth),
                ("x-api-key", CLIENT_ID),
                ("x-gw-ims-org-id", ORG),
            ],
            Some("{}"),
        )
        .unwrap();
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json(),
        json!({"type": "/placeholder/type/uri", "status": 400, "title": "BadRequestError", "detail": "A valid content-type must be specified"})
    );

    // An unknown sandbox.
    let reply = api.get_in(Some("staging"), jobs);
    assert_problem(&reply, 403, "staging");
}

#[test]
fn tokens_expire_after_a_day() {
    let api = Api::new();
    assert_eq!(api.get("/data/core/ups/export/jobs").status, 200);
    api.advance(86_399 * 1000 + 1);
    let reply = api.get("/data/core/ups/export/jobs");
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error_code"], "401013");
    // A fresh token works again.
    let fresh = Api {
        token: token(&api.emulator),
        ..api
    };
    assert_eq!(fresh.get("/data/core/ups/export/jobs").status, 200);
}

// ---------------------------------------------------------------------------------------------
// Export jobs.

#[test]
fn export_jobs_list_pages_newest_first_in_the_documented_shape() {
    let api = Api::new();
    let all = api.get("/data/core/ups/export/jobs").json();
    let records = all["records"].as_array().unwrap();
    let ids: Vec<u64> = records.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(
        ids,
        [11044, 11042, 11041, 11040, 11038, 11035, 11033, 11031]
    );
    let first = &records[0];
    assert_eq!(first["schema"]["name"], "_xdm.context.profile");
    assert_eq!(first["status"], "SUCCEEDED");
    assert_eq!(first["imsOrgId"], ORG);
    assert!(
        first["creationTime"].as_i64().unwrap() > 1_600_000_000_000,
        "epoch ms"
    );
    assert!(first["updateTime"].as_i64() > first["creationTime"].as_i64());
    assert_eq!(records[1]["schema"]["name"], "_xdm.context.experienceevent");
    let failed = records.iter().find(|r| r["id"] == 11040).unwrap();
    assert_eq!(failed["status"], "FAILED");
    assert!(failed["errors"].as_array().is_some_and(|e| !e.is_empty()));
    assert!(all["page"].is_object() && all["link"].is_object());
    assert!(all["link"].get("next").is_none(), "one page holds them all");

    // Paging through `link.next` visits every job once, in order.
    let mut seen = Vec::new();
    let mut target = "/data/core/ups/export/jobs?limit=3".to_owned();
    loop {
        let page = api.get(&target).json();
        assert_eq!(page["page"]["sortField"], "createdTime");
        for r in page["records"].as_array().unwrap() {
            seen.push(r["id"].as_u64().unwrap());
        }
        match page["link"]["next"].as_str() {
            Some(next) => {
                let next = next.strip_prefix("/export/jobs/").unwrap();
                target = format!("/data/core/ups/export/jobs{next}");
            }
            None => break,
        }
    }
    assert_eq!(seen, ids);

    let failed_only = api.get("/data/core/ups/export/jobs?status=FAILED").json();
    let failed_ids: Vec<_> = failed_only["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(failed_ids, [json!(11040)]);

    for bad in ["limit=0", "limit=x", "status=DONE", "offset=nope"] {
        let reply = api.get(&format!("/data/core/ups/export/jobs?{bad}"));
        assert_problem(&reply, 400, "");
    }
}

#[test]
fn export_job_get_returns_one_job_of_the_callers_sandbox() {
    let api = Api::new();
    let job = api.get("/data/core/ups/export/jobs/11044");
    assert_eq!(job.status, 200);
    assert_eq!(job.json()["id"], 11044);
    // 11037 is dev's: invisible from prod, found in dev.
    assert_problem(&api.get("/data/core/ups/export/jobs/11037"), 404, "11037");
    let dev = api.get_in(Some("dev"), "/data/core/ups/export/jobs/11037");
    assert_eq!(dev.status, 200);
    assert_eq!(dev.json()["status"], "SUCCEEDED");
    assert_problem(&api.get("/data/core/ups/export/jobs/abc"), 400, "abc");
}

// ---------------------------------------------------------------------------------------------
// Flows.

#[test]
fn flows_carry_segment_selectors_with_schedules() {
    let api = Api::new();
    let reply = api.get(&format!("/data/foundation/flowservice/flows/{EMAIL}"));
    assert_eq!(reply.status, 200);
    let flow = &reply.json()["items"][0];
    assert_eq!(flow["id"], EMAIL);
    assert_eq!(flow["name"], "Email vendor (SFTP)");
    assert_eq!(flow["state"], "enabled");
    assert_eq!(
        flow["inheritedAttributes"]["properties"]["isDestinationFlow"],
        true
    );
    let selectors = flow["transformations"][0]["params"]["segmentSelectors"]["selectors"]
        .as_array()
        .unwrap();
    let gold = selectors.iter().find(|s| s["value"]["id"] == GOLD).unwrap();
    assert_eq!(gold["type"], "PLATFORM_SEGMENT");
    assert_eq!(gold["value"]["name"], "Loyalty gold");
    let schedule = &gold["value"]["schedule"];
    assert_eq!(schedule["frequency"], "DAILY");
    assert_eq!(schedule["triggerType"], "SCHEDULED");
    assert_eq!(schedule["startDate"].as_str().unwrap().len(), 10);

    let missing =
        api.get("/data/foundation/flowservice/flows/00000000-0000-4000-8000-000000000000");
    assert_eq!(missing.status, 404);
    let body = missing.json();
    assert_eq!(
        body["type"],
        "https://ns.adobe.com/aep/errors/FLOW-1439-404"
    );
    assert_eq!(body["report"]["type"], "flows");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("00000000-0000-4000-8000-000000000000")
    );
}

#[test]
fn flows_list_filters_by_property() {
    let api = Api::new();
    let ids = |target: &str| -> Vec<String> {
        let reply = api.get(target);
        assert_eq!(reply.status, 200, "{target}: {}", reply.body);
        reply.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let base = "/data/foundation/flowservice/flows";
    assert_eq!(ids(base).len(), 3);
    assert_eq!(
        ids(&format!(
            "{base}?property=inheritedAttributes.properties.isDestinationFlow==true"
        )),
        [EMAIL, DIRECT_MAIL]
    );
    assert_eq!(
        ids(&format!("{base}?property=id=={DIRECT_MAIL}")),
        [DIRECT_MAIL]
    );
    assert_eq!(
        ids(&format!(
            "{base}?property=transformations[].params.segmentSelectors.selectors[].value.id=={GOLD}"
        )),
        [EMAIL, DIRECT_MAIL]
    );
    assert_eq!(
        ids(&format!(
            "{base}?property=transformations[].params.segmentSelectors.selectors[].value.id=={GOLD}&property=id=={EMAIL}"
        )),
        [EMAIL]
    );
    assert_eq!(
        ids(&format!("{base}?property=id=={EMAIL},{SOURCE_FLOW}")),
        [EMAIL, SOURCE_FLOW]
    );
    assert_eq!(
        api.get(&format!("{base}?property=id=={EMAIL}&count=true"))
            .json(),
        json!({"count": 1})
    );
    // dev has its own flows.
    let dev = api.get_in(Some("dev"), base).json();
    assert_eq!(dev["items"][0]["id"], NEWSLETTER);
    assert_eq!(dev["items"].as_array().unwrap().len(), 1);
    assert_problem(&api.get(&format!("{base}?property===x")), 400, "property");
    assert_problem(
        &api.get(&format!("{base}?property=id%3E%3E1")),
        400,
        "property",
    );
}

// ---------------------------------------------------------------------------------------------
// Ad-hoc activation and runs.

#[test]
fn adhoc_v1_creates_runs_that_move_from_scheduled_to_success() {
    let api = Api::new();
    let reply = api.adhoc(&v1_body(
        &[(EMAIL, &[GOLD, SILVER]), (DIRECT_MAIL, &[GOLD])],
        json!(["11044"]),
    ));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let order = reply.json()["order"].as_array().unwrap().clone();
    let pairs: Vec<(String, String)> = order
        .iter()
        .map(|o| {
            (
                o["segment"].as_str().unwrap().into(),
                o["order"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            (GOLD.into(), EMAIL.into()),
            (SILVER.into(), EMAIL.into()),
            (GOLD.into(), DIRECT_MAIL.into())
        ]
    );
    let url = order[0]["statusURL"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "{}/data/foundation/flowservice/runs/",
            api.emulator.platform_url()
        )),
        "{url}"
    );

    let run = api.follow(url);
    assert_eq!(run["flowId"], EMAIL);
    assert_eq!(run["sandboxName"], "prod");
    assert_eq!(run["metrics"]["statusSummary"]["status"], "scheduled");
    assert!(
        run["metrics"]["durationSummary"]
            .get("completedAtUTC")
            .is_none()
    );

    api.advance(20 * 60_000);
    let run = api.follow(url);
    assert_eq!(run["metrics"]["statusSummary"]["status"], "inProgress");
    assert!(run["metrics"]["durationSummary"]["startedAtUTC"].is_i64());
    assert!(
        run["metrics"]["durationSummary"]
            .get("completedAtUTC")
            .is_none()
    );

    api.advance(40 * 60_000);
    let run = api.follow(url);
    let metrics = &run["metrics"];
    assert_eq!(metrics["statusSummary"]["status"], "success");
    let started = metrics["durationSummary"]["startedAtUTC"].as_i64().unwrap();
    let completed = metrics["durationSummary"]["completedAtUTC"]
        .as_i64()
        .unwrap();
    assert!(completed > started);
    assert_eq!(metrics["recordSummary"]["inputRecordCount"], 48210);
    assert_eq!(metrics["recordSummary"]["outputRecordCount"], 48210);
    assert_eq!(metrics["recordSummary"]["failedRecordCount"], 0);
    assert_eq!(
        metrics["recordSummary"]["targetSummaries"][0]["entitySummaries"][0]["id"],
        format!("segment:{GOLD}")
    );

    // The runs of a flow, listed by flowId.
    let runs = api
        .get(&format!(
            "/data/foundation/flowservice/runs?property=flowId=={EMAIL}"
        ))
        .json();
    let items = runs["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|r| r["flowId"] == EMAIL));
    let by_status = api
        .get(&format!("/data/foundation/flowservice/runs?property=flowId=={DIRECT_MAIL}&property=metrics.statusSummary.status==success"))
        .json();
    assert_eq!(by_status["items"].as_array().unwrap().len(), 1);
    let missing = api.get("/data/foundation/flowservice/runs/00000000-0000-4000-8000-000000000000");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["report"]["type"], "runs");
}

#[test]
fn runs_end_as_the_world_says() {
    let api = Api::new();
    let reply = api.adhoc(&v1_body(
        &[(DIRECT_MAIL, &[CATALOG, ADDRESS])],
        json!([11044]),
    ));
    assert_eq!(reply.status, 200, "{}", reply.body);
    api.advance(3_600_000);
    let order = reply.json()["order"].clone();
    let failed = api.follow(order[0]["statusURL"].as_str().unwrap());
    assert_eq!(failed["metrics"]["statusSummary"]["status"], "failed");
    assert!(
        !failed["metrics"]["statusSummary"]["errors"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(failed["metrics"]["recordSummary"]["outputRecordCount"], 0);
    let partial = api.follow(order[1]["statusURL"].as_str().unwrap());
    assert_eq!(
        partial["metrics"]["statusSummary"]["status"],
        "partialSuccess"
    );
    let records = &partial["metrics"]["recordSummary"];
    assert!(records["failedRecordCount"].as_u64().unwrap() > 0);
    assert_eq!(
        records["inputRecordCount"].as_u64().unwrap(),
        records["outputRecordCount"].as_u64().unwrap()
            + records["failedRecordCount"].as_u64().unwrap()
    );
}

#[test]
fn instant_runs_finish_at_once() {
    let api = Api::with(EmulatorBuilder::new().run_duration(Duration::ZERO));
    let reply = api.adhoc(&v1_body(&[(EMAIL, &[GOLD])], json!(["11044"])));
    let run = api.follow(reply.json()["order"][0]["statusURL"].as_str().unwrap());
    assert_eq!(run["metrics"]["statusSummary"]["status"], "success");
    // And the segment is free again right away.
    assert_eq!(
        api.adhoc(&v1_body(&[(EMAIL, &[GOLD])], json!(["11044"])))
            .status,
        200
    );
}

#[test]
fn adhoc_v1_requires_export_ids_and_v2_does_not() {
    let api = Api::new();
    let body = json!({"activationInfo": activation(&[(EMAIL, &[GOLD])])});
    assert_problem(&api.adhoc(&body), 400, "`exportIds` is required");
    let reply = api.adhoc_in("prod", true, &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    // v2 still checks export IDs when given.
    let reply = api.adhoc_in(
        "prod",
        true,
        &v1_body(&[(EMAIL, &[SILVER])], json!(["11040"])),
    );
    assert_problem(&reply, 400, "11040");
}

#[test]
fn adhoc_limits_segments_per_job_by_api_version() {
    let api = Api::new();
    let fake: Vec<String> = (0..81)
        .map(|n| format!("00000000-0000-4000-8000-{n:012x}"))
        .collect();
    let refs = |n: usize| fake[..n].iter().map(String::as_str).collect::<Vec<_>>();
    let reply = api.adhoc(&v1_body(&[(EMAIL, &refs(21))], json!(["11044"])));
    assert_problem(&reply, 400, "at most 20 segments; this one has 21");
    let reply = api.adhoc_in(
        "prod",
        true,
        &json!({"activationInfo": activation(&[(EMAIL, &refs(81))])}),
    );
    assert_problem(&reply, 400, "at most 80 audiences; this one has 81");

    // 21 mapped, in-schedule segments over two flows: too many for v1, fine for v2.
    let flows = api.get("/data/foundation/flowservice/flows?property=inheritedAttributes.properties.isDestinationFlow==true").json();
    let mut seen = std::collections::HashSet::new();
    let mut plan: Vec<(String, Vec<String>)> = Vec::new();
    for flow in flows["items"].as_array().unwrap() {
        let mut segs = Vec::new();
        for sel in flow["transformations"][0]["params"]["segmentSelectors"]["selectors"]
            .as_array()
            .unwrap()
        {
            let id = sel["value"]["id"].as_str().unwrap();
            if id != HOLIDAY && id != SPRING && seen.insert(id.to_owned()) {
                segs.push(id.to_owned());
            }
        }
        plan.push((flow["id"].as_str().unwrap().to_owned(), segs));
    }
    assert!(seen.len() > 20, "{} segments", seen.len());
    let info: serde_json::Map<String, Value> =
        plan.iter().map(|(f, s)| (f.clone(), json!(s))).collect();
    let body = json!({"activationInfo": info, "exportIds": ["11044"]});
    assert_problem(&api.adhoc(&body), 400, "at most 20 segments");
    let reply = api.adhoc_in("prod", true, &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["order"].as_array().unwrap().len(), seen.len());
}

#[test]
fn adhoc_refuses_segments_outside_the_dataflow_or_its_schedule() {
    let api = Api::new();
    let cases = [
        (
            EMPLOYEES,
            "Segments Employees are not part of this dataflow or out of schedule range!",
        ),
        (
            HOLIDAY,
            "Segments Holiday shoppers last year are not part of this dataflow or out of schedule range!",
        ),
        (
            SPRING,
            "Segments Spring launch waitlist are not part of this dataflow or out of schedule range!",
        ),
        (
            HIGH_VALUE,
            "Segments High-value customers are not part of this dataflow or out of schedule range!",
        ),
        (
            "00000000-0000-4000-8000-000000000001",
            "Segments 00000000-0000-4000-8000-000000000001 are not part of this dataflow or out of schedule range!",
        ),
    ];
    for (segment, message) in cases {
        let reply = api.adhoc(&v1_body(&[(EMAIL, &[GOLD, segment])], json!(["11044"])));
        let body = assert_problem(&reply, 400, message);
        assert_eq!(body["detail"], message);
    }
    // Nothing was started by the refused jobs.
    let runs = api.get("/data/foundation/flowservice/runs").json();
    assert_eq!(runs["items"].as_array().unwrap().len(), 0);
    // Schedules move with the clock: 30 days on, the spring waitlist is in range.
    api.advance(31 * 86_400_000);
    let api = Api {
        token: token(&api.emulator),
        ..api
    };
    assert_eq!(
        api.adhoc(&v1_body(&[(EMAIL, &[SPRING])], json!(["11044"])))
            .status,
        200
    );
}

#[test]
fn adhoc_refuses_a_segment_with_a_run_still_going() {
    let api = Api::new();
    let first = api.adhoc(&v1_body(&[(EMAIL, &[GOLD])], json!(["11044"])));
    assert_eq!(first.status, 200);
    let url = first.json()["order"][0]["statusURL"]
        .as_str()
        .unwrap()
        .to_owned();
    let run_id = url.rsplit('/').next().unwrap().to_owned();

    // Through another dataflow too: one concurrent ad-hoc job per segment.
    let again = api.adhoc(&v1_body(&[(DIRECT_MAIL, &[GOLD])], json!(["11044"])));
    let expected =
        format!("Run already going on for segment {GOLD} for order {EMAIL} with run id {run_id}");
    let body = assert_problem(&again, 409, &expected);
    assert_eq!(body["detail"], expected);
    // Version 2 words it as the current docs do.
    let again = api.adhoc_in(
        "prod",
        true,
        &json!({"activationInfo": activation(&[(EMAIL, &[GOLD])])}),
    );
    assert_problem(
        &again,
        409,
        &format!("Run already going on for audience {GOLD} for order {EMAIL} with run id {run_id}"),
    );
    // Other segments are free.
    assert_eq!(
        api.adhoc(&v1_body(&[(EMAIL, &[SILVER])], json!(["11044"])))
            .status,
        200
    );
    // Once the run finished, the segment may go again.
    api.advance(3_600_000);
    assert_eq!(
        api.adhoc(&v1_body(&[(EMAIL, &[GOLD])], json!(["11044"])))
            .status,
        200
    );
}

#[test]
fn adhoc_waits_for_a_scheduled_export_job() {
    let api = Api::new();
    let job = api.admin("POST", "export-jobs", Some(json!({"sandbox": "prod"})));
    assert_eq!(job["status"], "PROCESSING");
    let id = job["id"].as_u64().unwrap();
    assert_eq!(id, 11045);
    let latest = api.get("/data/core/ups/export/jobs?limit=1").json();
    assert_eq!(latest["records"][0]["id"], id);

    let reply = api.adhoc(&v1_body(&[(EMAIL, &[GOLD])], json!(["11044"])));
    assert_problem(
        &reply,
        409,
        &format!("scheduled segment export job {id} is processing"),
    );
    let reply = api.adhoc_in(
        "prod",
        true,
        &json!({"activationInfo": activation(&[(EMAIL, &[GOLD])])}),
    );
    assert_problem(&reply, 409, "processing");
    // Only prod is busy.
    let dev = api.adhoc_in(
        "dev",
        false,
        &v1_body(&[(NEWSLETTER, &[NEWSLETTER_SUBS])], json!(["11037"])),
    );
    assert_eq!(dev.status, 200, "{}", dev.body);
    // Its own ID is not a succeeded job yet.
    let finished = api.admin(
        "POST",
        &format!("export-jobs/{id}/finish"),
        Some(json!({"status": "SUCCEEDED"})),
    );
    assert_eq!(finished["status"], "SUCCEEDED");
    let reply = api.adhoc(&v1_body(&[(EMAIL, &[GOLD])], json!([id])));
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn adhoc_refuses_unknown_destinations() {
    let api = Api::new();
    let unknown = "00000000-0000-4000-8000-0000000000ff";
    assert_problem(
        &api.adhoc(&v1_body(&[(unknown, &[GOLD])], json!(["11044"]))),
        404,
        unknown,
    );
    assert_problem(
        &api.adhoc(&v1_body(&[(SOURCE_FLOW, &[GOLD])], json!(["11044"]))),
        400,
        "not a destination dataflow",
    );
    // dev's dataflow does not exist in prod.
    assert_problem(
        &api.adhoc(&v1_body(
            &[(NEWSLETTER, &[NEWSLETTER_SUBS])],
            json!(["11044"]),
        )),
        404,
        NEWSLETTER,
    );
}

#[test]
fn adhoc_refuses_malformed_bodies_without_failing() {
    let api = Api::new();
    let cases = [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        (
            "{\"exportIds\": [\"11044\"]}",
            "`activationInfo` is required",
        ),
        (
            "{\"activationInfo\": [], \"exportIds\": [\"11044\"]}",
            "must be an object",
        ),
        (
            "{\"activationInfo\": {}, \"exportIds\": [\"11044\"]}",
            "names no destination",
        ),
        (
            &format!(
                "{{\"activationInfo\": {{\"{EMAIL}\": \"{GOLD}\"}}, \"exportIds\": [\"11044\"]}}"
            ),
            "array of segment IDs",
        ),
        (
            &format!("{{\"activationInfo\": {{\"{EMAIL}\": []}}, \"exportIds\": [\"11044\"]}}"),
            "lists no segment",
        ),
        (
            &format!("{{\"activationInfo\": {{\"{EMAIL}\": [42]}}, \"exportIds\": [\"11044\"]}}"),
            "as strings",
        ),
        (
            &format!(
                "{{\"activationInfo\": {{\"{EMAIL}\": [\"{GOLD}\", \"{GOLD}\"]}}, \"exportIds\": [\"11044\"]}}"
            ),
            "listed twice",
        ),
        (
            &format!(
                "{{\"activationInfo\": {{\"{EMAIL}\": [\"{GOLD}\"]}}, \"exportId\": [\"11044\"]}}"
            ),
            "Unknown field `exportId`",
        ),
        (
            &format!(
                "{{\"activationInfo\": {{\"{EMAIL}\": [\"{GOLD}\"]}}, \"exportIds\": \"11044\"}}"
            ),
            "must be an array",
        ),
        (
            &format!("{{\"activationInfo\": {{\"{EMAIL}\": [\"{GOLD}\"]}}, \"exportIds\": []}}"),
            "is empty",
        ),
        (
            &format!(
                "{{\"activationInfo\": {{\"{EMAIL}\": [\"{GOLD}\"]}}, \"exportIds\": [\"latest\"]}}"
            ),
            "(digits)",
        ),
        (
            &format!(
                "{{\"activationInfo\": {{\"{EMAIL}\": [\"{GOLD}\"]}}, \"exportIds\": [\"99\"]}}"
            ),
            "Export job 99 does not exist",
        ),
        (
            &format!(
                "{{\"activationInfo\": {{\"{EMAIL}\": [\"{GOLD}\"]}}, \"exportIds\": [\"11037\"]}}"
            ),
            "Export job 11037 does not exist",
        ),
        (
            &format!(
                "{{\"activationInfo\": {{\"{EMAIL}\": [\"{GOLD}\"]}}, \"exportIds\": [\"11040\"]}}"
            ),
            "has not succeeded (its status is FAILED)",
        ),
        (
            &format!(
                "{{\"activationInfo\": {{\"{EMAIL}\": [\"{GOLD}\"]}}, \"exportIds\": [\"11042\"]}}"
            ),
            "not a profile export job",
        ),
        ("\u{0}\u{ff}garbage", "not valid JSON"),
    ];
    for (body, needle) in cases {
        let reply = api.adhoc_raw("prod", false, body).unwrap();
        let problem = assert_problem(&reply, 400, needle);
        assert_eq!(
            problem["type"], "https://ns.adobe.com/aep/errors/DEST-ADH-400",
            "{body}"
        );
    }
    // Export IDs may be numbers as well as strings.
    let reply = api.adhoc(&v1_body(&[(EMAIL, &[GOLD])], json!([11044])));
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn sandboxes_are_kept_apart() {
    let api = Api::new();
    // The weekly-digest example: dev, export 11037.
    let reply = api.adhoc_in(
        "dev",
        false,
        &v1_body(
            &[(NEWSLETTER, &[NEWSLETTER_SUBS, RECENT_PURCHASERS])],
            json!([11037]),
        ),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let url = reply.json()["order"][0]["statusURL"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = url
        .strip_prefix(api.emulator.platform_url())
        .unwrap()
        .to_owned();
    assert_eq!(
        api.get_in(Some("dev"), &path).json()["items"][0]["sandboxName"],
        "dev"
    );
    assert_eq!(
        api.get(&path).status,
        404,
        "a dev run is not visible from prod"
    );
    assert_eq!(
        api.get("/data/foundation/flowservice/runs").json()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Prod segments do not exist in dev.
    let reply = api.adhoc_in(
        "dev",
        false,
        &v1_body(&[(NEWSLETTER, &[GOLD])], json!([11037])),
    );
    assert_problem(&reply, 400, GOLD);
    // No header means prod.
    assert_eq!(
        api.get_in(None, "/data/core/ups/export/jobs/11044").status,
        200
    );
    assert_eq!(
        api.get_in(None, "/data/core/ups/export/jobs/11037").status,
        404
    );
    // The winback example runs in prod without a sandbox header.
    let auth = format!("Bearer {}", api.token);
    let body = v1_body(&[(EMAIL, &[LAPSED_90])], json!(["11044"])).to_string();
    let reply = api
        .raw(
            "POST",
            ADHOC,
            &[
                ("Authorization", &auth),
                ("x-api-key", CLIENT_ID),
                ("x-gw-ims-org-id", ORG),
                ("Content-Type", "application/json"),
            ],
            Some(&body),
        )
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
}

// ---------------------------------------------------------------------------------------------
// Faults, the request log, reset.

#[test]
fn faults_answer_429_with_retry_after_then_clear() {
    let api = Api::new();
    api.admin(
        "POST",
        "faults",
        Some(json!({"route": "exportJobs.list", "status": 429, "retryAfter": 7, "times": 2})),
    );
    for _ in 0..2 {
        let reply = api.get("/data/core/ups/export/jobs");
        assert_eq!(reply.status, 429);
        assert_eq!(reply.header("retry-after"), Some("7"));
    }
    assert_eq!(api.get("/data/core/ups/export/jobs").status, 200);
    // Other routes were never affected.
    assert_eq!(api.admin("GET", "faults", None)["faults"], json!([]));
}

#[test]
fn faults_answer_server_errors_and_add_latency() {
    let api = Api::new();
    api.admin(
        "POST",
        "faults",
        Some(json!({"route": "runs.list", "status": 503, "times": 1})),
    );
    api.admin(
        "POST",
        "faults",
        Some(json!({"route": "flows.get", "status": 500, "times": 1})),
    );
    api.admin(
        "POST",
        "faults",
        Some(json!({"route": "*", "latencyMs": 5, "times": 1})),
    );
    let reply = api.get("/data/foundation/flowservice/runs");
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(reply.json()["status"], 503);
    let reply = api.get(&format!("/data/foundation/flowservice/flows/{EMAIL}"));
    assert_eq!(reply.status, 500);
    assert!(reply.header("retry-after").is_none());
    // The latency fault applies to the next request, which then succeeds.
    assert_eq!(api.get("/data/core/ups/export/jobs").status, 200);
    let log = api.admin("GET", "requests?route=exportJobs.list", None);
    assert_eq!(log["requests"][0]["fault"]["latencyMs"], 5);
    assert_eq!(log["requests"][0]["status"], 200);

    for bad in [
        json!({"route": "nope", "status": 500}),
        json!({"route": "*", "status": 200}),
        json!({"route": "*", "status": 500, "drop": true}),
        json!({"route": "*"}),
        json!({"route": "*", "status": 500, "times": 0}),
        json!({"route": "*", "bogus": 1}),
    ] {
        let reply = api
            .raw(
                "POST",
                "/_emulator/faults",
                &[("Content-Type", "application/json")],
                Some(&bad.to_string()),
            )
            .unwrap();
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.json()["error"].is_string());
    }
}

#[test]
fn a_dropped_connection_loses_the_response_but_not_the_job() {
    let api = Api::new();
    api.admin(
        "POST",
        "faults",
        Some(json!({"route": "adhocrun", "drop": true, "times": 1})),
    );
    let result = api.adhoc_raw(
        "prod",
        false,
        &v1_body(&[(EMAIL, &[GOLD])], json!(["11044"])).to_string(),
    );
    let err = result.expect_err("the response must be lost");
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    // The job was accepted: its run exists and blocks a second attempt.
    let runs = api
        .get(&format!(
            "/data/foundation/flowservice/runs?property=flowId=={EMAIL}"
        ))
        .json();
    assert_eq!(runs["items"].as_array().unwrap().len(), 1);
    // A client reconciling the lost response finds the run by segment and creation time.
    let created = runs["items"][0]["createdAt"].as_i64().unwrap();
    let found = api
        .get(&format!(
            "/data/foundation/flowservice/runs?property=flowId=={EMAIL}\
             &property=metrics.recordSummary.targetSummaries[].entitySummaries[].id==segment:{GOLD}\
             &property=createdAt%3E{}",
            created - 1
        ))
        .json();
    assert_eq!(found["items"][0]["id"], runs["items"][0]["id"]);
    let none = api
        .get(&format!(
            "/data/foundation/flowservice/runs?property=metrics.recordSummary.targetSummaries[].entitySummaries[].id==segment:{SILVER}"
        ))
        .json();
    assert_eq!(none["items"], json!([]));
    assert_eq!(
        api.adhoc(&v1_body(&[(EMAIL, &[GOLD])], json!(["11044"])))
            .status,
        409
    );
    let log = api.admin("GET", "requests?route=adhocrun", None);
    assert_eq!(log["requests"][0]["status"], Value::Null);
    assert_eq!(log["requests"][0]["fault"]["drop"], true);
    assert_eq!(log["requests"][1]["status"], 409);
}

#[test]
fn the_request_log_masks_secrets() {
    let api = Api::new();
    assert_eq!(api.get("/data/core/ups/export/jobs?limit=1").status, 200);
    let reply = api.raw("GET", "/_emulator/requests", &[], None).unwrap();
    assert!(
        !reply.body.contains(SECRET),
        "the client secret leaked: {}",
        reply.body
    );
    assert!(!reply.body.contains(&api.token), "the token leaked");
    let log = reply.json();
    let requests = log["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2, "admin calls are not logged");
    assert_eq!(requests[0]["route"], "ims.token");
    assert_eq!(requests[0]["body"]["client_secret"], "***");
    assert_eq!(requests[0]["body"]["client_id"], CLIENT_ID);
    assert_eq!(requests[1]["headers"]["authorization"], "Bearer ***");
    assert_eq!(requests[1]["headers"]["x-api-key"], CLIENT_ID);
    assert_eq!(requests[1]["query"], "limit=1");
    assert_eq!(requests[1]["status"], 200);
    api.admin("DELETE", "requests", None);
    assert_eq!(api.admin("GET", "requests", None)["requests"], json!([]));
}

#[test]
fn reset_restores_the_seeded_world() {
    let api = Api::new();
    assert_eq!(
        api.adhoc(&v1_body(&[(EMAIL, &[GOLD])], json!(["11044"])))
            .status,
        200
    );
    api.admin("POST", "export-jobs", None);
    api.admin(
        "POST",
        "faults",
        Some(json!({"route": "runs.get", "status": 500})),
    );
    api.admin("POST", "reset", None);
    let api = Api {
        token: token(&api.emulator),
        ..api
    };
    assert_eq!(
        api.get("/data/foundation/flowservice/runs").json()["items"],
        json!([])
    );
    assert_eq!(
        api.get("/data/core/ups/export/jobs?limit=1").json()["records"][0]["id"],
        11044
    );
    assert_eq!(api.admin("GET", "faults", None)["faults"], json!([]));
    assert_eq!(api.admin("GET", "clock", None)["offsetMs"], 0);
}

#[test]
fn admin_endpoints_report_and_refuse_clearly() {
    let api = Api::new();
    let info = api.admin("GET", "info", None);
    assert_eq!(info["platformUrl"], api.emulator.platform_url());
    assert_eq!(info["orgId"], ORG);
    assert_eq!(info["clientId"], CLIENT_ID);
    assert_eq!(info["sandboxes"], json!(["dev", "prod"]));
    assert!(info.get("clientSecret").is_none());
    let finish = |id: &str, body: &str| {
        api.raw(
            "POST",
            &format!("/_emulator/export-jobs/{id}/finish"),
            &[("Content-Type", "application/json")],
            Some(body),
        )
        .unwrap()
    };
    assert_eq!(finish("11044", "{}").status, 409, "already finished");
    assert_eq!(finish("1", "{}").status, 404);
    assert_eq!(finish("x", "{}").status, 400);
    assert_eq!(finish("11044", "{\"status\": \"NEW\"}").status, 400);
    assert_eq!(finish("11044", "not json").status, 400);
    let reply = api
        .raw(
            "POST",
            "/_emulator/export-jobs",
            &[],
            Some("{\"sandbox\": \"qa\"}"),
        )
        .unwrap();
    assert_eq!(reply.status, 404);
    assert_eq!(
        api.raw("GET", "/_emulator/nope", &[], None).unwrap().status,
        404
    );
    let reply = api
        .raw(
            "POST",
            "/_emulator/clock",
            &[],
            Some("{\"advanceMs\": 9000000000000000000}"),
        )
        .unwrap();
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(api.admin("GET", "clock", None)["offsetMs"], 0);
}

/// Garbage in every position gets a 4xx answer, never a 5xx or a dropped connection.
#[test]
fn garbage_requests_get_client_errors() {
    let api = Api::new();
    let auth = format!("Bearer {}", api.token);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pieces = [
        "",
        "{",
        "}",
        "[",
        "null",
        "\"x\"",
        "42",
        "-1",
        "1e999",
        "\u{0}",
        "é",
        "%FF",
        "=",
        "&",
        "==",
        ",",
        "activationInfo",
        "exportIds",
        EMAIL,
        GOLD,
        "11044",
        ":",
        "\\",
        "\"",
        "true",
        "{}",
        "[]",
    ];
    let targets = [
        ADHOC,
        "/data/core/ups/export/jobs",
        "/data/foundation/flowservice/runs",
        "/data/foundation/flowservice/flows",
        "/ims/token/v3",
    ];
    for _ in 0..300 {
        let mut text = String::new();
        for _ in 0..(next() % 12) {
            text.push_str(pieces[(next() % pieces.len() as u64) as usize]);
        }
        let target = targets[(next() % targets.len() as u64) as usize];
        let encoded: String = text
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let (method, target, body) = match next() % 3 {
            0 => (
                "GET",
                format!("{target}?property={encoded}&limit={encoded}&status={encoded}"),
                None,
            ),
            1 => ("GET", format!("{target}/{encoded}"), None),
            _ => ("POST", target.to_owned(), Some(text.as_str())),
        };
        let content_type = if target.starts_with("/ims") {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        let headers = [
            ("Authorization", auth.as_str()),
            ("x-api-key", CLIENT_ID),
            ("x-gw-ims-org-id", ORG),
            ("Content-Type", content_type),
        ];
        let reply = api.raw(method, &target, &headers, body).unwrap();
        assert!(
            reply.status < 500,
            "{method} {target} {body:?}: {} {}",
            reply.status,
            reply.body
        );
    }
}

#[test]
fn unknown_paths_get_a_problem_after_the_gateway() {
    let api = Api::new();
    assert_problem(
        &api.get("/data/core/ups/segment/definitions"),
        404,
        "no such endpoint",
    );
    assert_eq!(
        api.raw("GET", "/data/core/ups/segment/definitions", &[], None)
            .unwrap()
            .status,
        403
    );
}

// ---------------------------------------------------------------------------------------------
// State and lifecycle.

#[test]
fn a_state_file_is_shared_between_emulators_and_gets_never_write_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("world.json");
    let builder = || {
        EmulatorBuilder::new()
            .state_file(&state)
            .run_duration(Duration::from_secs(3600))
    };
    let first = Api::with(builder());
    let reply = first.adhoc(&v1_body(&[(EMAIL, &[GOLD])], json!(["11044"])));
    assert_eq!(reply.status, 200);
    let path = reply.json()["order"][0]["statusURL"]
        .as_str()
        .unwrap()
        .strip_prefix(first.emulator.platform_url())
        .unwrap()
        .to_owned();

    // A second emulator on the same file, at the same time: sees the run, accepts the first's
    // token, and its own changes are seen by the first.
    let second = Api::with(builder());
    let shared_token = Api {
        emulator: builder().start().unwrap(),
        token: first.token.clone(),
    };
    assert_eq!(
        shared_token.get(&path).status,
        200,
        "a token from another process"
    );
    assert_eq!(
        second.get(&path).json()["items"][0]["metrics"]["statusSummary"]["status"],
        "scheduled"
    );
    assert_eq!(
        second
            .adhoc(&v1_body(&[(EMAIL, &[GOLD])], json!(["11044"])))
            .status,
        409
    );
    assert_eq!(
        second
            .adhoc(&v1_body(&[(EMAIL, &[SILVER])], json!(["11044"])))
            .status,
        200
    );
    assert_eq!(
        first
            .adhoc(&v1_body(&[(EMAIL, &[SILVER])], json!(["11044"])))
            .status,
        409
    );

    // GETs leave the file alone.
    let before = std::fs::read(&state).unwrap();
    let meta = std::fs::metadata(&state).unwrap();
    for target in [
        "/data/core/ups/export/jobs",
        "/data/foundation/flowservice/runs",
        &path,
    ] {
        assert_eq!(first.get(target).status, 200);
        assert_eq!(second.get(target).status, 200);
    }
    assert_eq!(std::fs::read(&state).unwrap(), before);
    assert_eq!(
        std::fs::metadata(&state).unwrap().modified().unwrap(),
        meta.modified().unwrap()
    );

    // After both stop, a new emulator starts from the file.
    drop((first, second, shared_token));
    let third = Api::with(builder());
    assert_eq!(
        third.get("/data/foundation/flowservice/runs").json()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_ok());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn dropping_the_handle_stops_the_server() {
    use std::io::Read;
    let emulator = Emulator::start_demo().unwrap();
    let addr = emulator.addr();
    assert!(send(addr, "GET", "/_emulator/info", &[], None).is_ok());
    // A connection open when the handle drops is closed without a response. (Connecting again
    // afterwards would prove less: another test may already have been given the port.)
    let mut idle = std::net::TcpStream::connect(addr).unwrap();
    // A safety net against a hung test, not an assertion about speed.
    idle.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    drop(emulator);
    let mut buf = [0u8; 16];
    match idle.read(&mut buf) {
        Ok(n) => assert_eq!(n, 0, "the server answered after it was dropped"),
        Err(err) => assert!(
            !matches!(
                err.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the connection stayed open: {err}"
        ),
    }
}

#[test]
fn a_seed_file_describes_another_world() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.yaml");
    std::fs::write(
        &seed,
        "org: 0123456789ABCDEF01234567@AdobeOrg\n\
         clients:\n  - { id: ci-client, secret: ci-secret }\n\
         sandboxes:\n  qa:\n    segments:\n      - { id: 11111111-1111-4111-8111-111111111111, name: QA list }\n\
         \x20   dataflows:\n      - id: 22222222-2222-4222-8222-222222222222\n        name: Paused vendor\n        enabled: false\n\
         \x20       segments: [{ id: 11111111-1111-4111-8111-111111111111 }]\n\
         \x20   exportJobs:\n      - { id: 7, status: SUCCEEDED, hoursAgo: 1 }\n",
    )
    .unwrap();
    let emulator = EmulatorBuilder::new()
        .seed_file(&seed)
        .unwrap()
        .start()
        .unwrap();
    let addr = emulator.addr();
    let form =
        "grant_type=client_credentials&client_id=ci-client&client_secret=ci-secret&scope=openid";
    let reply = send(
        addr,
        "POST",
        "/ims/token/v3",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(form.as_bytes()),
    )
    .unwrap();
    let token = format!("Bearer {}", reply.json()["access_token"].as_str().unwrap());
    let headers = [
        ("Authorization", token.as_str()),
        ("x-api-key", "ci-client"),
        ("x-gw-ims-org-id", "0123456789ABCDEF01234567@AdobeOrg"),
        ("x-sandbox-name", "qa"),
        ("Content-Type", "application/json"),
    ];
    let body = json!({"activationInfo": {"22222222-2222-4222-8222-222222222222": ["11111111-1111-4111-8111-111111111111"]}, "exportIds": ["7"]});
    let reply = send(
        addr,
        "POST",
        ADHOC,
        &headers,
        Some(body.to_string().as_bytes()),
    )
    .unwrap();
    assert_problem(&reply, 400, "is disabled");
    // The demo org is unknown here, and there is no prod sandbox.
    let reply = send(
        addr,
        "GET",
        "/data/core/ups/export/jobs",
        &headers[..3],
        None,
    )
    .unwrap();
    assert_eq!(reply.status, 403);

    std::fs::write(&seed, "org: x\nclients: []\nsandboxes: {}\n").unwrap();
    let err = EmulatorBuilder::new().seed_file(&seed).err().unwrap();
    let rendered = format!("{:?}", miette::Report::new(err));
    assert!(rendered.contains("is not a valid world"), "{rendered}");
    assert_eq!(
        rendered.matches("aepact::invalid_value").count(),
        3,
        "{rendered}"
    );
    assert!(rendered.contains("is not an IMS org ID"), "{rendered}");
}

#[test]
fn spawn_runs_on_the_callers_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let emulator = EmulatorBuilder::new().spawn().await.unwrap();
        let addr = emulator.addr();
        assert_eq!(emulator.platform_url(), emulator.ims_url());
        let reply =
            tokio::task::spawn_blocking(move || send(addr, "GET", "/_emulator/info", &[], None))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(reply.json()["demo"], true);
        drop(emulator);
    });
}

#[test]
fn odd_ids_in_paths_are_not_found_not_errors() {
    let api = Api::new();
    for target in [
        "/data/foundation/flowservice/runs/%FF%FE",
        "/data/foundation/flowservice/flows/..",
        "/data/foundation/flowservice/runs/a%2Fb",
    ] {
        let reply = api.get(target);
        assert_eq!(reply.status, 404, "{target}: {}", reply.body);
        assert!(reply.json().is_object());
    }
}
