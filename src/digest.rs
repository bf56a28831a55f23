//! SHA-256 digests: of bytes and files (saved plans record the plan file's and the lockfile's),
//! and the *intent digest* that makes `apply` exactly-once.
//!
//! The intent digest is computed in two places that must agree byte for byte: from a checked
//! plan (`plan::request::intent_digest`, what `apply` records) and from what a lockfile run
//! records (`lockfile`, which recomputes every run's digest so that a hand-edited digest can
//! never make a run look like another intent). Both build an [`Intent`] and call
//! [`Intent::digest`]; this module depends on nothing else in the crate.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use std::path::Path;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of a file's contents as 64 lowercase hex digits (as [`sha256_hex`] of its bytes),
/// read in 64 KiB pieces.
///
/// Returns the I/O error when the file cannot be read.
pub fn file_sha256(path: &Path) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Lowercase hex (sha2 0.11's output no longer implements `LowerHex`).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// What a plan asks the platform to do, independent of labels, key order, list order and of
/// which export job `latest` resolved to (a new nightly export must not re-fire a merged plan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent<'a> {
    pub sandbox: &'a str,
    /// The ad-hoc API version, 1 or 2.
    pub api_version: u8,
    pub exports: IntentExports,
    /// Destination → its segments (sets: order and repetition do not count).
    pub activation: BTreeMap<String, BTreeSet<String>>,
    /// The plan's `run` counter.
    pub run: u64,
}

/// The exports part of an [`Intent`]: the plan's spec, not what `latest` resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentExports {
    Latest,
    /// Explicit export job IDs, as sent (compared as a sorted list).
    Ids(Vec<String>),
    /// API version 2 with `exports` left out.
    Omitted,
}

impl Intent<'_> {
    /// The canonical JSON of the intent: compact, keys sorted, segment and export lists sorted.
    pub fn canonical(&self) -> String {
        let exports = match &self.exports {
            IntentExports::Latest => json!("latest"),
            IntentExports::Ids(ids) => {
                let mut ids = ids.clone();
                ids.sort();
                json!(ids)
            }
            IntentExports::Omitted => Value::Null,
        };
        let activation: Map<String, Value> = self
            .activation
            .iter()
            .map(|(dest, segments)| (dest.clone(), json!(segments)))
            .collect();
        // serde_json's `Map` is a `BTreeMap` here (no `preserve_order`): keys come out sorted.
        let value = json!({
            "sandbox": self.sandbox,
            "apiVersion": self.api_version,
            "exports": exports,
            "activation": activation,
            "run": self.run,
        });
        serde_json::to_string(&value).expect("invariant: a serde_json::Value always serialises")
    }

    /// `sha256:<hex>` of [`canonical`](Self::canonical).
    pub fn digest(&self) -> String {
        format!("sha256:{}", sha256_hex(self.canonical().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_matches_known_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn file_digest_equals_digest_of_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        // More than one read buffer.
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(file_sha256(&path).unwrap(), sha256_hex(&bytes));
        assert!(file_sha256(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn canonical_intent_is_sorted_and_compact() {
        let intent = Intent {
            sandbox: "prod",
            api_version: 1,
            exports: IntentExports::Ids(vec!["2".into(), "10".into()]),
            activation: BTreeMap::from([
                ("d-b".into(), BTreeSet::from(["s2".into(), "s1".into()])),
                ("d-a".into(), BTreeSet::from(["s3".into()])),
            ]),
            run: 3,
        };
        assert_eq!(
            intent.canonical(),
            r#"{"activation":{"d-a":["s3"],"d-b":["s1","s2"]},"apiVersion":1,"exports":["10","2"],"run":3,"sandbox":"prod"}"#
        );
        assert!(intent.digest().starts_with("sha256:"));
        assert_eq!(intent.digest().len(), 71);
    }
}
