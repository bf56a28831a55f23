//! Dataflows: one lookup per (sandbox, dataflow), concurrently.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::api::{ApiError, Client, Flow};

/// Each (sandbox, dataflow)'s flow, `None` when the sandbox has no such flow: one listing per
/// sandbox naming all its dataflows (`property=id==a,b,c`), concurrently.
pub(super) async fn get(
    client: &Arc<Client>,
    wanted: &BTreeSet<(String, String)>,
) -> Result<HashMap<(String, String), Option<Flow>>, ApiError> {
    let mut by_sandbox: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (sandbox, dest) in wanted {
        by_sandbox.entry(sandbox).or_default().push(dest);
    }
    let mut tasks = JoinSet::new();
    for (sandbox, dests) in by_sandbox {
        let client = client.clone();
        let sandbox = sandbox.to_owned();
        let dests: Vec<String> = dests.into_iter().map(str::to_owned).collect();
        tasks.spawn(async move {
            let ids: Vec<&str> = dests.iter().map(String::as_str).collect();
            let found = client.list_flows(&sandbox, &ids).await;
            (sandbox, dests, found)
        });
    }
    let mut flows = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (sandbox, dests, found) = done.expect("invariant: planning tasks do not panic");
        let mut found = found?;
        for dest in dests {
            let flow = found
                .iter()
                .position(|f| f.id.eq_ignore_ascii_case(&dest))
                .map(|i| found.swap_remove(i));
            flows.insert((sandbox.clone(), dest), flow);
        }
    }
    Ok(flows)
}
