//! Flow Service: dataflows and their runs (`/data/foundation/flowservice/flows`, `…/runs`),
//! and the list machinery they share: `property=` filters, `orderby`, `count`, pages of
//! `limit` with a `continuationToken`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde::Serialize;
use serde_json::{Value, json};

use super::gateway::with_sandbox;
use super::respond::{
    cannot_serialise, json_response, last_segment, parse_limit, problem, query_pairs, query_value,
};
use crate::api::types::{Href, Items, Links, Problem};
use crate::emulator::app::{App, HttpResponse};
use crate::emulator::filter::Property;
use crate::emulator::state::new_uuid;

/// Default page size of the Flow Service lists (export jobs return everything unless asked).
const DEFAULT_PAGE: usize = 100;

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
/// `default` unless `orderby` says otherwise. The filters and the order read the items' JSON.
fn list_items<T: Serialize>(
    path: &str,
    uri: &Uri,
    items: Vec<(usize, T)>,
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
    let items: Result<Vec<(usize, Value)>, _> = items
        .into_iter()
        .map(|(place, item)| serde_json::to_value(item).map(|json| (place, json)))
        .collect();
    let mut items: Vec<(usize, Value)> = match items {
        Ok(items) => items,
        Err(e) => return cannot_serialise(&e),
    };
    items.retain(|(_, item)| filters.iter().all(|f| f.matches(item)));
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
    let mut links = Links { next: None };
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
        links.next = Some(Href {
            href: format!("{path}?{query}"),
        });
    }
    let page: Vec<Value> = keyed
        .drain(start.min(end)..end)
        .map(|(_, _, item)| item)
        .collect();
    json_response(
        StatusCode::OK,
        &Items {
            items: page,
            links: Some(links),
        },
    )
}

/// `GET /data/foundation/flowservice/flows`, in stored order unless `orderby` says otherwise.
pub(super) async fn list_flows(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> HttpResponse {
    with_sandbox(&app, &headers, &method, |_, name, sandbox| {
        let items = sandbox
            .flows
            .iter()
            .map(|f| f.to_api(name, sandbox))
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
pub(super) async fn get_flow(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> HttpResponse {
    let id = last_segment(&uri);
    with_sandbox(&app, &headers, &method, |_, name, sandbox| {
        match sandbox.flow(&id.to_ascii_lowercase()) {
            Some(flow) => json_response(StatusCode::OK, &one(flow.to_api(name, sandbox))),
            None => flow_not_found("flows", &id),
        }
    })
}

/// `GET /data/foundation/flowservice/runs`: newest first (by `createdAt`, ties the later
/// created first) unless `orderby` says otherwise.
pub(super) async fn list_runs(
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
            .map(|(place, r)| (place, r.to_api(name, sandbox, now)))
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
pub(super) async fn get_run(
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
            Some(run) => {
                json_response(StatusCode::OK, &one(run.to_api(name, sandbox, world.now())))
            }
            None => flow_not_found("runs", &id),
        },
    )
}

/// One flow or run as Flow Service answers it: `{items: [it]}`, without `_links`.
fn one<T>(item: T) -> Items<T> {
    Items {
        items: vec![item],
        links: None,
    }
}

/// Flow Service's documented not-found body (reference §4.4).
fn flow_not_found(kind: &str, id: &str) -> HttpResponse {
    json_response(
        StatusCode::NOT_FOUND,
        &Problem::flow_not_found(kind, id, new_uuid()),
    )
}
