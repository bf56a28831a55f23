//! The listings: export jobs, and Flow Service runs and flows read with `property=` filters and
//! `_links.next` pages followed to the end, in pieces that keep URLs short, side by side where
//! they are independent. A listing is never taken in part.

use reqwest::Url;
use serde::de::DeserializeOwned;

use super::{Client, EXPORT_JOBS, FLOWS, MAX_PAGES, RUNS, RunListing};
use crate::api::error::ApiError;
use crate::api::types::{ExportJob, ExportJobList, Flow, Items, Run};

/// Most dataflows named in one runs listing (`flowId==a,b,…`): about 800 bytes of URL.
const FLOWS_PER_LISTING: usize = 20;
/// Most IDs named in one listing by ID (`id==a,b,…`): about 1.9 KB of URL.
const IDS_PER_LISTING: usize = 50;

impl Client {
    /// Every segment export job of the sandbox, newest first as the platform lists them: one
    /// `GET /export/jobs` (more only if the platform pages the answer).
    pub async fn list_export_jobs(&self, sandbox: &str) -> Result<Vec<ExportJob>, ApiError> {
        let mut jobs = Vec::new();
        let mut query: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = self.url(EXPORT_JOBS);
            url.set_query(query.as_deref());
            let page: ExportJobList = self.get_json(sandbox, url).await?;
            jobs.extend(page.records);
            // `link.next` is relative to the Segmentation service (`/export/jobs/?limit=..&offset=..`):
            // take its query and ask again.
            let next = page
                .link
                .and_then(|l| l.next)
                .and_then(|n| n.split_once('?').map(|(_, q)| q.to_owned()))
                .filter(|q| !q.is_empty());
            match next {
                Some(q) if Some(&q) != query.as_ref() => query = Some(q),
                _ => break,
            }
        }
        Ok(jobs)
    }

    /// The runs of a dataflow created after `created_after` (epoch ms, exclusive), oldest
    /// first: how `status` finds the runs of a job whose response was lost. Pass the send time
    /// minus a margin for clock skew.
    pub async fn list_runs(
        &self,
        sandbox: &str,
        flow_id: &str,
        created_after: i64,
    ) -> Result<Vec<Run>, ApiError> {
        Ok(self
            .list_flow_runs(sandbox, flow_id, created_after)
            .await?
            .runs)
    }

    /// [`list_runs`](Self::list_runs), with the platform's clock (its `Date` header) as it
    /// answered: what the platform-witness check measures its guard window with.
    pub async fn list_flow_runs(
        &self,
        sandbox: &str,
        flow_id: &str,
        created_after: i64,
    ) -> Result<RunListing, ApiError> {
        self.list_runs_of(sandbox, &[flow_id], created_after).await
    }

    /// The runs of several dataflows of one sandbox created after `created_after` (epoch ms,
    /// exclusive), oldest first: one listing (`property=flowId==a,b,c`, comma meaning "any of",
    /// and `property=createdAt>…`), its `_links.next` pages followed to the end, in pieces of at
    /// most `FLOWS_PER_LISTING` (20) dataflows so that no URL grows too long. Returns the runs and
    /// the platform's clock (its latest `Date` header).
    pub async fn list_runs_of(
        &self,
        sandbox: &str,
        flow_ids: &[&str],
        created_after: i64,
    ) -> Result<RunListing, ApiError> {
        let mut runs: Vec<Run> = Vec::new();
        let mut platform_time = None;
        for chunk in flow_ids.chunks(FLOWS_PER_LISTING) {
            let filters = [
                format!("flowId=={}", chunk.join(",")),
                format!("createdAt>{created_after}"),
            ];
            let (items, time) = self.list_all::<Run>(sandbox, RUNS, &filters).await?;
            platform_time = platform_time.max(time);
            runs.extend(items);
        }
        // The filters are the server's; check them here too, in case one was ignored.
        runs.retain(|r| {
            flow_ids.iter().any(|f| r.flow_id.eq_ignore_ascii_case(f))
                && r.created_at.is_none_or(|t| t > created_after)
        });
        runs.sort_by_key(|r| r.created_at);
        runs.dedup_by(|a, b| a.id == b.id);
        Ok(RunListing {
            runs,
            platform_time,
        })
    }

    /// Runs of one sandbox by ID (`property=id==a,b,c`), pages followed, in pieces of at most
    /// `IDS_PER_LISTING` (50): how `status` polls every order of a dataflow in one request. A run
    /// the platform does not know is simply absent.
    ///
    /// The pieces are listed side by side, as many at once as the client's concurrency allows.
    pub async fn list_runs_by_id(&self, sandbox: &str, ids: &[&str]) -> Result<Vec<Run>, ApiError> {
        let mut pieces = tokio::task::JoinSet::new();
        for chunk in ids.chunks(IDS_PER_LISTING) {
            let (client, sandbox) = (self.clone(), sandbox.to_owned());
            let filters = [format!("id=={}", chunk.join(","))];
            pieces.spawn(async move { client.list_all::<Run>(&sandbox, RUNS, &filters).await });
        }
        let mut runs = Vec::new();
        while let Some(piece) = pieces.join_next().await {
            let piece = piece.expect("invariant: listing tasks do not panic");
            runs.extend(piece?.0);
        }
        runs.retain(|r| ids.iter().any(|id| r.id.eq_ignore_ascii_case(id)));
        runs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(runs)
    }

    /// Dataflows of one sandbox by ID (`property=id==a,b,c`), pages followed: one listing for
    /// the destinations of every plan in the sandbox. A flow the sandbox does not have is absent.
    pub async fn list_flows(&self, sandbox: &str, ids: &[&str]) -> Result<Vec<Flow>, ApiError> {
        let mut flows = Vec::new();
        for chunk in ids.chunks(IDS_PER_LISTING) {
            let filters = [format!("id=={}", chunk.join(","))];
            flows.extend(self.list_all::<Flow>(sandbox, FLOWS, &filters).await?.0);
        }
        flows.retain(|f| ids.iter().any(|id| f.id.eq_ignore_ascii_case(id)));
        Ok(flows)
    }

    /// Every item of a Flow Service listing with these `property` filters, following
    /// `_links.next` to the end (at most [`MAX_PAGES`] pages). Returns the items and the
    /// platform's clock (the latest `Date` header of the pages).
    async fn list_all<T: DeserializeOwned>(
        &self,
        sandbox: &str,
        path: &str,
        filters: &[String],
    ) -> Result<(Vec<T>, Option<i64>), ApiError> {
        let mut items: Vec<T> = Vec::new();
        let mut platform_time = None;
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = self.url(path);
            {
                let mut pairs = url.query_pairs_mut();
                for filter in filters {
                    pairs.append_pair("property", filter);
                }
                if let Some(t) = &token {
                    pairs.append_pair("continuationToken", t);
                }
            }
            let reply = self.get(sandbox, &url).await?;
            if !reply.status.is_success() {
                return Err(self.http_error("GET", &url, reply.status, &reply.body));
            }
            platform_time = platform_time.max(reply.date);
            let page: Items<T> = self.decode(&url, &reply.body)?;
            items.extend(page.items);
            let next = page
                .links
                .and_then(|l| l.next)
                .and_then(|n| continuation_token(&self.inner.platform, &n.href));
            match next {
                Some(t) if Some(&t) != token.as_ref() => token = Some(t),
                _ => return Ok((items, platform_time)),
            }
        }
        // Part of a listing is never taken for all of it: the platform witness decides from
        // the runs listed, and a run left out could be a delivery sent again.
        Err(ApiError::ListingTooLong {
            url: self.url(path).to_string(),
            pages: MAX_PAGES,
        })
    }
}

/// The `continuationToken` of a Flow Service `_links.next.href` (absolute, or a path).
fn continuation_token(platform: &Url, href: &str) -> Option<String> {
    let url = platform.join(href).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == "continuationToken")
        .map(|(_, v)| v.into_owned())
}
