//! A DNS server that answers every A query with one address, after a delay:
//! a resolver that is slow but works. AAAA and other queries get an empty
//! answer at once. It serves on the socket given (made in a namespace)
//! until dropped.

use std::net::{Ipv4Addr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// The server; it stops when dropped.
#[derive(Debug)]
pub struct SlowDns {
    stop: Arc<AtomicBool>,
}

impl SlowDns {
    /// Serves `socket`, answering A queries with `answer` after `delay`.
    pub fn serve(socket: UdpSocket, delay: Duration, answer: Ipv4Addr) -> SlowDns {
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("a read timeout");
        let socket = Arc::new(socket);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !flag.load(Ordering::SeqCst) {
                let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let Some((reply, is_a)) = reply(&buf[..n], answer) else {
                    continue;
                };
                let socket = Arc::clone(&socket);
                thread::spawn(move || {
                    if is_a {
                        thread::sleep(delay);
                    }
                    let _ = socket.send_to(&reply, peer);
                });
            }
        });
        SlowDns { stop }
    }
}

impl Drop for SlowDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The reply to `query`, and whether it is an A query's.
fn reply(query: &[u8], answer: Ipv4Addr) -> Option<(Vec<u8>, bool)> {
    let header = query.get(..12)?;
    // The question: labels up to the root, then type and class.
    let mut end = 12;
    loop {
        let len = usize::from(*query.get(end)?);
        end += 1 + len;
        if len == 0 {
            break;
        }
    }
    let question = query.get(12..end + 4)?;
    let is_a = question[question.len() - 4..question.len() - 2] == [0, 1];
    let mut reply = Vec::with_capacity(64);
    reply.extend_from_slice(&header[..2]);
    reply.extend_from_slice(&[0x81, 0x80, 0, 1, 0, u8::from(is_a), 0, 0, 0, 0]);
    reply.extend_from_slice(question);
    if is_a {
        // The name by a pointer to the question's, IN A, TTL 60, 4 bytes.
        reply.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        reply.extend_from_slice(&answer.octets());
    }
    Some((reply, is_a))
}
