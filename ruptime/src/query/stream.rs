//! The stream client (APUE figure 16.14) as a state machine: connect, read
//! until EOF.
//!
//! [`Stream`] is one host's query, fed events and the time, saying what to
//! do next: the connection attempts follow `connect_retry`'s schedule
//! ([`Retry`]), then the reply is read to its end, at most [`MAX_REPLY`]
//! bytes, all by the host's deadline (the original could wait 127 s per
//! address, or forever on a server that accepts and never writes). The
//! loop drives it with non-blocking sockets; [`Reading`] is also the
//! blocking query's (`blocking::stream`).

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ruptime_common::connect::{Attempt, Retry};
use ruptime_common::protocol::MAX_REPLY;

use super::options::Options;
use super::outcome::{Answer, Outcome, QueryError};

/// What the loop is to do next for a host.
#[derive(Debug)]
pub(super) enum Step {
    /// Close the host's connection, if any, and open one to this address.
    Connect(SocketAddr),
    /// Keep the connection; wake at this instant if nothing happens first.
    Wait(Instant),
    /// Close the connection, and wake at this instant (between two rounds of
    /// connection attempts).
    Sleep(Instant),
    /// The query is over.
    Done(Outcome),
}

/// A reply being read to its end.
#[derive(Debug)]
pub(super) struct Reading {
    from: SocketAddr,
    reply: Vec<u8>,
}

impl Reading {
    /// Nothing read yet from `from`.
    pub(super) fn new(from: SocketAddr) -> Reading {
        Reading {
            from,
            reply: Vec::new(),
        }
    }

    /// Takes `bytes` (none at end of file): the outcome once the reply is over.
    pub(super) fn received(&mut self, bytes: &[u8]) -> Option<Outcome> {
        if bytes.is_empty() {
            return Some(if self.reply.is_empty() {
                Err(QueryError::Empty)
            } else {
                Ok(Answer::new(std::mem::take(&mut self.reply), self.from))
            });
        }
        if self.reply.len() + bytes.len() > MAX_REPLY {
            return Some(Err(QueryError::TooLong(MAX_REPLY)));
        }
        self.reply.extend_from_slice(bytes);
        None
    }

    /// Why the reply is missing at the deadline.
    pub(super) fn timed_out(&self, timeout: Duration) -> QueryError {
        match self.reply.len() {
            0 => QueryError::Silent(timeout),
            got => QueryError::Incomplete(timeout, got),
        }
    }
}

#[derive(Debug)]
enum State {
    Connecting,
    Sleeping,
    Reading(Reading),
}

/// One host's query over TCP.
#[derive(Debug)]
pub(super) struct Stream {
    retry: Retry,
    timeout: Duration,
    state: State,
}

impl Stream {
    /// The query of a host at `addrs`, ending by `deadline`, and its first
    /// step at `now`.
    ///
    /// # Errors
    /// `addrs` is empty.
    pub(super) fn start(
        addrs: Vec<SocketAddr>,
        deadline: Instant,
        now: Instant,
        options: &Options,
    ) -> Result<(Stream, Step), QueryError> {
        let retry = Retry::new(addrs, deadline, &options.backoff).map_err(QueryError::Connect)?;
        let mut stream = Stream {
            retry,
            timeout: options.timeout,
            state: State::Connecting,
        };
        let step = stream.attempt(now);
        Ok((stream, step))
    }

    /// When the query must end.
    pub(super) fn deadline(&self) -> Instant {
        self.retry.deadline()
    }

    /// Whether the loop is waiting for a connection to be made.
    pub(super) fn is_connecting(&self) -> bool {
        matches!(self.state, State::Connecting)
    }

    /// The connection to `from` is made.
    pub(super) fn connected(&mut self, from: SocketAddr) -> Step {
        self.state = State::Reading(Reading::new(from));
        Step::Wait(self.deadline())
    }

    /// The connection attempt failed with `error` at `now`.
    pub(super) fn connect_failed(&mut self, now: Instant, error: io::Error) -> Step {
        self.retry.failed(error);
        self.attempt(now)
    }

    /// `bytes` came (none at end of file).
    pub(super) fn received(&mut self, bytes: &[u8]) -> Step {
        match &mut self.state {
            State::Reading(reading) => match reading.received(bytes) {
                Some(outcome) => Step::Done(outcome),
                None => Step::Wait(self.deadline()),
            },
            _ => Step::Wait(self.deadline()),
        }
    }

    /// Reading failed with `error`.
    pub(super) fn receive_failed(&mut self, error: io::Error) -> Step {
        Step::Done(Err(QueryError::Receive(error)))
    }

    /// A wake-up at `now`: the next round of attempts, or the deadline.
    pub(super) fn woke(&mut self, now: Instant) -> Step {
        if now < self.deadline() {
            return match self.state {
                State::Sleeping => self.attempt(now),
                _ => Step::Wait(self.deadline()),
            };
        }
        Step::Done(Err(match &self.state {
            State::Connecting => QueryError::Unanswered(self.timeout),
            State::Reading(reading) => reading.timed_out(self.timeout),
            State::Sleeping => match self.retry.next(now) {
                Attempt::GiveUp(e) => connect_error(e, self.timeout),
                _ => QueryError::Unanswered(self.timeout),
            },
        }))
    }

    fn attempt(&mut self, now: Instant) -> Step {
        match self.retry.next(now) {
            Attempt::Connect(addr) => {
                self.state = State::Connecting;
                Step::Connect(addr)
            }
            Attempt::Sleep(until) => {
                self.state = State::Sleeping;
                Step::Sleep(until)
            }
            Attempt::GiveUp(e) => Step::Done(Err(connect_error(e, self.timeout))),
        }
    }
}

/// What a failed round of connection attempts means: no answer when the
/// deadline came first, otherwise the last attempt's error.
pub(super) fn connect_error(error: io::Error, timeout: Duration) -> QueryError {
    match error.kind() {
        io::ErrorKind::TimedOut => QueryError::Unanswered(timeout),
        _ => QueryError::Connect(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Family;
    use ruptime_common::protocol::MAX_REPLY;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn options() -> Options {
        let mut options = Options::new(Family::Any, Duration::from_secs(5));
        options.backoff.first = ms(100);
        options
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn connects_reads_to_the_end_and_answers() {
        let t0 = Instant::now();
        let (mut q, step) =
            Stream::start(vec![addr("10.0.0.1:4000")], t0 + ms(5000), t0, &options()).unwrap();
        assert!(matches!(step, Step::Connect(a) if a == addr("10.0.0.1:4000")));
        assert!(q.is_connecting());
        assert!(matches!(q.connected(addr("10.0.0.1:4000")), Step::Wait(d) if d == t0 + ms(5000)));
        assert!(matches!(q.received(b" 10:00:00 up"), Step::Wait(_)));
        assert!(matches!(q.received(b" 1 min\n"), Step::Wait(_)));
        match q.received(b"") {
            Step::Done(Ok(answer)) => assert_eq!(answer.reply, b" 10:00:00 up 1 min\n"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refused_addresses_are_retried_on_the_schedule_then_reported() {
        let t0 = Instant::now();
        let a = addr("127.0.0.1:1");
        let (mut q, _) = Stream::start(vec![a], t0 + ms(1000), t0, &options()).unwrap();
        let refused = || io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert!(matches!(q.connect_failed(t0, refused()), Step::Sleep(t) if t == t0 + ms(100)));
        assert!(matches!(q.woke(t0 + ms(100)), Step::Connect(_)));
        assert!(
            matches!(q.connect_failed(t0 + ms(100), refused()), Step::Sleep(t) if t == t0 + ms(300))
        );
        assert!(matches!(q.woke(t0 + ms(300)), Step::Connect(_)));
        assert!(
            matches!(q.connect_failed(t0 + ms(300), refused()), Step::Sleep(t) if t == t0 + ms(700))
        );
        assert!(matches!(q.woke(t0 + ms(700)), Step::Connect(_)));
        match q.connect_failed(t0 + ms(700), refused()) {
            Step::Done(Err(e)) => assert_eq!(e.to_string(), "can't connect: Connection refused"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_way_of_staying_silent_has_its_own_reason() {
        let t0 = Instant::now();
        let end = t0 + ms(5000);
        let reason = |step: Step| match step {
            Step::Done(Err(e)) => e.to_string(),
            other => panic!("{other:?}"),
        };
        let (mut unanswered, _) =
            Stream::start(vec![addr("10.0.0.1:1")], end, t0, &options()).unwrap();
        assert!(matches!(unanswered.woke(t0 + ms(10)), Step::Wait(d) if d == end));
        assert_eq!(
            reason(unanswered.woke(end)),
            "no answer to the connection attempt within 5 s"
        );
        let (mut silent, _) = Stream::start(vec![addr("10.0.0.1:1")], end, t0, &options()).unwrap();
        silent.connected(addr("10.0.0.1:1"));
        assert_eq!(
            reason(silent.woke(end)),
            "connected, but no reply within 5 s"
        );
        let (mut partial, _) =
            Stream::start(vec![addr("10.0.0.1:1")], end, t0, &options()).unwrap();
        partial.connected(addr("10.0.0.1:1"));
        partial.received(b"abc");
        assert_eq!(
            reason(partial.woke(end)),
            "reply incomplete after 5 s (3 bytes)"
        );
        let (mut closed, _) = Stream::start(vec![addr("10.0.0.1:1")], end, t0, &options()).unwrap();
        closed.connected(addr("10.0.0.1:1"));
        assert_eq!(
            reason(closed.received(b"")),
            "connection closed without a reply"
        );
    }

    #[test]
    fn a_reply_past_the_cap_is_refused() {
        let t0 = Instant::now();
        let (mut q, _) =
            Stream::start(vec![addr("10.0.0.1:1")], t0 + ms(5000), t0, &options()).unwrap();
        q.connected(addr("10.0.0.1:1"));
        let chunk = vec![b'x'; 4096];
        for _ in 0..MAX_REPLY / chunk.len() {
            assert!(matches!(q.received(&chunk), Step::Wait(_)));
        }
        assert!(matches!(
            q.received(b"y"),
            Step::Done(Err(QueryError::TooLong(MAX_REPLY)))
        ));
    }
}
