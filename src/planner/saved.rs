//! Saved plans (`plan --out FILE`): reading one, and telling whether it still matches what
//! planning finds now (else `apply FILE` refuses it as stale).

use std::path::PathBuf;

use super::model::{PlanSet, SAVED_PLAN_VERSION, Verdict};
use crate::error::Result;

/// A saved plan, when `paths` is one file holding one (`plan --out`).
pub fn load(paths: &[PathBuf]) -> Result<Option<PlanSet>> {
    let [path] = paths else { return Ok(None) };
    if path.extension().is_none_or(|e| e != "json") || !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|source| crate::error::Error::Io {
        doing: "read the saved plan",
        path: path.display().to_string(),
        source,
    })?;
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => return Ok(None),
    };
    let Some(version) = value.get("aepactPlanVersion") else {
        return Ok(None);
    };
    // The version first: a saved plan of another format may have fields this one lacks, and
    // "plan again with this aepact" is the answer, not a field error.
    if version.as_u64() != Some(u64::from(SAVED_PLAN_VERSION)) {
        return Err(crate::error::Error::SavedPlan(format!(
            "`{}` is a saved plan of format {version}, which this aepact does not read (it reads {SAVED_PLAN_VERSION})",
            path.display(),
        )));
    }
    match serde_json::from_value::<PlanSet>(value) {
        Ok(set) => Ok(Some(set)),
        Err(e) => Err(crate::error::Error::SavedPlan(format!(
            "`{}` is not a valid saved plan: {e}",
            path.display()
        ))),
    }
}

/// Why a saved plan no longer matches what planning now finds, if it does not. The plans at
/// `sent` (those an `apply --wait-for-clear` already sent, which changed their lockfiles) are
/// not compared; `ours` holds, by plan path, the lockfile digest this apply itself left (a job
/// it recorded `rejected` while waiting): a lockfile still at that digest has changed by no
/// one else's hand.
pub fn stale_reason(
    saved: &PlanSet,
    now: &PlanSet,
    sent: &[String],
    ours: &[(String, Option<String>)],
) -> Option<String> {
    if saved.endpoint != now.endpoint || saved.org != now.org {
        return Some(format!(
            "it was made for `{}` (org `{}`), not `{}` (org `{}`)",
            saved.endpoint, saved.org, now.endpoint, now.org
        ));
    }
    for old in saved.plans.iter().filter(|p| !sent.contains(&p.path)) {
        let Some(new) = now.plans.iter().find(|p| p.path == old.path) else {
            return Some(format!("plan `{}` is no longer found", old.path));
        };
        if old.verdict != Verdict::Apply && new.verdict == Verdict::Apply {
            return Some(format!(
                "plan `{}` was not to apply when the plan was made, and is now",
                old.name
            ));
        }
        if old.plan_digest != new.plan_digest {
            return Some(format!("the plan file `{}` changed", old.path));
        }
        let left_by_us = ours
            .iter()
            .any(|(path, digest)| *path == old.path && *digest == new.lockfile_digest);
        if old.lockfile_digest != new.lockfile_digest && !left_by_us {
            return Some(format!("the lockfile `{}` changed", old.lockfile));
        }
        if old.exports.ids != new.exports.ids {
            return Some(format!(
                "`exports: {}` of `{}` now resolves to {}, not {}",
                old.exports.spec,
                old.name,
                new.exports.ids.join(", "),
                old.exports.ids.join(", ")
            ));
        }
        if old.jobs != new.jobs || old.intent_digest != new.intent_digest {
            return Some(format!("the request bodies of `{}` changed", old.name));
        }
    }
    None
}
