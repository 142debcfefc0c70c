//! Runs the real `patdesk` binary for black-box tests: its own temporary SQLite database (or a
//! throw-away PostgreSQL database), a free port, logs captured for inspection.

#![allow(dead_code)]

pub mod ci_issuer;
pub mod forged_idp;
pub mod oidc;
pub mod postgres;
pub mod smtp;
pub mod webhook_receiver;

use reqwest::{Client, Response, header};
use serde_json::Value;
use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

pub const BIN: &str = env!("CARGO_BIN_EXE_patdesk");

/// The workspace root, where `target/site` lives.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A `patdesk` command with a clean environment: only what a test sets reaches it.
pub fn patdesk(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("LEPTOS_SITE_ROOT", workspace_root().join("target/site"));
    command
}

pub fn run(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = patdesk(dir);
    command.args(args).stdin(Stdio::null());
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("run patdesk")
}

pub struct TestServer {
    pub base: String,
    pub dir: tempfile::TempDir,
    database_url: String,
    /// The database `start()` made for this server, dropped after it.
    owned_database: Option<TestDatabase>,
    child: Child,
    log: Arc<Mutex<String>>,
}

impl TestServer {
    /// Starts `patdesk serve` on a fresh database of its own (see [`test_database`]) in a
    /// temporary directory.
    pub fn start() -> TestServer {
        Self::start_env(&[])
    }

    /// [`TestServer::start`] with extra environment variables.
    pub fn start_env(envs: &[(&str, &str)]) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let database = test_database(dir.path());
        let mut server = Self::start_with(dir, &database.url, envs);
        server.owned_database = Some(database);
        server
    }

    pub fn start_in(dir: tempfile::TempDir, database_url: &str) -> TestServer {
        Self::start_with(dir, database_url, &[])
    }

    /// Starts `patdesk serve` with extra environment variables.
    pub fn start_with(
        dir: tempfile::TempDir,
        database_url: &str,
        envs: &[(&str, &str)],
    ) -> TestServer {
        let mut command = patdesk(dir.path());
        // A test may listen elsewhere (`[::]:0` for IPv6 callers).
        command.env("PATDESK_ADDR", "127.0.0.1:0");
        for (k, v) in envs {
            command.env(k, v);
        }
        let mut child = command
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn patdesk serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let addr = rest
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_string();
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(addr);
                        }
                    }
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("server did not start:\n{}", log.lock().unwrap());
            }
        };
        TestServer {
            base: format!("http://{addr}"),
            dir,
            database_url: database_url.to_string(),
            owned_database: None,
            child,
            log,
        }
    }

    /// The URL of the server's own SQLite database (for the CLI and direct inspection).
    pub fn database_url(&self) -> String {
        self.database_url.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A connection of the test's own to the server's database (SQLite or PostgreSQL), for
    /// what no interface offers: planting a fault, say.
    pub async fn connect_database(&self) -> sea_orm::DatabaseConnection {
        let url: domain::db::DatabaseUrl = self.database_url.parse().unwrap();
        domain::db::connect(&url).await.unwrap()
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }

    /// Keeps `database` until the server is gone.
    pub fn keep(&mut self, database: TestDatabase) {
        self.owned_database = Some(database);
    }

    /// Whether the process is still alive.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Kills the server at once (SIGKILL): nothing is flushed.
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGKILL (a crash: nothing is flushed or finished), keeping the temporary directory (and
    /// a SQLite database in it) for a restart with [`TestServer::start_with`].
    pub fn kill_hard_keep_dir(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    /// Sends SIGTERM, waits for a clean exit, and keeps the temporary directory and the
    /// database for inspection (until the returned value is dropped).
    pub fn terminate_keep_data(mut self) -> KeptData {
        assert!(self.stop().success());
        KeptData {
            _dir: std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap()),
            _database: self.owned_database.take(),
        }
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        self.stop()
    }

    fn stop(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not stop after SIGTERM");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a stopped server leaves behind.
pub struct KeptData {
    _dir: tempfile::TempDir,
    _database: Option<TestDatabase>,
}

pub const PASSWORD: &str = "correct horse battery staple";

pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// An HTTP client whose requests come from 127.0.0.`last`: Linux routes all of 127.0.0.0/8 to
/// the loopback interface, so to the server these are distinct client IPs, with no proxy header.
pub fn client_from(last: u8) -> Client {
    Client::builder()
        .local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
            127, 0, 0, last,
        )))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A browser-like caller: same-origin requests carrying its session cookie.
pub struct Caller<'a> {
    pub server: &'a TestServer,
    pub client: Client,
    pub cookie: Option<String>,
}

impl<'a> Caller<'a> {
    pub fn new(server: &'a TestServer) -> Self {
        Caller {
            server,
            client: client(),
            cookie: None,
        }
    }

    pub async fn call(&mut self, function: &str, form: &[(&str, &str)]) -> Response {
        self.call_from(function, form, Some(&self.server.base.clone()))
            .await
    }

    pub async fn call_from(
        &mut self,
        function: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Response {
        let mut request = self
            .client
            .post(self.server.url(&format!("/rpc/{function}")))
            .form(form);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        for value in response.headers().get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap().to_string();
            self.cookie = if pair.ends_with('=') {
                None
            } else {
                Some(pair)
            };
        }
        response
    }

    pub async fn get(&self, path: &str) -> Response {
        let mut request = self.client.get(self.server.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    pub async fn sign_up(&mut self, username: &str) {
        let response = self
            .call(
                "sign_up",
                &[
                    ("username", username),
                    ("password", PASSWORD),
                    ("password_confirmation", PASSWORD),
                ],
            )
            .await;
        assert!(
            response.status().is_success() || response.status().is_redirection(),
            "{}",
            response.status()
        );
        assert!(self.cookie.is_some(), "sign-up should start a session");
    }

    pub async fn sign_in(&mut self, username: &str, password: &str) -> Response {
        self.call("sign_in", &[("username", username), ("password", password)])
            .await
    }
}

/// The database a black-box test runs on: an SQLite file in the test's directory, or with
/// `PATDESK_TEST_BACKEND=postgres` a throw-away PostgreSQL database (`make test` runs the API
/// suites both ways when PostgreSQL is available).
pub struct TestDatabase {
    pub url: String,
    _postgres: Option<postgres::TempDatabase>,
}

pub fn test_database(dir: &Path) -> TestDatabase {
    if std::env::var("PATDESK_TEST_BACKEND").as_deref() == Ok("postgres") {
        let database = postgres::TempDatabase::create();
        return TestDatabase {
            url: database.url.clone(),
            _postgres: Some(database),
        };
    }
    TestDatabase {
        url: sqlite_url(dir),
        _postgres: None,
    }
}

/// The SQLite URL of the database file `patdesk.db` in `dir`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("patdesk.db").display())
}

/// Runs the CLI against the server's database.
pub fn cli(server: &TestServer, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    cli_at(server.dir.path(), &server.database_url(), args, stdin)
}

/// Runs the CLI in `dir` against the database at `url`, with `stdin` as its input.
pub fn cli_at(dir: &Path, url: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = patdesk(dir)
        .args(args)
        .env("DATABASE_URL", url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

/// `out`, after checking that the command succeeded (its stderr otherwise).
pub fn ok(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `GET /api/v1/me` with `token`: the status and the body (`null` when it is not JSON).
pub async fn me_status(
    client: &Client,
    server: &TestServer,
    token: &str,
) -> (reqwest::StatusCode, Value) {
    let response = client
        .get(server.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn json(response: Response) -> Value {
    response.json().await.unwrap()
}

/// A SCIM credential made with the CLI: its secret.
pub fn scim_credential(server: &TestServer) -> String {
    let out = ok(cli(
        server,
        &["scim", "credential", "create", "--name", "Okta", "--json"],
        None,
    ));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    created["secret"].as_str().unwrap().to_string()
}

/// Creates a token with the CLI and returns (id, value).
pub fn token(
    server: &TestServer,
    user: &str,
    team: &str,
    description: &str,
    write: bool,
) -> (String, String) {
    let mut args = vec![
        "token",
        "create",
        "--user",
        user,
        "--team",
        team,
        "--description",
        description,
        "--json",
    ];
    if write {
        args.push("--write");
    }
    let out = ok(cli(server, &args, None));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        created["id"].as_str().unwrap().into(),
        created["token"].as_str().unwrap().into(),
    )
}

/// Creates a fine-grained token with the CLI, holding exactly `permissions`
/// (docs/permissions.md): (id, value).
pub fn fine_grained_token(
    server: &TestServer,
    user: &str,
    team: &str,
    description: &str,
    permissions: &[&str],
) -> (String, String) {
    let mut args = vec![
        "token",
        "create",
        "--user",
        user,
        "--team",
        team,
        "--description",
        description,
        "--json",
    ];
    for permission in permissions {
        args.extend(["--permission", permission]);
    }
    let created: Value = serde_json::from_slice(&ok(cli(server, &args, None)).stdout).unwrap();
    (
        created["id"].as_str().unwrap().into(),
        created["token"].as_str().unwrap().into(),
    )
}

/// Makes `username`'s sessions look signed in three hours ago (time passing: no interface
/// offers it), past the default sudo window of two hours.
pub async fn age_sessions(server: &TestServer, username: &str) {
    let db = server.connect_database().await;
    let aged = chrono::Utc::now() - chrono::Duration::hours(3);
    let changed = execute(
        &db,
        "UPDATE sessions SET authenticated_at = $1 \
         WHERE user_id = (SELECT id FROM users WHERE username = $2)",
        [aged.into(), username.into()],
    )
    .await;
    assert!(changed > 0, "{username} has no session to age");
}

/// Retries `check` until it holds: changes made by another process (the CLI, a second server)
/// reach a server's cached token checks within a second (docs/api.md). A check that *started*
/// more than a second after the change and still fails breaks that promise; a slow machine
/// that merely answers late does not (the overall deadline is generous).
pub async fn within_a_second<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let changed = std::time::Instant::now();
    loop {
        let started = changed.elapsed();
        if check().await {
            return;
        }
        assert!(
            started < Duration::from_secs(1),
            "not within a second: {what} (a check started {started:?} after the change failed)"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Polls `check` until it gives a value, for at most `GENEROUS` (a wait on an event, not a
/// fixed sleep: it returns as soon as the event has happened).
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = std::time::Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < GENEROUS,
            "waited {GENEROUS:?} for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long a test waits for something that should take a moment.
pub const GENEROUS: Duration = Duration::from_secs(30);

/// A usage flush interval short enough that tests wait little for last-used data.
pub const FAST_FLUSH: (&str, &str) = ("PATDESK_USAGE_FLUSH_MS", "100");

/// The usual start: user alice (password [`PASSWORD`]) and her team ops, made with the CLI.
pub fn alice_owns_ops(server: &TestServer) {
    ok(cli(
        server,
        &["user", "add", "alice"],
        Some(&format!("{PASSWORD}\n")),
    ));
    ok(cli(
        server,
        &["team", "add", "ops", "--owner", "alice"],
        None,
    ));
}

/// Rows that `sql` (a `SELECT COUNT(*) AS n …` with `$1`, `$2`… for `values`) counts: how the
/// tests look at what no interface shows, in plain SQL on either database.
pub async fn count(
    db: &sea_orm::DatabaseConnection,
    sql: &str,
    values: impl IntoIterator<Item = sea_orm::Value>,
) -> i64 {
    use sea_orm::ConnectionTrait;
    let statement = sea_orm::Statement::from_sql_and_values(db.get_database_backend(), sql, values);
    let row = db.query_one_raw(statement).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// One text column of one row (`sql` selects it as `v`), `None` when no row or a null.
pub async fn text(
    db: &sea_orm::DatabaseConnection,
    sql: &str,
    values: impl IntoIterator<Item = sea_orm::Value>,
) -> Option<String> {
    use sea_orm::ConnectionTrait;
    let statement = sea_orm::Statement::from_sql_and_values(db.get_database_backend(), sql, values);
    let row = db.query_one_raw(statement).await.unwrap()?;
    row.try_get::<Option<String>>("", "v").unwrap()
}

/// Runs a change no interface offers (time passing: a token's expiry moved); the rows it
/// changed.
pub async fn execute(
    db: &sea_orm::DatabaseConnection,
    sql: &str,
    values: impl IntoIterator<Item = sea_orm::Value>,
) -> u64 {
    use sea_orm::ConnectionTrait;
    let statement = sea_orm::Statement::from_sql_and_values(db.get_database_backend(), sql, values);
    db.execute_raw(statement).await.unwrap().rows_affected()
}

/// Moves a token's expiry (what no interface offers: time passing).
pub async fn set_token_expiry(
    db: &sea_orm::DatabaseConnection,
    id: &str,
    at: Option<chrono::DateTime<chrono::Utc>>,
) {
    let sql = "UPDATE tokens SET expires_at = $1 WHERE id = $2";
    assert_eq!(execute(db, sql, [at.into(), id.into()]).await, 1);
}

/// An HTTP header value parsed as a Structured Fields list (RFC 9651) by a parser written by
/// others — http-sf from PyPI, under `target/http-sf-venv` (`scripts/ensure-tools.sh --test`) —
/// as JSON: `[["token", {"q": 100, "w": 60}]]` for `"token";q=100;w=60`. Panics when it does
/// not parse.
pub fn structured_field_list(value: &str) -> Value {
    let python = workspace_root().join("target/http-sf-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make test-tools` (scripts/ensure-tools.sh --test)",
        python.display()
    );
    let out = Command::new(python)
        .args([
            "-c",
            "import http_sf, json, sys; print(json.dumps(http_sf.parse(sys.argv[1].encode(), tltype='list')))",
            value,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{value:?} is no Structured Fields list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
