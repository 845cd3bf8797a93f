//! Accepting connections without letting an error end the server or spin it.
//!
//! The original exits on any `accept` error. Here a connection aborted before
//! it was accepted (`ECONNABORTED`) or an interrupted call is passed over;
//! running out of descriptors or memory (`EMFILE`, `ENFILE`, `ENOBUFS`,
//! `ENOMEM`) pauses accepting for [`PAUSE`] (polling a listener the kernel
//! cannot accept from would spin), and is logged once per burst. A client
//! who may not ask ([`Allow`]) gets one line, `ruptimed: not allowed from
//! ADDR (see --allow)`, and the close; refusals are counted and logged as
//! one [summary](crate::summary) line per interval.

use std::io;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ruptime_common::oserror::{describe, out_of_resources};
use ruptime_common::protocol::verdict::error_line;
use socket2::Socket;

use crate::allow::Allow;
use crate::summary::Due;
use crate::throttle::{Throttle, held_note};

/// How long accepting pauses when the process or system is out of a resource.
pub(super) const PAUSE: Duration = Duration::from_millis(100);

/// How many connections one turn refuses at most: a flood from a network
/// that may not ask cannot hold the loop.
const REFUSALS_PER_TURN: u32 = 64;

/// Accepts connections and remembers when accepting is paused.
#[derive(Debug)]
pub(super) struct Acceptor {
    paused_until: Option<Instant>,
    errors: Throttle,
    allow: Allow,
    refused: Refused,
}

/// The connections refused since the last summary.
#[derive(Debug, Default)]
struct Refused {
    count: u64,
    last: Option<IpAddr>,
    summary: Due,
}

impl Acceptor {
    /// A running acceptor for the clients `allow` admits, logging at most
    /// one error line a second.
    pub(super) fn new(allow: Allow) -> Acceptor {
        Acceptor {
            paused_until: None,
            errors: Throttle::new(Duration::from_secs(1)),
            allow,
            refused: Refused::default(),
        }
    }

    /// Whether `addr` may ask at `now`; if not, `conn` gets the line that
    /// says so, and the refusal is counted.
    pub(super) fn admits(&mut self, conn: &Socket, addr: IpAddr, now: Instant) -> bool {
        if self.allow.admits(addr, now) {
            return true;
        }
        refuse(conn, addr);
        let refused = &mut self.refused;
        refused.count += 1;
        refused.last = Some(addr);
        refused.summary.noted(now);
        false
    }

    /// When the next summary of refusals is due, if any.
    pub(super) fn summary_due(&self) -> Option<Instant> {
        self.refused.summary.at()
    }

    /// Logs the summary of refusals if it is due at `now` (or `now` is the
    /// end), and counts anew.
    pub(super) fn summarize(&mut self, now: Instant, at_end: bool) {
        let refused = &mut self.refused;
        if refused.summary.take(now, at_end) {
            let last = refused.last.map(|ip| ip.to_string()).unwrap_or_default();
            log::warn!(
                "refused {} connections from clients --allow does not admit (the last from {last})",
                refused.count
            );
            refused.count = 0;
        }
    }

    /// Whether accepting is paused at `now`.
    pub(super) fn is_paused(&mut self, now: Instant) -> bool {
        if self.paused_until.is_some_and(|until| now >= until) {
            self.paused_until = None;
        }
        self.paused_until.is_some()
    }

    /// Stops accepting for [`PAUSE`] from `now`.
    pub(super) fn pause(&mut self, now: Instant) {
        self.paused_until = Some(now + PAUSE);
    }

    /// When a pause ends, if paused.
    pub(super) fn resume_at(&self) -> Option<Instant> {
        self.paused_until
    }

    /// The next pending connection on `listener` (non-blocking), or `None`
    /// when there is none, accepting had to pause, or [`REFUSALS_PER_TURN`]
    /// were refused in a row (the loop's other work comes first; the
    /// listener, still readable, is reported again).
    pub(super) fn accept(&mut self, listener: &Socket) -> Option<Socket> {
        let mut refused = 0;
        loop {
            match listener.accept() {
                Ok((conn, peer)) => match peer.as_socket().map(|p| p.ip()) {
                    Some(ip) if !self.admits(&conn, ip, Instant::now()) => {
                        refused += 1;
                        if refused == REFUSALS_PER_TURN {
                            return None;
                        }
                    }
                    _ => return Some(conn),
                },
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if out_of_resources(&e) => {
                    let now = Instant::now();
                    self.pause(now);
                    if let Some(held) = self.errors.check(now) {
                        log::error!(
                            "accept error: {}; pausing {} ms{}",
                            describe(&e),
                            PAUSE.as_millis(),
                            held_note(held)
                        );
                    }
                    return None;
                }
                Err(e) => {
                    if let Some(held) = self.errors.check(Instant::now()) {
                        log::warn!("accept error: {}{}", describe(&e), held_note(held));
                    }
                    if e.raw_os_error() != Some(libc::ECONNABORTED) {
                        return None;
                    }
                }
            }
        }
    }
}

/// Tells a client who may not ask so, in one line, without waiting: a
/// fresh connection's send buffer takes it whole. The connection closes
/// when the caller drops it.
pub(super) fn refuse(conn: &Socket, addr: IpAddr) {
    let line = error_line(&format!(
        "not allowed from {} (see --allow)",
        addr.to_canonical()
    ));
    let _ = conn.send_with_flags(&line, libc::MSG_DONTWAIT);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allow::{Allowed, parse};
    use socket2::{Domain, Type};
    use std::net::{SocketAddr, TcpStream};

    #[test]
    fn a_flood_that_may_not_ask_is_refused_a_turn_at_a_time() {
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        listener.bind(&any.into()).unwrap();
        listener.listen(256).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().as_socket().unwrap();
        let flood: Vec<TcpStream> = (0..100)
            .map(|_| TcpStream::connect(addr).unwrap())
            .collect();
        let only: Allowed = parse("10.0.0.0/8").unwrap();
        let mut acceptor = Acceptor::new(Allow::new(&[only]));
        assert!(acceptor.accept(&listener).is_none());
        assert_eq!(acceptor.refused.count, u64::from(REFUSALS_PER_TURN));
        assert!(acceptor.accept(&listener).is_none());
        assert_eq!(
            acceptor.refused.count,
            flood.len() as u64,
            "the rest next turn"
        );
    }
}
