//! The policy file (`aepact.policy.yaml`, issue 11 §2): rules per sandbox that plans must keep.
//!
//! `model` reads and checks the file (`aepact/policy-v1`, with positions); `find` decides which
//! policy governs a plan (the nearest file up to the repository root, or `--policy FILE`);
//! `offline` checks the rules `validate` can (destinations, segment counts, descriptions,
//! labels); `timing` the rules that need the platform's clock and run history (send windows,
//! `minInterval`), for `plan` and `apply`.

pub mod find;
pub mod model;
pub mod offline;
pub mod schema;
pub mod timing;

pub use find::{Policies, PolicyChoice};
pub use model::{Policy, SharedPolicy};
