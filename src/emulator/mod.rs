//! The local Adobe Experience Platform emulator: IMS tokens, the Platform gateway's header
//! checks, segment export jobs, Flow Service flows and runs, and ad-hoc activation, served on
//! 127.0.0.1 with the platform's bodies and errors (`docs/emulator.md`).
//!
//! It is part of the product (`aepact emulator`, and later `--emulator` on the online
//! commands), not a test helper. This module owns the lifecycle: [`EmulatorBuilder`] configures
//! a world, [`Server`] binds and serves it, and [`Emulator`] is the in-process handle that stops
//! the server when dropped. The HTTP handlers are in `routes` and `admin`, the world and its
//! rules in `state`, seed files in `seed`, faults and the request log in `faults`.
//!
//! We run our own accept loop on hyper instead of `axum::serve` so that a fault can close a
//! connection after handling a request without sending any response (a lost response).

mod admin;
mod app;
mod error;
mod faults;
mod filter;
mod routes;
mod seed;
mod state;
mod store;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::Request;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinSet;

pub use app::EmulatorInfo;
use app::{App, Inner, MAX_RUN_DURATION_MS};
pub use error::EmulatorError;
pub use faults::Fault;
pub use routes::ADHOC_V2_MEDIA_TYPE;
pub use seed::Seed;
use store::Store;

/// How long an ad-hoc run takes from creation to its final status unless configured.
pub const DEFAULT_RUN_DURATION: Duration = Duration::from_secs(10);

/// Configures an emulator: its world, state file, port and run duration.
///
/// ```no_run
/// let emulator = aepact::emulator::EmulatorBuilder::new().run_duration(std::time::Duration::ZERO).start()?;
/// println!("{}", emulator.platform_url());
/// # Ok::<(), aepact::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    port: u16,
    seed: Option<Seed>,
    state: Option<PathBuf>,
    run_duration: Duration,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl EmulatorBuilder {
    /// The demo world, in memory only, on an ephemeral port.
    pub fn new() -> Self {
        Self {
            port: 0,
            seed: None,
            state: None,
            run_duration: DEFAULT_RUN_DURATION,
        }
    }

    /// The port on 127.0.0.1; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Serves this world instead of the demo world (when no state file exists yet).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Reads the world from a seed file.
    pub fn seed_file(self, path: &Path) -> Result<Self, EmulatorError> {
        Ok(self.seed(Seed::read(path)?))
    }

    /// Keeps the world in this file: loaded when it exists, written atomically after every change.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state = Some(path.into());
        self
    }

    /// How long new ad-hoc runs take to finish; zero finishes them at once.
    pub fn run_duration(mut self, duration: Duration) -> Self {
        self.run_duration = duration;
        self
    }

    /// Loads the world and binds the port, on the current tokio runtime.
    ///
    /// Returns the server, ready to [`Server::run_until`].
    pub async fn bind(self) -> Result<Server, EmulatorError> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: addr.to_string(),
                source,
            })?;
        let local = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: addr.to_string(),
                source,
            })?;
        let is_demo = self.seed.is_none();
        let seed = self.seed.unwrap_or_else(Seed::demo);
        let (world, store) = Store::open(self.state.as_deref(), &seed)?;
        let base_url = format!("http://{local}");
        let app = Arc::new(App {
            base_url,
            // Capped at a year so that time arithmetic on runs cannot overflow.
            run_duration_ms: u64::try_from(self.run_duration.as_millis())
                .unwrap_or(u64::MAX)
                .min(MAX_RUN_DURATION_MS),
            seed,
            is_demo,
            inner: Mutex::new(Inner {
                world,
                store,
                faults: faults::Faults::default(),
                log: faults::RequestLog::default(),
            }),
        });
        Ok(Server { listener, app })
    }

    /// Starts the emulator on its own thread and runtime; works with or without a runtime on the
    /// calling thread.
    ///
    /// Returns the handle; dropping it stops the server.
    pub fn start(self) -> Result<Emulator, EmulatorError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("aepact-emulator".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("aepact-emulator-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(err) => {
                        let _ = ready_tx.send(Err(EmulatorError::Runtime(err)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match self.bind().await {
                        Ok(server) => {
                            let _ = ready_tx.send(Ok(server.info()));
                            server
                                .run_until(async {
                                    let _ = stop_rx.await;
                                })
                                .await;
                        }
                        Err(err) => {
                            let _ = ready_tx.send(Err(err));
                        }
                    }
                });
            })
            .map_err(EmulatorError::Runtime)?;
        match ready_rx.recv() {
            Ok(Ok(info)) => Ok(Emulator {
                info,
                stop: Some(stop_tx),
                thread: Some(thread),
                task: None,
            }),
            Ok(Err(err)) => {
                let _ = thread.join();
                Err(err)
            }
            Err(_) => {
                let _ = thread.join();
                Err(EmulatorError::Runtime(std::io::Error::other(
                    "the emulator thread ended before it was ready",
                )))
            }
        }
    }

    /// Starts the emulator as a task on the current tokio runtime.
    ///
    /// Returns the handle; dropping it stops the server.
    pub async fn spawn(self) -> Result<Emulator, EmulatorError> {
        let server = self.bind().await?;
        let info = server.info();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run_until(async {
            let _ = stop_rx.await;
        }));
        Ok(Emulator {
            info,
            stop: Some(stop_tx),
            thread: None,
            task: Some(task),
        })
    }
}

/// A bound emulator, not yet serving.
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
}

impl Server {
    pub fn info(&self) -> EmulatorInfo {
        self.app.info()
    }

    /// Serves until `shutdown` completes; open connections are closed then.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let router = routes::router(self.app.clone());
        let mut connections = JoinSet::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(serve_connection(stream, self.app.clone(), router.clone()));
                    }
                    // Out of file descriptors and the like: back off instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        connections.abort_all();
    }
}

/// The in-process emulator: serving until dropped.
pub struct Emulator {
    info: EmulatorInfo,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    /// Starts the demo world with instant runs, in memory, on an ephemeral port.
    pub fn start_demo() -> Result<Self, EmulatorError> {
        EmulatorBuilder::new().run_duration(Duration::ZERO).start()
    }

    pub fn info(&self) -> &EmulatorInfo {
        &self.info
    }

    /// The Platform base URL (`AEP_PLATFORM_URL`).
    pub fn platform_url(&self) -> &str {
        &self.info.platform_url
    }

    /// The IMS base URL (`AEP_IMS_URL`).
    pub fn ims_url(&self) -> &str {
        &self.info.ims_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.info.addr
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn serve_connection(stream: TcpStream, app: Arc<App>, router: Router) {
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let service = {
        let kill = kill.clone();
        hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
            let (app, router, kill) = (app.clone(), router.clone(), kill.clone());
            async move { Ok::<_, Infallible>(routes::handle(app, router, kill, req).await) }
        })
    };
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    // A `drop` fault notifies `kill` after handling its request: dropping the connection future
    // here closes the socket with the response unsent.
    tokio::select! {
        _ = connection => {}
        () = kill.notified() => {}
    }
}
