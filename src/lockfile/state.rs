//! The state machine of jobs and what `plan`, `apply` and `status` ask of a lockfile.
//!
//! Every transition `apply` and `status` make goes through the mutators here (`mark_*`,
//! `reconcile_*`, `settle_never_sent`), which refuse impossible ones instead of writing a false
//! record; the queries (`already_applied`, `jobs_in_doubt`, `maybe_activated_pairs`, …) and the
//! refusals (`check_target`, `check_digests`, `check_plan`) are what exactly-once rests on.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use serde_json::Value;

use super::error::{LockfileError, Result};
use super::format::{
    EMULATOR_ENDPOINT, ExportsRecord, ExportsSpec, JobError, JobRecord, JobStatus, Lockfile,
    OrderMetrics, OrderRecord, OrderStatus, RunOverride, RunRecord, redact_endpoint,
    run_id_from_status_url,
};
use super::parse::Problem;
use crate::api::{AdhocApiVersion, AdhocRequest};
use crate::digest::{Intent, IntentExports};
use crate::time::Timestamp;

/// Everything `apply` knows about a run before sending its first job.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub run: u64,
    pub intent_digest: String,
    pub applied_at: Timestamp,
    /// Who applied it ([`actor_from`]), if known.
    pub applied_by: Option<String>,
    /// The platform base URL; user info, query and fragment are removed before recording.
    pub endpoint: String,
    pub org: String,
    pub sandbox: String,
    pub api_version: AdhocApiVersion,
    pub exports: ExportsRecord,
    /// The exact request body of each job, in the order they will be sent.
    pub requests: Vec<AdhocRequest>,
    /// The platform's recent runs an explicit override sent past, if one was given.
    pub override_: Option<RunOverride>,
}

/// Who is applying, as a run records it (`appliedBy`): the first of `GITHUB_ACTOR`,
/// `GITLAB_USER_LOGIN` and `USER` that `var` gives a non-blank value for, trimmed and with
/// control characters removed; `None` when none is set. Only these three login names are ever
/// read: a token variable can never end up here.
pub fn actor_from(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    ["GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER"]
        .iter()
        .filter_map(|name| var(name))
        .map(|value| {
            value
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
        })
        .map(|value| value.trim().to_owned())
        .find(|value| !value.is_empty())
}

/// An order as the ad-hoc response returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub segment: String,
    pub order: String,
    pub status_url: String,
}

/// What `status` learnt about an order's run in one poll.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderUpdate {
    pub status: OrderStatus,
    /// The run's ID, when the poll returned it (kept as it was otherwise).
    pub run_id: Option<String>,
    pub created_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub metrics: Option<OrderMetrics>,
    pub errors: Vec<Value>,
    pub checked_at: Timestamp,
}

/// A job's place in a lockfile: positions in `runs` and in that run's `jobs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobRef {
    pub run: usize,
    pub job: usize,
}

/// An order's place in a lockfile: positions in `runs`, `jobs` and `orders`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderRef {
    pub run: usize,
    pub job: usize,
    pub order: usize,
}

impl OrderRecord {
    /// A freshly returned order: status `notChecked`, nothing polled yet.
    pub fn new(new: NewOrder) -> Self {
        OrderRecord {
            run_id: run_id_from_status_url(&new.status_url),
            segment: new.segment,
            order: new.order,
            status_url: new.status_url,
            status: OrderStatus::NotChecked,
            created_at: None,
            started_at: None,
            finished_at: None,
            metrics: None,
            errors: Vec::new(),
            checked_at: None,
        }
    }

    /// Records one poll of the order's run. Times and metrics the poll did not report keep
    /// their earlier values.
    pub fn update(&mut self, update: OrderUpdate) {
        self.status = update.status;
        if update.run_id.is_some() {
            self.run_id = update.run_id;
        }
        self.created_at = update.created_at.or(self.created_at);
        self.started_at = update.started_at.or(self.started_at);
        self.finished_at = update.finished_at.or(self.finished_at);
        self.metrics = update.metrics.or(self.metrics);
        self.errors = update.errors;
        self.checked_at = Some(update.checked_at);
    }
}

impl JobRecord {
    /// A job recorded before anything is sent.
    pub fn pending(index: usize, request: AdhocRequest) -> Self {
        JobRecord {
            index,
            status: JobStatus::Pending,
            sent_at: None,
            request,
            error: None,
            reconciled_at: None,
            orders: Vec::new(),
        }
    }

    /// Whether the platform may have received the request: it is `unknown`, or `pending` with a
    /// `sentAt` (the process stopped between recording the send and recording its outcome).
    /// Such a job must never be sent again before `status` settles it.
    pub fn in_doubt(&self) -> bool {
        match self.status {
            JobStatus::Unknown => true,
            JobStatus::Pending => self.sent_at.is_some(),
            JobStatus::Submitted | JobStatus::Rejected => false,
        }
    }

    /// Whether the job may have activated something: `submitted`, or [`in_doubt`](Self::in_doubt).
    pub fn maybe_activated(&self) -> bool {
        self.status == JobStatus::Submitted || self.in_doubt()
    }

    /// The (destination, segment) pairs in the request's `activationInfo`.
    pub fn requested_pairs(&self) -> Vec<(String, String)> {
        self.request.pairs().collect()
    }

    /// Records that the request is about to be sent (save the lockfile before sending).
    ///
    /// Allowed only on a `pending` job not yet sent.
    pub fn mark_sending(&mut self, run: u64, at: Timestamp) -> Result<()> {
        if self.status != JobStatus::Pending || self.sent_at.is_some() {
            return Err(self.transition(run, "pending (sending)"));
        }
        self.sent_at = Some(at);
        Ok(())
    }

    /// Records the platform's orders for a job whose response arrived.
    pub fn mark_submitted(&mut self, run: u64, orders: Vec<NewOrder>) -> Result<()> {
        self.require_sent_pending(run, JobStatus::Submitted)?;
        self.status = JobStatus::Submitted;
        self.orders = orders.into_iter().map(OrderRecord::new).collect();
        Ok(())
    }

    /// Records the platform's refusal of a job.
    pub fn mark_rejected(&mut self, run: u64, error: JobError) -> Result<()> {
        self.require_sent_pending(run, JobStatus::Rejected)?;
        self.status = JobStatus::Rejected;
        self.error = Some(error);
        Ok(())
    }

    /// Records that the response was lost after the request was (or may have been) sent.
    pub fn mark_unknown(&mut self, run: u64, error: JobError) -> Result<()> {
        self.require_sent_pending(run, JobStatus::Unknown)?;
        self.status = JobStatus::Unknown;
        self.error = Some(error);
        Ok(())
    }

    /// Settles a job in doubt from the platform's runs: it did create these orders. The error
    /// recorded when the response was lost is kept, as history.
    pub fn reconcile_submitted(
        &mut self,
        run: u64,
        orders: Vec<NewOrder>,
        at: Timestamp,
    ) -> Result<()> {
        if !self.in_doubt() {
            return Err(self.transition(run, "submitted"));
        }
        self.status = JobStatus::Submitted;
        self.orders = orders.into_iter().map(OrderRecord::new).collect();
        self.reconciled_at = Some(at);
        Ok(())
    }

    /// Settles a job in doubt from the platform's runs: it created none, so nothing was
    /// activated. `error` says how that was established.
    pub fn reconcile_not_received(
        &mut self,
        run: u64,
        error: JobError,
        at: Timestamp,
    ) -> Result<()> {
        if !self.in_doubt() {
            return Err(self.transition(run, "rejected"));
        }
        self.status = JobStatus::Rejected;
        self.error = Some(error);
        self.reconciled_at = Some(at);
        Ok(())
    }

    /// Settles a `pending` job that was never sent (`sentAt` null) of an apply that stopped
    /// (only `status`, under the plan's lock, so no apply is still working on it): nothing was
    /// activated. `error` says so.
    pub fn settle_never_sent(&mut self, run: u64, error: JobError, at: Timestamp) -> Result<()> {
        if self.status != JobStatus::Pending || self.sent_at.is_some() {
            return Err(self.transition(run, "rejected (never sent)"));
        }
        self.status = JobStatus::Rejected;
        self.error = Some(error);
        self.reconciled_at = Some(at);
        Ok(())
    }

    fn require_sent_pending(&self, run: u64, to: JobStatus) -> Result<()> {
        if self.status == JobStatus::Pending && self.sent_at.is_some() {
            Ok(())
        } else {
            Err(self.transition(run, to.as_str()))
        }
    }

    fn transition(&self, run: u64, to: &str) -> LockfileError {
        let from = match (self.status, self.sent_at) {
            (JobStatus::Pending, Some(_)) => "pending (sent)".to_owned(),
            (status, _) => status.to_string(),
        };
        LockfileError::Transition {
            run,
            job: self.index,
            from,
            to: to.to_owned(),
        }
    }
}

impl RunRecord {
    /// Whether every job was submitted: the run's intent is applied.
    pub fn fully_submitted(&self) -> bool {
        !self.jobs.is_empty() && self.jobs.iter().all(|j| j.status == JobStatus::Submitted)
    }

    /// Destination → segments over every job's request.
    pub fn activation(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut activation: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (dest, segment) in self.jobs.iter().flat_map(JobRecord::requested_pairs) {
            activation.entry(dest).or_default().insert(segment);
        }
        activation
    }

    /// The intent this run records, with `activation` as its destinations and segments (its
    /// own, or, for a resumed run, those of the run it resumed).
    fn intent_with(&self, activation: BTreeMap<String, BTreeSet<String>>) -> Intent<'_> {
        let exports = match self.exports.spec {
            ExportsSpec::Latest => IntentExports::Latest,
            ExportsSpec::Ids => IntentExports::Ids(self.exports.resolved.clone()),
            ExportsSpec::Omitted => IntentExports::Omitted,
        };
        Intent {
            sandbox: &self.sandbox,
            api_version: self.api_version.number(),
            exports,
            activation,
            run: self.run,
        }
    }

    /// The intent digest of what the run records: sandbox, API version, exports spec, the
    /// (destination, segment) pairs of its requests and its `run` number.
    pub fn recorded_digest(&self) -> String {
        self.intent_with(self.activation()).digest()
    }
}

impl Lockfile {
    /// Appends a run with every job `pending` and not yet sent.
    ///
    /// Returns the run's position in `runs`.
    pub fn append_run(&mut self, new: NewRun) -> usize {
        let jobs = new
            .requests
            .into_iter()
            .enumerate()
            .map(|(i, request)| JobRecord::pending(i, request))
            .collect();
        self.runs.push(RunRecord {
            run: new.run,
            intent_digest: new.intent_digest,
            applied_at: new.applied_at,
            applied_by: new.applied_by,
            endpoint: redact_endpoint(&new.endpoint),
            org: new.org,
            sandbox: new.sandbox,
            api_version: new.api_version,
            exports: new.exports,
            override_: new.override_,
            jobs,
        });
        self.runs.len() - 1
    }

    /// The job at `at`, to change it with [`JobRecord`]'s `mark_*`/`reconcile_*` methods.
    ///
    /// Returns the run's plan `run` number along with the job (the mutators take it for their
    /// error messages).
    pub fn job_mut(&mut self, at: JobRef) -> Result<(u64, &mut JobRecord)> {
        let run = self
            .runs
            .get_mut(at.run)
            .ok_or_else(|| LockfileError::NoEntry {
                what: format!("run at position {}", at.run),
            })?;
        let number = run.run;
        let job = run
            .jobs
            .get_mut(at.job)
            .ok_or_else(|| LockfileError::NoEntry {
                what: format!("job {} in run {number}", at.job),
            })?;
        Ok((number, job))
    }

    /// The order at `at`, to record a poll with [`OrderRecord::update`].
    pub fn order_mut(&mut self, at: OrderRef) -> Result<&mut OrderRecord> {
        let (_, job) = self.job_mut(JobRef {
            run: at.run,
            job: at.job,
        })?;
        job.orders
            .get_mut(at.order)
            .ok_or_else(|| LockfileError::NoEntry {
                what: format!("order {} in job {} of run {}", at.order, at.job, at.run),
            })
    }

    /// The latest run recorded for an intent digest, if any, with its position.
    pub fn latest_run_for(&self, intent_digest: &str) -> Option<(usize, &RunRecord)> {
        self.runs
            .iter()
            .enumerate()
            .rev()
            .find(|(_, r)| r.intent_digest == intent_digest)
    }

    /// The run that already applied this intent: one with this digest whose every job was
    /// submitted. `apply` then sends nothing and says "already applied (run N at …)".
    pub fn already_applied(&self, intent_digest: &str) -> Option<&RunRecord> {
        self.runs
            .iter()
            .rev()
            .find(|r| r.intent_digest == intent_digest && r.fully_submitted())
    }

    /// Jobs that are `pending` or `unknown`, oldest first. Those that are
    /// [`in_doubt`](JobRecord::in_doubt) may have reached the platform: `status` settles them,
    /// and `apply` must not send their intent again until it has.
    pub fn unsettled_jobs(&self) -> Vec<JobRef> {
        self.job_refs()
            .filter(|(_, j)| matches!(j.status, JobStatus::Pending | JobStatus::Unknown))
            .map(|(at, _)| at)
            .collect()
    }

    /// Jobs that may have reached the platform without a recorded outcome (see
    /// [`JobRecord::in_doubt`]), oldest first.
    pub fn jobs_in_doubt(&self) -> Vec<JobRef> {
        self.job_refs()
            .filter(|(_, j)| j.in_doubt())
            .map(|(at, _)| at)
            .collect()
    }

    /// Orders whose run has not reached a final status, oldest first: what `status` polls, and
    /// the segments `plan` must treat as in flight.
    pub fn non_final_orders(&self) -> Vec<OrderRef> {
        self.job_refs()
            .flat_map(|(at, job)| {
                job.orders
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| !o.status.is_final())
                    .map(move |(order, _)| OrderRef {
                        run: at.run,
                        job: at.job,
                        order,
                    })
            })
            .collect()
    }

    /// The job at `at`, if it exists.
    pub fn job(&self, at: JobRef) -> Option<&JobRecord> {
        self.runs.get(at.run)?.jobs.get(at.job)
    }

    /// The order at `at`, if it exists.
    pub fn order(&self, at: OrderRef) -> Option<&OrderRecord> {
        self.runs
            .get(at.run)?
            .jobs
            .get(at.job)?
            .orders
            .get(at.order)
    }

    /// The (destination, segment) pairs that runs with this intent digest may have activated:
    /// those of every job `submitted` or in doubt, read from its request's `activationInfo`.
    ///
    /// `apply` resuming an intent whose last run did not submit every job (one was rejected,
    /// or never sent) must not send these pairs again; [`already_applied`](Self::already_applied)
    /// alone does not say which jobs remain.
    pub fn maybe_activated_pairs(&self, intent_digest: &str) -> BTreeSet<(String, String)> {
        self.runs
            .iter()
            .filter(|r| r.intent_digest == intent_digest)
            .flat_map(|r| &r.jobs)
            .filter(|j| j.maybe_activated())
            .flat_map(JobRecord::requested_pairs)
            .collect()
    }

    /// The latest run that may have activated something (a job `submitted` or in doubt): its
    /// jobs' requests are what `plan` diffs the new request bodies against.
    pub fn last_applied_run(&self) -> Option<&RunRecord> {
        self.runs
            .iter()
            .rev()
            .find(|r| r.jobs.iter().any(JobRecord::maybe_activated))
    }

    /// The flow run IDs of every recorded order: the platform's runs this lockfile accounts for.
    pub fn recorded_run_ids(&self) -> HashSet<&str> {
        self.runs
            .iter()
            .flat_map(|r| &r.jobs)
            .flat_map(|j| &j.orders)
            .filter_map(|o| o.run_id.as_deref())
            .collect()
    }

    /// Refuses a lockfile with runs for another target than (`endpoint`, `org`): runs sent to
    /// another organisation or platform never count as applied here, and their orders cannot be
    /// polled here.
    ///
    /// `endpoint` is what runs record: the platform's base URL without credentials, or
    /// `emulator` for the built-in emulator.
    pub fn check_target(&self, endpoint: &str, org: &str, path: &Path) -> Result<()> {
        let path = path.display().to_string();
        if let Some(run) = self.runs.iter().find(|r| r.org != org) {
            return Err(LockfileError::OtherOrg {
                path,
                run: run.run,
                found: run.org.clone(),
                expected: org.to_owned(),
            });
        }
        let Some(run) = self
            .runs
            .iter()
            .find(|r| !same_endpoint(&r.endpoint, endpoint))
        else {
            return Ok(());
        };
        let help = if is_local_endpoint(&run.endpoint) {
            format!(
                "`{}` is this machine: these are runs against a local emulator, which never \
                 count as activations. If the file holds only such runs, delete it (`--emulator` \
                 keeps its own records under `.aepact/` since lockfile version 2), then plan \
                 again",
                run.endpoint
            )
        } else {
            format!(
                "a lockfile records one platform's activations: if `{}` is the platform you mean, \
                 set `AEP_PLATFORM_URL` to it; aepact never treats runs sent elsewhere as applied",
                run.endpoint
            )
        };
        Err(LockfileError::OtherEndpoint {
            path,
            run: run.run,
            found: run.endpoint.clone(),
            expected: endpoint.to_owned(),
            help,
        })
    }

    /// Runs whose `intentDigest` is not the digest of what they record (see
    /// [`RunRecord::recorded_digest`]), each at its JSON pointer.
    ///
    /// A run that resumed an earlier one (an apply that stopped short, then sent only the
    /// pairs nothing had activated) records a subset of the intent's pairs: it matches when its
    /// digest is that of its own fields with the pairs of an earlier run of the same digest
    /// that itself matches.
    pub fn digest_problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut sound: Vec<usize> = Vec::new();
        for (r, run) in self.runs.iter().enumerate() {
            let own = run.recorded_digest();
            let resumed = || {
                sound.iter().any(|&e| {
                    let earlier = &self.runs[e];
                    earlier.intent_digest == run.intent_digest
                        && run.intent_with(earlier.activation()).digest() == run.intent_digest
                })
            };
            if own == run.intent_digest || resumed() {
                sound.push(r);
                continue;
            }
            problems.push(Problem {
                pointer: format!("/runs/{r}/intentDigest"),
                message: format!(
                    "`intentDigest` of run {} is `{}`, but what the run records (sandbox, API version, exports, segments, run number) digests to `{own}`",
                    run.run, run.intent_digest
                ),
            });
        }
        problems
    }

    /// Refuses a lockfile with a run whose digest does not match what it records (see
    /// [`digest_problems`](Self::digest_problems)): `plan` and `apply` decide what was already
    /// sent by digest, and a damaged record is never a reason to send again.
    pub fn check_digests(&self, path: &Path) -> Result<()> {
        let Some(problem) = self.digest_problems().into_iter().next() else {
            return Ok(());
        };
        let index: usize = problem
            .pointer
            .split('/')
            .nth(2)
            .and_then(|i| i.parse().ok())
            .unwrap_or_default();
        let run = &self.runs[index];
        Err(LockfileError::DigestMismatch {
            path: path.display().to_string(),
            run: run.run,
            pointer: problem.pointer.clone(),
            found: run.intent_digest.clone(),
            expected: run.recorded_digest(),
        })
    }

    /// Refuses a lockfile that records another plan.
    pub fn check_plan(&self, plan_name: &str, path: &Path) -> Result<()> {
        if self.plan == plan_name {
            Ok(())
        } else {
            Err(LockfileError::WrongPlan {
                path: path.display().to_string(),
                expected: plan_name.to_owned(),
                found: self.plan.clone(),
            })
        }
    }

    fn job_refs(&self) -> impl Iterator<Item = (JobRef, &JobRecord)> {
        self.runs.iter().enumerate().flat_map(|(run, r)| {
            r.jobs
                .iter()
                .enumerate()
                .map(move |(job, j)| (JobRef { run, job }, j))
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Targets

/// Whether two recorded endpoints name the same platform: equal once a trailing slash is
/// dropped and the scheme and host are lowercased.
fn same_endpoint(a: &str, b: &str) -> bool {
    let norm = |url: &str| {
        let url = url.trim_end_matches('/');
        match url.find("://") {
            Some(i) => {
                let rest = &url[i + 3..];
                let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                format!(
                    "{}://{}{path}",
                    url[..i].to_ascii_lowercase(),
                    host.to_ascii_lowercase()
                )
            }
            None => url.to_ascii_lowercase(),
        }
    };
    norm(a) == norm(b)
}

/// Whether a recorded endpoint is this machine (an emulator), or the built-in emulator itself.
fn is_local_endpoint(endpoint: &str) -> bool {
    let authority = endpoint
        .split("://")
        .nth(1)
        .unwrap_or(endpoint)
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    endpoint == EMULATOR_ENDPOINT
        || host == "localhost"
        || host == "::1"
        || host.starts_with("127.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_request() -> AdhocRequest {
        AdhocRequest {
            activation_info: BTreeMap::new(),
            export_ids: None,
        }
    }

    fn sent_job() -> JobRecord {
        let mut job = JobRecord::pending(0, empty_request());
        job.mark_sending(1, Timestamp::from_unix_ms(0).unwrap())
            .unwrap();
        job
    }

    fn lost() -> JobError {
        JobError {
            http_status: None,
            message: "lost".into(),
            body: None,
        }
    }

    #[test]
    fn jobs_follow_the_state_machine() {
        let at = Timestamp::from_unix_ms(0).unwrap();
        // Nothing but sending is allowed before the send is recorded.
        let mut job = JobRecord::pending(0, empty_request());
        assert!(!job.in_doubt());
        assert!(job.mark_submitted(1, vec![]).is_err());
        assert!(job.mark_rejected(1, lost()).is_err());
        assert!(job.mark_unknown(1, lost()).is_err());
        assert!(job.reconcile_submitted(1, vec![], at).is_err());
        assert!(job.reconcile_not_received(1, lost(), at).is_err());
        job.mark_sending(1, at).unwrap();
        assert!(job.in_doubt());
        // Sending twice is refused: the first send may have arrived.
        let err = job.mark_sending(1, at).unwrap_err();
        assert_eq!(
            err.to_string(),
            "job 0 of run 1 cannot go from `pending (sent)` to `pending (sending)`"
        );

        // submitted and rejected are final.
        let mut job = sent_job();
        job.mark_submitted(1, vec![]).unwrap();
        assert!(!job.in_doubt() && job.maybe_activated());
        assert!(job.mark_unknown(1, lost()).is_err());
        assert!(job.reconcile_submitted(1, vec![], at).is_err());
        assert!(job.reconcile_not_received(1, lost(), at).is_err());
        let mut job = sent_job();
        job.mark_rejected(1, lost()).unwrap();
        assert!(!job.maybe_activated());
        assert!(job.mark_submitted(1, vec![]).is_err());
        assert!(job.reconcile_submitted(1, vec![], at).is_err());

        // unknown is settled only by reconciling.
        let mut job = sent_job();
        job.mark_unknown(1, lost()).unwrap();
        assert!(job.in_doubt());
        assert!(job.mark_submitted(1, vec![]).is_err());
        assert!(job.mark_rejected(1, lost()).is_err());
        job.reconcile_submitted(1, vec![], at).unwrap();
        assert_eq!(job.status, JobStatus::Submitted);
        assert_eq!(job.reconciled_at, Some(at));
        assert_eq!(job.error, Some(lost()), "the lost response stays on record");

        // A pending job that was sent can be reconciled too (crash before its outcome).
        let mut job = sent_job();
        job.reconcile_not_received(1, lost(), at).unwrap();
        assert_eq!(job.status, JobStatus::Rejected);
        assert!(!job.in_doubt());
    }

    #[test]
    fn order_updates_keep_what_a_poll_did_not_report() {
        let mut order = OrderRecord::new(NewOrder {
            segment: "s".into(),
            order: "o".into(),
            status_url: "http://x/runs/r1".into(),
        });
        assert_eq!(order.run_id.as_deref(), Some("r1"));
        let t = |ms| Timestamp::from_unix_ms(ms);
        order.update(OrderUpdate {
            status: OrderStatus::InProgress,
            run_id: None,
            created_at: t(1),
            started_at: t(2),
            finished_at: None,
            metrics: None,
            errors: vec![],
            checked_at: t(3).unwrap(),
        });
        order.update(OrderUpdate {
            status: OrderStatus::Success,
            run_id: Some("r2".into()),
            created_at: None,
            started_at: None,
            finished_at: t(4),
            metrics: Some(OrderMetrics {
                output_records: Some(9),
                ..OrderMetrics::default()
            }),
            errors: vec![],
            checked_at: t(5).unwrap(),
        });
        assert_eq!(order.run_id.as_deref(), Some("r2"));
        assert_eq!((order.created_at, order.started_at), (t(1), t(2)));
        assert_eq!((order.finished_at, order.checked_at), (t(4), t(5)));
        assert_eq!(order.metrics.unwrap().output_records, Some(9));
    }

    #[test]
    fn the_actor_is_the_first_login_name_set() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            actor_from(env(&[("USER", "ci"), ("GITHUB_ACTOR", "octocat")])).as_deref(),
            Some("octocat")
        );
        assert_eq!(
            actor_from(env(&[("USER", "ci"), ("GITLAB_USER_LOGIN", "  tanuki\n")])).as_deref(),
            Some("tanuki")
        );
        assert_eq!(
            actor_from(env(&[("GITHUB_ACTOR", " "), ("USER", "ci")])).as_deref(),
            Some("ci")
        );
        assert_eq!(actor_from(env(&[("AEP_CLIENT_SECRET", "s")])), None);
    }
}
