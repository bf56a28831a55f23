//! A call to the Platform or IMS that failed, and why.

use super::config::ConfigError;

/// A call to the Platform or IMS that failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ApiError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] ConfigError),

    #[error("cannot set up the HTTP client")]
    #[diagnostic(
        code(aepact::api::client),
        help(
            "the system's TLS setup is broken, or this is a bug in aepact: if `SSL_CERT_FILE` or `SSL_CERT_DIR` is set, check that it names PEM certificates (it replaces the system's roots); else please report it"
        )
    )]
    ClientBuild(#[source] reqwest::Error),

    #[error("IMS refused the token request (HTTP {status}): {message}")]
    #[diagnostic(
        code(aepact::api::token),
        help(
            "check `AEP_CLIENT_ID`, `AEP_CLIENT_SECRET` and `AEP_SCOPES` (the Developer Console project's OAuth server-to-server credential), and `AEP_IMS_URL`"
        )
    )]
    Token { status: u16, message: String },

    #[error("`{method} {url}` failed with HTTP {status}: {message}")]
    #[diagnostic(code(aepact::api::http), help("{help}"))]
    Http {
        method: &'static str,
        url: String,
        status: u16,
        message: String,
        help: String,
    },

    #[error("cannot reach `{url}` ({method}): {reason}")]
    #[diagnostic(
        code(aepact::api::transport),
        help(
            "check the network, `AEP_PLATFORM_URL` and `AEP_IMS_URL`; requests that are safe to repeat were retried"
        )
    )]
    Transport {
        method: &'static str,
        url: String,
        reason: String,
        #[source]
        source: reqwest::Error,
    },

    #[error("the TLS certificate of `{url}` is not trusted ({method}): {reason}")]
    #[diagnostic(
        code(aepact::api::certificate),
        help(
            "not retried: it does not clear by itself. Behind a company proxy or with a private CA, trust its CA certificate: add it to the system trust store, or point `SSL_CERT_FILE` at a PEM file holding it and the public roots (the file replaces the system store); see docs/api-client.md. Check `AEP_PLATFORM_URL`, `AEP_IMS_URL` and `HTTPS_PROXY` too"
        )
    )]
    Certificate {
        method: &'static str,
        url: String,
        reason: String,
        #[source]
        source: reqwest::Error,
    },

    #[error("unexpected response from `{url}`: {message}")]
    #[diagnostic(
        code(aepact::api::decode),
        help(
            "this is a bug in aepact or a change in the platform's API; please report it with the command you ran"
        )
    )]
    Decode { url: String, message: String },

    #[error("the listing `{url}` goes on past {pages} pages")]
    #[diagnostic(
        code(aepact::api::listing_too_long),
        help(
            "aepact does not decide from part of a listing (a run left out could be a delivery sent again): shorten the guard window (`--guard-window`), or split the plans by sandbox"
        )
    )]
    ListingTooLong { url: String, pages: usize },

    #[error("the status URL `{url}` is not on the platform endpoint `{platform}`")]
    #[diagnostic(
        code(aepact::api::foreign_status_url),
        help(
            "aepact sends its credentials only to `AEP_PLATFORM_URL`: set it to the endpoint the job was applied to (the lockfile records it)"
        )
    )]
    ForeignStatusUrl { url: String, platform: String },
}

impl ApiError {
    /// The HTTP status of a refusal, if this is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } | Self::Token { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether trying again later may help: the network failed, or the platform answered 429
    /// or 5xx after the retries.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Http { status, .. } | Self::Token { status, .. } => {
                *status == 429 || *status >= 500
            }
            _ => false,
        }
    }
}
