//! A CI platform's identity-token issuer for the federation tests: `scripts/ci-issuer.py`
//! (PyJWT and `cryptography`, installed under `target/ci-issuer-venv` by
//! `scripts/ensure-tools.sh --test`) on a free loopback port. It serves discovery and a JWKS,
//! and signs the identity tokens a test asks for — GitHub Actions- or GitLab-shaped, or wrong
//! in one chosen way.

use std::{
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use super::workspace_root;

pub struct Issuer {
    pub port: u16,
    child: Option<Child>,
}

/// How a signed token is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lie {
    /// Signed, then its payload changed.
    Tampered,
    AlgNone,
    /// HS256 keyed with the published RSA public key.
    HmacWithPublicKey,
}

impl Issuer {
    pub fn start() -> Issuer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let python = workspace_root().join("target/ci-issuer-venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run `make test-tools` (scripts/ensure-tools.sh --test)",
            python.display()
        );
        let child = Command::new(python)
            .arg(workspace_root().join("scripts/ci-issuer.py"))
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start scripts/ci-issuer.py");
        let issuer = Issuer {
            port,
            child: Some(child),
        };
        let started = Instant::now();
        // Ready when *this* issuer serves its discovery document under its own name.
        while !issuer.serves_discovery() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "ci-issuer.py did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        issuer
    }

    fn serves_discovery(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let request = format!(
            "GET /.well-known/openid-configuration HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.0 200") && answer.contains(&format!("\"{}\"", self.url()))
    }

    /// The issuer URL, as its tokens' `iss` says.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A token with `claims` (over the issuer's defaults: `iss`, `iat`, `nbf`, `exp` in 300 s,
    /// a fresh `jti`; `null` leaves a claim out), signed with `key` ("rsa", "ec" or "next").
    pub async fn sign(&self, claims: Value, key: &str) -> String {
        self.sign_with(claims, key, None).await
    }

    pub async fn sign_with(&self, claims: Value, key: &str, lie: Option<Lie>) -> String {
        let lie = lie.map(|lie| match lie {
            Lie::Tampered => "tampered",
            Lie::AlgNone => "alg_none",
            Lie::HmacWithPublicKey => "hmac_public",
        });
        let response = reqwest::Client::new()
            .post(format!("{}/sign", self.url()))
            .json(&json!({"claims": claims, "key": key, "lie": lie}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        response.text().await.unwrap()
    }

    /// Adds the "next" key to the published set: a key rotation.
    pub async fn publish_next_key(&self) {
        let response = reqwest::Client::new()
            .post(format!("{}/publish-next", self.url()))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }

    /// Stops the issuer: its keys cannot be fetched from now on.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The claims of a GitHub Actions job of `repository` on `git_ref` (as GitHub documents them).
pub fn github_claims(audience: &str, repository: &str, git_ref: &str) -> Value {
    let (owner, _) = repository.split_once('/').unwrap();
    json!({
        "aud": audience,
        "sub": format!("repo:{repository}:ref:{git_ref}"),
        "repository": repository,
        "repository_owner": owner,
        "repository_owner_id": "1001",
        "repository_id": "2002",
        "ref": git_ref,
        "ref_type": "branch",
        "workflow_ref": format!("{repository}/.github/workflows/deploy.yml@{git_ref}"),
        "job_workflow_ref": format!("{repository}/.github/workflows/deploy.yml@{git_ref}"),
        "run_id": "4242",
        "run_attempt": "1",
        "actor": "octocat",
        "event_name": "push",
    })
}

/// The claims of a GitLab CI job (`id_tokens`) of `project_path` on `branch`.
pub fn gitlab_claims(audience: &str, project_path: &str, branch: &str) -> Value {
    let (namespace, _) = project_path.rsplit_once('/').unwrap();
    json!({
        "aud": audience,
        "sub": format!("project_path:{project_path}:ref_type:branch:ref:{branch}"),
        "namespace_id": "72",
        "namespace_path": namespace,
        "project_id": "20",
        "project_path": project_path,
        "user_login": "sample-user",
        "pipeline_id": "574",
        "job_id": "302",
        "ref": branch,
        "ref_type": "branch",
        "ref_protected": "true",
        "environment": "production",
    })
}
