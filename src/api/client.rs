//! [`Client`]: the one HTTP client of aepact, and the Platform calls `plan`, `apply` and
//! `status` make.
//!
//! Every request goes through [`Client::send`], which applies the retry rules of
//! [`super::retry`] and counts what goes on the wire ([`Client::requests_sent`]). Platform
//! calls add the gateway headers; the access token comes from the process-wide cache in
//! [`super::auth`]. The ad-hoc POST reports what became of it as an [`AdhocOutcome`] instead of
//! an error, because "it may have been sent" must reach the lockfile, not just the terminal.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::auth::{Issued, TokenCache, TokenResponse};
use super::config::{ApiConfig, ConfigError, Credentials, url_without_secrets};
use super::error::ApiError;
use super::retry::{self, RequestKind};
use super::secret::Secret;
use super::types::SegmentDefinition;
use super::types::{AdhocApiVersion, AdhocRequest};
use super::types::{AdhocOutcome, AdhocResponse, ExportJob, Flow, Items, Run, error_message};

mod listings;

/// `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("aepact/", env!("CARGO_PKG_VERSION"));

/// The `Accept` value that selects version 2 of the ad-hoc API.
const ADHOC_V2_ACCEPT: &str = "application/vnd.adobe.adhoc.activation+json; version=2";

const EXPORT_JOBS: &str = "/data/core/ups/export/jobs";
const FLOWS: &str = "/data/foundation/flowservice/flows";
const RUNS: &str = "/data/foundation/flowservice/runs";
const SEGMENT_DEFINITIONS: &str = "/data/core/ups/segment/definitions";
const ADHOC: &str = "/data/core/activation/disflowprovider/adhocrun";
const TOKEN: &str = "/ims/token/v3";

/// Most pages followed in one listing, against a server whose cursor never ends.
const MAX_PAGES: usize = 100;

/// The Platform client. Cheap to clone (one shared connection pool, token cache and counter),
/// so independent calls can run concurrently on spawned tasks.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ApiConfig,
    platform: Url,
    tokens: TokenCache,
    sent: AtomicU64,
    /// Access tokens IMS issued to this process, scrubbed (like the configured secret) from any
    /// text a server sent back: an error page may echo the request's headers.
    issued: std::sync::Mutex<Vec<Secret>>,
    /// Requests in flight at once, across every task of the process (`--concurrency`).
    limit: tokio::sync::Semaphore,
    /// No request leaves before this instant: a 429 (or 503) with `Retry-After` slows the whole
    /// client, not only the request that met it.
    pause_until: std::sync::Mutex<Option<tokio::time::Instant>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("requests_sent", &self.requests_sent())
            .finish_non_exhaustive()
    }
}

/// A response read to its end.
struct Reply {
    status: StatusCode,
    body: Vec<u8>,
    /// The server's clock, from its `Date` header (epoch ms), when it sent a readable one.
    date: Option<i64>,
}

/// The runs of one dataflow, and the platform's clock when it listed them.
#[derive(Debug, Clone)]
pub struct RunListing {
    /// Oldest first.
    pub runs: Vec<Run>,
    /// The latest `Date` header of the listing's pages (epoch ms), if the platform sent one.
    pub platform_time: Option<i64>,
}

/// Why [`Client::send`] returned no response.
enum SendError {
    /// The request could not be built: never sent.
    Build(reqwest::Error),
    /// The transport failed on the last attempt.
    Transport(reqwest::Error),
}

impl Client {
    /// Builds the client: installs the ring crypto provider for rustls (once per process; a
    /// second install is a no-op), sets the connect and request timeouts and the user agent.
    /// This is the only place a `reqwest::Client` is made.
    pub fn new(config: ApiConfig) -> Result<Self, ApiError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let platform = Url::parse(&config.platform_url).map_err(|_| {
            ApiError::Config(ConfigError::InvalidUrl {
                name: "AEP_PLATFORM_URL",
                value: url_without_secrets(&config.platform_url),
            })
        })?;
        Url::parse(&config.ims_url).map_err(|_| {
            ApiError::Config(ConfigError::InvalidUrl {
                name: "AEP_IMS_URL",
                value: url_without_secrets(&config.ims_url),
            })
        })?;
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // The Platform does not redirect; following one could re-send a POST elsewhere or
            // carry the API key to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(ApiError::ClientBuild)?;
        let config_concurrency = config.concurrency.max(1);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                config,
                platform,
                tokens: TokenCache::default(),
                sent: AtomicU64::new(0),
                issued: std::sync::Mutex::new(Vec::new()),
                limit: tokio::sync::Semaphore::new(config_concurrency),
                pause_until: std::sync::Mutex::new(None),
            }),
        })
    }

    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    /// HTTP requests put on the wire so far, token requests and retries included.
    pub fn requests_sent(&self) -> u64 {
        self.inner.sent.load(Ordering::Relaxed)
    }

    // -----------------------------------------------------------------------------------------
    // The calls.

    /// One export job; `None` when the sandbox has no such job.
    pub async fn get_export_job(
        &self,
        sandbox: &str,
        id: u64,
    ) -> Result<Option<ExportJob>, ApiError> {
        let url = self.url_with_id(EXPORT_JOBS, &id.to_string());
        self.get_json_opt(sandbox, url).await
    }

    /// A dataflow; `None` when the sandbox has no flow with this ID.
    pub async fn get_flow(&self, sandbox: &str, id: &str) -> Result<Option<Flow>, ApiError> {
        let url = self.url_with_id(FLOWS, id);
        let items: Option<Items<Flow>> = self.get_json_opt(sandbox, url).await?;
        Ok(items.and_then(|i| i.items.into_iter().next()))
    }

    /// A segment (audience) definition, read for its name when a dataflow's selector has
    /// none; `None` when the sandbox has no such segment.
    pub async fn get_segment_definition(
        &self,
        sandbox: &str,
        id: &str,
    ) -> Result<Option<SegmentDefinition>, ApiError> {
        let url = self.url_with_id(SEGMENT_DEFINITIONS, id);
        self.get_json_opt(sandbox, url).await
    }

    /// The run behind an order's `statusURL`, followed as given (it is absolute); `None` when
    /// the platform does not know the run. The URL must be on the configured Platform endpoint:
    /// credentials are never sent elsewhere.
    pub async fn get_run(&self, sandbox: &str, status_url: &str) -> Result<Option<Run>, ApiError> {
        let foreign = || ApiError::ForeignStatusUrl {
            url: status_url.to_owned(),
            platform: self.inner.config.platform_url.clone(),
        };
        let url = Url::parse(status_url).map_err(|_| foreign())?;
        if url.origin() != self.inner.platform.origin() {
            return Err(foreign());
        }
        let items: Option<Items<Run>> = self.get_json_opt(sandbox, url).await?;
        Ok(items.and_then(|i| i.items.into_iter().next()))
    }

    /// A run by ID on the configured Platform endpoint: for a recorded `statusURL` whose host
    /// no longer answers (an emulator restarted on another port), with [`Order::run_id`].
    ///
    /// [`Order::run_id`]: super::Order::run_id
    pub async fn get_run_by_id(
        &self,
        sandbox: &str,
        run_id: &str,
    ) -> Result<Option<Run>, ApiError> {
        let url = self.url_with_id(RUNS, run_id);
        let items: Option<Items<Run>> = self.get_json_opt(sandbox, url).await?;
        Ok(items.and_then(|i| i.items.into_iter().next()))
    }

    /// Submits an ad-hoc activation job: `body` is sent exactly as given. Under API version 2
    /// the request carries `Accept: application/vnd.adobe.adhoc.activation+json; version=2`.
    ///
    /// Retried only on 429 and 503 and when the connection failed before anything was sent;
    /// see [`AdhocOutcome`] for what each result means.
    pub async fn post_adhoc(
        &self,
        sandbox: &str,
        body: &AdhocRequest,
        version: AdhocApiVersion,
    ) -> AdhocOutcome {
        let url = self.url(ADHOC);
        let token = match self.token().await {
            Ok(token) => token,
            Err(error) => return AdhocOutcome::NotSent { error },
        };
        let bytes = match serde_json::to_vec(body) {
            Ok(bytes) => bytes,
            Err(e) => {
                return AdhocOutcome::NotSent {
                    error: ApiError::Decode {
                        url: url.to_string(),
                        message: format!("the request body cannot be serialised: {e}"),
                    },
                };
            }
        };
        let result = self
            .send(RequestKind::AdhocPost, || {
                let mut request = self
                    .platform_request(Method::POST, url.clone(), sandbox, &token)
                    .header(CONTENT_TYPE, "application/json")
                    .body(bytes.clone());
                if version == AdhocApiVersion::V2 {
                    request = request.header(ACCEPT, ADHOC_V2_ACCEPT);
                }
                request.build()
            })
            .await;
        match result {
            Ok(reply) if reply.status.is_success() => {
                match serde_json::from_slice::<AdhocResponse>(&reply.body) {
                    Ok(response) => AdhocOutcome::Accepted(response.order),
                    // Accepted, but we cannot tell which runs started: as good as lost.
                    Err(e) => AdhocOutcome::Unknown {
                        error: self.decode_error(&url, &reply.body, &e),
                    },
                }
            }
            Ok(reply) => AdhocOutcome::Rejected {
                status: reply.status.as_u16(),
                body: self.body_json(&reply.body),
            },
            Err(SendError::Build(e)) => AdhocOutcome::NotSent {
                error: self.transport_error("POST", &url, e),
            },
            // Only a failed connect proves nothing left this machine.
            Err(SendError::Transport(e)) if e.is_connect() => AdhocOutcome::NotSent {
                error: self.transport_error("POST", &url, e),
            },
            Err(SendError::Transport(e)) => AdhocOutcome::Unknown {
                error: self.transport_error("POST", &url, e),
            },
        }
    }

    // -----------------------------------------------------------------------------------------
    // Plumbing.

    fn url(&self, path: &str) -> Url {
        let mut url = self.inner.platform.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{path}"));
        url
    }

    /// `path/{id}`, the ID percent-encoded as one path segment.
    fn url_with_id(&self, path: &str, id: &str) -> Url {
        let mut url = self.url(path);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(id);
        }
        url
    }

    /// A Platform request with the gateway headers.
    fn platform_request(
        &self,
        method: Method,
        url: Url,
        sandbox: &str,
        token: &Secret,
    ) -> reqwest::RequestBuilder {
        let config = &self.inner.config;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid-token"));
        auth.set_sensitive(true);
        self.inner
            .http
            .request(method, url)
            .header(AUTHORIZATION, auth)
            .header("x-api-key", config.api_key())
            .header("x-gw-ims-org-id", &config.org_id)
            .header("x-sandbox-name", sandbox)
    }

    /// The access token: the configured one, or the cached IMS token (fetched on first use).
    async fn token(&self) -> Result<Secret, ApiError> {
        match &self.inner.config.credentials {
            Credentials::AccessToken { access_token, .. } => {
                tracing::trace!("using the access token from `AEP_ACCESS_TOKEN`");
                Ok(access_token.clone())
            }
            Credentials::OAuth {
                client_id,
                client_secret,
                scopes,
            } => {
                self.inner
                    .tokens
                    .get_or_fetch(|| self.fetch_token(client_id, client_secret, scopes))
                    .await
            }
        }
    }

    async fn fetch_token(
        &self,
        client_id: &str,
        client_secret: &Secret,
        scopes: &str,
    ) -> Result<Issued, ApiError> {
        let url = format!("{}{TOKEN}", self.inner.config.ims_url);
        let url = Url::parse(&url).map_err(|_| {
            ApiError::Config(ConfigError::InvalidUrl {
                name: "AEP_IMS_URL",
                value: url_without_secrets(&self.inner.config.ims_url),
            })
        })?;
        tracing::info!(path = url.path(), "fetching an IMS access token");
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", client_secret.expose()),
            ("scope", scopes),
        ];
        let reply = self
            .send(RequestKind::Idempotent, || {
                self.inner.http.post(url.clone()).form(&form).build()
            })
            .await
            .map_err(|e| match e {
                SendError::Build(e) | SendError::Transport(e) => {
                    self.transport_error("POST", &url, e)
                }
            })?;
        if !reply.status.is_success() {
            let body = self.body_json(&reply.body);
            let message = match (
                body.get("error").and_then(Value::as_str),
                error_message(&body),
            ) {
                (Some(code), Some(text)) if code != text => format!("{code}: {text}"),
                (_, Some(text)) => text.to_owned(),
                _ => "no error message".to_owned(),
            };
            tracing::warn!(
                status = reply.status.as_u16(),
                "IMS refused the token request"
            );
            return Err(ApiError::Token {
                status: reply.status.as_u16(),
                message: self.redact(&message),
            });
        }
        // The body is not quoted in this error (unlike other decode errors): it may hold the
        // token, cut short or of an unexpected shape.
        let issued = serde_json::from_slice::<TokenResponse>(&reply.body)
            .map(TokenResponse::into_issued)
            .map_err(|e| ApiError::Decode {
                url: url.to_string(),
                message: format!(
                    "the IMS token response is not the expected JSON ({:?} error at line {}, column {}; the body is not shown, as it may hold a token)",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            })?;
        self.inner
            .issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(issued.token.clone());
        tracing::info!(
            lifetime_secs = issued.lifetime.as_secs(),
            "IMS access token issued"
        );
        Ok(issued)
    }

    /// A Platform GET decoded as `T`.
    async fn get_json<T: DeserializeOwned>(&self, sandbox: &str, url: Url) -> Result<T, ApiError> {
        let reply = self.get(sandbox, &url).await?;
        if !reply.status.is_success() {
            return Err(self.http_error("GET", &url, reply.status, &reply.body));
        }
        self.decode(&url, &reply.body)
    }

    /// A Platform GET decoded as `T`; `None` on 404 (no such resource in the sandbox).
    async fn get_json_opt<T: DeserializeOwned>(
        &self,
        sandbox: &str,
        url: Url,
    ) -> Result<Option<T>, ApiError> {
        let reply = self.get(sandbox, &url).await?;
        match reply.status {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => self.decode(&url, &reply.body).map(Some),
            status => Err(self.http_error("GET", &url, status, &reply.body)),
        }
    }

    /// A Platform GET with retries. A 401 with an IMS token renews the token once and tries
    /// again (the platform may expire a token before our cache expects).
    async fn get(&self, sandbox: &str, url: &Url) -> Result<Reply, ApiError> {
        let mut renewed = false;
        loop {
            let token = self.token().await?;
            let reply = self
                .send(RequestKind::Idempotent, || {
                    self.platform_request(Method::GET, url.clone(), sandbox, &token)
                        .build()
                })
                .await
                .map_err(|e| match e {
                    SendError::Build(e) | SendError::Transport(e) => {
                        self.transport_error("GET", url, e)
                    }
                })?;
            let oauth = matches!(self.inner.config.credentials, Credentials::OAuth { .. });
            if reply.status == StatusCode::UNAUTHORIZED && oauth && !renewed {
                renewed = true;
                tracing::info!(
                    path = url.path(),
                    "the platform refused the access token (401): renewing it once"
                );
                self.inner.tokens.invalidate(&token).await;
                continue;
            }
            return Ok(reply);
        }
    }

    fn decode<T: DeserializeOwned>(&self, url: &Url, body: &[u8]) -> Result<T, ApiError> {
        serde_json::from_slice(body).map_err(|e| self.decode_error(url, body, &e))
    }

    /// Sends a request built by `build`, retrying as [`retry`] allows for `kind`; the body is
    /// read as part of the attempt.
    async fn send(
        &self,
        kind: RequestKind,
        build: impl Fn() -> reqwest::Result<reqwest::Request>,
    ) -> Result<Reply, SendError> {
        let policy = self.inner.config.retry;
        let mut attempt = 1;
        loop {
            let request = build().map_err(SendError::Build)?;
            // The whole client waits out a `Retry-After` any request met, then takes its turn
            // (and waits again if a pause began while it queued for the turn).
            let _permit = loop {
                self.wait_for_pause().await;
                let permit = self
                    .inner
                    .limit
                    .acquire()
                    .await
                    .expect("invariant: the client's semaphore is never closed");
                if self.retry_pause().is_none() {
                    break permit;
                }
            };
            // Logged: method and URL path only. The query (filters, paging tokens), headers
            // (the bearer token, the API key) and bodies (the IMS form) never are.
            let method = request.method().clone();
            let path = request.url().path().to_owned();
            let started = std::time::Instant::now();
            tracing::debug!(%method, path, attempt, "sending request");
            self.inner.sent.fetch_add(1, Ordering::Relaxed);
            let failure = match self.inner.http.execute(request).await {
                Ok(response) => {
                    let status = response.status();
                    if retry::retryable_status(kind, status)
                        && let Some(wait) =
                            policy.delay(attempt, retry::retry_after(response.headers()))
                    {
                        let asked = retry::retry_after(response.headers()).is_some();
                        drop(response);
                        tracing::info!(
                            %method,
                            path,
                            status = status.as_u16(),
                            attempt,
                            elapsed_ms = elapsed_ms(started),
                            delay_ms = elapsed_ms_of(wait),
                            "retrying after a refusal"
                        );
                        drop(_permit);
                        if asked {
                            self.pause(wait);
                            self.wait_for_pause().await;
                        } else {
                            tokio::time::sleep(wait).await;
                        }
                        attempt += 1;
                        continue;
                    }
                    let date = response
                        .headers()
                        .get(reqwest::header::DATE)
                        .and_then(|v| v.to_str().ok())
                        .and_then(crate::time::parse_http_date);
                    match response.bytes().await {
                        Ok(body) => {
                            tracing::debug!(
                                %method,
                                path,
                                status = status.as_u16(),
                                attempt,
                                elapsed_ms = elapsed_ms(started),
                                bytes = body.len(),
                                "response"
                            );
                            return Ok(Reply {
                                status,
                                body: body.to_vec(),
                                date,
                            });
                        }
                        Err(e) => e,
                    }
                }
                Err(e) => e,
            };
            let reason = failure_reason(&failure);
            if retry::retryable_error(kind, &failure)
                && let Some(wait) = policy.delay(attempt, None)
            {
                tracing::info!(
                    %method,
                    path,
                    reason,
                    attempt,
                    elapsed_ms = elapsed_ms(started),
                    delay_ms = elapsed_ms_of(wait),
                    "retrying after a transport failure"
                );
                drop(_permit);
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            tracing::debug!(
                %method,
                path,
                reason,
                attempt,
                elapsed_ms = elapsed_ms(started),
                "request failed"
            );
            return Err(SendError::Transport(failure));
        }
    }

    /// Holds every request of the client back for `wait` (a `Retry-After`), from now.
    fn pause(&self, wait: std::time::Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut pause = self
            .inner
            .pause_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pause.is_none_or(|p| p < until) {
            *pause = Some(until);
        }
    }

    /// How long a `Retry-After` still holds every request of the client back; `None` when
    /// nothing does.
    pub fn retry_pause(&self) -> Option<std::time::Duration> {
        let until = (*self
            .inner
            .pause_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))?;
        let now = tokio::time::Instant::now();
        (until > now).then(|| until - now)
    }

    /// Waits until no `Retry-After` holds the client back.
    async fn wait_for_pause(&self) {
        while let Some(wait) = self.retry_pause() {
            tokio::time::sleep(wait).await;
        }
    }

    /// An error body as JSON (a string message when it is not JSON), with our secrets
    /// scrubbed first: it is printed, and recorded in the lockfile for a rejected job.
    fn body_json(&self, body: &[u8]) -> Value {
        let text = self.redact(&String::from_utf8_lossy(body));
        serde_json::from_str(&text)
            .unwrap_or_else(|_| serde_json::json!({ "message": truncate(&text, 2000) }))
    }

    fn http_error(
        &self,
        method: &'static str,
        url: &Url,
        status: StatusCode,
        body: &[u8],
    ) -> ApiError {
        let json = self.body_json(body);
        let message = error_message(&json).map_or_else(
            || truncate(&String::from_utf8_lossy(body), 300),
            str::to_owned,
        );
        let help = match status.as_u16() {
            401 => {
                "the access token was refused: check `AEP_CLIENT_ID` and `AEP_CLIENT_SECRET`, or get a new `AEP_ACCESS_TOKEN` (tokens last 24 hours)"
            }
            403 => {
                "the credentials lack access: check `AEP_ORG_ID`, the API key (`AEP_CLIENT_ID` or `AEP_API_KEY`), the sandbox name, and the product profile's permissions"
            }
            429 => {
                "the platform is rate limiting aepact and kept refusing after the retries: try again later"
            }
            500..=599 => "the platform failed (retried where safe): try again later",
            _ => "the platform refused the request; its message is above",
        };
        ApiError::Http {
            method,
            url: url.to_string(),
            status: status.as_u16(),
            message: self.redact(&message),
            help: help.to_owned(),
        }
    }

    fn transport_error(&self, method: &'static str, url: &Url, source: reqwest::Error) -> ApiError {
        if let Some(reason) = retry::untrusted_certificate(&source) {
            let url = url.to_string();
            return ApiError::Certificate {
                method,
                url,
                reason,
                source,
            };
        }
        let reason = if source.is_connect() {
            "could not connect"
        } else if source.is_timeout() {
            "timed out"
        } else if source.is_builder() {
            "invalid request"
        } else {
            "the connection failed"
        };
        ApiError::Transport {
            method,
            url: url.to_string(),
            reason: reason.to_owned(),
            source,
        }
    }

    fn decode_error(&self, url: &Url, body: &[u8], error: &serde_json::Error) -> ApiError {
        ApiError::Decode {
            url: url.to_string(),
            message: self.redact(&format!(
                "{error} in `{}`",
                truncate(&String::from_utf8_lossy(body), 300)
            )),
        }
    }

    /// Scrubs the configured secret and the tokens IMS issued from text that came from a server.
    fn redact(&self, text: &str) -> String {
        let issued = self
            .inner
            .issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        self.inner
            .config
            .secrets()
            .into_iter()
            .chain(&issued)
            .filter(|s| !s.expose().is_empty())
            .fold(text.to_owned(), |t, s| t.replace(s.expose(), "***"))
    }
}

/// Milliseconds since `started`, for log fields.
fn elapsed_ms(started: std::time::Instant) -> u64 {
    elapsed_ms_of(started.elapsed())
}

fn elapsed_ms_of(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A transport failure in a few words, for logs: never the error's text, which names the URL
/// with its query.
fn failure_reason(error: &reqwest::Error) -> &'static str {
    if error.is_connect() {
        "could not connect"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "the response body was cut off"
    } else {
        "the connection failed"
    }
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}
