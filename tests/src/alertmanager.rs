//! The alerting side of the exporter's tests: Debian's Alertmanager on
//! loopback, in a folder of its own, and a webhook receiver written here
//! that hands each notification Alertmanager posts to the test. Both are
//! stopped when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::process::{Background, run};
use crate::prometheus::{free_port, wait_ready};

/// The largest notification the receiver takes: Alertmanager's for a
/// thousand alerts is far below it.
const MOST: usize = 64 << 20;

/// How long the receiver waits for a request's bytes once its connection
/// is open.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Alertmanager's configuration: every alert, grouped by name and
/// instance, posted to `webhook` at once and again every second while it
/// holds (the shortest intervals Alertmanager takes), resolved ones too.
pub fn webhook_config(webhook: &str) -> String {
    format!(
        "route:
  receiver: test
  group_by: ['alertname', 'instance']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1s
receivers:
  - name: test
    webhook_configs:
      - url: '{webhook}'
        send_resolved: true
"
    )
}

/// Debian's Alertmanager (`prometheus-alertmanager`), alone (no cluster),
/// storing in a temporary folder of its own.
#[derive(Debug)]
pub struct Alertmanager {
    /// Where its API listens, and where Prometheus sends alerts.
    pub addr: SocketAddr,
    process: Background,
    _dir: TempDir,
}

impl Alertmanager {
    /// Checks `config` with amtool, starts Alertmanager with it, and waits
    /// until `/-/ready` answers.
    pub fn start(config: &str) -> Alertmanager {
        let dir = tempfile::tempdir().expect("a directory");
        let file = dir.path().join("alertmanager.yml");
        std::fs::write(&file, config).expect("write alertmanager.yml");
        let file = file.to_str().expect("a UTF-8 path");
        let checked = run(
            Path::new("amtool"),
            &["check-config", file],
            Duration::from_secs(30),
        );
        assert_eq!(checked.code(), 0, "amtool check-config: {checked:?}");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port())
            .parse()
            .expect("an address");
        let process = Background::start(
            Path::new("prometheus-alertmanager"),
            &[
                &format!("--config.file={file}"),
                &format!("--storage.path={}", dir.path().join("data").display()),
                &format!("--web.listen-address={addr}"),
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
        );
        wait_ready(&format!("http://{addr}/-/ready"));
        Alertmanager {
            addr,
            process,
            _dir: dir,
        }
    }

    /// Stops it, and what it wrote on stderr.
    pub fn stop(self) -> String {
        self.process.kill().stderr
    }
}

/// An HTTP server on 127.0.0.1 that answers every POST with 200 and hands
/// its JSON body to the test, one connection at a time (each closed after
/// its answer).
#[derive(Debug)]
pub struct Webhook {
    /// Where it listens.
    pub addr: SocketAddr,
    bodies: Receiver<Result<Value, String>>,
    stop: Arc<AtomicBool>,
    server: Option<JoinHandle<()>>,
}

impl Webhook {
    /// Listens on a free port of 127.0.0.1, serving on a thread of its own.
    pub fn start() -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port for the webhook");
        let addr = listener.local_addr().expect("its address");
        let stop = Arc::new(AtomicBool::new(false));
        let (sender, bodies) = mpsc::channel();
        let stopping = Arc::clone(&stop);
        let server = thread::spawn(move || serve(&listener, &sender, &stopping));
        Webhook {
            addr,
            bodies,
            stop,
            server: Some(server),
        }
    }

    /// Its URL, for Alertmanager's `webhook_configs`.
    pub fn url(&self) -> String {
        format!("http://{}/alerts", self.addr)
    }

    /// The next notification posted, if one comes within `limit`; panics on
    /// a request that was not a POST of JSON.
    pub fn next(&self, limit: Duration) -> Option<Value> {
        match self.bodies.recv_timeout(limit) {
            Ok(Ok(body)) => Some(body),
            Ok(Err(e)) => panic!("the webhook: {e}"),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("the webhook's server ended"),
        }
    }

    /// Every notification posted within `limit`.
    pub fn during(&self, limit: Duration) -> Vec<Value> {
        let deadline = Instant::now() + limit;
        let mut all = Vec::new();
        while let Some(body) = self.next(deadline.saturating_duration_since(Instant::now())) {
            all.push(body);
        }
        all
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept: the server sees the flag and ends.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

/// Accepts until `stop`, sending each request's JSON body (or what was
/// wrong with it) to `bodies`.
fn serve(listener: &TcpListener, bodies: &Sender<Result<Value, String>>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
        let _ = stream.set_write_timeout(Some(READ_TIMEOUT));
        let (status, body) = match read_post(&mut stream) {
            Ok(body) => (
                "200 OK",
                serde_json::from_slice(&body).map_err(|e| {
                    format!(
                        "not JSON ({e}): {}",
                        String::from_utf8_lossy(&body[..body.len().min(200)])
                    )
                }),
            ),
            Err(e) => ("400 Bad Request", Err(e)),
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let _ = stream.flush();
        if bodies.send(body).is_err() {
            return;
        }
    }
}

/// Reads one request whole: a POST, and its body of Content-Length bytes
/// (or in chunks).
fn read_post(stream: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("the request line: {e}"))?;
    if !line.starts_with("POST ") {
        return Err(format!("not a POST: {:?}", line.trim_end()));
    }
    let (mut length, mut chunked) = (None, false);
    loop {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|e| format!("a header: {e}"))?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(format!("not a header: {header:?}"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= MOST)
                    .ok_or_else(|| format!("Content-Length: {value:?}"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    match (length, chunked) {
        (_, true) => read_chunks(&mut reader),
        (Some(n), false) => {
            let mut body = vec![0; n];
            reader
                .read_exact(&mut body)
                .map_err(|e| format!("a body of {n} bytes: {e}"))?;
            Ok(body)
        }
        (None, false) => Err("a POST with neither Content-Length nor chunks".to_owned()),
    }
}

/// A chunked body, to its last chunk.
fn read_chunks(reader: &mut impl BufRead) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader
            .read_line(&mut size)
            .map_err(|e| format!("a chunk's size: {e}"))?;
        let hex = size.trim_end().split(';').next().unwrap_or_default();
        let n = usize::from_str_radix(hex, 16)
            .ok()
            .filter(|n| body.len() + n <= MOST)
            .ok_or_else(|| format!("a chunk's size: {size:?}"))?;
        let mut chunk = vec![0; n + 2];
        reader
            .read_exact(&mut chunk)
            .map_err(|e| format!("a chunk of {n} bytes: {e}"))?;
        if n == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(addr: SocketAddr, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(request).expect("the request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("the answer");
        answer
    }

    #[test]
    fn a_post_s_body_reaches_the_test_whole_by_length_or_in_chunks() {
        let hook = Webhook::start();
        let body = br#"{"status":"firing","alerts":[{"labels":{"a":"b"}}]}"#;
        let mut request = format!(
            "POST /alerts HTTP/1.1\r\nHost: x\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        // Sent in two parts: the body comes after the headers' packet.
        let (head, tail) = request.split_at(request.len() - 10);
        let mut stream = TcpStream::connect(hook.addr).expect("connect");
        stream.write_all(head).expect("the head");
        thread::sleep(Duration::from_millis(50));
        stream.write_all(tail).expect("the tail");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("the answer");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        let got = hook.next(Duration::from_secs(5)).expect("the body");
        assert_eq!(got["alerts"][0]["labels"]["a"], "b");

        let chunked = b"POST /alerts HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
                        5\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\n\r\n";
        assert!(post(hook.addr, chunked).starts_with("HTTP/1.1 200 OK"));
        assert_eq!(
            hook.next(Duration::from_secs(5)),
            Some(serde_json::json!({"a": 1}))
        );
        assert_eq!(hook.next(Duration::from_millis(100)), None);
    }

    #[test]
    #[should_panic(expected = "not a POST")]
    fn a_get_is_told_to_the_test() {
        let hook = Webhook::start();
        let answer = post(hook.addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        hook.next(Duration::from_secs(5));
    }
}
