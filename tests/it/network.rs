//! The networks between aepact and the platform (docs/api-client.md, "Networks"): a TLS server
//! whose certificate this machine does not trust, `SSL_CERT_FILE`, and proxies from the
//! environment (`HTTPS_PROXY`, `NO_PROXY`). Everything runs on 127.0.0.1: a TLS server made
//! with rustls (already a dependency) and the test-only certificates of
//! `tests/fixtures/tls/` (`make.sh` there regenerates them), and a CONNECT proxy over plain
//! sockets.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::common::{Output, TestEnv, fixture, repo_root};
use crate::emulator::ORG;

/// An HTTPS server on 127.0.0.1 with a certificate for 127.0.0.1 signed by the test CA
/// (`tests/fixtures/tls/ca.pem`). It answers every request with an IMS refusal (401), so a
/// command that got through the handshake stops at once and says so.
struct TlsServer {
    addr: SocketAddr,
    /// Connections accepted: each one is a TLS handshake attempt.
    connections: Arc<AtomicUsize>,
}

impl TlsServer {
    fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cert = CertificateDer::from(include_bytes!("../fixtures/tls/server.der").to_vec());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            include_bytes!("../fixtures/tls/server.key.der").to_vec(),
        ));
        let config = Arc::new(
            rustls::ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(vec![cert], key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                let config = config.clone();
                std::thread::spawn(move || serve_tls(stream, config));
            }
        });
        Self { addr, connections }
    }

    fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// One connection: the handshake (which fails when the client does not trust the certificate),
/// then a 401 to the first request, and close.
fn serve_tls(stream: TcpStream, config: Arc<rustls::ServerConfig>) {
    let connection = rustls::ServerConnection::new(config).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let mut head = Vec::new();
    let mut buf = [0; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let body =
        r#"{"error":"invalid_client","error_description":"the test server refuses every client"}"#;
    let answer = format!(
        "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tls.write_all(answer.as_bytes());
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

/// `aepact -vv plan` of a valid plan against `server`, with IMS credentials: its first requests
/// are token requests (retried like every GET), and `-vv` logs every attempt of every request.
fn plan_against(server: &TlsServer, env: &[(&str, &str)]) -> Output {
    let mut test = TestEnv::new()
        .with_file("plan.yaml", fixture("valid/minimal.yaml"))
        .with_env("AEP_PLATFORM_URL", &server.url())
        .with_env("AEP_IMS_URL", &server.url())
        .with_env("AEP_ORG_ID", ORG)
        .with_env("AEP_CLIENT_ID", "network-test-client")
        .with_env("AEP_CLIENT_SECRET", "network-test-secret");
    for (k, v) in env {
        test = test.with_env(k, v);
    }
    test.run(["-vv", "plan", "plan.yaml"])
}

fn fixture_path(name: &str) -> String {
    repo_root()
        .join("tests/fixtures/tls")
        .join(name)
        .display()
        .to_string()
}

/// Issue 14: a certificate this machine does not trust (a company proxy's, a private CA's) was
/// retried like a network failure and reported under "check the network". It is not retried
/// (one handshake), exits 1 (not 75, "try again later"), and the help says how to trust the CA.
#[test]
fn an_untrusted_certificate_is_not_retried_and_says_how_to_trust_it() {
    let server = TlsServer::start();
    // Trust only another CA: the server's chain does not lead to it.
    let other_ca = fixture_path("other-ca.pem");
    let out = plan_against(&server, &[("SSL_CERT_FILE", &other_ca)]);
    assert_eq!(out.status, 1, "{out}");
    // Each attempt is one connection (the handshake fails): every request was tried once.
    let attempts: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains(" DEBUG ") && l.contains("sending request"))
        .collect();
    assert!(!attempts.is_empty(), "{out}");
    assert!(
        attempts.iter().all(|l| l.contains(" attempt=1")),
        "retried: {out}"
    );
    assert!(!out.stderr.contains("retrying"), "retried: {out}");
    assert_eq!(server.connections(), attempts.len(), "{out}");
    // The diagnostic, unwrapped.
    let text = out.stderr.replace('│', " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "aepact::api::certificate",
        "the TLS certificate of `https://127.0.0.1:",
        "is not trusted (POST): invalid peer certificate: UnknownIssuer",
        "help: not retried",
        "system trust store",
        "`SSL_CERT_FILE`",
        "`HTTPS_PROXY`",
        "Nothing was sent.",
    ] {
        assert!(text.contains(needle), "no {needle:?}: {out}");
    }
    assert!(!out.stderr.contains("check the network"), "{out}");
    assert!(!out.stderr.contains("network-test-secret"), "{out}");
}

/// `SSL_CERT_FILE` naming the CA makes the same server trusted: the handshake succeeds and the
/// command stops at the server's answer instead (IMS refused the credentials).
#[test]
fn ssl_cert_file_makes_a_private_ca_trusted() {
    let server = TlsServer::start();
    let ca = fixture_path("ca.pem");
    let out = plan_against(&server, &[("SSL_CERT_FILE", &ca)]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.contains("aepact::api::token"), "{out}");
    assert!(out.stderr.contains("HTTP 401"), "{out}");
    assert!(!out.stderr.contains("aepact::api::certificate"), "{out}");
    assert!(server.connections() > 0, "{out}");
}

/// `SSL_CERT_FILE` replaces the system's roots: one that names no certificate leaves none, and
/// every online command stops before its first request, saying where to look.
#[test]
fn ssl_cert_file_without_certificates_stops_before_any_request() {
    let server = TlsServer::start();
    let out = plan_against(&server, &[("SSL_CERT_FILE", "no-such-bundle.pem")]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(server.connections(), 0, "{out}");
    let text = out.stderr.replace('│', " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "aepact::api::client",
        "No CA certificates were loaded",
        "`SSL_CERT_FILE` or `SSL_CERT_DIR` is set",
    ] {
        assert!(text.contains(needle), "no {needle:?}: {out}");
    }
}

/// A CONNECT proxy on 127.0.0.1 that tunnels to whatever it is asked for and records the request
/// lines it got.
struct Proxy {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let seen = seen.clone();
                std::thread::spawn(move || tunnel(stream, &seen));
            }
        });
        Self { addr, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads `CONNECT host:port HTTP/1.1` and its headers, connects (to 127.0.0.1 only), answers
/// 200 and copies bytes both ways until either side closes.
fn tunnel(mut client: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let line = head.lines().next().unwrap_or_default().to_owned();
    seen.lock().unwrap().push(line.clone());
    let target = line.split(' ').nth(1).unwrap_or_default();
    assert!(
        target.starts_with("127.0.0.1:"),
        "tests tunnel to 127.0.0.1 only"
    );
    let Ok(server) = TcpStream::connect(target) else {
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (mut from_client, mut to_server) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    let upstream = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_server);
        let _ = to_server.shutdown(std::net::Shutdown::Write);
    });
    let (mut from_server, mut to_client) = (server, client);
    let _ = std::io::copy(&mut from_server, &mut to_client);
    let _ = to_client.shutdown(std::net::Shutdown::Write);
    let _ = upstream.join();
}

/// `HTTPS_PROXY` is honoured (the request goes through the proxy's CONNECT tunnel), and
/// `NO_PROXY` bypasses it for the hosts it lists.
#[test]
fn https_proxy_is_used_and_no_proxy_bypasses_it() {
    let server = TlsServer::start();
    let proxy = Proxy::start();
    let ca = fixture_path("ca.pem");
    let proxy_url = format!("http://{}", proxy.addr);
    let out = plan_against(
        &server,
        &[("SSL_CERT_FILE", &ca), ("HTTPS_PROXY", &proxy_url)],
    );
    assert!(out.stderr.contains("aepact::api::token"), "{out}");
    let tunnelled = proxy.requests();
    assert!(!tunnelled.is_empty(), "{out}");
    let connect = format!("CONNECT {} HTTP/1.1", server.addr);
    assert!(tunnelled.iter().all(|r| *r == connect), "{tunnelled:?}");
    let direct = server.connections();
    assert_eq!(
        direct,
        tunnelled.len(),
        "every connection came through the proxy"
    );
    let out = plan_against(
        &server,
        &[
            ("SSL_CERT_FILE", &ca),
            ("HTTPS_PROXY", &proxy_url),
            ("NO_PROXY", "127.0.0.1"),
        ],
    );
    assert!(out.stderr.contains("aepact::api::token"), "{out}");
    assert_eq!(
        proxy.requests(),
        tunnelled,
        "NO_PROXY did not bypass: {out}"
    );
    assert!(server.connections() > direct, "{out}");
}
