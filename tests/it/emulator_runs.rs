//! The emulator as the platform's second witness (issue 9): the platform's clock in every
//! response's `Date`, runs the platform started itself (`POST /_emulator/runs`: last night's
//! scheduled export, a click on "Export file now"), and the runs list with every `property=`
//! filter a client sends, over real HTTP on 127.0.0.1. Time moves only through
//! `/_emulator/clock`.

use std::collections::HashSet;
use std::time::Duration;

use aepact::emulator::EmulatorBuilder;
use serde_json::{Value, json};

use crate::emulator::client::Reply;
use crate::emulator::{
    ADDRESS, Api, CATALOG, CLIENT_ID, DIRECT_MAIL, EMAIL, EMPLOYEES, GOLD, NEWSLETTER,
    NEWSLETTER_SUBS, SILVER, SOURCE_FLOW, assert_problem, v1_body,
};

const RUNS: &str = "/data/foundation/flowservice/runs";
const HOUR: i64 = 3_600_000;

/// The `Date` of a reply as epoch ms; asserts there is exactly one and it is an IMF-fixdate.
#[track_caller]
fn date_of(reply: &Reply) -> i64 {
    let dates: Vec<&str> = reply
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("date"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(dates.len(), 1, "one Date header: {:?}", reply.headers);
    let date = aepact::time::parse_http_date(dates[0])
        .unwrap_or_else(|| panic!("`{}` is not an HTTP date", dates[0]));
    assert_eq!(aepact::time::http_date(date), dates[0], "IMF-fixdate");
    date
}

/// The emulator's virtual now.
fn clock(api: &Api) -> i64 {
    api.admin("GET", "clock", None)["now"].as_i64().unwrap()
}

/// Sends a request between two readings of the virtual clock and checks that its `Date` lies
/// between them (to the second: an HTTP date has no milliseconds).
///
/// Returns the reply and its date.
#[track_caller]
fn dated(api: &Api, send: impl FnOnce() -> Reply) -> (Reply, i64) {
    let before = clock(api);
    let reply = send();
    let after = clock(api);
    let date = date_of(&reply);
    assert!(
        before.div_euclid(1000) * 1000 <= date && date <= after,
        "Date {date} is not the virtual clock (between {before} and {after}): {} {}",
        reply.status,
        reply.body
    );
    (reply, date)
}

/// Every kind of response carries the virtual now in `Date`: platform answers and errors, IMS,
/// the control endpoints, injected faults and the framework's own 405 and 413.
#[test]
fn every_response_carries_the_platforms_clock_in_date() {
    let api = Api::new();
    let form = "grant_type=client_credentials&client_id=nobody&client_secret=x&scope=openid";
    let ims = [("Content-Type", "application/x-www-form-urlencoded")];
    let json_body = [("Content-Type", "application/json")];
    let big = "x".repeat(1024 * 1024 + 1);
    let cases: Vec<(u16, Box<dyn Fn() -> Reply + '_>)> = vec![
        (
            200,
            Box::new(|| api.get("/data/foundation/flowservice/runs")),
        ),
        (
            403,
            Box::new(|| {
                api.raw("GET", "/data/foundation/flowservice/runs", &[], None)
                    .unwrap()
            }),
        ),
        (404, Box::new(|| api.get("/data/core/ups/nothing-here"))),
        (
            400,
            Box::new(|| api.raw("POST", "/ims/token/v3", &ims, Some(form)).unwrap()),
        ),
        (
            405,
            Box::new(|| api.raw("GET", "/ims/token/v3", &[], None).unwrap()),
        ),
        (
            413,
            Box::new(|| api.raw("POST", "/ims/token/v3", &ims, Some(&big)).unwrap()),
        ),
        (
            200,
            Box::new(|| api.raw("GET", "/_emulator/info", &[], None).unwrap()),
        ),
        (
            400,
            Box::new(|| {
                api.raw("POST", "/_emulator/clock", &json_body, Some("nope"))
                    .unwrap()
            }),
        ),
    ];
    for (status, send) in &cases {
        let (reply, _) = dated(&api, send);
        assert_eq!(reply.status, *status, "{}", reply.body);
    }
    // A token request that succeeds, then injected faults: a 503 and a spoiled body.
    let (reply, _) = dated(&api, || {
        let token = crate::emulator::token(&api.emulator);
        assert!(!token.is_empty());
        api.get("/data/foundation/flowservice/flows")
    });
    assert_eq!(reply.status, 200);
    api.admin(
        "POST",
        "faults",
        Some(json!({"route": "runs.list", "status": 503, "times": 1})),
    );
    let (reply, _) = dated(&api, || api.get("/data/foundation/flowservice/runs"));
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    api.admin(
        "POST",
        "faults",
        Some(json!({"route": "runs.list", "status": 502, "response": "html", "times": 1})),
    );
    let (reply, _) = dated(&api, || api.get("/data/foundation/flowservice/runs"));
    assert_eq!(reply.status, 502);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
}

/// After `POST /_emulator/clock` moves the clock 2 h on, `Date` is 2 h ahead of the system
/// clock: hyper keeps the emulator's `Date` instead of adding its own.
#[test]
fn date_follows_the_virtual_clock_not_the_system_clock() {
    let api = Api::new();
    let system_before = aepact::time::now_ms();
    let (_, date) = dated(&api, || api.get("/data/foundation/flowservice/runs"));
    let system_after = aepact::time::now_ms();
    assert!(date >= system_before.div_euclid(1000) * 1000 && date <= system_after);

    api.advance(2 * 3_600_000);
    assert_eq!(api.admin("GET", "clock", None)["offsetMs"], 7_200_000);
    let system_before = aepact::time::now_ms();
    let (_, date) = dated(&api, || api.get("/data/foundation/flowservice/runs"));
    let system_after = aepact::time::now_ms();
    let two_hours = 7_200_000;
    assert!(
        date >= (system_before + two_hours).div_euclid(1000) * 1000
            && date <= system_after + two_hours,
        "Date {date} is not 2 h ahead of the system clock ({system_before}..{system_after})"
    );
    // The control endpoints' answers are dated the same way.
    let (reply, date) = dated(&api, || {
        api.raw("GET", "/_emulator/clock", &[], None).unwrap()
    });
    let now = reply.json()["now"].as_i64().unwrap();
    assert!(date >= now.div_euclid(1000) * 1000, "{date} {now}");
}

// ---------------------------------------------------------------------------------------------
// `POST /_emulator/runs`: runs the platform started itself.

/// `POST /_emulator/runs` as sent, for checking refusals.
fn post_runs(api: &Api, body: &str) -> Reply {
    api.raw(
        "POST",
        "/_emulator/runs",
        &[("Content-Type", "application/json")],
        Some(body),
    )
    .unwrap()
}

/// Creates runs through `POST /_emulator/runs`.
///
/// Returns them as the response shows them.
fn create(api: &Api, body: Value) -> Vec<Value> {
    api.admin("POST", "runs", Some(body))["runs"]
        .as_array()
        .unwrap()
        .clone()
}

/// One run by ID, through `GET /runs/{id}`.
fn run(api: &Api, id: &str) -> Value {
    let reply = api.get(&format!("{RUNS}/{id}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["items"][0].clone()
}

fn status(run: &Value) -> &str {
    run["metrics"]["statusSummary"]["status"].as_str().unwrap()
}

fn ids(runs: &[Value]) -> Vec<String> {
    runs.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Last night's scheduled export: one run per segment, dated back with `ago`, finished, created
/// by the scheduler rather than an API client, and shown by `GET /runs/{id}` and `GET /runs`
/// exactly as the response showed it.
#[test]
fn scheduled_runs_are_dated_back_and_created_by_the_scheduler() {
    let api = Api::new(); // runs take an hour unless told otherwise
    let before = clock(&api);
    let runs = create(
        &api,
        json!({"flowId": EMAIL, "segments": [GOLD, SILVER], "ago": "10h"}),
    );
    let after = clock(&api);
    assert_eq!(runs.len(), 2);
    for (run_json, segment) in runs.iter().zip([GOLD, SILVER]) {
        let created = run_json["createdAt"].as_i64().unwrap();
        assert!(before - 10 * HOUR <= created && created <= after - 10 * HOUR);
        assert_eq!(run_json["flowId"], EMAIL);
        assert_eq!(run_json["sandboxName"], "prod");
        assert_eq!(run_json["createdBy"], "scheduler@AdobeID");
        assert_eq!(run_json["createdClient"], "scheduler");
        assert_eq!(run_json["updatedClient"], "scheduler");
        assert_eq!(status(run_json), "success");
        let duration = &run_json["metrics"]["durationSummary"];
        assert_eq!(
            duration["completedAtUTC"],
            created + HOUR,
            "the world's run duration"
        );
        assert_eq!(
            run_json["metrics"]["recordSummary"]["targetSummaries"][0]["entitySummaries"][0]["id"],
            format!("segment:{segment}")
        );
        assert_eq!(&run(&api, run_json["id"].as_str().unwrap()), run_json);
    }
    assert_eq!(
        runs[0]["metrics"]["recordSummary"]["outputRecordCount"], 48210,
        "the segment's profiles"
    );
    let listed = api.get(&format!("{RUNS}?property=flowId=={EMAIL}")).json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
}

/// The kinds and the other fields: "Export file now" is the UI's, `adhoc` an API client's;
/// `outcome`, `durationMs` and an explicit `createdAt` are kept.
#[test]
fn created_runs_take_their_kind_outcome_duration_and_time() {
    let api = Api::new();
    let now = clock(&api);
    let ui = create(
        &api,
        json!({"flowId": DIRECT_MAIL, "segments": [CATALOG], "kind": "exportNow",
               "createdAt": now - 2 * HOUR, "durationMs": 60_000, "outcome": "failed"}),
    );
    assert_eq!(ui[0]["createdAt"], now - 2 * HOUR);
    assert_eq!(ui[0]["createdBy"], "emulator-ui-user@AdobeID");
    assert_eq!(ui[0]["createdClient"], "exc_app");
    assert_eq!(status(&ui[0]), "failed");
    assert_eq!(
        ui[0]["metrics"]["durationSummary"]["completedAtUTC"],
        now - 2 * HOUR + 60_000
    );
    let partial = create(
        &api,
        json!({"flowId": DIRECT_MAIL, "segments": [ADDRESS], "ago": "3h", "outcome": "partialSuccess"}),
    );
    assert_eq!(status(&partial[0]), "partialSuccess");
    let adhoc = create(
        &api,
        json!({"flowId": EMAIL, "segments": [SILVER], "kind": "adhoc", "ago": "2h"}),
    );
    assert_eq!(adhoc[0]["createdBy"], format!("{CLIENT_ID}@AdobeID"));
    assert_eq!(adhoc[0]["createdClient"], CLIENT_ID);
    let named = create(
        &api,
        json!({"flowId": EMAIL, "segments": [SILVER], "kind": "adhoc", "clientId": CLIENT_ID, "ago": "90s"}),
    );
    assert_eq!(named[0]["createdClient"], CLIENT_ID);
    // The defaults: now, the world's run duration, success (whatever the segment's outcome).
    let fresh = create(&api, json!({"flowId": DIRECT_MAIL, "segments": [CATALOG]}));
    let created = fresh[0]["createdAt"].as_i64().unwrap();
    assert!(created >= now, "created now");
    assert_eq!(status(&fresh[0]), "scheduled");
    api.advance(HOUR as u64);
    assert_eq!(
        status(&run(&api, fresh[0]["id"].as_str().unwrap())),
        "success"
    );
    // In another sandbox.
    let dev = create(
        &api,
        json!({"sandbox": "dev", "flowId": NEWSLETTER, "segments": [NEWSLETTER_SUBS], "ago": "1h"}),
    );
    assert_eq!(dev[0]["sandboxName"], "dev");
    let id = dev[0]["id"].as_str().unwrap();
    assert_eq!(api.get(&format!("{RUNS}/{id}")).status, 404, "not in prod");
    assert_eq!(api.get_in(Some("dev"), &format!("{RUNS}/{id}")).status, 200);
}

/// A created run that has not finished is "a run in flight" for the ad-hoc check, in every
/// dataflow of the sandbox, exactly like an ad-hoc run; a finished one (last night's) blocks
/// nothing. A run dated in the future (only `createdAt` can) is scheduled until then.
#[test]
fn an_unfinished_created_run_blocks_adhoc_activation_and_a_finished_one_does_not() {
    let api = Api::new();
    let going = create(
        &api,
        json!({"flowId": EMAIL, "segments": [GOLD], "ago": "20m"}),
    );
    assert_eq!(status(&going[0]), "inProgress");
    let last_night = create(
        &api,
        json!({"flowId": EMAIL, "segments": [SILVER], "ago": "10h"}),
    );
    assert_eq!(status(&last_night[0]), "success");
    let refused = api.adhoc(&v1_body(&[(DIRECT_MAIL, &[GOLD])], json!(["11044"])));
    let body = assert_problem(&refused, 409, "Run already going on for segment");
    assert!(
        body["detail"].as_str().unwrap().ends_with(&format!(
            "for order {EMAIL} with run id {}",
            going[0]["id"].as_str().unwrap()
        )),
        "{body}"
    );
    let reply = api.adhoc(&v1_body(&[(EMAIL, &[SILVER])], json!(["11044"])));
    assert_eq!(reply.status, 200, "{}", reply.body);
    api.advance(40 * 60_000);
    let reply = api.adhoc(&v1_body(&[(DIRECT_MAIL, &[GOLD])], json!(["11044"])));
    assert_eq!(reply.status, 200, "finished now: {}", reply.body);

    let now = clock(&api);
    let future = create(
        &api,
        json!({"flowId": DIRECT_MAIL, "segments": [CATALOG], "createdAt": now + HOUR, "durationMs": 0}),
    );
    assert_eq!(status(&future[0]), "scheduled");
    assert!(
        future[0]["metrics"]["durationSummary"]
            .get("startedAtUTC")
            .is_none()
    );
    assert_problem(
        &api.adhoc(&v1_body(&[(DIRECT_MAIL, &[CATALOG])], json!(["11044"]))),
        409,
        "Run already going on",
    );
    api.advance(HOUR as u64);
    assert_eq!(
        status(&run(&api, future[0]["id"].as_str().unwrap())),
        "success"
    );
}

/// Bad bodies get a 400 with a message that names the problem, create nothing, and never
/// fail the emulator.
#[test]
fn created_runs_refuse_bad_bodies_with_a_message() {
    let api = Api::new();
    let far = clock(&api) + 400 * 24 * HOUR;
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "invalid JSON body"),
        ("[]".into(), "invalid JSON body"),
        ("{}".into(), "`flowId` is required"),
        (json!({"flowId": EMAIL}).to_string(), "`segments` must list"),
        (
            json!({"flowId": EMAIL, "segments": []}).to_string(),
            "`segments` must list",
        ),
        (
            json!({"flowId": EMAIL, "segments": GOLD}).to_string(),
            "invalid JSON body",
        ),
        (
            json!({"flowId": 7, "segments": [GOLD]}).to_string(),
            "invalid JSON body",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "extra": 1}).to_string(),
            "unknown field `extra`",
        ),
        (
            json!({"sandbox": "qa", "flowId": EMAIL, "segments": [GOLD]}).to_string(),
            "no sandbox `qa`; this world has dev, prod",
        ),
        (
            json!({"flowId": NEWSLETTER, "segments": [GOLD]}).to_string(),
            "no dataflow `5e8a7b6c",
        ),
        (
            json!({"flowId": SOURCE_FLOW, "segments": [GOLD]}).to_string(),
            "is a source dataflow",
        ),
        (
            json!({"flowId": EMAIL, "segments": [NEWSLETTER_SUBS]}).to_string(),
            "no segment `2c4e6a8b",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD, EMPLOYEES]}).to_string(),
            "(Employees) is not mapped by dataflow",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD, GOLD]}).to_string(),
            "listed twice",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "ago": "1h", "createdAt": 0}).to_string(),
            "not both",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "ago": "-1h"}).to_string(),
            "`ago`: ",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "ago": "soon"}).to_string(),
            "`ago`: ",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "ago": "30d"}).to_string(),
            "unknown unit",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "ago": "200h"}).to_string(),
            "longer than a week",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "createdAt": -1}).to_string(),
            "`createdAt` must be",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "createdAt": far}).to_string(),
            "`createdAt` must be",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "createdAt": 1.5}).to_string(),
            "invalid JSON body",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "durationMs": 40_000_000_000u64})
                .to_string(),
            "`durationMs` must be at most",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "durationMs": -1}).to_string(),
            "invalid JSON body",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "outcome": "maybe"}).to_string(),
            "unknown variant `maybe`",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "kind": "cron"}).to_string(),
            "unknown variant `cron`",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "clientId": CLIENT_ID}).to_string(),
            "`clientId` is for",
        ),
        (
            json!({"flowId": EMAIL, "segments": [GOLD], "kind": "adhoc", "clientId": "nobody"})
                .to_string(),
            "no client `nobody`",
        ),
    ];
    for (body, needle) in &cases {
        let reply = post_runs(&api, body);
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        let message = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(
            message.contains(needle),
            "{body}: `{message}` lacks `{needle}`"
        );
    }
    assert_eq!(
        api.get(RUNS).json()["items"],
        json!([]),
        "nothing was created"
    );
}

/// The example of `POST /_emulator/runs` in docs/emulator.md works as written and answers as
/// the docs show.
#[test]
fn the_documented_runs_example_works() {
    let docs =
        std::fs::read_to_string(crate::common::repo_root().join("docs/emulator.md")).unwrap();
    let (_, after) = docs.split_once("<!-- emulator-runs-example").unwrap();
    let (_, block) = after.split_once("```json\n").unwrap();
    let (request, rest) = block.split_once("```").unwrap();
    let (_, response) = rest.split_once("```json\n").unwrap();
    let (response, _) = response.split_once("```").unwrap();
    let api = Api::new();
    let before = clock(&api);
    let runs = create(&api, serde_json::from_str(request).unwrap());
    assert_eq!(runs.len(), 1);
    let created = runs[0]["createdAt"].as_i64().unwrap();
    assert!(created >= before - 10 * HOUR && created <= clock(&api) - 10 * HOUR);
    for (field, value) in [
        ("flowId", json!(EMAIL)),
        ("createdBy", json!("scheduler@AdobeID")),
        ("createdClient", json!("scheduler")),
        ("sandboxName", json!("prod")),
    ] {
        assert_eq!(runs[0][field], value, "{field}");
        assert!(
            response.contains(&format!("\"{field}\": {value}")),
            "the docs show {field}"
        );
    }
    assert_eq!(status(&runs[0]), "success");
    assert!(response.contains("\"status\": \"success\""));
}

/// Created runs are part of the world: kept in the state file, with their kind, and seen by the
/// next emulator on that file.
#[test]
fn created_runs_are_saved_in_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("world.json");
    let builder = || EmulatorBuilder::new().state_file(&state);
    let first = Api::with(builder());
    let runs = create(
        &first,
        json!({"flowId": EMAIL, "segments": [GOLD], "ago": "8h"}),
    );
    drop(first);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(saved["format"], 2);
    assert_eq!(saved["sandboxes"]["prod"]["runs"][0]["kind"], "scheduled");
    let second = Api::with(builder());
    assert_eq!(run(&second, runs[0]["id"].as_str().unwrap()), runs[0]);
}

// ---------------------------------------------------------------------------------------------
// The runs list: every `property=` filter, combined, with pages.

/// Every item of a runs listing, following `_links.next` as given.
///
/// Returns the items and the number of pages.
fn list_all(api: &Api, target: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut target = target.to_owned();
    for pages in 1..100 {
        let reply = api.get(&target);
        assert_eq!(reply.status, 200, "{target}: {}", reply.body);
        let body = reply.json();
        items.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => target = next.to_owned(),
            None => return (items, pages),
        }
    }
    panic!("more than 100 pages");
}

/// A world with 12 runs of the demo's Loyalty gold a minute apart from `t0` (7 on the email
/// dataflow, 5 on direct mail), created out of time order, and one in dev.
///
/// Returns the API, `t0`, and the runs' IDs by minute.
fn world_of_runs() -> (Api, i64, Vec<String>) {
    let api = Api::new();
    let t0 = clock(&api) - 30 * 24 * HOUR;
    let mut by_minute = vec![String::new(); 12];
    for minute in [5, 0, 11, 3, 8, 1, 10, 2, 7, 4, 9, 6] {
        let flow = if is_email(minute) { EMAIL } else { DIRECT_MAIL };
        let runs = create(
            &api,
            json!({"flowId": flow, "segments": [GOLD], "createdAt": t0 + minute as i64 * 60_000}),
        );
        by_minute[minute] = runs[0]["id"].as_str().unwrap().to_owned();
    }
    create(
        &api,
        json!({"sandbox": "dev", "flowId": NEWSLETTER, "segments": [NEWSLETTER_SUBS], "createdAt": t0}),
    );
    (api, t0, by_minute)
}

/// The IDs of `minutes`, newest first.
fn newest_first(by_minute: &[String], minutes: impl IntoIterator<Item = usize>) -> Vec<String> {
    let mut minutes: Vec<usize> = minutes.into_iter().collect();
    minutes.sort_unstable_by(|a, b| b.cmp(a));
    minutes.into_iter().map(|m| by_minute[m].clone()).collect()
}

/// Whether the run of `minute` is on the email dataflow (else direct mail).
fn is_email(minute: usize) -> bool {
    minute.is_multiple_of(2) || minute == 11
}

#[test]
fn runs_list_filters_by_flow_time_and_id_combined() {
    let (api, t0, by_minute) = world_of_runs();
    let at = |minute: i64| t0 + minute * 60_000;
    let listed = |query: &str| ids(&list_all(&api, &format!("{RUNS}?{query}")).0);
    // No filter: every run of the sandbox, newest first by creation time (not as created).
    assert_eq!(listed("limit=1000"), newest_first(&by_minute, 0..12));
    assert_eq!(
        listed("orderby=-createdAt"),
        newest_first(&by_minute, 0..12)
    );
    let mut oldest_first = newest_first(&by_minute, 0..12);
    oldest_first.reverse();
    assert_eq!(listed("orderby=createdAt"), oldest_first);
    assert_eq!(listed("orderby=%2BcreatedAt"), oldest_first);
    assert_eq!(
        listed("orderby=+createdAt"),
        oldest_first,
        "a raw `+` is a space"
    );
    // flowId: one, any of several (comma), in any case.
    let email: Vec<usize> = (0..12).filter(|m| is_email(*m)).collect();
    let direct: Vec<usize> = (0..12).filter(|m| !is_email(*m)).collect();
    assert_eq!(
        listed(&format!("property=flowId=={EMAIL}")),
        newest_first(&by_minute, email.clone())
    );
    assert_eq!(
        listed(&format!("property=flowId=={}", DIRECT_MAIL.to_uppercase())),
        newest_first(&by_minute, direct.clone())
    );
    assert_eq!(
        listed(&format!("property=flowId=={EMAIL},{DIRECT_MAIL}")),
        newest_first(&by_minute, 0..12)
    );
    assert_eq!(
        listed(&format!(
            "property=flowId=={EMAIL}&property=flowId=={DIRECT_MAIL}"
        )),
        Vec::<String>::new(),
        "separate parameters must all hold"
    );
    // createdAt > and <, both exclusive, as the client sends them (percent-encoded).
    assert_eq!(
        listed(&format!("property=createdAt%3E{}", at(5))),
        newest_first(&by_minute, 6..12)
    );
    assert_eq!(
        listed(&format!("property=createdAt%3C{}", at(5))),
        newest_first(&by_minute, 0..5)
    );
    assert_eq!(
        listed(&format!(
            "property=createdAt%3E{}&property=createdAt%3C{}",
            at(2),
            at(9)
        )),
        newest_first(&by_minute, 3..9)
    );
    // id: any of several.
    let two = format!("{},{}", by_minute[3], by_minute[7].to_uppercase());
    assert_eq!(
        listed(&format!("property=id=={two}")),
        newest_first(&by_minute, [3, 7])
    );
    // All of them together, as issue 9's client asks (flow, then creation time), plus an id.
    let query = format!(
        "property=flowId%3D%3D{EMAIL}&property=createdAt%3E{}&property=createdAt%3C{}&property=id%3D%3D{},{},{}",
        at(1),
        at(11),
        by_minute[2],
        by_minute[3],
        by_minute[10]
    );
    assert_eq!(listed(&query), newest_first(&by_minute, [2, 10]));
    // count=true counts what the filters keep; dev's run is never listed in prod.
    let count = api.get(&format!(
        "{RUNS}?property=flowId=={EMAIL}&property=createdAt%3E{}&count=true",
        at(5)
    ));
    assert_eq!(
        count.json(),
        json!({"count": email.iter().filter(|m| **m > 5).count()})
    );
    assert_eq!(
        api.get_in(Some("dev"), RUNS).json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Malformed filters and tokens are problems, not empty lists.
    for (query, needle) in [
        ("property=createdAt%3Esoon", "compare numbers"),
        ("property=%3D%3D1", "invalid property filter"),
        ("continuationToken=emu-3", "invalid `continuationToken`"),
        ("continuationToken=x", "invalid `continuationToken`"),
        ("orderby=flowId", "cannot order by `flowId`"),
        ("limit=0", "`limit` must be"),
    ] {
        let body = assert_problem(&api.get(&format!("{RUNS}?{query}")), 400, needle);
        assert_eq!(
            body["type"],
            "https://ns.adobe.com/aep/errors/FLOW-1400-400"
        );
    }
}

/// Pages of `limit` keep every filter in `_links.next` and add up to the unpaged list; a client
/// that sends its own filters again with only the `continuationToken` (as `aepact`'s does)
/// gets the same pages.
#[test]
fn runs_list_pages_keep_their_filters() {
    let (api, t0, by_minute) = world_of_runs();
    let filters = format!("property=flowId%3D%3D{EMAIL}&property=createdAt%3E{t0}");
    let (all, pages) = list_all(&api, &format!("{RUNS}?{filters}&limit=2"));
    let email_after_t0: Vec<usize> = (1..12).filter(|m| is_email(*m)).collect();
    assert_eq!(ids(&all), newest_first(&by_minute, email_after_t0.clone()));
    assert_eq!(pages, email_after_t0.len().div_ceil(2));

    let first = api.get(&format!("{RUNS}?{filters}&limit=2")).json();
    let next = first["_links"]["next"]["href"].as_str().unwrap();
    assert!(next.starts_with(&format!("{RUNS}?")), "{next}");
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(next.split_once('?').unwrap().1).unwrap();
    assert!(
        pairs.contains(&("property".into(), format!("flowId=={EMAIL}"))),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("property".into(), format!("createdAt>{t0}"))),
        "{pairs:?}"
    );
    assert!(pairs.contains(&("limit".into(), "2".into())), "{pairs:?}");
    let token = &pairs
        .iter()
        .find(|(k, _)| k == "continuationToken")
        .unwrap()
        .1;
    let encoded: String = serde_urlencoded::to_string([("continuationToken", token)]).unwrap();
    let again = api
        .get(&format!("{RUNS}?{filters}&limit=2&{encoded}"))
        .json();
    assert_eq!(
        ids(again["items"].as_array().unwrap()),
        ids(&all)[2..4],
        "the second page"
    );
    // The last page has no `next`.
    let (_, one_page) = list_all(&api, &format!("{RUNS}?{filters}&limit=1000"));
    assert_eq!(one_page, 1);
}

/// A run created between two page requests, newer than everything or dated back into the
/// middle, neither repeats an item on the next page nor pushes one off it (the continuation
/// token is a position, not an offset).
#[test]
fn runs_created_between_pages_neither_repeat_nor_hide_a_run() {
    let (api, t0, by_minute) = world_of_runs();
    for orderby in ["", "&orderby=createdAt"] {
        let first = api.get(&format!("{RUNS}?limit=4{orderby}")).json();
        let mut seen = ids(first["items"].as_array().unwrap());
        create(&api, json!({"flowId": EMAIL, "segments": [SILVER]}));
        create(
            &api,
            json!({"flowId": EMAIL, "segments": [SILVER], "createdAt": t0 + 90_000}),
        );
        create(
            &api,
            json!({"flowId": EMAIL, "segments": [SILVER], "createdAt": t0 + 630_000}),
        );
        let next = first["_links"]["next"]["href"].as_str().unwrap();
        let (rest, _) = list_all(&api, next);
        seen.extend(ids(&rest));
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "a run was listed twice: {seen:?}");
        for id in &by_minute {
            assert!(unique.contains(id), "run {id} was never listed");
        }
    }
}

/// The request log keeps each listing's query as sent and decoded, so a test can count listing
/// requests and read their filters.
#[test]
fn the_request_log_shows_each_runs_listing_with_its_filters() {
    let (api, t0, _) = world_of_runs();
    api.admin("DELETE", "requests", None);
    let query = format!("property=flowId%3D%3D{EMAIL}&property=createdAt%3E{t0}&limit=3");
    let (_, pages) = list_all(&api, &format!("{RUNS}?{query}"));
    let log = api.admin("GET", "requests?route=runs.list", None);
    let entries = log["requests"].as_array().unwrap();
    assert_eq!(entries.len(), pages);
    assert_eq!(entries[0]["query"], query);
    assert_eq!(
        entries[0]["params"],
        json!([
            ["property", format!("flowId=={EMAIL}")],
            ["property", format!("createdAt>{t0}")],
            ["limit", "3"]
        ])
    );
    for entry in &entries[1..] {
        let params = entry["params"].as_array().unwrap();
        assert!(
            params.contains(&json!(["property", format!("flowId=={EMAIL}")])),
            "{entry}"
        );
        assert!(
            params.iter().any(|p| p[0] == "continuationToken"),
            "{entry}"
        );
        assert_eq!(entry["status"], 200);
    }
}

/// `aepact`'s own client (`Client::list_runs`, which issue 9's check builds on) reads every page
/// of a long runs list against the emulator: 130 runs, two pages of the default 100.
#[test]
fn the_api_client_reads_every_page_of_the_runs_list() {
    let api = Api::with(EmulatorBuilder::new().run_duration(Duration::ZERO));
    let t0 = clock(&api) - 10 * 24 * HOUR;
    for i in 0..130 {
        create(
            &api,
            json!({"flowId": EMAIL, "segments": [GOLD], "createdAt": t0 + i * 1000}),
        );
    }
    create(
        &api,
        json!({"flowId": DIRECT_MAIL, "segments": [GOLD], "createdAt": t0 + 5000}),
    );
    api.admin("DELETE", "requests", None);
    let config = api.emulator.info().api_config();
    let client = aepact::api::Client::new(config).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let runs = runtime
        .block_on(client.list_runs("prod", EMAIL, t0 + 9_999))
        .unwrap();
    let times: Vec<i64> = runs.iter().map(|r| r.created_at.unwrap()).collect();
    let expected: Vec<i64> = (10..130).map(|i| t0 + i * 1000).collect();
    assert_eq!(
        times, expected,
        "oldest first, every page, only this flow, after the time"
    );
    let log = api.admin("GET", "requests?route=runs.list", None);
    assert_eq!(log["requests"].as_array().unwrap().len(), 2, "two pages");
}
