//! Export jobs: one listing per sandbox, then the explicit export IDs a listing lacked, one by
//! one.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::api::{ApiError, Client, ExportJob};
use crate::plan::Plan;
use crate::plan::model::Exports;

/// Every export job of each sandbox, concurrently.
pub(super) async fn list(
    client: &Arc<Client>,
    sandboxes: &BTreeSet<String>,
) -> Result<HashMap<String, Vec<ExportJob>>, ApiError> {
    let mut tasks = JoinSet::new();
    for sandbox in sandboxes {
        let (client, sandbox) = (client.clone(), sandbox.clone());
        tasks.spawn(async move {
            let jobs = client.list_export_jobs(&sandbox).await;
            (sandbox, jobs)
        });
    }
    let mut exports = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (sandbox, jobs) = done.expect("invariant: planning tasks do not panic");
        exports.insert(sandbox, jobs?);
    }
    Ok(exports)
}

/// Export jobs a plan names that its sandbox's listing lacked (an older job on a later page
/// the platform did not return), looked up one by one.
pub(super) async fn fetch_named(
    client: &Arc<Client>,
    plans: &[Plan],
    sandboxes: &[String],
    exports: &mut HashMap<String, Vec<ExportJob>>,
) -> Result<(), ApiError> {
    let mut wanted: BTreeSet<(String, u64)> = BTreeSet::new();
    for (plan, sandbox) in plans.iter().zip(sandboxes) {
        let Exports::Ids(ids) = &plan.exports else {
            continue;
        };
        let listed = exports.get(sandbox).map(Vec::as_slice).unwrap_or_default();
        for id in ids {
            // Beyond any integer ID the platform hands out: it does not exist.
            let Ok(n) = id.parse::<u64>() else { continue };
            if !listed.iter().any(|j| j.id == n) {
                wanted.insert((sandbox.clone(), n));
            }
        }
    }
    for (sandbox, id) in wanted {
        if let Some(job) = client.get_export_job(&sandbox, id).await? {
            exports.entry(sandbox).or_default().push(job);
        }
    }
    Ok(())
}
