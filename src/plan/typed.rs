//! The typed plan ([`RawPlan`]) read straight from a tree that passed the schema, its strings
//! moved rather than copied.
//!
//! Apart from serde's derived `Deserialize` (which `model.rs` keeps, and which the tests hold
//! this reading to) because it runs once per plan (issue 13): serde's visitors over a
//! `serde_json::Value` spent about 9,300 instructions on a plan of the benchmark's corpus, and
//! this reading (lists allocated once) about 1,800 fewer; most of both is taking the tree apart,
//! freeing its keys and nodes, which the bare probe pays too when it drops its tree. The schema has
//! already said the tree is a plan, so a tree this reading cannot take is a disagreement between
//! the two (a bug), reported with where it happened.

use serde_json::{Map, Value};

use super::model::{
    FormatVersion, LatestKeyword, RawDestination, RawDuration, RawExpect, RawExportId, RawExports,
    RawPlan, RawSegment, RawSegmentDetail, WholeNumber,
};

/// Where the tree did not fit the typed plan, and how: a JSON pointer and a phrase.
pub(super) type Misfit = String;

/// The JSON pointer of the value being read, built only when it does not fit.
type At<'a> = &'a dyn Fn() -> String;

/// A pointer fixed in the program text.
macro_rules! at {
    ($pointer:literal) => {
        &|| $pointer.to_owned()
    };
}

/// Reads the plan of a tree that passed the schema, consuming it.
pub(super) fn raw_plan(value: Value) -> Result<RawPlan, Misfit> {
    let mut api_version = None;
    let mut name = None;
    let (mut description, mut sandbox, mut exports, mut guard_window) = (None, None, None, None);
    let mut destinations = None;
    let mut run = WholeNumber(1);
    for (key, value) in object(value, at!(""))? {
        match key.as_str() {
            "apiVersion" => match value {
                Value::String(text) if text == "aepact/v1" => api_version = Some(FormatVersion::V1),
                _ => return Err(misfit(at!("/apiVersion"), "is not `aepact/v1`")),
            },
            "name" => name = Some(string(value, at!("/name"))?),
            "description" => description = optional(value, at!("/description"), string)?,
            "sandbox" => sandbox = optional(value, at!("/sandbox"), string)?,
            "exports" => exports = optional(value, at!("/exports"), raw_exports)?,
            "destinations" => {
                destinations = Some(each(array(value, at!("/destinations"))?, destination)?);
            }
            "run" => run = whole_number(value, at!("/run"))?,
            "guardWindow" => guard_window = optional(value, at!("/guardWindow"), duration)?,
            _ => return Err(unknown(key, at!(""))),
        }
    }
    Ok(RawPlan {
        api_version: api_version.ok_or_else(|| missing("apiVersion", at!("")))?,
        name: name.ok_or_else(|| missing("name", at!("")))?,
        description,
        sandbox,
        exports,
        destinations: destinations.ok_or_else(|| missing("destinations", at!("")))?,
        run,
        guard_window,
    })
}

fn destination(value: Value, d: usize) -> Result<RawDestination, Misfit> {
    let at: At<'_> = &|| format!("/destinations/{d}");
    let (mut id, mut name, mut segments, mut expect) = (None, None, None, None);
    for (key, value) in object(value, at)? {
        match key.as_str() {
            "id" => id = Some(string(value, at)?),
            "name" => name = optional(value, at, string)?,
            "segments" => {
                segments = Some(each(array(value, at)?, |value, s| {
                    segment(value, &|| format!("/destinations/{d}/segments/{s}"))
                })?);
            }
            "expect" => expect = optional(value, at, raw_expect)?,
            _ => return Err(unknown(key, at)),
        }
    }
    Ok(RawDestination {
        id: id.ok_or_else(|| missing("id", at))?,
        name,
        segments: segments.ok_or_else(|| missing("segments", at))?,
        expect,
    })
}

fn segment(value: Value, at: At<'_>) -> Result<RawSegment, Misfit> {
    let value = match value {
        Value::String(id) => return Ok(RawSegment::Bare(id)),
        value @ Value::Object(_) => value,
        _ => return Err(misfit(at, "is neither a segment ID nor a mapping")),
    };
    let (mut id, mut name, mut expect) = (None, None, None);
    for (key, value) in object(value, at)? {
        match key.as_str() {
            "id" => id = Some(string(value, at)?),
            "name" => name = optional(value, at, string)?,
            "expect" => expect = optional(value, at, raw_expect)?,
            _ => return Err(unknown(key, at)),
        }
    }
    Ok(RawSegment::Detailed(RawSegmentDetail {
        id: id.ok_or_else(|| missing("id", at))?,
        name,
        expect,
    }))
}

fn raw_expect(value: Value, at: At<'_>) -> Result<RawExpect, Misfit> {
    let (mut min_records, mut max_records) = (None, None);
    for (key, value) in object(value, at)? {
        match key.as_str() {
            "minRecords" => min_records = optional(value, at, whole_number)?,
            "maxRecords" => max_records = optional(value, at, whole_number)?,
            _ => return Err(unknown(key, at)),
        }
    }
    Ok(RawExpect {
        min_records,
        max_records,
    })
}

fn raw_exports(value: Value, at: At<'_>) -> Result<RawExports, Misfit> {
    match value {
        Value::String(text) if text == "latest" => Ok(RawExports::Latest(LatestKeyword::Latest)),
        Value::Array(ids) => each(ids, |id, _| match id {
            Value::String(digits) => Ok(RawExportId::Digits(digits)),
            number => whole_number(number, at).map(RawExportId::Number),
        })
        .map(RawExports::Ids),
        _ => Err(misfit(
            at,
            "is neither `latest` nor a list of export job IDs",
        )),
    }
}

fn duration(value: Value, at: At<'_>) -> Result<RawDuration, Misfit> {
    match value {
        Value::String(text) => Ok(RawDuration::Text(text)),
        number => whole_number(number, at).map(RawDuration::Zero),
    }
}

/// A whole number as [`WholeNumber`]'s `Deserialize` reads one: an integer from 0 to 2^64 - 1,
/// or a float with no fraction in that range.
fn whole_number(value: Value, at: At<'_>) -> Result<WholeNumber, Misfit> {
    let Value::Number(n) = value else {
        return Err(misfit(at, "is not a number"));
    };
    if let Some(n) = n.as_u64() {
        return Ok(WholeNumber(n));
    }
    match n.as_f64() {
        // 2^64 is exactly representable; every f64 below it with no fraction is a u64.
        Some(f)
            if !n.is_i64()
                && f.fract() == 0.0
                && (0.0..18_446_744_073_709_551_616.0).contains(&f) =>
        {
            Ok(WholeNumber(f as u64))
        }
        _ => Err(misfit(
            at,
            "is not a whole number from 0 to 18446744073709551615",
        )),
    }
}

/// Reads every item of a list with its index, into a list allocated once (collecting
/// `Result`s would grow it from nothing: a fifth of this reading's time went to that).
fn each<T>(
    items: Vec<Value>,
    mut read: impl FnMut(Value, usize) -> Result<T, Misfit>,
) -> Result<Vec<T>, Misfit> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        out.push(read(item, i)?);
    }
    Ok(out)
}

/// `null` is a key left out (serde's `#[serde(default)]` on an `Option` reads it as `None`).
fn optional<T>(
    value: Value,
    at: At<'_>,
    read: impl FnOnce(Value, At<'_>) -> Result<T, Misfit>,
) -> Result<Option<T>, Misfit> {
    match value {
        Value::Null => Ok(None),
        value => read(value, at).map(Some),
    }
}

fn string(value: Value, at: At<'_>) -> Result<String, Misfit> {
    match value {
        Value::String(text) => Ok(text),
        _ => Err(misfit(at, "is not a string")),
    }
}

fn object(value: Value, at: At<'_>) -> Result<Map<String, Value>, Misfit> {
    match value {
        Value::Object(entries) => Ok(entries),
        _ => Err(misfit(at, "is not a mapping")),
    }
}

fn array(value: Value, at: At<'_>) -> Result<Vec<Value>, Misfit> {
    match value {
        Value::Array(items) => Ok(items),
        _ => Err(misfit(at, "is not a list")),
    }
}

fn misfit(at: At<'_>, what: &str) -> Misfit {
    let at = at();
    let at = if at.is_empty() { "the document" } else { &at };
    format!("`{at}` {what}")
}

fn unknown(key: String, at: At<'_>) -> Misfit {
    misfit(at, &format!("has the unknown key `{key}`"))
}

fn missing(key: &str, at: At<'_>) -> Misfit {
    misfit(at, &format!("has no `{key}`"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The reading by hand and serde's agree: the same plan, or both refuse.
    fn agree(value: Value) {
        let by_hand = raw_plan(value.clone()).map(|plan| format!("{plan:?}"));
        let by_serde =
            serde_json::from_value::<RawPlan>(value.clone()).map(|plan| format!("{plan:?}"));
        match (&by_hand, &by_serde) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{value}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{value}: by hand {by_hand:?}, by serde {by_serde:?}"),
        }
    }

    #[test]
    fn the_plan_read_by_hand_is_the_plan_serde_reads() {
        let segment = "3f1ee46c-7e5b-4f2c-9d1e-1a2b3c4d5e6f";
        agree(json!({
            "apiVersion": "aepact/v1",
            "name": "spring-sale",
            "description": "mails",
            "sandbox": "prod",
            "exports": [11037, "11038", 1.1039e4],
            "run": 2.0,
            "guardWindow": "30m",
            "destinations": [
                {"id": segment, "name": "mail", "segments": [segment, {"id": segment, "name": "vip", "expect": {"minRecords": 1}}],
                 "expect": {"minRecords": 1, "maxRecords": 1e3}},
                {"id": segment, "segments": [{"id": segment}]},
            ],
        }));
        agree(
            json!({"apiVersion": "aepact/v1", "name": "a", "exports": "latest", "guardWindow": 0,
                     "destinations": [{"id": segment, "segments": [segment]}]}),
        );
        agree(
            json!({"apiVersion": "aepact/v1", "name": "a", "description": null, "sandbox": null,
                     "exports": null, "guardWindow": null,
                     "destinations": [{"id": segment, "name": null, "expect": null,
                                       "segments": [{"id": segment, "name": null, "expect": {"minRecords": null}}]}]}),
        );
        // Trees the schema refuses: both readings refuse them too.
        for bad in [
            json!({"apiVersion": "aepact/v2", "name": "a", "destinations": []}),
            json!({"apiVersion": "aepact/v1", "destinations": []}),
            json!({"apiVersion": "aepact/v1", "name": "a"}),
            json!({"apiVersion": "aepact/v1", "name": "a", "destinations": [], "extra": 1}),
            json!({"apiVersion": "aepact/v1", "name": "a", "destinations": [{"id": "x", "segments": [1]}]}),
            json!({"apiVersion": "aepact/v1", "name": "a", "destinations": [{"id": "x", "segments": ["s"], "x": 1}]}),
            json!({"apiVersion": "aepact/v1", "name": "a", "destinations": [{"id": "x"}]}),
            json!({"apiVersion": "aepact/v1", "name": "a", "destinations": [], "run": -1}),
            json!({"apiVersion": "aepact/v1", "name": "a", "destinations": [], "run": 1.5}),
            json!({"apiVersion": "aepact/v1", "name": "a", "destinations": [], "run": 1.8446744073709552e19}),
            json!({"apiVersion": "aepact/v1", "name": "a", "destinations": [], "exports": "newest"}),
            json!({"apiVersion": "aepact/v1", "name": "a", "destinations": [], "exports": [-1]}),
            json!({"apiVersion": "aepact/v1", "name": 1, "destinations": []}),
            json!([1]),
        ] {
            agree(bad);
        }
    }

    /// Every YAML file of the examples and the test fixtures, read as a tree by the loader.
    #[test]
    fn the_examples_and_fixtures_read_alike() {
        let trees = super::super::load::fixture_trees();
        let read = trees.len();
        for (_, tree) in trees {
            agree(tree);
        }
        assert!(read >= 10, "only {read} files read");
    }

    #[test]
    fn a_misfit_says_where() {
        let err = raw_plan(json!({"apiVersion": "aepact/v1", "name": "a",
            "destinations": [{"id": "x", "segments": ["s", 7]}]}))
        .unwrap_err();
        assert_eq!(
            err,
            "`/destinations/0/segments/1` is neither a segment ID nor a mapping"
        );
        assert!(
            raw_plan(json!({"apiVersion": "aepact/v1", "name": "a", "destinations": []})).is_ok()
        );
        let err = raw_plan(json!({"name": "a"})).unwrap_err();
        assert_eq!(err, "`the document` has no `apiVersion`");
    }
}
