//! The emulator as the platform's second witness (issue 9): the platform's clock in every
//! response's `Date`, runs the platform started itself (`POST /_emulator/runs`: last night's
//! scheduled export, a click on "Export file now"), and the runs list with every `property=`
//! filter a client sends, over real HTTP on 127.0.0.1. Time moves only through
//! `/_emulator/clock`.

use serde_json::{Value, json};

use crate::emulator::client::Reply;
use crate::emulator::{Api, CLIENT_ID, ORG};

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
