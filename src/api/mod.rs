//! The HTTP client for Adobe Experience Platform: IMS tokens, segment export jobs, Flow Service
//! flows and runs, and ad-hoc activation (`docs/api-client.md`).
//!
//! - [`ApiConfig`]: credentials and endpoints, from the `AEP_*` environment or built directly;
//! - [`Client`]: the one `reqwest` client (rustls, timeouts, user agent), the token cache, the
//!   gateway headers, and one method per call `plan`, `apply` and `status` make;
//! - `retry` ([`RetryPolicy`]): which failures are retried, and how long to wait;
//! - [`types`]: the Platform's JSON as typed values, with the checks the commands need;
//! - [`Secret`]: credentials that print as `***`.
//!
//! Async (like the emulator); the commands build one tokio runtime at their edge. The client
//! never knows whether it talks to Adobe or to the emulator: only the base URLs differ.

mod auth;
mod client;
mod config;
pub(crate) mod error;
mod retry;
mod secret;
pub mod types;

pub(crate) use auth::TokenResponse;
pub use client::{Client, RunListing, USER_AGENT};
pub use config::{
    ApiConfig, ConfigError, Credentials, DEFAULT_CONCURRENCY, DEFAULT_IMS_URL,
    DEFAULT_PLATFORM_URL, DEFAULT_SCOPES,
};
pub use error::ApiError;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use types::{
    AdhocApiVersion, AdhocOutcome, AdhocRequest, ExportJob, ExportJobStatus, Flow, Mapping, Order,
    Run, RunAlreadyGoing, RunStatus, SegmentDefinition, UtcDate,
};
