//! The state every request of a running emulator shares, what a client needs to reach it, and
//! the limits it enforces.

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

use axum::body::Body;
use axum::http::Response;

use super::error::EmulatorError;
use super::faults;
use super::seed::Seed;
use super::state::World;
use super::store::Store;

/// The longest run duration honoured (a year); longer ones are cut to it.
pub(crate) const MAX_RUN_DURATION_MS: u64 = 366 * 86_400_000;

/// Largest request body we read; the biggest legitimate one (80 segments) is a few KiB.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What a client needs to talk to a running emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorInfo {
    /// The bound address (always 127.0.0.1).
    pub addr: SocketAddr,
    /// `AEP_PLATFORM_URL`: `http://127.0.0.1:<port>`.
    pub platform_url: String,
    /// `AEP_IMS_URL`: the same server (`/ims/token/v3`).
    pub ims_url: String,
    pub org_id: String,
    pub client_id: String,
    /// The first client's secret; printed by `aepact emulator` only for the public demo world.
    pub client_secret: String,
    /// Whether this is the built-in demo world.
    pub is_demo: bool,
    pub sandboxes: Vec<String>,
}

impl EmulatorInfo {
    /// The client configuration for this emulator: its URLs, org and (demo) credentials.
    pub fn api_config(&self) -> crate::api::ApiConfig {
        use crate::api::{ApiConfig, Credentials, DEFAULT_SCOPES, Secret};
        ApiConfig::new(
            self.org_id.clone(),
            Credentials::OAuth {
                client_id: self.client_id.clone(),
                client_secret: Secret::new(self.client_secret.clone()),
                scopes: DEFAULT_SCOPES.to_owned(),
            },
        )
        .with_urls(&self.platform_url, &self.ims_url)
    }
}

/// The state shared by every request.
pub(crate) struct App {
    pub(crate) base_url: String,
    pub(crate) run_duration_ms: u64,
    pub(crate) seed: Seed,
    pub(crate) is_demo: bool,
    pub(crate) inner: Mutex<Inner>,
}

pub(crate) struct Inner {
    pub(crate) world: World,
    pub(crate) store: Store,
    pub(crate) faults: faults::Faults,
    pub(crate) log: faults::RequestLog,
}

impl App {
    /// Locks the shared state. A poisoned lock (a panic while it was held, which would be a bug)
    /// is taken over rather than propagated: the state is plain data and stays consistent.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads the world, first picking up changes another process wrote to the state file.
    /// Never writes.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        let mut inner = self.lock();
        let Inner { world, store, .. } = &mut *inner;
        store.refresh(world);
        f(world)
    }

    /// Changes the world: on a copy, under the state file's lock, saved atomically before it
    /// replaces the world in memory. `f` returns whether it changed anything; an `Err` from `f`
    /// leaves everything as it was.
    pub(crate) fn write<R, E>(
        &self,
        f: impl FnOnce(&mut World) -> Result<(R, bool), E>,
    ) -> Result<Result<R, E>, EmulatorError> {
        let mut inner = self.lock();
        let Inner { world, store, .. } = &mut *inner;
        let _file_lock = store.lock()?;
        store.reload(world);
        let mut copy = world.clone();
        match f(&mut copy) {
            Ok((value, changed)) => {
                if changed {
                    store.save(&copy)?;
                    *world = copy;
                }
                Ok(Ok(value))
            }
            Err(err) => Ok(Err(err)),
        }
    }

    pub(crate) fn info(&self) -> EmulatorInfo {
        let inner = self.lock();
        let world = &inner.world;
        let client = world.clients.first();
        EmulatorInfo {
            addr: self
                .base_url
                .trim_start_matches("http://")
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0))),
            platform_url: self.base_url.clone(),
            ims_url: self.base_url.clone(),
            org_id: world.org_id.clone(),
            client_id: client.map(|c| c.id.clone()).unwrap_or_default(),
            // The state file keeps only a digest: the secret comes from the seed, when the
            // seed has that client (always so for the demo world).
            client_secret: client
                .and_then(|c| self.seed.clients.iter().find(|s| s.id == c.id))
                .map(|s| s.secret.clone())
                .unwrap_or_default(),
            is_demo: self.is_demo,
            sandboxes: world.sandboxes.keys().cloned().collect(),
        }
    }
}

/// The body type of every response.
pub(crate) type HttpResponse = Response<Body>;
