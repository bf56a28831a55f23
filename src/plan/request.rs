//! From a checked [`Plan`] to what is sent: the ad-hoc request body of each job, and the plan's
//! intent digest.
//!
//! The body is built once, here, and then shown by `plan`, saved by `plan --out`, recorded in
//! the lockfile and POSTed by `apply`, so that what was reviewed is byte for byte what is sent.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Exports, Job, Plan};
use crate::api::{AdhocApiVersion, AdhocRequest};
use crate::digest::{Intent, IntentExports};

/// The request body of one ad-hoc job (see [`AdhocRequest`]): destinations keyed by ID, segments
/// in plan order, and `exportIds` when the plan names export jobs (resolved from `latest` or
/// listed), left out only under API version 2 with `exports` omitted.
pub fn request_body(job: &Job, export_ids: Option<&[String]>) -> AdhocRequest {
    AdhocRequest {
        activation_info: job.activation.iter().cloned().collect(),
        export_ids: export_ids.map(<[String]>::to_vec),
    }
}

/// The sandbox a plan runs in: its own, else `AEP_SANDBOX`, else `prod`.
pub fn effective_sandbox<'a>(plan: &'a Plan, default: Option<&'a str>) -> &'a str {
    sandbox_or(plan.sandbox.as_deref(), default)
}

/// A plan's `sandbox:` (`own`), else `default` (`AEP_SANDBOX`), else `prod`: the one place the
/// platform's default sandbox is written.
pub fn sandbox_or<'a>(own: Option<&'a str>, default: Option<&'a str>) -> &'a str {
    own.or(default).unwrap_or("prod")
}

/// The plan's intent: what it activates, independent of labels, key order, list order and of
/// which export `latest` resolves to (DESIGN "Idempotency": a new nightly export must not
/// re-fire a merged plan). Changing a segment, a destination, the sandbox, the exports spec, the
/// API version or `run` changes it.
pub fn intent<'a>(plan: &Plan, sandbox: &'a str, version: AdhocApiVersion) -> Intent<'a> {
    let exports = match &plan.exports {
        Exports::Latest => IntentExports::Latest,
        Exports::Ids(ids) => IntentExports::Ids(ids.clone()),
        Exports::Omitted => IntentExports::Omitted,
    };
    let mut activation: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in &plan.destinations {
        activation
            .entry(d.id.clone())
            .or_default()
            .extend(d.segments.iter().map(|s| s.id.clone()));
    }
    Intent {
        sandbox,
        api_version: version.number(),
        exports,
        activation,
        run: plan.run,
    }
}

/// `sha256:<hex>` of the canonical JSON of [`intent`] (see [`Intent::digest`]).
pub fn intent_digest(plan: &Plan, sandbox: &str, version: AdhocApiVersion) -> String {
    intent(plan, sandbox, version).digest()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::plan::model::{Destination, Segment};

    fn plan(segments_a: &[&str], segments_b: &[&str]) -> Plan {
        let dest = |id: &str, segs: &[&str]| Destination {
            id: id.into(),
            name: Some("label".into()),
            segments: segs
                .iter()
                .map(|s| Segment {
                    id: (*s).into(),
                    name: None,
                    expect: None,
                })
                .collect(),
            expect: None,
        };
        Plan {
            path: Arc::from("p.yaml"),
            file: Arc::from(std::path::Path::new("p.yaml")),
            guard_window: None,
            name: "p".into(),
            description: None,
            sandbox: None,
            exports: Exports::Latest,
            destinations: vec![dest("d-b", segments_b), dest("d-a", segments_a)],
            run: 1,
            lines: Default::default(),
            policy: None,
        }
    }

    #[test]
    fn body_has_the_seed_shape() {
        let p = plan(&["s1", "s2"], &["s2", "s3"]);
        let job = &p.jobs(20)[0];
        let body = request_body(job, Some(&["11037".to_owned()]));
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"activationInfo":{"d-a":["s1","s2"],"d-b":["s2","s3"]},"exportIds":["11037"]}"#
        );
        let body = request_body(job, None);
        assert!(body.export_ids.is_none());
    }

    #[test]
    fn intent_ignores_order_labels_and_resolution_but_not_run_or_sandbox() {
        let a = plan(&["s1", "s2"], &["s3"]);
        let mut reordered = plan(&["s2", "s1"], &["s3"]);
        reordered.destinations.reverse();
        reordered.destinations[0].name = None;
        let v1 = AdhocApiVersion::V1;
        let digest = intent_digest(&a, "prod", v1);
        assert!(digest.starts_with("sha256:") && digest.len() == 71);
        assert_eq!(digest, intent_digest(&reordered, "prod", v1));
        let mut bumped = a.clone();
        bumped.run = 2;
        assert_ne!(digest, intent_digest(&bumped, "prod", v1));
        assert_ne!(digest, intent_digest(&a, "dev", v1));
        assert_ne!(digest, intent_digest(&a, "prod", AdhocApiVersion::V2));
        let more = plan(&["s1", "s2", "s4"], &["s3"]);
        assert_ne!(digest, intent_digest(&more, "prod", v1));
    }

    #[test]
    fn sandbox_falls_back_to_the_environment_then_prod() {
        let mut p = plan(&["s1"], &["s2"]);
        assert_eq!(effective_sandbox(&p, None), "prod");
        assert_eq!(effective_sandbox(&p, Some("dev")), "dev");
        p.sandbox = Some("stage".into());
        assert_eq!(effective_sandbox(&p, Some("dev")), "stage");
    }
}
