//! A real SMTP server for the notification tests: aiosmtpd (from PyPI, installed under
//! `target/smtp-venv` by `scripts/ensure-tools.sh --test`) on a free loopback port, storing
//! every mail it accepts in a maildir that the tests read.

use std::{
    collections::HashMap,
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::workspace_root;

pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl SmtpSink {
    /// Starts the server and waits until it accepts connections.
    pub fn start() -> SmtpSink {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut sink = SmtpSink {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        sink.resume();
        sink
    }

    fn program() -> PathBuf {
        let program = workspace_root().join("target/smtp-venv/bin/aiosmtpd");
        assert!(
            program.exists(),
            "{} is missing: run `make test-tools` (scripts/ensure-tools.sh --test)",
            program.display()
        );
        program
    }

    /// Starts the server (again) on the same port, keeping the mails it stored.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the SMTP server is running already");
        let child = Command::new(Self::program())
            .args(["-n", "-l", &format!("127.0.0.1:{}", self.port)])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.dir.path().join("maildir"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        self.child = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "aiosmtpd did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server: mail sent now is refused (connection refused).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `PATDESK_SMTP_URL` for a server that mails through this one.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail stored so far.
    pub fn mails(&self) -> Vec<Mail> {
        let mut mails = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.dir.path().join("maildir").join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                if let Ok(raw) = std::fs::read_to_string(entry.path()) {
                    mails.push(Mail::parse(raw));
                }
            }
        }
        mails
    }

    /// The mails of one kind (`X-Patdesk-Notice`) about one token.
    pub fn about(&self, kind: &str, token_id: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.notice() == kind && m.token() == token_id)
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One stored mail: its headers (names in lower case; aiosmtpd adds `X-RcptTo`) and its
/// body with the quoted-printable encoding undone.
pub struct Mail {
    pub raw: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Mail {
    fn parse(raw: String) -> Mail {
        let raw_unix = raw.replace("\r\n", "\n");
        let (head, body) = raw_unix.split_once("\n\n").unwrap_or((&raw_unix, ""));
        let mut headers = HashMap::new();
        let mut last: Option<String> = None;
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some(name) = &last {
                    headers
                        .entry(name.clone())
                        .and_modify(|v: &mut String| v.push_str(line.trim_start()));
                }
                continue;
            }
            if let Some((name, value)) = line.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                headers.insert(name.clone(), value.trim().to_string());
                last = Some(name);
            }
        }
        Mail {
            body: decode_quoted_printable(body),
            headers,
            raw,
        }
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map_or("", String::as_str)
    }

    pub fn notice(&self) -> &str {
        self.header("X-Patdesk-Notice")
    }

    pub fn token(&self) -> &str {
        self.header("X-Patdesk-Token")
    }

    pub fn to(&self) -> &str {
        self.header("X-RcptTo")
    }

    /// Whether `text` is anywhere in the mail, as sent or decoded.
    pub fn contains(&self, text: &str) -> bool {
        self.raw.contains(text) || self.body.contains(text)
    }
}

/// Undoes quoted-printable: soft line breaks (`=` at a line's end) and `=XX` bytes.
fn decode_quoted_printable(text: &str) -> String {
    let bytes = text.replace("=\n", "").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(
                std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                16,
            )
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
