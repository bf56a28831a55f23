//! A quick test that a document certainly passes the plan schema, so that most valid plans
//! skip the generic validator (issue 13).
//!
//! The schema (`schemas/plan.schema.json`, generated from `model.rs`) is small: a few keys,
//! five patterns, lists that may not be empty. [`certainly_valid`] walks the tree once and
//! answers `true` only for the plain forms of every part: any form it does not know for sure
//! (a number written as `1.0`, a `guardWindow`, a key it does not list) gives `false`, and the
//! generic validator decides, and reports what is wrong. So it may send a valid plan to the
//! validator, never pass an invalid one: a `true` is the validator's `true` (tests hold the two
//! together on every fixture and on mutated trees, and debug builds check each `true`).
//!
//! It mirrors the schema as generated when it was written: a test pins the schema's digest,
//! and fails when the schema changes, so that this file is read again with it.

use serde_json::{Map, Value};

use super::model::{is_plan_name, is_sandbox_name};

/// Whether `top` passes the plan schema for certain (see the module's docs): `false` means
/// "ask the validator", not "invalid".
pub(super) fn certainly_valid(top: &Value) -> bool {
    object(
        top,
        &["apiVersion", "name", "destinations"],
        |key, value| match key {
            "apiVersion" => value.as_str() == Some("aepact/v1"),
            "name" => value.as_str().is_some_and(is_plan_name),
            "destinations" => non_empty(value).is_some_and(|all| all.iter().all(destination)),
            "description" => value.is_string(),
            "sandbox" => value.as_str().is_some_and(is_sandbox_name),
            "exports" => exports(value),
            "run" => value.as_u64().is_some_and(|run| run >= 1),
            // `guardWindow` and unknown keys: the validator's to judge.
            _ => false,
        },
    )
}

/// `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`.
fn uuid(value: &Value) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    let bytes = text.as_bytes();
    let hex = |from: usize, to: usize| bytes[from..to].iter().all(|&b| HEX[b as usize]);
    bytes.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| bytes[i] == b'-')
        && hex(0, 8)
        && hex(9, 13)
        && hex(14, 18)
        && hex(19, 23)
        && hex(24, 36)
}

/// Whether a byte is a lowercase hex digit: one table lookup a byte, where a UUID is checked
/// for every segment.
static HEX: [bool; 256] = {
    let mut hex = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        hex[b] = c.is_ascii_digit() || (c >= b'a' && c <= b'f');
        b += 1;
    }
    hex
};

/// A list with at least one item.
fn non_empty(value: &Value) -> Option<&Vec<Value>> {
    value.as_array().filter(|items| !items.is_empty())
}

/// `latest`, or a non-empty list of export job IDs (`u64`s, or 1 to 20 digits).
fn exports(value: &Value) -> bool {
    match value {
        Value::String(keyword) => keyword == "latest",
        _ => non_empty(value).is_some_and(|ids| {
            ids.iter().all(|id| match id {
                Value::String(digits) => {
                    (1..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
                }
                _ => id.as_u64().is_some(),
            })
        }),
    }
}

/// `value` is a mapping that holds every key of `required`, each of its keys with a value
/// `check` accepts (`check` refuses the keys it does not know).
fn object(value: &Value, required: &[&str], check: impl Fn(&str, &Value) -> bool) -> bool {
    let Some(map): Option<&Map<String, Value>> = value.as_object() else {
        return false;
    };
    required.iter().all(|key| map.contains_key(*key)) && map.iter().all(|(k, v)| check(k, v))
}

fn destination(value: &Value) -> bool {
    object(value, &["id", "segments"], |key, value| match key {
        "id" => uuid(value),
        "name" => value.is_string(),
        "expect" => expect(value),
        "segments" => non_empty(value).is_some_and(|all| all.iter().all(segment)),
        _ => false,
    })
}

/// A segment ID, or `{id, name?, expect?}`.
fn segment(value: &Value) -> bool {
    if value.is_string() {
        return uuid(value);
    }
    object(value, &["id"], |key, value| match key {
        "id" => uuid(value),
        "name" => value.is_string(),
        "expect" => expect(value),
        _ => false,
    })
}

/// `null`, or `{minRecords?, maxRecords?}`, each `null` or a `u64`.
fn expect(value: &Value) -> bool {
    value.is_null()
        || object(value, &[], |key, value| match key {
            "minRecords" | "maxRecords" => value.is_null() || value.as_u64().is_some(),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the validator says.
    fn schema_valid(value: &Value) -> bool {
        jsonschema::validator_for(&crate::plan::schema::generate())
            .unwrap()
            .is_valid(value)
    }

    #[test]
    fn the_schema_is_the_one_this_check_mirrors() {
        // The digest of `schemas/plan.schema.json` as `certainly_valid` was written against.
        // When the schema changes, read this file again with it (a key, a pattern, a bound
        // `certainly_valid` would not know), then update the digest.
        let text = crate::plan::schema::generate_text();
        let digest = crate::digest::sha256_hex(text.as_bytes());
        assert_eq!(
            digest, "454f8e1848671bbab6d1080e947a30df41c4bf01d5fa846d81175d6f8a0ab607",
            "the plan schema changed: check src/plan/accept.rs against it"
        );
    }

    fn plain() -> Value {
        json!({
            "apiVersion": "aepact/v1",
            "name": "spring-sale",
            "description": "x",
            "sandbox": "prod",
            "exports": ["123", 456],
            "run": 2,
            "destinations": [{
                "id": "0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
                "name": "Email",
                "expect": {"minRecords": 1, "maxRecords": null},
                "segments": [
                    "db8961e9-d52f-45bc-b3fb-76d0382a6851",
                    {"id": "6a1f0c3e-5b7d-4e9f-a1b2-c3d4e5f6a7b8", "name": "S", "expect": null}
                ]
            }]
        })
    }

    /// Every change to one part of a plain plan, by its pointer: each makes it invalid, or
    /// leaves it valid in a form the quick check need not know.
    fn mutations() -> Vec<(&'static str, Value)> {
        let long = |n: usize| Value::String("a".repeat(n));
        vec![
            ("/apiVersion", json!("aepact/v2")),
            ("/apiVersion", json!(1)),
            ("/name", json!("Spring")),
            ("/name", json!("-spring")),
            ("/name", json!("")),
            ("/name", long(63)),
            ("/name", long(64)),
            ("/name", json!("a-b-0")),
            ("/name", json!(7)),
            ("/sandbox", long(256)),
            ("/sandbox", long(257)),
            ("/sandbox", json!("Prod")),
            ("/sandbox", json!(null)),
            ("/description", json!(1)),
            ("/description", json!(null)),
            ("/exports", json!("latest")),
            ("/exports", json!("newest")),
            ("/exports", json!([])),
            ("/exports", json!(["12a"])),
            ("/exports", json!(["123456789012345678901"])),
            ("/exports", json!(["12345678901234567890"])),
            ("/exports", json!([-1])),
            ("/exports", json!([1.5])),
            ("/exports", json!([2.0])),
            ("/exports", json!(null)),
            ("/run", json!(0)),
            ("/run", json!(1)),
            ("/run", json!(1.0)),
            ("/run", json!(-3)),
            ("/run", json!("1")),
            ("/run", json!(u64::MAX)),
            ("/guardWindow", json!("2h30m")),
            ("/guardWindow", json!("2 hours")),
            ("/guardWindow", json!(0)),
            ("/extra", json!(1)),
            ("/destinations", json!([])),
            ("/destinations", json!({})),
            (
                "/destinations/0/id",
                json!("0B7C2F9E-1A2B-4C3D-8E9F-0A1B2C3D4E5F"),
            ),
            (
                "/destinations/0/id",
                json!("0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5"),
            ),
            (
                "/destinations/0/id",
                json!("0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5fa"),
            ),
            (
                "/destinations/0/id",
                json!("0b7c2f9e_1a2b-4c3d-8e9f-0a1b2c3d4e5f"),
            ),
            (
                "/destinations/0/id",
                json!("0b7c2f9e-1a2b-4c3d-8e9g-0a1b2c3d4e5f"),
            ),
            ("/destinations/0/id", json!(null)),
            ("/destinations/0/name", json!(3)),
            ("/destinations/0/other", json!(3)),
            ("/destinations/0/expect", json!({"minRecords": -1})),
            ("/destinations/0/expect", json!({"minRecords": 1.0})),
            ("/destinations/0/expect", json!({"records": 1})),
            ("/destinations/0/expect", json!({})),
            ("/destinations/0/expect", json!(5)),
            ("/destinations/0/segments", json!([])),
            (
                "/destinations/0/segments",
                json!("db8961e9-d52f-45bc-b3fb-76d0382a6851"),
            ),
            ("/destinations/0/segments/0", json!(42)),
            (
                "/destinations/0/segments/0",
                json!("DB8961E9-D52F-45BC-B3FB-76D0382A6851"),
            ),
            ("/destinations/0/segments/0", json!({"name": "no id"})),
            ("/destinations/0/segments/0", json!([])),
            ("/destinations/0/segments/1/id", json!(1)),
            ("/destinations/0/segments/1/extra", json!(1)),
            (
                "/destinations/0/segments/1/expect",
                json!({"maxRecords": 10}),
            ),
        ]
    }

    /// `value` with the part at `pointer` (its parent present) set to `to`.
    fn set(mut value: Value, pointer: &str, to: Value) -> Value {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match value.pointer_mut(parent).unwrap() {
            Value::Object(map) => {
                map.insert(key.to_owned(), to);
            }
            Value::Array(items) => items[key.parse::<usize>().unwrap()] = to,
            _ => unreachable!("{pointer}"),
        }
        value
    }

    #[test]
    fn a_certainly_valid_plan_is_valid_for_the_schema() {
        assert!(certainly_valid(&plain()), "the plain plan is known");
        assert!(schema_valid(&plain()));
        let mut judged = 0;
        for (pointer, to) in mutations() {
            let value = set(plain(), pointer, to.clone());
            let valid = schema_valid(&value);
            assert!(
                !certainly_valid(&value) || valid,
                "{pointer} = {to}: passed the quick check, but the schema refuses it"
            );
            judged += usize::from(certainly_valid(&value) == valid);
        }
        // Most forms are told right: the quick check is not only "ask the validator".
        assert!(judged * 10 >= mutations().len() * 8, "{judged}");
        // Required keys missing.
        for key in ["apiVersion", "name", "destinations"] {
            let mut value = plain();
            value.as_object_mut().unwrap().remove(key);
            assert!(!certainly_valid(&value), "{key} missing");
        }
        for (pointer, key) in [
            ("/destinations/0", "id"),
            ("/destinations/0", "segments"),
            ("/destinations/0/segments/1", "id"),
        ] {
            let mut value = plain();
            value
                .pointer_mut(pointer)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(key);
            assert!(!certainly_valid(&value), "{pointer}/{key} missing");
        }
        assert!(!certainly_valid(&json!([1])));
        assert!(!certainly_valid(&json!(null)));
    }

    #[test]
    fn every_fixture_and_example_is_judged_as_the_schema_judges_it() {
        let (mut known, mut valid) = (0, 0);
        for (path, tree) in crate::plan::load::fixture_trees() {
            let schema = schema_valid(&tree);
            let quick = certainly_valid(&tree);
            assert!(
                !quick || schema,
                "{}: passed the quick check only",
                path.display()
            );
            valid += usize::from(schema);
            known += usize::from(quick);
        }
        assert!(
            valid >= 10 && known * 2 > valid,
            "{known} of {valid} valid files known"
        );
    }
}
