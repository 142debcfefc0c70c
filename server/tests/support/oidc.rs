//! A real OpenID provider for the single sign-on tests: oidc-provider-mock (from PyPI, installed
//! under `target/oidc-venv` by `scripts/ensure-tools.sh --test`) on a free loopback port. Its
//! authorization page is a form that takes the subject to sign in as; `PUT /users/<sub>` sets
//! the claims that subject's tokens carry.

use std::{
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::workspace_root;

pub struct Provider {
    pub port: u16,
    child: Option<Child>,
}

impl Provider {
    /// Starts the provider (nonces required) and waits until it answers.
    pub fn start() -> Provider {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let program = workspace_root().join("target/oidc-venv/bin/oidc-provider-mock");
        assert!(
            program.exists(),
            "{} is missing: run `make test-tools` (scripts/ensure-tools.sh --test)",
            program.display()
        );
        let child = Command::new(program)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--require-nonce", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start oidc-provider-mock");
        let started = Instant::now();
        // Ready when *this* provider serves its discovery document: a port that merely accepts
        // a connection may belong to another test's server that took the port first.
        while !serves_discovery(port) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "oidc-provider-mock did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Provider {
            port,
            child: Some(child),
        }
    }

    /// The issuer URL (as the provider names itself when asked at this address).
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sets the claims of `sub`'s tokens.
    pub async fn set_user(&self, sub: &str, claims: serde_json::Value) {
        let response = reqwest::Client::new()
            .put(format!("{}/users/{sub}", self.issuer()))
            .json(&claims)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }

    /// Stops the provider: patdesk's requests to it are refused from now on.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether an OpenID provider answers its discovery document on `port`, naming that port.
fn serves_discovery(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request =
        format!("GET /.well-known/openid-configuration HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    (answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"))
        && answer.contains(&format!("127.0.0.1:{port}"))
}
