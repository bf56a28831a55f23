//! The lockfile: `plans/x.yaml` → `plans/x.lock.json`, the committed, append-only record of every
//! activation of a plan (`docs/lockfile.md`).
//!
//! Exactly-once activation rests on this module, so each of its concerns has a file:
//! - `format.rs`: the on-disk types, whose field order is the key order on disk,
//!   and the byte-stable JSON writer;
//! - `state.rs`: the job state machine (`pending` → `submitted`, `rejected` or
//!   `unknown`, and `status` settling jobs in doubt), the queries `plan`, `apply` and `status`
//!   decide by, and the refusals of another target or a damaged digest;
//! - `parse.rs`: reading a lockfile back, with the line and column of whatever is
//!   wrong, and the consistency checks;
//! - `store.rs`: the one save path, [`Ledger`] (the plan's [`LockGuard`], an atomic
//!   write that never overwrites a file changed on disk);
//! - [`verify`]: what `aepact lock verify` checks, beyond what `apply` refuses;
//! - [`history`]: the activation history `aepact log` prints, and which lockfiles a list of
//!   paths names (shared with `lock verify`);
//! - `error.rs`: [`LockfileError`], whose codes `verify`'s problem kinds share
//!   ([`verify::ProblemKind`]).
//!
//! Secrets never reach this module's types: a run records the endpoint (with any user info,
//! query or fragment removed), the org ID and the sandbox, never a token, key or client secret.

mod error;
mod format;
pub mod history;
mod parse;
mod state;
mod store;
pub mod verify;

pub use self::error::LockfileError;
pub use self::format::{
    EMULATOR_ENDPOINT, ExportsRecord, ExportsSpec, JobError, JobRecord, JobStatus,
    LOCKFILE_VERSION, Lockfile, OrderMetrics, OrderRecord, OrderStatus, OverriddenRun,
    READABLE_VERSIONS, RunOverride, RunRecord, SegmentRecords, redact_endpoint,
    run_id_from_status_url,
};
pub use self::parse::Problem;
pub use self::state::{JobRef, NewOrder, NewRun, OrderRef, OrderUpdate, actor_from};
pub use self::store::{Ledger, LockGuard, file_digest, lockfile_path, lockfile_stem};
pub use crate::digest::sha256_hex;
pub use crate::time::{Timestamp, TimestampError};
