//! The plan's JSON schema: generated from [`RawPlan`], and used to check every document.
//!
//! The schema is the single description of the format: editors use the committed copy
//! (`schemas/plan.schema.json`, through the `yaml-language-server` modeline), and `validate` runs
//! the same schema through jsonschema so that every violation in a file is found in one pass.
//! This module turns jsonschema's errors into diagnostics with our codes, wording and spans; the
//! field descriptions (the doc comments on the model) become the help lines.

use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use super::diags::{Code, Diagnostic};
use super::load::{Document, escape_pointer_segment};
use super::model::{EXPORT_ID_PATTERN, NAME_PATTERN, RawPlan, SANDBOX_PATTERN, UUID_PATTERN};
use super::source::SourceFile;

/// Where the generated schema is committed, relative to the repository root.
pub const SCHEMA_PATH: &str = "schemas/plan.schema.json";

/// Generates the plan schema (JSON Schema 2020-12) from the Rust types.
pub fn generate() -> Value {
    generate_for::<RawPlan>()
}

/// The JSON Schema 2020-12 of `T`, as aepact commits its schemas (the plan's, the policy's).
pub fn generate_for<T: schemars::JsonSchema>() -> Value {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    drop_null_defaults(&mut schema);
    schema
}

/// Optional fields (`description`, `name`, ...) are `Option`s with `#[serde(default)]`, which
/// schemars documents as `"default": null`; but the schema rejects `null` for them, so the
/// default would mislead editors. Absent means absent.
fn drop_null_defaults(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("default") == Some(&Value::Null) {
                map.remove("default");
            }
            map.values_mut().for_each(drop_null_defaults);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_defaults),
        _ => {}
    }
}

/// The schema as committed: pretty-printed JSON with a trailing newline.
pub fn generate_text() -> String {
    committed_text(&generate())
}

/// A schema as committed: pretty-printed JSON with a trailing newline.
pub fn committed_text(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema)
        .expect("invariant: a serde_json::Value always serialises");
    text.push('\n');
    text
}

struct Checker {
    schema: Value,
    validator: Validator,
}

/// Built once per process: generating the schema and compiling its patterns takes a few hundred
/// microseconds, which a pre-commit run of one file should pay once.
static CHECKER: LazyLock<Checker> = LazyLock::new(|| {
    let schema = generate();
    let validator = jsonschema::validator_for(&schema)
        .expect("invariant: the generated schema is valid JSON Schema (tested)");
    Checker { schema, validator }
});

/// Checks a document against the schema and returns one diagnostic per violation.
///
/// A plan in plain forms only (`accept::certainly_valid`, most valid plans) skips the
/// validator: walking it once costs about a seventh of the validator's time (issue 13).
pub fn check(doc: &Document, source: &SourceFile) -> Vec<Diagnostic> {
    if super::accept::certainly_valid(&doc.value) {
        debug_assert!(
            CHECKER.validator.is_valid(&doc.value),
            "the quick check passed a plan the schema refuses: {}",
            doc.value
        );
        return Vec::new();
    }
    let checker = &*CHECKER;
    if checker.validator.is_valid(&doc.value) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for err in checker.validator.iter_errors(&doc.value) {
        convert(checker, &err, doc, source, &mut out);
    }
    out.sort_by_key(Diagnostic::sort_key);
    out.dedup_by(|a, b| a.code == b.code && a.pointer == b.pointer && a.message == b.message);
    out
}

fn convert(
    checker: &Checker,
    err: &ValidationError<'_>,
    doc: &Document,
    source: &SourceFile,
    out: &mut Vec<Diagnostic>,
) {
    let pointer = err.instance_path().as_str();
    let instance: &Value = err.instance();
    let at = |code: Code, message: String| {
        Diagnostic::at(
            code,
            source,
            doc.spans.blame(pointer, Some(instance)),
            message,
        )
        .with_pointer(pointer)
    };
    let help = describe(&checker.schema, pointer);
    let diag = match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let allowed = allowed_keys(&checker.schema, pointer);
            for key in unexpected {
                let key_pointer = format!("{pointer}/{}", escape_pointer_segment(key));
                let span = doc
                    .spans
                    .key(&key_pointer)
                    .unwrap_or_else(|| doc.spans.node(pointer));
                let mut help = match suggest(key, &allowed) {
                    Some(near) => format!("did you mean `{near}`? "),
                    None => String::new(),
                };
                help.push_str(&format!(
                    "remove the key or fix its spelling; keys allowed {}: {}",
                    context(pointer),
                    allowed
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                out.push(
                    Diagnostic::at(
                        Code::UnknownKey,
                        source,
                        span,
                        format!(
                            "unknown key `{}` {}",
                            truncate_to(key, MAX_ECHO),
                            context(pointer)
                        ),
                    )
                    .with_label_text("not part of the plan format")
                    .with_pointer(key_pointer)
                    .with_help(help),
                );
            }
            return;
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let field = format!("{pointer}/{}", escape_pointer_segment(name));
            let what = describe(&checker.schema, &field).unwrap_or_default();
            at(
                Code::MissingKey,
                format!("missing required key `{name}` {}", context(pointer)),
            )
            .with_label_text(format!("`{name}` is missing here"))
            .with_help(format!("add `{name}:`. {what}").trim_end().to_owned())
        }
        ValidationErrorKind::Type { kind } => {
            let mut diag = at(
                Code::WrongType,
                format!(
                    "{} must be {}, not {}",
                    subject(pointer),
                    expected(pointer).unwrap_or_else(|| type_names(kind)),
                    found(instance)
                ),
            )
            .with_label_text(format!("{} here", article_type(instance)));
            if let Some(h) = type_fix(kind, instance).or(help) {
                diag = diag.with_help(h);
            }
            diag
        }
        ValidationErrorKind::Pattern { pattern } => {
            let value = instance.as_str().unwrap_or_default();
            let (code, what) = match pattern.as_str() {
                UUID_PATTERN if pointer.ends_with("/id") && !pointer.contains("/segments/") => {
                    (Code::MalformedId, "destination ID")
                }
                UUID_PATTERN => (Code::MalformedId, "segment ID"),
                EXPORT_ID_PATTERN => (Code::MalformedId, "export job ID"),
                NAME_PATTERN => (Code::InvalidName, "plan name"),
                SANDBOX_PATTERN => (Code::InvalidValue, "sandbox name"),
                _ => (Code::InvalidValue, "value"),
            };
            let hint = match pattern.as_str() {
                UUID_PATTERN => uuid_hint(value),
                EXPORT_ID_PATTERN => "an export job ID is digits only, like `11037`".to_owned(),
                NAME_PATTERN => format!(
                    "use lowercase letters, digits and dashes, starting with a letter or digit, at most 63 characters{}",
                    slug_suggestion(value)
                        .map(|s| format!(", for example `{s}`"))
                        .unwrap_or_default()
                ),
                SANDBOX_PATTERN => "sandbox names are lowercase letters, digits and dashes, like `prod` or `dev-eu`".to_owned(),
                _ => help.unwrap_or_default(),
            };
            at(
                code,
                format!("`{}` is not a valid {what}", truncate_to(value, MAX_ECHO)),
            )
            .with_label_text(format!("invalid {what}"))
            .with_help(hint)
        }
        ValidationErrorKind::MinItems { .. } => {
            at(Code::EmptyList, format!("{} is empty", subject(pointer)))
                .with_label_text("needs at least one entry")
                .with_help(match help {
                    Some(h) => format!("add at least one entry. {h}"),
                    None => "add at least one entry".to_owned(),
                })
        }
        ValidationErrorKind::Minimum { limit } => at(
            Code::InvalidValue,
            format!(
                "{} must be at least {limit}, not {instance}",
                subject(pointer)
            ),
        )
        .with_label_text("too small")
        .with_help(help.unwrap_or_default()),
        ValidationErrorKind::Maximum { limit } => at(
            Code::InvalidValue,
            format!(
                "{} must be at most {limit}, not {instance}",
                subject(pointer)
            ),
        )
        .with_label_text("too large")
        .with_help(help.unwrap_or_default()),
        ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. } => {
            let expected = expected(pointer).unwrap_or_else(|| "one of the allowed values".into());
            let message = if pointer == "/apiVersion" {
                format!(
                    "unsupported apiVersion {}: this aepact reads {expected}",
                    found_short(instance)
                )
            } else {
                format!(
                    "{} must be {expected}, not {}",
                    subject(pointer),
                    found_short(instance)
                )
            };
            at(Code::InvalidValue, message)
                .with_label_text("not allowed here")
                .with_help(help.unwrap_or_default())
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            // An untagged enum: report the errors of the one alternative whose shape matched (a
            // bare segment ID that is malformed, a `{id, name}` mapping with an unknown key), or
            // say what the alternatives are when none did.
            let matching: Vec<&Vec<ValidationError<'static>>> = context
                .iter()
                .filter(|branch| !branch.iter().any(|e| is_shape_error(e, pointer)))
                .collect();
            if let [branch] = matching.as_slice() {
                for inner in branch.iter() {
                    convert(checker, inner, doc, source, out);
                }
                return;
            }
            let only_values = context.iter().any(|branch| {
                branch.iter().all(|e| {
                    matches!(
                        e.kind(),
                        ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. }
                    )
                })
            });
            let code = if only_values {
                Code::InvalidValue
            } else {
                Code::WrongType
            };
            at(
                code,
                format!(
                    "{} must be {}, not {}",
                    subject(pointer),
                    expected(pointer).unwrap_or_else(|| "one of the allowed forms".into()),
                    found(instance)
                ),
            )
            .with_label_text("not allowed here")
            .with_help(help.unwrap_or_default())
        }
        _ => at(Code::InvalidValue, format!("{}: {err}", subject(pointer)))
            .with_help(help.unwrap_or_default()),
    };
    out.push(diag);
}

/// An error saying the value has the wrong shape altogether (rather than a wrong detail).
fn is_shape_error(err: &ValidationError<'_>, pointer: &str) -> bool {
    err.instance_path().as_str() == pointer
        && matches!(
            err.kind(),
            ValidationErrorKind::Type { .. }
                | ValidationErrorKind::Enum { .. }
                | ValidationErrorKind::Constant { .. }
        )
}

/// The pointer with indices replaced by `*`, for matching against the known fields.
fn shape(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|s| {
            if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
                "*"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// What a field must be, in words.
fn expected(pointer: &str) -> Option<String> {
    Some(
        match shape(pointer).as_str() {
            "" => "a mapping (the plan's keys: `apiVersion`, `name`, `destinations`, ...)",
            "/apiVersion" => "`aepact/v1`",
            "/name" => "a slug such as `black-friday-flash-sale`",
            "/description" | "/destinations/*/name" | "/destinations/*/segments/*/name" => {
                "a string"
            }
            "/sandbox" => "a sandbox name such as `prod`",
            "/exports" => "`latest` or a list of export job IDs",
            "/exports/*" => "an export job ID (an integer or a string of digits)",
            "/destinations" => "a list of destinations",
            "/destinations/*" => "a mapping with `id` and `segments`",
            "/destinations/*/id" => "a destination ID (a lowercase UUID)",
            "/destinations/*/segments" => "a list of segments",
            "/destinations/*/segments/*" => "a segment ID or an `{id, name}` mapping",
            "/destinations/*/segments/*/id" => "a segment ID (a lowercase UUID)",
            "/run" => "an integer of 1 or more",
            _ => return None,
        }
        .to_owned(),
    )
}

/// How messages name the node at `pointer`.
fn subject(pointer: &str) -> String {
    if pointer.is_empty() {
        return "the plan".to_owned();
    }
    let segments: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        [.., parent, index] if index.bytes().all(|b| b.is_ascii_digit()) => {
            let n: usize = index.parse().unwrap_or(0);
            let item = match *parent {
                "destinations" => "destination",
                "segments" => "segment",
                "exports" => "export job ID",
                _ => "entry",
            };
            format!("{item} {} of `{parent}`", n + 1)
        }
        [.., last] => format!("`{last}`"),
        [] => "the plan".to_owned(),
    }
}

/// "in the plan", "in destination 2", "in segment 3 of destination 1".
fn context(pointer: &str) -> String {
    let segments: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["destinations", d] => format!("in destination {}", index1(d)),
        ["destinations", d, "segments", s] => {
            format!("in segment {} of destination {}", index1(s), index1(d))
        }
        _ => "in the plan".to_owned(),
    }
}

fn index1(s: &str) -> usize {
    s.parse::<usize>().map_or(0, |n| n + 1)
}

fn found(value: &Value) -> String {
    match value {
        Value::Null => "empty (null)".to_owned(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Number(n) => format!("the number `{n}`"),
        Value::String(s) => format!("the string `{}`", truncate(s)),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

fn found_short(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{}`", truncate(s)),
        other => found(other),
    }
}

fn article_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn truncate(s: &str) -> String {
    truncate_to(s, 60)
}

/// Most characters of a user's key or value repeated in a message: a 1 MiB segment ID is
/// named by its start, not printed whole (the snippet shows where it is).
const MAX_ECHO: usize = 200;

fn truncate_to(s: &str, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

fn type_names(kind: &TypeKind) -> String {
    let name = |t: &jsonschema::JsonType| match t.to_string().as_str() {
        "object" => "a mapping".to_owned(),
        "array" => "a list".to_owned(),
        "integer" => "an integer".to_owned(),
        other => format!("a {other}"),
    };
    match kind {
        TypeKind::Single(t) => name(t),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| name(&t))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// A help line for the common slip of quoting a number, or of writing a number for a string.
fn type_fix(kind: &TypeKind, value: &Value) -> Option<String> {
    let wants = |name: &str| match kind {
        TypeKind::Single(t) => t.to_string() == name,
        TypeKind::Multiple(set) => set.iter().any(|t| t.to_string() == name),
    };
    match value {
        Value::String(s) if wants("integer") && s.parse::<u64>().is_ok() => {
            Some(format!("remove the quotes: write `{s}`, not `\"{s}\"`"))
        }
        Value::Number(n) if wants("string") => Some(format!("quote the value: `\"{n}\"`")),
        Value::Bool(b) if wants("string") => Some(format!("quote the value: `\"{b}\"`")),
        _ => None,
    }
}

fn uuid_hint(value: &str) -> String {
    let lower = value.to_ascii_lowercase();
    let is_uuid = |s: &str| {
        s.len() == 36
            && s.char_indices().all(|(i, c)| {
                if matches!(i, 8 | 13 | 18 | 23) {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            })
    };
    if lower != value && is_uuid(&lower) {
        return format!("IDs are lowercase, as the platform returns them: write `{lower}`");
    }
    let trimmed = lower.trim_matches(['{', '}']);
    if trimmed != lower && is_uuid(trimmed) {
        return format!("remove the braces: `{trimmed}`");
    }
    format!(
        "an ID is a lowercase UUID of 8-4-4-4-12 hex digits, like `0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f`; this one has {} characters",
        value.chars().count()
    )
}

fn slug_suggestion(name: &str) -> Option<String> {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug: String = slug.chars().take(63).collect();
    (!slug.is_empty() && slug != name).then_some(slug)
}

/// The nearest allowed key, for "did you mean" (case-insensitive equal, or at most 2 edits).
fn suggest<'a>(key: &str, allowed: &'a [String]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| {
            (
                a,
                edit_distance(&key.to_ascii_lowercase(), &a.to_ascii_lowercase()),
            )
        })
        .filter(|(_, d)| *d <= 2)
        .min_by_key(|(_, d)| *d)
        .map(|(a, _)| a.as_str())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Follows `$ref`s within the schema.
fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(target) => node = target,
                None => break,
            },
            None => break,
        }
    }
    node
}

/// The schemas that may describe the instance at `pointer` (several under `anyOf`).
fn schemas_at<'a>(root: &'a Value, pointer: &str) -> Vec<&'a Value> {
    let mut current = vec![root];
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        let mut next = Vec::new();
        let mut stack: Vec<&Value> = current.clone();
        while let Some(node) = stack.pop() {
            let node = resolve(root, node);
            if let Some(alts) = node.get("anyOf").or_else(|| node.get("oneOf")) {
                stack.extend(alts.as_array().into_iter().flatten());
            }
            if let Some(prop) = node.get("properties").and_then(|p| p.get(&segment)) {
                next.push(prop);
            } else if segment.bytes().all(|b| b.is_ascii_digit())
                && let Some(items) = node.get("items")
            {
                next.push(items);
            }
        }
        current = next;
    }
    current
}

/// The description of the field at `pointer`, from the model's doc comments.
fn describe(root: &Value, pointer: &str) -> Option<String> {
    schemas_at(root, pointer).into_iter().find_map(|s| {
        s.get("description")
            .or_else(|| resolve(root, s).get("description"))
            .and_then(Value::as_str)
            .map(|d| d.replace('\n', " "))
    })
}

/// The keys the object at `pointer` may have.
fn allowed_keys(root: &Value, pointer: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut stack = schemas_at(root, pointer);
    while let Some(node) = stack.pop() {
        let node = resolve(root, node);
        if let Some(alts) = node.get("anyOf").or_else(|| node.get("oneOf")) {
            stack.extend(alts.as_array().into_iter().flatten());
        }
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            keys.extend(props.keys().cloned());
        }
    }
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_schema_compiles_and_describes_fields() {
        let schema = generate();
        jsonschema::validator_for(&schema).unwrap();
        assert!(
            describe(&schema, "/destinations/0/segments/2/id")
                .unwrap()
                .contains("UUID")
        );
        assert_eq!(
            allowed_keys(&schema, "/destinations/0/segments/1"),
            ["expect", "id", "name"]
        );
        assert_eq!(
            allowed_keys(&schema, "/destinations/3"),
            ["expect", "id", "name", "segments"]
        );
    }

    #[test]
    fn suggests_near_keys() {
        let allowed = vec!["apiVersion".to_owned(), "destinations".to_owned()];
        assert_eq!(suggest("apiversion", &allowed), Some("apiVersion"));
        assert_eq!(suggest("destination", &allowed), Some("destinations"));
        assert_eq!(suggest("owner", &allowed), None);
    }
}
