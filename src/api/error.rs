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

    #[error("the status URL `{url}` is not on the platform endpoint `{platform}`")]
    #[diagnostic(
        code(aepact::api::foreign_status_url),
        help(
            "aepact sends its credentials only to `AEP_PLATFORM_URL`: set it to the endpoint the job was applied to (the lockfile records it)"
        )
    )]
    ForeignStatusUrl { url: String, platform: String },
}

/// Why the server's TLS certificate was refused, if that is what made `error` fail: it is not
/// signed by a CA this machine trusts, has expired, names another host, or none was sent. Unlike
/// a failing network this never clears by itself, so such a failure is not retried, and it is
/// reported as [`ApiError::Certificate`] (issue 14).
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

#[cfg(test)]
mod tests {
    use super::*;

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
