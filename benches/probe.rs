//! The "bare probe" of issue 13: the least work that still validates plans against the schema.
//!
//! For every `*.yaml` file directly in DIR (sorted), on one thread: read it, turn saphyr-parser's
//! event stream into a `serde_json::Value` (core-schema scalars, no spans, no duplicate-key,
//! alias or depth checks), and run the same compiled jsonschema validator `aepact validate` uses
//! (`is_valid`, then `iter_errors` for the invalid ones, as aepact does). No guardrails, no
//! diagnostics, no rendering: it prints one line of counts. `scripts/bench-validate.sh` times it
//! beside `aepact validate` to show what the spans, guardrails and reports cost per core.
//!
//! usage: cargo bench --bench probe -- DIR   (or the built binary: probe DIR)
//! Not part of the shipped binary: a `[[bench]]` target with `harness = false`.

// A benchmark program of its own: its usage line and its result are what it prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;

use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};

fn main() {
    // `cargo bench` passes `--bench`; the directory is the first argument that is not a flag.
    let Some(dir) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: probe DIR");
        std::process::exit(2);
    };
    let validator = jsonschema::validator_for(&aepact::plan::schema::generate())
        .expect("the generated schema compiles");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("DIR is readable")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let (mut valid, mut invalid, mut errors, mut broken) = (0usize, 0usize, 0usize, 0usize);
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            broken += 1;
            continue;
        };
        let Some(value) = to_json(&text) else {
            broken += 1;
            continue;
        };
        if validator.is_valid(&value) {
            valid += 1;
        } else {
            invalid += 1;
            errors += validator.iter_errors(&value).count();
        }
    }
    println!(
        "{} files: {valid} schema-valid, {invalid} schema-invalid ({errors} errors), {broken} not YAML",
        files.len()
    );
}

enum Frame {
    Seq(Vec<Value>),
    Map(Map<String, Value>, Option<String>),
}

/// The single document in `text` as JSON, or `None` when it is not YAML.
fn to_json(text: &str) -> Option<Value> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = None;
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, _) = next.ok()?;
        let value = match event {
            Event::StreamEnd => break,
            Event::Scalar(text, style, _, _) => {
                if let Some(Frame::Map(_, key @ None)) = stack.last_mut() {
                    *key = Some(text.into_owned());
                    continue;
                }
                scalar(&text, style)
            }
            Event::SequenceStart(..) => {
                stack.push(Frame::Seq(Vec::new()));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push(Frame::Map(Map::new(), None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop()? {
                Frame::Seq(items) => Value::Array(items),
                Frame::Map(entries, _) => Value::Object(entries),
            },
            _ => continue,
        };
        match stack.last_mut() {
            None => root = Some(value),
            Some(Frame::Seq(items)) => items.push(value),
            Some(Frame::Map(entries, key)) => {
                entries.insert(key.take()?, value);
            }
        }
    }
    root
}

/// YAML 1.2 core schema, as far as plans use it.
fn scalar(text: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => {
            if let Ok(n) = text.parse::<i64>() {
                Value::Number(n.into())
            } else if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
                Value::Number(n)
            } else {
                Value::String(text.to_owned())
            }
        }
    }
}
