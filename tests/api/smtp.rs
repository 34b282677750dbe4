//! A real SMTP server on loopback for the notification tests: aiosmtpd,
//! driven by `tests/smtp_sink.py`, writing each message it accepts to a
//! directory as JSON.
//!
//! Python comes from `BAR_RAISER_TEST_PYTHON`, else the repository's
//! `.venv/` (what `.ci/run` builds), else `python3`; it must import aiosmtpd.
//! Without one, SMTP cases print `skipped: …` and pass, unless
//! `BAR_RAISER_REQUIRE_SMTP=1` (CI), which makes them fail instead.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// One message as the server received it, headers and bodies decoded.
#[derive(Debug, Clone, Deserialize)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub raw: String,
}

fn usable(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The Python to run the server with, or why there is none.
fn python() -> Result<PathBuf, String> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            if let Ok(p) = std::env::var("BAR_RAISER_TEST_PYTHON")
                && !p.is_empty()
            {
                let p = PathBuf::from(p);
                return if usable(&p) {
                    Ok(p)
                } else {
                    Err(format!(
                        "BAR_RAISER_TEST_PYTHON={} cannot import aiosmtpd",
                        p.display()
                    ))
                };
            }
            let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
            [venv, PathBuf::from("python3")]
                .into_iter()
                .find(|p| usable(p))
                .ok_or_else(|| {
                    "SMTP case needs Python with aiosmtpd (BAR_RAISER_TEST_PYTHON or .venv/)"
                        .to_string()
                })
        })
        .clone()
}

/// The Python to use, or `None` after printing why the case is skipped.
fn python_or_skip() -> Option<PathBuf> {
    match python() {
        Ok(p) => Some(p),
        Err(why) => {
            if std::env::var("BAR_RAISER_REQUIRE_SMTP").is_ok_and(|v| v == "1") {
                panic!("BAR_RAISER_REQUIRE_SMTP=1 but {why}");
            }
            eprintln!("skipped: {why}");
            None
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct SmtpServer {
    python: PathBuf,
    pub port: u16,
    dir: tempfile::TempDir,
    delay: f64,
    child: Option<Child>,
}

impl SmtpServer {
    /// A running server, or `None` when the case is skipped.
    pub fn start() -> Option<SmtpServer> {
        Self::start_with_delay(0.0)
    }

    /// A running server that holds each message `delay` seconds before
    /// accepting it.
    pub fn start_with_delay(delay: f64) -> Option<SmtpServer> {
        let mut s = Self::not_running()?;
        s.delay = delay;
        s.run();
        Some(s)
    }

    /// A server that is down: its port is chosen, nothing listens yet.
    pub fn not_running() -> Option<SmtpServer> {
        Some(SmtpServer {
            python: python_or_skip()?,
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            delay: 0.0,
            child: None,
        })
    }

    /// Starts (or restarts) the server and waits until it accepts mail.
    pub fn run(&mut self) {
        assert!(self.child.is_none(), "SMTP server already running");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new(&self.python)
            .arg(script)
            .args(["--port", &self.port.to_string()])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--delay", &self.delay.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "SMTP server did not start");
        self.child = Some(child);
    }

    /// Stops the server: connections are refused until [`run`](Self::run).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// lettre's URL for this server.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// While on, every recipient is refused with a permanent 550.
    pub fn reject_all(&self, on: bool) {
        let flag = self.dir.path().join("REJECT");
        if on {
            std::fs::write(flag, b"").unwrap();
        } else {
            let _ = std::fs::remove_file(flag);
        }
    }

    /// Everything received so far, in arrival order.
    pub fn received(&self) -> Vec<Mail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits until at least `n` messages have arrived.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} messages within {within:?}, got {}: {:#?}",
                got.len(),
                got.iter().map(|m| &m.subject).collect::<Vec<_>>()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How often each `Message-ID` arrived.
pub fn by_message_id(mails: &[Mail]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for m in mails {
        *seen.entry(m.message_id.clone()).or_default() += 1;
    }
    seen
}
