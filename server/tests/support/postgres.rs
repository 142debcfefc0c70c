//! PostgreSQL for black-box tests: a throw-away database per test on the server named by
//! `PATDESK_TEST_POSTGRES_URL` (set by `.ci/run`), and a TCP proxy the test can cut.

use std::{
    net::SocketAddr,
    sync::atomic::{AtomicUsize, Ordering},
};

use sea_orm::{ConnectionTrait, Database};
use tokio::{
    io::copy_bidirectional,
    net::{TcpListener, TcpStream},
    sync::watch,
};

/// The server's URL. The tests that need PostgreSQL are `#[ignore]`d (so that without one they
/// are reported as ignored, never as passed) and run by `make test-rust-postgres` with
/// `--ignored`; there a missing URL is a failure.
pub fn admin_url() -> String {
    match std::env::var("PATDESK_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "this test needs PostgreSQL: set PATDESK_TEST_POSTGRES_URL (scripts/postgres.sh prints one)"
        ),
    }
}

/// A database created for one test and dropped when it ends.
pub struct TempDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl TempDatabase {
    pub fn create() -> TempDatabase {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let admin_url = admin_url();
        let name = format!(
            "patdesk_t{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        admin(
            &admin_url,
            &[
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                format!("CREATE DATABASE {name}"),
            ],
        );
        let url = with_database(&admin_url, &name);
        TempDatabase {
            admin_url,
            name,
            url,
        }
    }

    /// The same database, reached through `addr` (a proxy) instead.
    pub fn url_via(&self, addr: SocketAddr) -> String {
        let (scheme, rest) = self.url.split_once("://").unwrap();
        let (credentials, rest) = rest.rsplit_once('@').unwrap();
        let path = &rest[rest.find('/').unwrap()..];
        format!("{scheme}://{credentials}@{addr}{path}")
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        admin(
            &self.admin_url,
            &[format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )],
        );
    }
}

/// Runs statements on the admin connection, on a runtime of its own (callable from anywhere,
/// `Drop` included).
fn admin(url: &str, statements: &[String]) {
    let url = url.to_string();
    let statements = statements.to_vec();
    on_own_thread(async move {
        let db = Database::connect(&url)
            .await
            .expect("connect to PostgreSQL");
        for statement in statements {
            db.execute_unprepared(&statement)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        db.close().await.ok();
    })
    .join()
    .unwrap();
}

/// Runs `task` to completion on a runtime of its own, on a thread of its own.
fn on_own_thread(
    task: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(task)
    })
}

fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base.rfind('/').expect("URL has a path");
    let mut out = format!("{}/{database}", &base[..cut]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A TCP proxy to `target` on a thread of its own. `cut()` closes every connection through it
/// and refuses new ones (as a network partition or a database restart would look to the
/// server); `restore()` lets connections through again.
pub struct TcpProxy {
    pub addr: SocketAddr,
    open: watch::Sender<bool>,
}

impl TcpProxy {
    pub fn start(target: SocketAddr) -> TcpProxy {
        let (open, _) = watch::channel(true);
        let state = open.subscribe();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        on_own_thread(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !*state.borrow() {
                    drop(inbound);
                    continue;
                }
                let mut state = state.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = state.wait_for(|open| !*open) => {}
                    }
                });
            }
        });
        TcpProxy {
            addr: addr_rx.recv().unwrap(),
            open,
        }
    }

    pub fn cut(&self) {
        self.open.send_replace(false);
    }

    pub fn restore(&self) {
        self.open.send_replace(true);
    }
}

/// The host and port of a `postgres://` URL.
pub fn server_addr(url: &str) -> SocketAddr {
    let rest = url.split_once("://").unwrap().1;
    let host_port = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let host_port = host_port.split(['/', '?']).next().unwrap();
    let with_port = if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    };
    std::net::ToSocketAddrs::to_socket_addrs(&with_port)
        .unwrap()
        .next()
        .unwrap()
}
