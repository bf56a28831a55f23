//! When to try a request again, and how long to wait first.
//!
//! Separate from the client so the rules read in one place and are tested without a network:
//! - GETs and the IMS token request (both safe to repeat) are retried on 429, 502, 503, 504 and
//!   on any transport failure (connect, timeout, reset) but an untrusted TLS certificate;
//! - the ad-hoc POST is retried only on 429 and 503 (the platform refused it without acting) or
//!   when the connection failed before the request was sent. After a timeout or a reset the job
//!   may have been accepted, so it is never sent again (the caller records it as `unknown`).
//!
//! Waits grow exponentially from [`RetryPolicy::base_delay`] with jitter; a `Retry-After` header
//! (seconds) sets the wait instead, and one longer than [`RetryPolicy::max_retry_after`] ends the
//! retries rather than being cut short.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How often and how patiently requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The wait before the first retry; it doubles for each further one.
    pub base_delay: Duration,
    /// The longest computed wait.
    pub max_delay: Duration,
    /// The longest `Retry-After` we wait for; a longer one gives up at once.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy with small waits, for tests against the emulator.
    pub fn fast() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(120),
        }
    }

    /// The wait before attempt `attempt + 1`, after `attempt` attempts failed (1-based).
    ///
    /// Returns `None` when no retry should follow: attempts are used up, or the server asked for
    /// a longer pause than [`Self::max_retry_after`].
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        if let Some(wait) = retry_after {
            if wait > self.max_retry_after {
                return None;
            }
            // Honour the server's pause, plus a little jitter so clients do not return together.
            return Some(wait + jitter(self.base_delay.min(wait / 10)));
        }
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.max_delay);
        // "Equal jitter": half fixed, half random, so waits still grow but never line up.
        Some(exp / 2 + jitter(exp / 2))
    }
}

/// A random duration in `[0, max]`.
fn jitter(max: Duration) -> Duration {
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(fastrand::u64(0..=nanos))
}

/// The `Retry-After` header in seconds. An HTTP date (also allowed by RFC 9110) is not used by
/// the platform as far as documented; it is ignored and the computed backoff applies.
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    text.parse::<u64>().ok().map(Duration::from_secs)
}

/// Whether a request may be sent again after this response status.
pub(super) fn retryable_status(kind: RequestKind, status: StatusCode) -> bool {
    match kind {
        RequestKind::Idempotent => matches!(status.as_u16(), 429 | 502 | 503 | 504),
        // 502/504 come from a gateway that may have forwarded the job: not safe to repeat.
        RequestKind::AdhocPost => matches!(status.as_u16(), 429 | 503),
    }
}

/// Whether a request may be sent again after this transport error. An untrusted certificate is
/// not the network's weather: it fails the same way every time.
pub(super) fn retryable_error(kind: RequestKind, error: &reqwest::Error) -> bool {
    if untrusted_certificate(error).is_some() {
        return false;
    }
    match kind {
        // A body cut off mid-way comes back from `bytes()` as a decode error (reqwest's kind for
        // a failed body read; aepact parses the JSON itself, so it means nothing else here).
        RequestKind::Idempotent => {
            error.is_connect()
                || error.is_timeout()
                || error.is_request()
                || error.is_body()
                || error.is_decode()
        }
        // Only a failed connect (refused, unreachable, or the connect timeout) proves the
        // request never left: a timeout or a reset after sending may hide an accepted job.
        RequestKind::AdhocPost => error.is_connect(),
    }
}

/// Why the server's TLS certificate was refused, if that is what made `error` fail: it is not
/// signed by a CA this machine trusts, has expired, names another host, or none was sent. Unlike
/// a failing network this never clears by itself, so such a failure is not retried, and it is
/// reported as `ApiError::Certificate` (issue 14).
///
/// Returns rustls's description of the problem. The source chain is walked down to the rustls
/// error, which reaches us inside two `io::Error`s (reqwest's connector wraps tokio-rustls's):
/// an `io::Error`'s `source` skips the error it wraps, so the walk steps into it instead.
pub(super) fn untrusted_certificate(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(err) = next {
        if let Some(
            tls @ (rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented),
        ) = err.downcast_ref::<rustls::Error>()
        {
            return Some(tls.to_string());
        }
        next = match err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

/// What may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RequestKind {
    /// GETs and the IMS token request.
    Idempotent,
    /// `POST …/adhocrun`: starts runs; repeating it could activate twice.
    AdhocPost,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_stops() {
        let policy = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            max_retry_after: Duration::from_secs(10),
        };
        for _ in 0..100 {
            let first = policy.delay(1, None).unwrap();
            assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&first));
            let second = policy.delay(2, None).unwrap();
            assert!((Duration::from_millis(100)..=Duration::from_millis(200)).contains(&second));
            let capped = policy.delay(3, None).unwrap();
            assert!((Duration::from_millis(150)..=Duration::from_millis(300)).contains(&capped));
        }
        assert_eq!(policy.delay(4, None), None);
    }

    #[test]
    fn retry_after_sets_the_wait_or_ends_retries() {
        let policy = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(5),
        };
        for _ in 0..100 {
            let wait = policy.delay(1, Some(Duration::from_secs(2))).unwrap();
            assert!(
                wait >= Duration::from_secs(2),
                "never sooner than asked: {wait:?}"
            );
            assert!(wait <= Duration::from_millis(2010));
        }
        assert_eq!(policy.delay(1, Some(Duration::from_secs(6))), None);
        assert_eq!(policy.delay(3, Some(Duration::from_secs(1))), None);
    }

    #[test]
    fn retry_after_header_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2026 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn the_post_is_retried_on_fewer_statuses() {
        for code in [429, 502, 503, 504] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(retryable_status(RequestKind::Idempotent, status));
            assert_eq!(
                retryable_status(RequestKind::AdhocPost, status),
                code == 429 || code == 503
            );
        }
        for code in [400, 401, 403, 404, 409, 500] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(!retryable_status(RequestKind::Idempotent, status));
            assert!(!retryable_status(RequestKind::AdhocPost, status));
        }
    }

    /// An error that wraps another, as hyper's and reqwest's do.
    #[derive(Debug)]
    struct Wrapped(Box<dyn std::error::Error + Send + Sync>);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.0)
        }
    }

    /// The chain reqwest 0.13 builds for a failed handshake (as its `Debug` shows it): its own
    /// error, hyper-util's, the connector's `io::Error`, tokio-rustls's `io::Error`, and the
    /// rustls error inside.
    fn handshake_failure(tls: rustls::Error) -> Wrapped {
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let connector = std::io::Error::other(io);
        Wrapped(Box::new(Wrapped(Box::new(connector))))
    }

    #[test]
    fn certificate_errors_are_found_down_the_chain() {
        let unknown = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert_eq!(
            untrusted_certificate(&handshake_failure(unknown)).as_deref(),
            Some("invalid peer certificate: UnknownIssuer")
        );
        let expired = rustls::Error::InvalidCertificate(rustls::CertificateError::Expired);
        assert!(untrusted_certificate(&handshake_failure(expired)).is_some());
        let none = rustls::Error::NoCertificatesPresented;
        assert!(untrusted_certificate(&handshake_failure(none)).is_some());
    }

    #[test]
    fn other_failures_are_not_certificate_errors() {
        // A peer that does not speak TLS, a reset, a refused connection: the network's.
        let garbage = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        assert_eq!(untrusted_certificate(&handshake_failure(garbage)), None);
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(untrusted_certificate(&Wrapped(Box::new(reset))), None);
        let refused = std::io::Error::other("connection refused");
        assert_eq!(untrusted_certificate(&refused), None);
    }
}
