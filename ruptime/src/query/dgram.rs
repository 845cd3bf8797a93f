//! The datagram client (APUE figure 16.18) as a state machine: a request,
//! one datagram back.
//!
//! [`Datagram`] is one host's query, fed events and the time, saying what
//! to do next, with four fixes to the original: the request is padded to 256 bytes (see
//! `ruptime_common::datagram`), so that the daemon can answer it without
//! amplifying anything; the request is sent again a few times within the deadline
//! (UDP drops); each of the host's addresses gets its own connected socket,
//! so only a reply from an address asked is accepted and an ICMP "port
//! unreachable" ends the wait with "connection refused" at once (the
//! original's unconnected socket never sees it and waits 20 s); and the wait
//! ends by the host's deadline. The loop drives it with non-blocking
//! sockets, and so does the blocking query (`blocking::dgram`), waiting
//! under SIGALRM as the original does.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ruptime_common::protocol::MAX_DATAGRAM;
use ruptime_common::protocol::request::{PADDED_LEN, padded_request};

use super::options::Options;
use super::outcome::{Answer, Outcome, QueryError};
use super::round_trip::backed_off;

/// The request: a NUL, as the original sends, then the marker and padding.
pub(super) const REQUEST: [u8; PADDED_LEN] = padded_request();

/// The first wait before the request is sent again when no round trip is
/// known; it doubles after each send.
const FIRST_RESEND: Duration = Duration::from_millis(500);

/// The wait before the first resend within a run of `timeout`, when no
/// round trip is known.
pub(super) fn first_resend(timeout: Duration) -> Duration {
    FIRST_RESEND.min(timeout / 4)
}

/// What the loop is to do next for a host.
#[derive(Debug)]
pub(super) enum Step {
    /// Send [`REQUEST`] on every open socket, then wait until this instant.
    Send(Instant),
    /// Wait for a reply, or until this instant.
    Wait(Instant),
    /// The query is over.
    Done(Outcome),
}

/// One host's query over UDP: a socket per address, numbered as the addresses.
#[derive(Debug)]
pub(super) struct Datagram {
    addrs: Vec<SocketAddr>,
    open: Vec<bool>,
    refused: Option<io::Error>,
    /// When the request was first sent, and how many times it has been.
    first_sent: Option<Instant>,
    sends: u32,
    resend_at: Instant,
    deadline: Instant,
    timeout: Duration,
}

impl Datagram {
    /// The query of a host at `addrs`, ending by `deadline`, first sending at `now`.
    pub(super) fn new(
        addrs: Vec<SocketAddr>,
        deadline: Instant,
        now: Instant,
        options: &Options,
    ) -> Datagram {
        Datagram {
            open: vec![true; addrs.len()],
            addrs,
            refused: None,
            first_sent: None,
            sends: 0,
            resend_at: now,
            deadline,
            timeout: options.timeout,
        }
    }

    /// The addresses to open a socket to, in order.
    pub(super) fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Whether socket `i` is still in use.
    pub(super) fn is_open(&self, i: usize) -> bool {
        self.open.get(i).copied().unwrap_or(false)
    }

    /// Socket `i` could not be opened, or was refused: it is closed.
    pub(super) fn closed(&mut self, i: usize, error: io::Error) {
        if let Some(open) = self.open.get_mut(i) {
            *open = false;
        }
        self.refused = Some(error);
    }

    /// The time of the query, when its answer came at `now` to the only
    /// request sent: a round trip to the host and its reply. Not for an
    /// answer read at the deadline: it may have come some time before.
    pub(super) fn round_trip(&self, now: Instant) -> Option<Duration> {
        self.first_sent
            .filter(|_| self.sends == 1 && now < self.deadline)
            .map(|sent| now.saturating_duration_since(sent))
    }

    /// When the query must end.
    pub(super) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// How many times the request has been sent.
    pub(super) fn sends(&self) -> u32 {
        self.sends
    }

    /// What to do at `now`: send (at first, then after `resend`, twice as
    /// long after each send), wait, or end (no socket left, or the deadline).
    pub(super) fn due(&mut self, now: Instant, resend: Duration) -> Step {
        if !self.open.contains(&true) {
            let error = self
                .refused
                .take()
                .unwrap_or_else(|| io::Error::from(io::ErrorKind::ConnectionRefused));
            return Step::Done(Err(QueryError::Unreachable(error)));
        }
        if now >= self.deadline {
            return Step::Done(Err(QueryError::NoReply(self.timeout)));
        }
        if now >= self.resend_at {
            let gap = backed_off(resend.max(Duration::from_millis(1)), self.sends);
            self.first_sent.get_or_insert(now);
            self.sends += 1;
            self.resend_at = now + gap;
            return Step::Send(self.resend_at.min(self.deadline));
        }
        Step::Wait(self.resend_at.min(self.deadline))
    }

    /// The result of sending on socket `i`: a refusal closes it.
    pub(super) fn sent(&mut self, i: usize, result: io::Result<usize>) {
        if let Err(e) = result
            && e.kind() == io::ErrorKind::ConnectionRefused
        {
            self.closed(i, e);
        }
    }

    /// What a receive on socket `i` gave (`Ok` with the datagram): the
    /// outcome when it is the answer; a refusal closes the socket, and a
    /// spurious wake-up changes nothing. [`due`](Datagram::due) says what next.
    pub(super) fn received(&mut self, i: usize, result: io::Result<&[u8]>) -> Option<Outcome> {
        match result {
            Ok(bytes) if bytes.len() > MAX_DATAGRAM => Some(Err(QueryError::TooLong(MAX_DATAGRAM))),
            Ok([]) => Some(Err(QueryError::EmptyDatagram)),
            Ok(bytes) => self
                .addrs
                .get(i)
                .map(|from| Ok(Answer::new(bytes.to_vec(), *from))),
            Err(e) => {
                if e.kind() == io::ErrorKind::ConnectionRefused {
                    self.closed(i, e);
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Family;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn query(addrs: &[&str], t0: Instant) -> Datagram {
        let options = Options::new(Family::Any, Duration::from_secs(2));
        let addrs = addrs.iter().map(|a| a.parse().unwrap()).collect();
        Datagram::new(addrs, t0 + Duration::from_secs(2), t0, &options)
    }

    #[test]
    fn resends_on_a_doubling_schedule_then_gives_up_at_the_deadline() {
        let t0 = Instant::now();
        let mut q = query(&["10.0.0.1:4000"], t0);
        let mut sends = Vec::new();
        let mut now = t0;
        loop {
            match q.due(now, ms(500)) {
                Step::Send(until) => {
                    sends.push((now - t0).as_millis());
                    now = until;
                }
                Step::Wait(until) => now = until,
                Step::Done(Err(e)) => {
                    assert_eq!(e.to_string(), "no reply within 2 s");
                    break;
                }
                Step::Done(Ok(_)) => panic!("no reply was given"),
            }
        }
        assert_eq!(sends, [0, 500, 1500]);
        assert_eq!(now - t0, ms(2000));
    }

    #[test]
    fn the_reply_names_the_address_asked_and_refusals_close_sockets() {
        let t0 = Instant::now();
        let mut q = query(&["10.0.0.1:4000", "[::1]:4000"], t0);
        assert!(matches!(q.due(t0, ms(500)), Step::Send(_)));
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        q.sent(0, Err(refused));
        assert!(!q.is_open(0) && q.is_open(1));
        match q.received(1, Ok(b"up\n")) {
            Some(Ok(answer)) => {
                assert_eq!(answer.from, "[::1]:4000".parse().unwrap());
                assert_eq!(answer.reply, b"up\n");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_a_reply_to_one_request_before_the_deadline_times_a_round_trip() {
        let t0 = Instant::now();
        let mut q = query(&["10.0.0.1:4000"], t0);
        assert!(matches!(q.due(t0, ms(500)), Step::Send(_)));
        assert_eq!(q.round_trip(t0 + ms(3)), Some(ms(3)));
        assert_eq!(q.round_trip(t0 + ms(2000)), None, "read at the deadline");
        assert!(matches!(q.due(t0 + ms(500), ms(500)), Step::Send(_)));
        assert_eq!(q.round_trip(t0 + ms(503)), None, "sent twice");
    }

    #[test]
    fn every_address_refused_ends_the_query_at_once() {
        let t0 = Instant::now();
        let mut q = query(&["10.0.0.1:4000"], t0);
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert!(q.received(0, Err(refused)).is_none());
        match q.due(t0, ms(500)) {
            Step::Done(Err(e)) => assert_eq!(e.to_string(), "can't reach: Connection refused"),
            other => panic!("{other:?}"),
        }
        let long = vec![b'x'; MAX_DATAGRAM + 1];
        let mut q = query(&["10.0.0.1:4000"], t0);
        assert!(matches!(
            q.received(0, Ok(&long)),
            Some(Err(QueryError::TooLong(_)))
        ));
    }
}
