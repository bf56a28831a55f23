//! The API client (`aepact::api`) against the emulator over 127.0.0.1: one token for many calls,
//! the gateway headers, the v2 `Accept` header, the retry rules for GETs and for the ad-hoc POST,
//! a lost response, configuration errors and secrets that never print. Requests are counted
//! through the emulator's request log; no assertion depends on timing.

use std::collections::HashMap;
use std::time::Duration;

use aepact::api::types::PROFILE_SCHEMA;
use aepact::api::{
    AdhocOutcome, AdhocRequest, ApiConfig, ApiError, Client, ConfigError, Credentials, Mapping,
    RetryPolicy, RunStatus, Secret, UtcDate,
};
use aepact::emulator::{Emulator, EmulatorBuilder};
use aepact::plan::AdhocApiVersion;
use serde_json::{Value, json};

use crate::emulator::admin;
use crate::emulator::{CLIENT_ID, DIRECT_MAIL, EMAIL, GOLD, ORG, SILVER, SOURCE_FLOW, V2};

const CANARY: &str = "canary-s3cr3t-7f1d9a";
const HOLIDAY: &str = "599702c1-937c-4df4-bcb9-dfd8b2913966";
const EMPLOYEES: &str = "f19f3ffe-7e79-4732-b7c2-78c7ce369ef7";
const CATALOG: &str = "a62ea7d4-ac30-4a29-a1d8-f413b18eb143";

/// An emulator with instant runs (or `run_duration`), and a client for it with short retries.
fn start_with(run_duration: Duration) -> (Emulator, Client) {
    let emulator = EmulatorBuilder::new()
        .run_duration(run_duration)
        .start()
        .unwrap();
    let config = emulator.info().api_config().with_retry(RetryPolicy::fast());
    let client = Client::new(config).unwrap();
    (emulator, client)
}

fn start() -> (Emulator, Client) {
    start_with(Duration::ZERO)
}

fn fault(emulator: &Emulator, fault: Value) {
    admin(emulator, "POST", "faults", Some(fault));
}

/// The request log, optionally for one route.
fn log(emulator: &Emulator, route: Option<&str>) -> Vec<Value> {
    let path = route.map_or("requests".to_owned(), |r| format!("requests?route={r}"));
    admin(emulator, "GET", &path, None)["requests"]
        .as_array()
        .unwrap()
        .clone()
}

fn statuses(entries: &[Value]) -> Vec<Value> {
    entries.iter().map(|e| e["status"].clone()).collect()
}

fn v1_body(segments: &[&str]) -> AdhocRequest {
    request(json!({"activationInfo": {EMAIL: segments}, "exportIds": ["11044"]}))
}

/// A request body from its JSON.
fn request(value: Value) -> AdhocRequest {
    serde_json::from_value(value).unwrap()
}

fn render(error: &ApiError) -> String {
    let report = format!("{:?}", miette::Report::msg(error.to_string()));
    format!("{error}\n{error:?}\n{report}")
}

#[tokio::test]
async fn one_token_serves_many_calls_even_concurrent_ones() {
    let (emulator, client) = start();
    let (a, b, c) = tokio::join!(
        client.list_export_jobs("prod"),
        client.get_flow("prod", EMAIL),
        client.get_flow("prod", DIRECT_MAIL),
    );
    a.unwrap();
    b.unwrap().unwrap();
    c.unwrap().unwrap();
    // Clones share the token and the counter, and calls run on spawned tasks.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let client = client.clone();
        tasks.spawn(async move { client.get_export_job("prod", 11044).await });
    }
    while let Some(job) = tasks.join_next().await {
        assert_eq!(job.unwrap().unwrap().unwrap().id, 11044);
    }
    client.list_runs("prod", EMAIL, 0).await.unwrap();
    let all = log(&emulator, None);
    let tokens = all.iter().filter(|e| e["route"] == "ims.token").count();
    assert_eq!(tokens, 1, "{all:#?}");
    assert_eq!(all.len(), 10);
    assert_eq!(client.requests_sent(), 10);
    // The token request is a form with the secret masked by the emulator's log.
    let token = &log(&emulator, Some("ims.token"))[0];
    assert_eq!(token["body"]["grant_type"], "client_credentials");
    assert_eq!(token["body"]["client_id"], CLIENT_ID);
    assert_eq!(token["body"]["scope"], "openid,AdobeID,read_organizations");
}

#[tokio::test]
async fn an_expired_token_is_renewed_once() {
    let (emulator, client) = start();
    client.get_flow("prod", EMAIL).await.unwrap().unwrap();
    // The emulator's clock moves past the token's expiry; the client's cache cannot know.
    admin(
        &emulator,
        "POST",
        "clock",
        Some(json!({"advanceMs": 86_400_000})),
    );
    client.get_flow("prod", EMAIL).await.unwrap().unwrap();
    let flows = log(&emulator, Some("flows.get"));
    assert_eq!(statuses(&flows), [json!(200), json!(401), json!(200)]);
    assert_eq!(log(&emulator, Some("ims.token")).len(), 2);
}

#[tokio::test]
async fn every_platform_call_carries_the_gateway_headers() {
    let (emulator, client) = start();
    client.list_export_jobs("dev").await.unwrap();
    client.get_flow("prod", EMAIL).await.unwrap();
    let outcome = client
        .post_adhoc("prod", &v1_body(&[GOLD]), AdhocApiVersion::V1)
        .await;
    let AdhocOutcome::Accepted(orders) = outcome else {
        panic!("{outcome:?}")
    };
    client.get_run("prod", &orders[0].status_url).await.unwrap();
    let entries: Vec<Value> = log(&emulator, None)
        .into_iter()
        .filter(|e| e["route"] != "ims.token")
        .collect();
    assert_eq!(entries.len(), 4);
    for entry in &entries {
        let headers = &entry["headers"];
        assert_eq!(headers["authorization"], "Bearer ***", "{entry:#}");
        assert_eq!(headers["x-api-key"], CLIENT_ID);
        assert_eq!(headers["x-gw-ims-org-id"], ORG);
        assert!(headers["x-sandbox-name"].is_string());
        let agent = headers["user-agent"].as_str().unwrap();
        assert_eq!(agent, concat!("aepact/", env!("CARGO_PKG_VERSION")));
        assert_eq!(entry["status"], 200, "{entry:#}");
        if entry["method"] == "POST" {
            assert_eq!(headers["content-type"], "application/json");
        }
    }
    assert_eq!(entries[0]["headers"]["x-sandbox-name"], "dev");
    assert_eq!(entries[1]["headers"]["x-sandbox-name"], "prod");
    // The body goes out exactly as given.
    assert_eq!(
        entries[2]["body"],
        serde_json::to_value(v1_body(&[GOLD])).unwrap()
    );
}

#[tokio::test]
async fn the_v2_accept_header_is_sent_only_under_v2() {
    let (emulator, client) = start();
    let v1 = client
        .post_adhoc("prod", &v1_body(&[GOLD]), AdhocApiVersion::V1)
        .await;
    assert!(matches!(v1, AdhocOutcome::Accepted(_)), "{v1:?}");
    // No `exportIds`: only version 2 accepts that.
    let body = request(json!({"activationInfo": {EMAIL: [SILVER]}}));
    let v2 = client.post_adhoc("prod", &body, AdhocApiVersion::V2).await;
    let AdhocOutcome::Accepted(orders) = v2 else {
        panic!("{v2:?}")
    };
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].segment, SILVER);
    assert_eq!(orders[0].order, EMAIL);
    let posts = log(&emulator, Some("adhocrun"));
    assert_ne!(posts[0]["headers"]["accept"], V2);
    assert_eq!(posts[1]["headers"]["accept"], V2);
    // And the same body without the header is refused as a v1 request.
    let refused = client.post_adhoc("prod", &body, AdhocApiVersion::V1).await;
    assert!(
        matches!(refused, AdhocOutcome::Rejected { status: 400, .. }),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_get_is_retried_after_429_and_5xx() {
    let (emulator, client) = start();
    client.get_flow("prod", EMAIL).await.unwrap();
    fault(
        &emulator,
        json!({"route": "exportJobs.list", "status": 429, "retryAfter": 0, "times": 1}),
    );
    fault(
        &emulator,
        json!({"route": "exportJobs.list", "status": 503, "retryAfter": 0, "times": 1}),
    );
    fault(
        &emulator,
        json!({"route": "exportJobs.list", "status": 502, "times": 1}),
    );
    let jobs = client.list_export_jobs("prod").await.unwrap();
    assert!(!jobs.is_empty());
    let list = log(&emulator, Some("exportJobs.list"));
    assert_eq!(
        statuses(&list),
        [json!(429), json!(503), json!(502), json!(200)]
    );
}

#[tokio::test]
async fn a_get_gives_up_after_the_allowed_attempts() {
    let (emulator, client) = start();
    fault(&emulator, json!({"route": "flows.get", "status": 504}));
    let error = client.get_flow("prod", EMAIL).await.unwrap_err();
    assert_eq!(error.status(), Some(504));
    assert!(error.is_transient());
    assert_eq!(
        log(&emulator, Some("flows.get")).len() as u32,
        RetryPolicy::fast().max_attempts
    );
}

#[tokio::test]
async fn a_get_is_not_retried_on_500_or_4xx() {
    let (emulator, client) = start();
    fault(
        &emulator,
        json!({"route": "flows.get", "status": 500, "times": 1}),
    );
    let error = client.get_flow("prod", EMAIL).await.unwrap_err();
    assert_eq!(error.status(), Some(500));
    assert_eq!(log(&emulator, Some("flows.get")).len(), 1);
    // An unknown sandbox is the gateway's 403, reported with the platform's message.
    let error = client.get_flow("nope", EMAIL).await.unwrap_err();
    assert_eq!(error.status(), Some(403));
    assert!(error.to_string().contains("does not exist"), "{error}");
}

#[tokio::test]
async fn the_post_is_retried_after_429_and_503() {
    let (emulator, client) = start();
    fault(
        &emulator,
        json!({"route": "adhocrun", "status": 429, "retryAfter": 0, "times": 1}),
    );
    fault(
        &emulator,
        json!({"route": "adhocrun", "status": 503, "retryAfter": 0, "times": 1}),
    );
    let outcome = client
        .post_adhoc("prod", &v1_body(&[GOLD, SILVER]), AdhocApiVersion::V1)
        .await;
    let AdhocOutcome::Accepted(orders) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(orders.len(), 2);
    let posts = log(&emulator, Some("adhocrun"));
    assert_eq!(statuses(&posts), [json!(429), json!(503), json!(200)]);
}

#[tokio::test]
async fn the_post_is_not_retried_after_500_502_or_504() {
    let (emulator, client) = start();
    for status in [500, 502, 504] {
        fault(
            &emulator,
            json!({"route": "adhocrun", "status": status, "times": 1}),
        );
        let outcome = client
            .post_adhoc("prod", &v1_body(&[GOLD]), AdhocApiVersion::V1)
            .await;
        let AdhocOutcome::Rejected { status: got, body } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(got, status);
        assert!(body["detail"].as_str().unwrap().contains("injected fault"));
    }
    assert_eq!(log(&emulator, Some("adhocrun")).len(), 3);
}

#[tokio::test]
async fn a_lost_response_is_unknown_sent_once_and_found_among_the_runs() {
    let (emulator, client) = start();
    let before = admin(&emulator, "GET", "clock", None)["now"]
        .as_i64()
        .unwrap();
    fault(
        &emulator,
        json!({"route": "adhocrun", "drop": true, "times": 1}),
    );
    let outcome = client
        .post_adhoc("prod", &v1_body(&[GOLD]), AdhocApiVersion::V1)
        .await;
    let AdhocOutcome::Unknown { error } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(matches!(error, ApiError::Transport { .. }), "{error:?}");
    let posts = log(&emulator, Some("adhocrun"));
    assert_eq!(posts.len(), 1, "{posts:#?}");
    assert_eq!(posts[0]["status"], Value::Null);
    // The job did start: `status` reconciles it through the dataflow's runs.
    let runs = client.list_runs("prod", EMAIL, before - 1).await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].segment_ids(), [GOLD]);
    assert!(
        client
            .list_runs("prod", DIRECT_MAIL, before - 1)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_timed_out_post_is_unknown_and_never_sent_again() {
    let emulator = EmulatorBuilder::new()
        .run_duration(Duration::ZERO)
        .start()
        .unwrap();
    let config = emulator
        .info()
        .api_config()
        .with_retry(RetryPolicy::fast())
        .with_timeouts(Duration::from_secs(10), Duration::from_millis(300));
    let client = Client::new(config).unwrap();
    client.get_flow("prod", EMAIL).await.unwrap();
    // The emulator holds the POST far longer than the client waits.
    fault(
        &emulator,
        json!({"route": "adhocrun", "latencyMs": 30_000, "times": 1}),
    );
    let outcome = client
        .post_adhoc("prod", &v1_body(&[GOLD]), AdhocApiVersion::V1)
        .await;
    let AdhocOutcome::Unknown { error } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(matches!(error, ApiError::Transport { .. }), "{error:?}");
    // Token, flow, and exactly one POST.
    assert_eq!(client.requests_sent(), 3);
}

#[tokio::test]
async fn a_refused_connection_is_not_sent() {
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let config = ApiConfig::new(
        ORG,
        Credentials::AccessToken {
            access_token: Secret::new(CANARY),
            api_key: CLIENT_ID.into(),
        },
    )
    .with_urls(&url, &url)
    .with_retry(RetryPolicy::fast());
    let client = Client::new(config).unwrap();
    let outcome = client
        .post_adhoc("prod", &v1_body(&[GOLD]), AdhocApiVersion::V1)
        .await;
    let AdhocOutcome::NotSent { error } = outcome else {
        panic!("{outcome:?}")
    };
    // Connection failures before sending are retried.
    assert_eq!(
        client.requests_sent() as u32,
        RetryPolicy::fast().max_attempts
    );
    assert!(!render(&error).contains(CANARY));
    let error = client.get_flow("prod", EMAIL).await.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
}

#[tokio::test]
async fn refusals_keep_the_platform_body_and_spot_a_run_already_going() {
    let (_emulator, client) = start_with(Duration::from_secs(3600));
    let first = client
        .post_adhoc("prod", &v1_body(&[GOLD]), AdhocApiVersion::V1)
        .await;
    let AdhocOutcome::Accepted(orders) = first else {
        panic!("{first:?}")
    };
    let second = client
        .post_adhoc("prod", &v1_body(&[GOLD]), AdhocApiVersion::V1)
        .await;
    let going = second.run_already_going().expect("run already going");
    assert_eq!(going.segment.as_deref(), Some(GOLD));
    assert_eq!(going.order.as_deref(), Some(EMAIL));
    let run_id = orders[0].status_url.rsplit('/').next().unwrap();
    assert_eq!(going.run_id.as_deref(), Some(run_id));
    let AdhocOutcome::Rejected { status, body } = second else {
        unreachable!()
    };
    assert_eq!(status, 409);
    assert!(body["type"].as_str().unwrap().ends_with("DEST-ADH-409"));

    let unmapped = client
        .post_adhoc("prod", &v1_body(&[EMPLOYEES]), AdhocApiVersion::V1)
        .await;
    assert!(unmapped.run_already_going().is_none());
    assert!(matches!(
        unmapped,
        AdhocOutcome::Rejected { status: 400, .. }
    ));
}

#[tokio::test]
async fn runs_report_status_times_and_metrics() {
    let (emulator, client) = start_with(Duration::from_secs(3600));
    let outcome = client
        .post_adhoc(
            "prod",
            &request(json!({"activationInfo": {DIRECT_MAIL: [CATALOG]}, "exportIds": ["11044"]})),
            AdhocApiVersion::V1,
        )
        .await;
    let AdhocOutcome::Accepted(orders) = outcome else {
        panic!("{outcome:?}")
    };
    let url = &orders[0].status_url;
    let run = client.get_run("prod", url).await.unwrap().unwrap();
    assert_eq!(run.status(), RunStatus::Scheduled);
    assert!(!run.is_final());
    assert_eq!(run.flow_id, DIRECT_MAIL);
    assert!(run.created_at.is_some());
    assert_eq!(run.started_at(), None);

    admin(
        &emulator,
        "POST",
        "clock",
        Some(json!({"advanceMs": 1_800_000})),
    );
    let run = client.get_run("prod", url).await.unwrap().unwrap();
    assert_eq!(run.status(), RunStatus::InProgress);
    assert!(run.started_at().is_some() && run.completed_at().is_none());

    admin(
        &emulator,
        "POST",
        "clock",
        Some(json!({"advanceMs": 1_800_000})),
    );
    let run = client.get_run("prod", url).await.unwrap().unwrap();
    assert_eq!(run.status(), RunStatus::Failed);
    assert!(run.is_final() && !run.succeeded());
    assert!(run.completed_at() >= run.started_at());
    let records = run.records();
    assert!(records.input.unwrap() > 0);
    assert_eq!(records.failed, records.input);
    assert_eq!(run.files().output, Some(0));
    assert_eq!(run.errors()[0].code.as_deref(), Some("DEST-ADH-500"));
    assert_eq!(run.segment_ids(), [CATALOG]);

    // The same run by ID, for a statusURL whose host has moved.
    let by_id = client
        .get_run_by_id("prod", orders[0].run_id().unwrap())
        .await
        .unwrap();
    assert_eq!(by_id, Some(run.clone()));
    // The run is invisible from another sandbox, and unknown runs are `None`.
    assert!(client.get_run("dev", url).await.unwrap().is_none());
    let missing = url.replace(run.id.as_str(), "00000000-0000-4000-8000-000000000000");
    assert!(client.get_run("prod", &missing).await.unwrap().is_none());
    // Credentials go only to the configured endpoint.
    let error = client
        .get_run(
            "prod",
            "https://elsewhere.example/data/foundation/flowservice/runs/x",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, ApiError::ForeignStatusUrl { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn flows_tell_destination_state_names_and_schedules() {
    let (_emulator, client) = start();
    let today = UtcDate::today();
    let email = client.get_flow("prod", EMAIL).await.unwrap().unwrap();
    assert!(email.is_enabled_destination());
    assert_eq!(email.name(), "Email vendor (SFTP)");
    assert!(email.covers_segment(GOLD, today));
    assert!(email.covers_segment(&GOLD.to_uppercase(), today));
    assert_eq!(email.segment_name(GOLD), Some("Loyalty gold"));
    assert!(matches!(
        email.mapping(HOLIDAY, today),
        Mapping::OutOfSchedule(_)
    ));
    assert!(matches!(
        email.mapping(EMPLOYEES, today),
        Mapping::NotMapped
    ));
    assert_eq!(email.selectors().count(), 16);

    let source = client.get_flow("prod", SOURCE_FLOW).await.unwrap().unwrap();
    assert!(source.is_enabled() && !source.is_destination());
    // Sandboxes are apart; unknown IDs are `None`.
    assert!(client.get_flow("dev", EMAIL).await.unwrap().is_none());
    assert!(
        client
            .get_flow("prod", "not-a-flow")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn export_jobs_resolve_latest_and_running() {
    let (emulator, client) = start();
    let jobs = client.list_export_jobs("prod").await.unwrap();
    assert_eq!(jobs.len(), 8);
    let latest = aepact::api::ExportJob::latest_succeeded_profile(&jobs).unwrap();
    assert_eq!(latest.id, 11044);
    assert!(latest.finished_at().is_some());
    assert!(!jobs.iter().any(|j| j.is_running()));
    assert!(jobs.iter().any(|j| !j.is_profile_export()));

    let failed = client.get_export_job("prod", 11040).await.unwrap().unwrap();
    assert!(!failed.succeeded() && !failed.errors.is_empty());
    assert_eq!(
        failed.schema.as_ref().map(|s| s.name.as_str()),
        Some(PROFILE_SCHEMA)
    );
    assert!(
        client
            .get_export_job("prod", 11037)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        client
            .get_export_job("prod", 99_999)
            .await
            .unwrap()
            .is_none()
    );

    let started = admin(
        &emulator,
        "POST",
        "export-jobs",
        Some(json!({"sandbox": "prod"})),
    );
    let jobs = client.list_export_jobs("prod").await.unwrap();
    let running: Vec<u64> = jobs
        .iter()
        .filter(|j| j.is_running())
        .map(|j| j.id)
        .collect();
    assert_eq!(running, [started["id"].as_u64().unwrap()]);
}

#[test]
fn missing_credentials_name_the_variables_never_the_values() {
    let from = |pairs: &[(&str, &str)]| {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ApiConfig::from_env(|k| map.get(k).cloned())
    };
    let message = |result: Result<ApiConfig, ConfigError>| {
        let error = result.unwrap_err();
        let report = format!("{:?}", miette::Report::new(error));
        assert!(!report.contains(CANARY), "{report}");
        report
    };
    let none = message(from(&[]));
    for var in [
        "AEP_ORG_ID",
        "AEP_CLIENT_ID",
        "AEP_CLIENT_SECRET",
        "AEP_ACCESS_TOKEN",
        "AEP_API_KEY",
    ] {
        assert!(none.contains(var), "{var} missing from: {none}");
    }
    let half = message(from(&[("AEP_ORG_ID", ORG), ("AEP_CLIENT_ID", CANARY)]));
    assert!(half.contains("set `AEP_CLIENT_SECRET`"), "{half}");
    let token = message(from(&[
        ("AEP_ACCESS_TOKEN", CANARY),
        ("AEP_CLIENT_SECRET", ""),
    ]));
    assert!(
        token.contains("set `AEP_ORG_ID` and `AEP_API_KEY`"),
        "{token}"
    );
    let url = message(from(&[
        ("AEP_ORG_ID", ORG),
        ("AEP_ACCESS_TOKEN", CANARY),
        ("AEP_API_KEY", "key"),
        ("AEP_PLATFORM_URL", "platform.adobe.io"),
    ]));
    assert!(url.contains("AEP_PLATFORM_URL"), "{url}");

    let ok = from(&[
        ("AEP_ORG_ID", ORG),
        ("AEP_CLIENT_ID", CLIENT_ID),
        ("AEP_CLIENT_SECRET", CANARY),
        ("AEP_SCOPES", "openid, AdobeID"),
        ("AEP_SANDBOX", "dev"),
        ("AEP_IMS_URL", "http://127.0.0.1:9/"),
    ])
    .unwrap();
    assert_eq!(ok.platform_url, "https://platform.adobe.io");
    assert_eq!(ok.ims_url, "http://127.0.0.1:9");
    assert_eq!(ok.sandbox.as_deref(), Some("dev"));
    assert_eq!(ok.api_key(), CLIENT_ID);
    let Credentials::OAuth { scopes, .. } = &ok.credentials else {
        panic!("{ok:?}")
    };
    assert_eq!(scopes, "openid,AdobeID");
    assert!(!format!("{ok:?}").contains(CANARY));
}

#[tokio::test]
async fn a_canary_secret_never_shows_in_debug_output_or_errors() {
    let emulator = EmulatorBuilder::new()
        .run_duration(Duration::ZERO)
        .start()
        .unwrap();
    let mut config = emulator.info().api_config().with_retry(RetryPolicy::fast());
    config.credentials = Credentials::OAuth {
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(CANARY),
        scopes: "openid".into(),
    };
    let client = Client::new(config.clone()).unwrap();
    assert!(!format!("{config:?} {config:#?} {client:?}").contains(CANARY));

    // A wrong secret: IMS refuses, and neither the error nor the outcome shows it.
    let error = client.get_flow("prod", EMAIL).await.unwrap_err();
    assert!(
        matches!(error, ApiError::Token { status: 400, .. }),
        "{error:?}"
    );
    let outcome = client
        .post_adhoc("prod", &v1_body(&[GOLD]), AdhocApiVersion::V1)
        .await;
    assert!(
        matches!(outcome, AdhocOutcome::NotSent { .. }),
        "{outcome:?}"
    );
    let rendered = format!(
        "{}\n{outcome:?}\n{:?}",
        render(&error),
        miette::Report::new(error)
    );
    assert!(rendered.contains("invalid client_secret"), "{rendered}");
    assert!(!rendered.contains(CANARY), "{rendered}");

    // A token issued elsewhere that the gateway refuses.
    config.credentials = Credentials::AccessToken {
        access_token: Secret::new(CANARY),
        api_key: CLIENT_ID.into(),
    };
    let client = Client::new(config).unwrap();
    let error = client.list_export_jobs("prod").await.unwrap_err();
    assert_eq!(error.status(), Some(401));
    let rendered = format!("{}\n{:?}", render(&error), miette::Report::new(error));
    assert!(!rendered.contains(CANARY), "{rendered}");
    // The emulator's log masks the token too; nothing else carries it.
    let logged = serde_json::to_string(&log(&emulator, None)).unwrap();
    assert!(!logged.contains(CANARY));
}

#[tokio::test]
async fn run_lists_follow_every_page() {
    let (emulator, client) = start();
    let before = admin(&emulator, "GET", "clock", None)["now"]
        .as_i64()
        .unwrap();
    let today = UtcDate::today();
    let email = client.get_flow("prod", EMAIL).await.unwrap().unwrap();
    let segments: Vec<&str> = email
        .selectors()
        .filter_map(|s| s.value.id.as_deref())
        .filter(|id| email.covers_segment(id, today))
        .collect();
    // Runs finish at once, so the same segments can run again: past one page of 100.
    let rounds = 100 / segments.len() + 1;
    for _ in 0..rounds {
        let outcome = client
            .post_adhoc("prod", &v1_body(&segments), AdhocApiVersion::V1)
            .await;
        assert!(matches!(outcome, AdhocOutcome::Accepted(_)), "{outcome:?}");
    }
    let runs = client.list_runs("prod", EMAIL, before - 1).await.unwrap();
    assert_eq!(runs.len(), rounds * segments.len());
    assert!(runs.windows(2).all(|w| w[0].created_at <= w[1].created_at));
    assert_eq!(log(&emulator, Some("runs.list")).len(), 2);
}
