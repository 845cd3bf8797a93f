//! HTTPS requests by curl (Debian's), for the exporter's TLS tests: client
//! certificates, passwords and TLS versions as a real client sends them.

use std::path::Path;
use std::time::Duration;

use crate::process::run;

/// What curl got.
#[derive(Debug)]
pub struct Fetched {
    /// curl's exit status: 0 when an answer came, whatever its status.
    pub exit: i32,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// The answer's headers, one per line.
    pub headers: String,
    /// The answer's body.
    pub body: String,
    /// What curl said on stderr.
    pub stderr: String,
}

/// `curl ARGS URL`, quietly, with the answer's headers, within 20 s.
pub fn curl(url: &str, args: &[&str]) -> Fetched {
    let mut all = vec!["-sS", "-i", "--max-time", "20"];
    all.extend_from_slice(args);
    all.push(url);
    let done = run(Path::new("curl"), &all, Duration::from_secs(30));
    let text = done.stdout_text();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    let status = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok());
    Fetched {
        exit: done.code(),
        status,
        headers: head.replace("\r\n", "\n"),
        body: body.to_owned(),
        stderr: done.stderr,
    }
}
