//! What the client needs to reach the platform: the organisation, the credentials, the
//! endpoints, retries and timeouts, read from the `AEP_*` environment or built directly; and why a
//! configuration cannot work.

use std::time::Duration;

use super::retry::RetryPolicy;
use super::secret::Secret;

/// The default Platform endpoint.
pub const DEFAULT_PLATFORM_URL: &str = "https://platform.adobe.io";
/// The default IMS endpoint.
pub const DEFAULT_IMS_URL: &str = "https://ims-na1.adobelogin.com";
/// The scopes asked for when `AEP_SCOPES` is not set.
pub const DEFAULT_SCOPES: &str = "openid,AdobeID,read_organizations";

/// How aepact authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// OAuth server-to-server: a token from IMS `/ims/token/v3`, fetched once per process and
    /// renewed before it expires. The client ID is also the API key.
    OAuth {
        client_id: String,
        client_secret: Secret,
        /// Comma-separated, no spaces.
        scopes: String,
    },
    /// A token issued elsewhere (`AEP_ACCESS_TOKEN`), used as is, with its API key.
    AccessToken {
        access_token: Secret,
        api_key: String,
    },
}

/// Everything the client needs: org, credentials, endpoints, retries and timeouts.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `x-gw-ims-org-id`: `<24 hex>@AdobeOrg`.
    pub org_id: String,
    pub credentials: Credentials,
    /// Platform base URL, without a trailing slash.
    pub platform_url: String,
    /// IMS base URL, without a trailing slash.
    pub ims_url: String,
    /// `AEP_SANDBOX`: the sandbox of plans that name none.
    pub sandbox: Option<String>,
    pub retry: RetryPolicy,
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait for a whole request and its response, per attempt.
    pub request_timeout: Duration,
    /// Most requests in flight at once (`--concurrency`, `AEPACT_CONCURRENCY`).
    pub concurrency: usize,
}

/// Requests in flight at once unless configured: independent reads run side by side, and the
/// platform's rate limits see a bounded client.
pub const DEFAULT_CONCURRENCY: usize = 8;

impl ApiConfig {
    /// A configuration with the default endpoints, retries and timeouts.
    pub fn new(org_id: impl Into<String>, credentials: Credentials) -> Self {
        Self {
            org_id: org_id.into(),
            credentials,
            platform_url: DEFAULT_PLATFORM_URL.to_owned(),
            ims_url: DEFAULT_IMS_URL.to_owned(),
            sandbox: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Points the client at other endpoints (the emulator, a staging environment). Trailing
    /// slashes are dropped.
    pub fn with_urls(mut self, platform_url: &str, ims_url: &str) -> Self {
        self.platform_url = platform_url.trim_end_matches('/').to_owned();
        self.ims_url = ims_url.trim_end_matches('/').to_owned();
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_timeouts(mut self, connect: Duration, request: Duration) -> Self {
        self.connect_timeout = connect;
        self.request_timeout = request;
        self
    }

    /// Reads the `AEP_*` variables through `get` (`|k| std::env::var(k).ok()` in the binary, a
    /// map in tests). Empty values count as unset.
    ///
    /// Returns an error naming the variables to set when the org or credentials are missing;
    /// it never shows a value.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let org = var("AEP_ORG_ID");
        let (client_id, client_secret) = (var("AEP_CLIENT_ID"), var("AEP_CLIENT_SECRET"));
        let (access_token, api_key) = (var("AEP_ACCESS_TOKEN"), var("AEP_API_KEY"));

        let mut missing = Vec::new();
        if org.is_none() {
            missing.push("AEP_ORG_ID");
        }
        let credentials = match (client_id, client_secret, access_token, api_key) {
            (Some(client_id), Some(secret), _, _) => Some(Credentials::OAuth {
                client_id,
                client_secret: Secret::new(secret),
                scopes: var("AEP_SCOPES")
                    .map(|s| {
                        s.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| DEFAULT_SCOPES.to_owned()),
            }),
            (_, _, Some(token), Some(api_key)) => Some(Credentials::AccessToken {
                access_token: Secret::new(token),
                api_key,
            }),
            // Half of a pair: name the other half.
            (Some(_), None, _, _) => {
                missing.push("AEP_CLIENT_SECRET");
                None
            }
            (None, Some(_), _, _) => {
                missing.push("AEP_CLIENT_ID");
                None
            }
            (None, None, Some(_), None) => {
                missing.push("AEP_API_KEY");
                None
            }
            (None, None, None, Some(_)) => {
                missing.push("AEP_ACCESS_TOKEN");
                None
            }
            (None, None, None, None) => {
                missing.extend(["AEP_CLIENT_ID", "AEP_CLIENT_SECRET"]);
                None
            }
        };
        let (Some(org), Some(credentials)) = (org, credentials) else {
            return Err(ConfigError::Missing { missing });
        };
        let url = |name: &'static str, default: &str| -> Result<String, ConfigError> {
            let value = var(name).unwrap_or_else(|| default.to_owned());
            match reqwest::Url::parse(&value) {
                // A password or token in the URL would be printed with every error naming it.
                Ok(url)
                    if !url.username().is_empty()
                        || url.password().is_some()
                        || url.query().is_some()
                        || url.fragment().is_some() =>
                {
                    Err(ConfigError::UrlWithCredentials {
                        name,
                        value: url_without_secrets(&value),
                    })
                }
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                    Ok(value.trim_end_matches('/').to_owned())
                }
                _ => Err(ConfigError::InvalidUrl {
                    name,
                    value: url_without_secrets(&value),
                }),
            }
        };
        let platform_url = url("AEP_PLATFORM_URL", DEFAULT_PLATFORM_URL)?;
        let ims_url = url("AEP_IMS_URL", DEFAULT_IMS_URL)?;
        let mut config = Self::new(org, credentials).with_urls(&platform_url, &ims_url);
        config.sandbox = var("AEP_SANDBOX");
        Ok(config)
    }

    /// The `x-api-key` value: the OAuth client ID, or `AEP_API_KEY`.
    pub fn api_key(&self) -> &str {
        match &self.credentials {
            Credentials::OAuth { client_id, .. } => client_id,
            Credentials::AccessToken { api_key, .. } => api_key,
        }
    }

    /// The configured secrets, to scrub from any text we did not write ourselves.
    pub(super) fn secrets(&self) -> [&Secret; 1] {
        match &self.credentials {
            Credentials::OAuth { client_secret, .. } => [client_secret],
            Credentials::AccessToken { access_token, .. } => [access_token],
        }
    }
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConfigError {
    #[error("AEP credentials are missing: set {}", list(missing))]
    #[diagnostic(
        code(aepact::api::credentials_missing),
        help(
            "set `AEP_ORG_ID` and either `AEP_CLIENT_ID` + `AEP_CLIENT_SECRET` (OAuth server-to-server, optional `AEP_SCOPES`) or `AEP_ACCESS_TOKEN` + `AEP_API_KEY`; or try the loop locally with `--emulator`"
        )
    )]
    Missing { missing: Vec<&'static str> },

    #[error("`{name}` is not an http(s) URL: `{value}`")]
    #[diagnostic(
        code(aepact::api::invalid_url),
        help(
            "give a base URL such as `https://platform.adobe.io`, or unset `{name}` for the default"
        )
    )]
    InvalidUrl { name: &'static str, value: String },

    #[error("`{name}` must be a bare base URL, without user info, query or fragment: `{value}`")]
    #[diagnostic(
        code(aepact::api::url_credentials),
        help(
            "give a base URL such as `https://platform.adobe.io`; credentials go in `AEP_CLIENT_ID` + `AEP_CLIENT_SECRET` or `AEP_ACCESS_TOKEN` + `AEP_API_KEY`, which aepact never prints"
        )
    )]
    UrlWithCredentials { name: &'static str, value: String },
}

/// A URL as shown in errors: query and fragment dropped, user info (`user:password@`) as
/// `***@`. Works on text that does not parse as a URL too.
pub(crate) fn url_without_secrets(value: &str) -> String {
    let base = value.split(['?', '#']).next().unwrap_or_default();
    let Some(at) = base.rfind('@') else {
        return base.to_owned();
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    if scheme_end <= at {
        format!("{}***@{}", &base[..scheme_end], &base[at + 1..])
    } else {
        "***".to_owned()
    }
}

fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
