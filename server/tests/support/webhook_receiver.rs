//! A webhook receiver for the webhook tests: `scripts/webhook-receiver.py` on a free loopback
//! port, verifying every delivery with PyPI `standardwebhooks` (the Standard Webhooks
//! specification's own library, under `target/webhooks-venv`, installed by
//! `scripts/ensure-tools.sh --test`) against the secrets the test gives each endpoint. Only
//! verified deliveries are kept.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use super::workspace_root;

pub struct Receiver {
    pub port: u16,
    child: Child,
}

/// What an endpoint of the receiver has seen.
#[derive(Debug)]
pub struct Seen {
    /// Verified deliveries, in the order they arrived.
    pub deliveries: Vec<Value>,
    /// Requests of any kind, answered or not.
    pub attempts: u64,
    /// Requests whose signature no secret verified.
    pub refused: u64,
}

impl Seen {
    /// The `type` of each verified delivery, in order.
    pub fn types(&self) -> Vec<String> {
        self.deliveries
            .iter()
            .map(|d| d["type"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The `webhook-id` of each verified delivery, in order.
    pub fn ids(&self) -> Vec<String> {
        self.deliveries
            .iter()
            .map(|d| d["id"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Receiver {
    pub fn start() -> Receiver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let python = workspace_root().join("target/webhooks-venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run `make test-tools` (scripts/ensure-tools.sh --test)",
            python.display()
        );
        let child = Command::new(python)
            .arg(workspace_root().join("scripts/webhook-receiver.py"))
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start scripts/webhook-receiver.py");
        let receiver = Receiver { port, child };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "webhook-receiver.py did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        receiver
    }

    /// The URL of endpoint `name`.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/hook/{name}", self.port)
    }

    /// Sets what endpoint `name` does: `{"secrets": […], "down": bool, "hold_seconds": n}`.
    pub async fn control(&self, name: &str, settings: Value) {
        let response = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/control/{name}", self.port))
            .json(&settings)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }

    /// Endpoint `name` verifies with `secret` only.
    pub async fn trust(&self, name: &str, secret: &str) {
        self.control(name, json!({ "secrets": [secret] })).await;
    }

    pub async fn seen(&self, name: &str) -> Seen {
        let seen: Value = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{}/received/{name}", self.port))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Seen {
            deliveries: seen["deliveries"].as_array().cloned().unwrap_or_default(),
            attempts: seen["attempts"].as_u64().unwrap_or_default(),
            refused: seen["refused"].as_u64().unwrap_or_default(),
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
