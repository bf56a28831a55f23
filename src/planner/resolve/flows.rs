//! Dataflows: one listing per sandbox naming its dataflows, concurrently; then the names of
//! the segments whose selectors carry none, from the Segmentation API.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::api::{ApiError, Client, Flow};
use crate::plan::Plan;

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

/// The Segmentation API's name of every segment a plan sends through an existing dataflow whose
/// selector gives none, by sandbox and then lowercase segment ID: one
/// `GET /segment/definitions/{id}` per such (sandbox, segment), concurrently (the client bounds
/// how many at once). A segment the sandbox does not define, or defines without a name, is left
/// out. When every selector is named (the usual case) nothing is requested.
pub(super) async fn segment_names(
    client: &Arc<Client>,
    plans: &[Plan],
    sandboxes: &[String],
    flows: &HashMap<(String, String), Option<Flow>>,
) -> Result<HashMap<String, HashMap<String, String>>, ApiError> {
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    for (plan, sandbox) in plans.iter().zip(sandboxes) {
        for dest in &plan.destinations {
            let Some(Some(flow)) = flows.get(&(sandbox.clone(), dest.id.clone())) else {
                continue;
            };
            for segment in &dest.segments {
                if flow.segment_name(&segment.id).is_none() {
                    wanted.insert((sandbox.clone(), segment.id.to_ascii_lowercase()));
                }
            }
        }
    }
    let mut tasks = JoinSet::new();
    for (sandbox, id) in wanted {
        let client = client.clone();
        tasks.spawn(async move {
            let found = client.get_segment_definition(&sandbox, &id).await;
            (sandbox, id, found)
        });
    }
    let mut names: HashMap<String, HashMap<String, String>> = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (sandbox, id, found) = done.expect("invariant: planning tasks do not panic");
        if let Some(name) = found?.as_ref().and_then(|d| d.name()) {
            names
                .entry(sandbox)
                .or_default()
                .insert(id, name.to_owned());
        }
    }
    Ok(names)
}
