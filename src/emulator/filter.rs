//! Flow Service `property=` filters over the JSON of flows and runs.
//!
//! `property=<path><op><values>`: the path is dotted, `[]` descends into an array
//! (`transformations[].params.segmentSelectors.selectors[].value.id`), the operator is `==`,
//! `!=`, `>` or `<`, and commas in the values mean "any of". Several `property` parameters must
//! all hold. A path alone tests that the field exists. Strings compare without regard to case
//! (the docs filter on `Failed` where runs say `failed`), and `>`/`<` compare numbers.

use serde_json::Value;

/// One parsed `property=` filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Property {
    path: Vec<String>,
    op: Op,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Exists,
    Eq,
    Ne,
    Gt,
    Lt,
}

impl Property {
    /// Parses the value of one `property` query parameter.
    ///
    /// Returns a message for the client when it is malformed.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let (path, op, rest) = if let Some(i) = text.find("==") {
            (&text[..i], Op::Eq, &text[i + 2..])
        } else if let Some(i) = text.find("!=") {
            (&text[..i], Op::Ne, &text[i + 2..])
        } else if let Some(i) = text.find('>') {
            (&text[..i], Op::Gt, &text[i + 1..])
        } else if let Some(i) = text.find('<') {
            (&text[..i], Op::Lt, &text[i + 1..])
        } else {
            (text, Op::Exists, "")
        };
        let path = path.trim();
        let valid_segment = |seg: &str| {
            let name = seg.strip_suffix("[]").unwrap_or(seg);
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if path.is_empty() || !path.split('.').all(valid_segment) {
            return Err(format!(
                "invalid property filter `{text}`: expected `<field path><operator><value>`, e.g. `flowId==<id>`"
            ));
        }
        let values: Vec<String> = rest.split(',').map(|v| v.trim().to_owned()).collect();
        if op != Op::Exists && values.iter().any(String::is_empty) {
            return Err(format!(
                "invalid property filter `{text}`: a value is empty"
            ));
        }
        if matches!(op, Op::Gt | Op::Lt) && values.iter().any(|v| v.parse::<f64>().is_err()) {
            return Err(format!(
                "invalid property filter `{text}`: `>` and `<` compare numbers"
            ));
        }
        Ok(Self {
            path: path.split('.').map(str::to_owned).collect(),
            op,
            values,
        })
    }

    /// The values of an `==` filter on the top-level field `field`, if this is one.
    pub(crate) fn equals_on(&self, field: &str) -> Option<Vec<String>> {
        (self.op == Op::Eq && self.path.len() == 1 && self.path[0] == field)
            .then(|| self.values.clone())
    }

    /// Whether `item` passes the filter.
    pub(crate) fn matches(&self, item: &Value) -> bool {
        let mut leaves = Vec::new();
        collect(item, &self.path, &mut leaves);
        match self.op {
            Op::Exists => leaves.iter().any(|v| !v.is_null()),
            Op::Eq => leaves.iter().any(|v| self.values.iter().any(|c| eq(v, c))),
            Op::Ne => !leaves.iter().any(|v| self.values.iter().any(|c| eq(v, c))),
            Op::Gt | Op::Lt => leaves.iter().any(|v| {
                let Some(n) = v.as_f64() else { return false };
                self.values.iter().any(|c| {
                    let c: f64 = c.parse().unwrap_or(f64::NAN);
                    if self.op == Op::Gt { n > c } else { n < c }
                })
            }),
        }
    }
}

fn collect<'a>(value: &'a Value, path: &[String], out: &mut Vec<&'a Value>) {
    let Some((first, rest)) = path.split_first() else {
        match value {
            Value::Array(items) => out.extend(items.iter()),
            other => out.push(other),
        }
        return;
    };
    let key = first.trim_end_matches("[]");
    let next = match value {
        Value::Object(map) => map.get(key),
        // Arrays are descended whether or not the path says `[]`.
        Value::Array(items) => {
            for item in items {
                collect(item, path, out);
            }
            return;
        }
        _ => None,
    };
    if let Some(next) = next {
        collect(next, rest, out);
    }
}

fn eq(value: &Value, candidate: &str) -> bool {
    match value {
        Value::String(s) => s.eq_ignore_ascii_case(candidate),
        Value::Number(n) => n.to_string() == candidate,
        Value::Bool(b) => candidate.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(filter: &str, item: &Value) -> bool {
        Property::parse(filter).unwrap().matches(item)
    }

    #[test]
    fn filters_match_like_flow_service() {
        let flow = json!({
            "id": "f1",
            "inheritedAttributes": {"properties": {"isDestinationFlow": true}},
            "transformations": [{"params": {"segmentSelectors": {"selectors": [
                {"value": {"id": "s1"}}, {"value": {"id": "s2"}}
            ]}}}],
            "metrics": {"statusSummary": {"status": "failed"}, "durationSummary": {"startedAtUTC": 100}},
        });
        assert!(check("id==f1", &flow));
        assert!(check("id==f0,f1", &flow));
        assert!(!check("id==f0", &flow));
        assert!(check("id!=f0", &flow));
        assert!(check(
            "inheritedAttributes.properties.isDestinationFlow==true",
            &flow
        ));
        assert!(!check(
            "inheritedAttributes.properties.isDestinationFlow==false",
            &flow
        ));
        assert!(check(
            "transformations[].params.segmentSelectors.selectors[].value.id==s2",
            &flow
        ));
        assert!(check("metrics.statusSummary.status==Failed", &flow));
        assert!(check("metrics.durationSummary.startedAtUTC>99", &flow));
        assert!(!check("metrics.durationSummary.startedAtUTC<100", &flow));
        assert!(check("metrics.durationSummary", &flow));
        assert!(!check("missing.path==x", &flow));
    }

    #[test]
    fn malformed_filters_are_refused() {
        for bad in [
            "", "==x", "=x", "a..b==x", "id==", "x>abc", "id==a,,b", "a b==c",
        ] {
            assert!(Property::parse(bad).is_err(), "{bad}");
        }
    }
}
