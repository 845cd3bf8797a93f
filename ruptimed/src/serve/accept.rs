//! Accepting connections without letting an error end the server or spin it.
//!
//! The original exits on any `accept` error. Here a connection aborted before
//! it was accepted (`ECONNABORTED`) or an interrupted call is passed over;
//! running out of descriptors or memory (`EMFILE`, `ENFILE`, `ENOBUFS`,
//! `ENOMEM`) pauses accepting for [`PAUSE`] (polling a listener the kernel
//! cannot accept from would spin), and is logged once per burst. A client
//! that `--allow` does not name is closed at once, logged at most once a second.

use std::io;
use std::time::{Duration, Instant};

use ruptime_common::oserror::{describe, out_of_resources};
use socket2::Socket;

use crate::allow::Allow;
use crate::throttle::{Throttle, held_note};

/// How long accepting pauses when the process or system is out of a resource.
pub(super) const PAUSE: Duration = Duration::from_millis(100);

/// Accepts connections and remembers when accepting is paused.
#[derive(Debug)]
pub(super) struct Acceptor {
    paused_until: Option<Instant>,
    errors: Throttle,
    allow: Allow,
    refusals: Throttle,
}

impl Acceptor {
    /// A running acceptor for the clients `allow` admits, logging at most
    /// one error line and one refusal a second.
    pub(super) fn new(allow: Allow) -> Acceptor {
        Acceptor {
            paused_until: None,
            errors: Throttle::new(Duration::from_secs(1)),
            allow,
            refusals: Throttle::new(Duration::from_secs(1)),
        }
    }

    /// Whether `--allow` admits `addr`.
    pub(super) fn admits(&self, addr: std::net::IpAddr) -> bool {
        self.allow.admits(addr)
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
    /// when there is none or accepting had to pause.
    pub(super) fn accept(&mut self, listener: &Socket) -> Option<Socket> {
        loop {
            match listener.accept() {
                Ok((conn, peer)) => match peer.as_socket().map(|p| p.ip()) {
                    Some(ip) if !self.allow.admits(ip) => {
                        drop(conn);
                        if let Some(held) = self.refusals.check(Instant::now()) {
                            log::warn!("refused {ip}: not in --allow{}", held_note(held));
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
