//! The access token: fetched from IMS once per process, shared by every call, renewed shortly
//! before it expires. Concurrent callers wait for one fetch instead of each starting their own.
//!
//! A token issued elsewhere (`AEP_ACCESS_TOKEN`) is used as is and never renewed.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Mutex;

use super::secret::Secret;

/// The cached IMS token.
#[derive(Default)]
pub(crate) struct TokenCache {
    slot: Mutex<Option<Cached>>,
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// A token as IMS issued it.
pub(crate) struct Issued {
    pub(crate) token: Secret,
    pub(crate) lifetime: Duration,
}

impl TokenCache {
    /// The cached token, or a fresh one from `fetch` when there is none or it is due for renewal.
    /// The lock is held during the fetch, so concurrent callers share it.
    pub(crate) async fn get_or_fetch<F, Fut, E>(&self, fetch: F) -> Result<Secret, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Issued, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref()
            && Instant::now() < cached.refresh_at
        {
            tracing::trace!("reusing the cached access token");
            return Ok(cached.token.clone());
        }
        if slot.is_some() {
            tracing::info!("the cached access token is due for renewal");
        }
        let obtained = Instant::now();
        let issued = fetch().await?;
        *slot = Some(Cached {
            token: issued.token.clone(),
            refresh_at: obtained
                + issued
                    .lifetime
                    .saturating_sub(refresh_margin(issued.lifetime)),
        });
        Ok(issued.token)
    }

    /// Forgets `used` (the platform refused it), unless another caller already replaced it.
    pub(crate) async fn invalidate(&self, used: &Secret) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|c| &c.token == used) {
            *slot = None;
        }
    }
}

/// How long before its expiry a token is renewed: 5 minutes, or a tenth of a short lifetime.
fn refresh_margin(lifetime: Duration) -> Duration {
    Duration::from_secs(300).min(lifetime / 10)
}

/// The IMS token response: `{access_token, token_type: "bearer", expires_in}` (seconds). The
/// emulator's IMS writes it too. No `Debug`: it holds a token.
#[derive(Serialize, Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    /// `bearer`; not read.
    #[serde(default, deserialize_with = "super::types::lenient")]
    pub(crate) token_type: Option<String>,
    /// Seconds: a number in the docs, a digit string accepted.
    #[serde(default)]
    pub(crate) expires_in: Option<Value>,
}

impl TokenResponse {
    pub(crate) fn into_issued(self) -> Issued {
        // Seconds per the OAuth server-to-server docs; a day when missing or unreadable.
        let secs = match &self.expires_in {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .unwrap_or(86_399)
        .min(86_400);
        Issued {
            token: Secret::new(self.access_token),
            lifetime: Duration::from_secs(secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_before_they_expire() {
        assert_eq!(
            refresh_margin(Duration::from_secs(86_399)),
            Duration::from_secs(300)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(60)),
            Duration::from_secs(6)
        );
    }

    #[tokio::test]
    async fn one_fetch_serves_many_callers_until_renewal() {
        let cache = TokenCache::default();
        let mut fetches = 0;
        for _ in 0..3 {
            let token = cache
                .get_or_fetch(|| {
                    fetches += 1;
                    async {
                        Ok::<_, ()>(Issued {
                            token: Secret::new("t1"),
                            lifetime: Duration::from_secs(3600),
                        })
                    }
                })
                .await
                .unwrap();
            assert_eq!(token.expose(), "t1");
        }
        assert_eq!(fetches, 1);
        cache.invalidate(&Secret::new("other")).await;
        cache
            .get_or_fetch(|| async { Err::<Issued, _>("no fetch expected") })
            .await
            .unwrap();
        cache.invalidate(&Secret::new("t1")).await;
        let renewed = cache
            .get_or_fetch(|| async {
                Ok::<_, ()>(Issued {
                    token: Secret::new("t2"),
                    // Expired at once: the next call fetches again.
                    lifetime: Duration::ZERO,
                })
            })
            .await
            .unwrap();
        assert_eq!(renewed.expose(), "t2");
    }
}
