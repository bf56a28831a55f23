//! `aepact emulator` as a process: it prints its URL first, serves the demo world, shares a
//! state file between runs, and refuses bad arguments and seed files with clear errors.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Stdio};

use serde_json::json;

use crate::common::TestEnv;
use crate::emulator::client::send;
use crate::emulator::{CLIENT_ID, EMAIL, GOLD, ORG, SECRET};

/// A running `aepact emulator` child, killed when dropped.
struct Running {
    child: Child,
    addr: SocketAddr,
    banner: String,
}

impl Running {
    fn start(env: &TestEnv, args: &[&str]) -> Self {
        let mut child = env
            .command(["emulator", "--port", "0"].iter().chain(args))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        // The banner ends with the "Ctrl-C stops." line.
        while !banner.contains("Ctrl-C stops.") {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let status = child.wait().unwrap();
                let mut stderr = String::new();
                std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
                    .unwrap();
                panic!(
                    "aepact emulator exited ({status}) before printing its URL:\n{banner}\n{stderr}"
                );
            }
            banner.push_str(&line);
        }
        let first = banner.lines().next().unwrap();
        let url = first.strip_prefix("aepact emulator listening on ").unwrap();
        let addr: SocketAddr = url.strip_prefix("http://").unwrap().parse().unwrap();
        assert!(addr.ip().is_loopback());
        Self {
            child,
            addr,
            banner,
        }
    }

    fn token(&self) -> String {
        let form = format!(
            "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={SECRET}&scope=openid"
        );
        let reply = send(
            self.addr,
            "POST",
            "/ims/token/v3",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(form.as_bytes()),
        )
        .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["access_token"].as_str().unwrap().to_owned()
    }

    fn adhoc(&self, token: &str) -> u16 {
        let auth = format!("Bearer {token}");
        let body = json!({"activationInfo": {EMAIL: [GOLD]}, "exportIds": ["11044"]}).to_string();
        send(
            self.addr,
            "POST",
            "/data/core/activation/disflowprovider/adhocrun",
            &[
                ("Authorization", &auth),
                ("x-api-key", CLIENT_ID),
                ("x-gw-ims-org-id", ORG),
                ("Content-Type", "application/json"),
            ],
            Some(body.as_bytes()),
        )
        .unwrap()
        .status
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_emulator_command_serves_the_demo_world() {
    let env = TestEnv::new();
    let running = Running::start(&env, &["--run-duration", "0"]);
    let url = format!("http://{}", running.addr);
    assert!(
        running
            .banner
            .contains(&format!("export AEP_PLATFORM_URL={url}")),
        "{}",
        running.banner
    );
    assert!(running.banner.contains(&format!("export AEP_ORG_ID={ORG}")));
    assert!(running.banner.contains("Sandboxes: dev, prod."));
    let info = send(running.addr, "GET", "/_emulator/info", &[], None)
        .unwrap()
        .json();
    assert_eq!(info["platformUrl"], url);
    assert_eq!(info["runDurationMs"], 0);
    let token = running.token();
    assert_eq!(running.adhoc(&token), 200);
    // Instant runs: the segment is free again at once.
    assert_eq!(running.adhoc(&token), 200);
}

#[test]
fn separate_emulator_processes_share_a_state_file() {
    let env = TestEnv::new();
    let first = Running::start(&env, &["--state", "world.json", "--run-duration", "1h"]);
    let token = first.token();
    assert_eq!(first.adhoc(&token), 200);
    drop(first);
    assert!(env.path().join("world.json").is_file());
    let second = Running::start(&env, &["--state", "world.json", "--run-duration", "1h"]);
    // The run from the first process is still going, and the old token is still good.
    assert_eq!(second.adhoc(&token), 409);
}

#[test]
fn the_emulator_command_refuses_bad_seeds_and_arguments() {
    let env = TestEnv::new().with_file(
        "seed.yaml",
        "org: x\nclients: []\nsandboxes: {}\nextra: 1\n",
    );
    let out = env.run(["emulator", "--seed", "seed.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.contains("seed.yaml"), "{out}");
    assert!(out.stderr.contains("unknown field `extra`"), "{out}");

    let env = env.with_file("seed.yaml", "org: x\nclients: []\nsandboxes: {}\n");
    let out = env.run(["emulator", "--seed", "seed.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.contains("is not a valid world"), "{out}");
    assert_eq!(
        out.stderr.matches("aepact::invalid_value").count(),
        3,
        "{out}"
    );
    assert!(out.stderr.contains("is not an IMS org ID"), "{out}");

    let out = env.run(["emulator", "--seed", "missing.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.contains("missing.yaml"), "{out}");

    let out = env.run(["emulator", "--run-duration", "5 days"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.contains("--run-duration"), "{out}");

    let out =
        env.with_file("world.json", "{\"format\": 7}")
            .run(["emulator", "--state", "world.json"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.contains("format 7"), "{out}");
}

#[test]
fn emulator_help_describes_every_flag() {
    let out = TestEnv::new().run(["emulator", "--help"]);
    assert_eq!(out.status, 0, "{out}");
    insta::assert_snapshot!("emulator_help", out.stdout);
}
