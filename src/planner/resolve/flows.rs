//! Dataflows: one lookup per (sandbox, dataflow), concurrently.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::api::{ApiError, Client, Flow};

/// Each (sandbox, dataflow)'s flow, `None` when the sandbox has no such flow.
pub(super) async fn get(
    client: &Arc<Client>,
    wanted: &BTreeSet<(String, String)>,
) -> Result<HashMap<(String, String), Option<Flow>>, ApiError> {
    let mut tasks = JoinSet::new();
    for (sandbox, dest) in wanted {
        let (client, sandbox, dest) = (client.clone(), sandbox.clone(), dest.clone());
        tasks.spawn(async move {
            let flow = client.get_flow(&sandbox, &dest).await;
            (sandbox, dest, flow)
        });
    }
    let mut flows = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (sandbox, dest, flow) = done.expect("invariant: planning tasks do not panic");
        flows.insert((sandbox, dest), flow?);
    }
    Ok(flows)
}
