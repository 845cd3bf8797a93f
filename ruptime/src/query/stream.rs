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
//!
//! A host that answered is never called down:
//!
//! - a connection that stays silent (no connection made, or made and no
//!   byte come) past the delay the loop gives, a few round trips as the
//!   fleet's answers measure them, gets another connection beside it, up
//!   to [`MAX_CONNECTIONS`], each after twice the wait before; the first
//!   to answer wins. A lost SYN or SYN-ACK would cost a second or
//!   more of the kernel's retransmissions, a lost last ACK the whole
//!   timeout (the daemon never saw the connection);
//! - a complete uptime line in hand when the deadline comes is the answer
//!   (only the FIN was lost).

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ruptime_common::connect::{Attempt, Retry};
use ruptime_common::protocol::{MAX_REPLY, Verdict};

use super::options::Options;
use super::outcome::{Answer, Outcome, QueryError};
use super::round_trip::backed_off;

/// The most connections one host's query holds at once: the first, and
/// those opened beside it while it stays silent.
pub(super) const MAX_CONNECTIONS: usize = 4;

/// What the loop is to do next for a host.
#[derive(Debug)]
pub(super) enum Step {
    /// Open connection `slot` (below [`MAX_CONNECTIONS`]) to this address,
    /// keeping the others.
    Connect(usize, SocketAddr),
    /// Keep the connections; wake at this instant if nothing happens first.
    Wait(Instant),
    /// Wake at this instant (between two rounds of connection attempts: no
    /// connection is open).
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

    /// What the reply comes to at the deadline: a complete uptime line in
    /// hand is the answer (only the end of the connection was lost);
    /// anything else says why it is missing.
    pub(super) fn at_deadline(&self, timeout: Duration) -> Outcome {
        if matches!(Verdict::of(&self.reply), Verdict::Uptime(_)) {
            return Ok(Answer::new(self.reply.clone(), self.from));
        }
        Err(match self.reply.len() {
            0 => QueryError::Silent(timeout),
            got => QueryError::Incomplete(timeout, got),
        })
    }

    /// What the reply comes to when reading fails with `error`: a complete
    /// uptime line in hand is the answer (the peer reset the connection
    /// after writing it); otherwise the error.
    pub(super) fn failed(&mut self, error: io::Error) -> Outcome {
        match Verdict::of(&self.reply) {
            Verdict::Uptime(_) => Ok(Answer::new(std::mem::take(&mut self.reply), self.from)),
            _ => Err(QueryError::Receive(error)),
        }
    }

    /// How much has come.
    fn len(&self) -> usize {
        self.reply.len()
    }
}

/// One connection of a query.
#[derive(Debug)]
enum Connection {
    /// Being made, to this address, since then.
    Connecting(SocketAddr, Instant),
    /// Made: its reply being read.
    Reading(Reading),
}

impl Connection {
    fn addr(&self) -> SocketAddr {
        match self {
            Connection::Connecting(addr, _) => *addr,
            Connection::Reading(reading) => reading.from,
        }
    }
}

/// A query's connections by number: the first kept inline, those opened
/// beside it (rare) on the heap, so that a host in flight stays small.
#[derive(Debug, Default)]
struct Connections {
    first: Option<Connection>,
    beside: Vec<Option<Connection>>,
}

impl Connections {
    fn get(&self, slot: usize) -> Option<&Connection> {
        match slot {
            0 => self.first.as_ref(),
            _ => self.beside.get(slot - 1)?.as_ref(),
        }
    }

    fn get_mut(&mut self, slot: usize) -> Option<&mut Option<Connection>> {
        match slot {
            0 => Some(&mut self.first),
            _ => self.beside.get_mut(slot - 1),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Connection> {
        std::iter::once(&self.first).chain(&self.beside).flatten()
    }

    /// The number of a free slot, made room for, if fewer than
    /// [`MAX_CONNECTIONS`] are open.
    fn free_slot(&mut self) -> Option<usize> {
        if self.first.is_none() {
            return Some(0);
        }
        if let Some(i) = self.beside.iter().position(Option::is_none) {
            return Some(i + 1);
        }
        (self.beside.len() + 1 < MAX_CONNECTIONS).then(|| {
            self.beside.push(None);
            self.beside.len()
        })
    }
}

/// One host's query over TCP.
#[derive(Debug)]
pub(super) struct Stream {
    retry: Retry,
    timeout: Duration,
    connections: Connections,
    /// Between two rounds of attempts, until then.
    sleeping: Option<Instant>,
    /// How long a silent query waits before it opens one more connection,
    /// as the loop last said (`None`: it does not).
    hedge: Option<Duration>,
    /// Whether connections are still opened beside silent ones (not once
    /// a byte came).
    hedging: bool,
    /// When the last connection was opened, and how many were opened
    /// beside others since the last round of attempts.
    last_open: Instant,
    beside: u32,
    /// When the first connection began, and how many there have been (one
    /// only: its time is a clean sample of a round trip).
    began: Instant,
    made: u32,
}

impl Stream {
    /// The query of a host at `addrs`, ending by `deadline`, and its first
    /// step at `now`; a connection silent for `hedge` gets another beside
    /// it (none without).
    ///
    /// # Errors
    /// `addrs` is empty.
    pub(super) fn start(
        addrs: Vec<SocketAddr>,
        deadline: Instant,
        now: Instant,
        options: &Options,
        hedge: Option<Duration>,
    ) -> Result<(Stream, Step), QueryError> {
        let retry = Retry::new(addrs, deadline, &options.backoff).map_err(QueryError::Connect)?;
        let mut stream = Stream {
            retry,
            timeout: options.timeout,
            connections: Default::default(),
            sleeping: None,
            hedge,
            hedging: true,
            last_open: now,
            beside: 0,
            began: now,
            made: 0,
        };
        let step = stream.attempt(now);
        Ok((stream, step))
    }

    /// When the query must end.
    pub(super) fn deadline(&self) -> Instant {
        self.retry.deadline()
    }

    /// Whether connection `slot` is being made.
    pub(super) fn is_connecting(&self, slot: usize) -> bool {
        matches!(self.connections.get(slot), Some(Connection::Connecting(..)))
    }

    /// How long connection `slot`, being made, has taken at `now`.
    pub(super) fn connect_time(&self, slot: usize, now: Instant) -> Option<Duration> {
        match self.connections.get(slot) {
            Some(Connection::Connecting(_, since)) => Some(now.saturating_duration_since(*since)),
            _ => None,
        }
    }

    /// The time of the query, when its answer came at `now` on the only
    /// connection it made: a round trip to the host and its reply. Not for
    /// an answer taken at the deadline: it came some time before.
    pub(super) fn round_trip(&self, now: Instant) -> Option<Duration> {
        (self.made == 1 && now < self.deadline()).then(|| now.saturating_duration_since(self.began))
    }

    /// Connection `slot` is made (to the address it was opened to).
    pub(super) fn made(&mut self, slot: usize) -> Step {
        if let Some(connection) = self.connections.get_mut(slot)
            && let Some(Connection::Connecting(addr, _)) = connection
        {
            *connection = Some(Connection::Reading(Reading::new(*addr)));
        }
        Step::Wait(self.next_wake())
    }

    /// Connection `slot` could not be made at `now`: `error`.
    pub(super) fn connect_failed(&mut self, slot: usize, now: Instant, error: io::Error) -> Step {
        self.drop_connection(slot);
        self.retry.failed(error);
        if self.alive() > 0 {
            return Step::Wait(self.next_wake());
        }
        self.attempt(now)
    }

    /// `bytes` came on connection `slot` (none at end of file).
    pub(super) fn received(&mut self, slot: usize, bytes: &[u8]) -> Step {
        if !bytes.is_empty() {
            // An answer is coming: no more connections beside it.
            self.hedging = false;
        }
        let Some(Some(Connection::Reading(reading))) = self.connections.get_mut(slot) else {
            return Step::Wait(self.next_wake());
        };
        match reading.received(bytes) {
            None => Step::Wait(self.next_wake()),
            Some(Err(QueryError::Empty)) if self.alive() > 1 => {
                self.drop_connection(slot);
                Step::Wait(self.next_wake())
            }
            Some(outcome) => Step::Done(outcome),
        }
    }

    /// Reading connection `slot` failed with `error`.
    pub(super) fn receive_failed(&mut self, slot: usize, error: io::Error) -> Step {
        let outcome = match self.connections.get_mut(slot).and_then(Option::take) {
            Some(Connection::Reading(mut reading)) => reading.failed(error),
            _ => Err(QueryError::Receive(error)),
        };
        if outcome.is_err() && self.alive() > 0 {
            return Step::Wait(self.next_wake());
        }
        Step::Done(outcome)
    }

    /// A wake-up at `now`: the deadline, the next round of attempts, or
    /// another connection beside silent ones, which wait `hedge` (as the
    /// loop says now) before the first of them.
    pub(super) fn woke(&mut self, now: Instant, hedge: Option<Duration>) -> Step {
        self.hedge = hedge;
        if now >= self.deadline() {
            return Step::Done(self.at_deadline(now));
        }
        if self.sleeping.is_some_and(|until| now >= until) {
            self.sleeping = None;
            return self.attempt(now);
        }
        if let Some(at) = self.hedge_at()
            && now >= at
            && let Some(addr) = self.newest()
            && let Some(slot) = self.connections.free_slot()
        {
            self.beside += 1;
            return self.open(slot, addr, now);
        }
        Step::Wait(self.next_wake())
    }

    /// How many connections were opened beside silent ones since the
    /// last round of attempts began.
    pub(super) fn beside(&self) -> u32 {
        self.beside
    }

    /// When the next connection beside silent ones is due, if one is.
    fn hedge_at(&self) -> Option<Instant> {
        let hedge = self.hedge.filter(|_| self.hedging)?;
        if self.alive() == 0 || self.alive() >= MAX_CONNECTIONS {
            return None;
        }
        Some(self.last_open + backed_off(hedge, self.beside))
    }

    /// What the query comes to at its deadline.
    fn at_deadline(&mut self, now: Instant) -> Outcome {
        let readings = self.connections.iter().filter_map(|c| match c {
            Connection::Reading(reading) => Some(reading),
            Connection::Connecting(..) => None,
        });
        if let Some(best) = readings.max_by_key(|r| r.len()) {
            return best.at_deadline(self.timeout);
        }
        if self.alive() > 0 {
            return Err(QueryError::Unanswered(self.timeout));
        }
        Err(match self.retry.next(now) {
            Attempt::GiveUp(e) => connect_error(e, self.timeout),
            _ => QueryError::Unanswered(self.timeout),
        })
    }

    /// When to wake if nothing happens: the deadline, or the next
    /// connection beside silent ones.
    pub(super) fn next_wake(&self) -> Instant {
        match self.hedge_at() {
            Some(at) => at.min(self.deadline()),
            None => self.deadline(),
        }
    }

    /// The next attempt of the schedule, once no connection is left.
    fn attempt(&mut self, now: Instant) -> Step {
        match self.retry.next(now) {
            Attempt::Connect(addr) => {
                self.beside = 0;
                let slot = self.connections.free_slot().unwrap_or(0);
                self.open(slot, addr, now)
            }
            Attempt::Sleep(until) => {
                self.sleeping = Some(until);
                Step::Sleep(until)
            }
            Attempt::GiveUp(e) => Step::Done(Err(connect_error(e, self.timeout))),
        }
    }

    /// Opens connection `slot` to `addr` at `now`.
    fn open(&mut self, slot: usize, addr: SocketAddr, now: Instant) -> Step {
        self.made += 1;
        self.last_open = now;
        if let Some(connection) = self.connections.get_mut(slot) {
            *connection = Some(Connection::Connecting(addr, now));
        }
        Step::Connect(slot, addr)
    }

    fn alive(&self) -> usize {
        self.connections.iter().count()
    }

    fn drop_connection(&mut self, slot: usize) {
        if let Some(connection) = self.connections.get_mut(slot) {
            *connection = None;
        }
    }

    /// The address of the connection opened last.
    fn newest(&self) -> Option<SocketAddr> {
        self.connections.iter().last().map(Connection::addr)
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

    const LINE: &[u8] = b" 10:00:00 up 1 min,  0 user,  load average: 0.00, 0.00, 0.00\n";

    /// A query begun at `t0` with 5 s to go, its first connection made.
    fn connected(t0: Instant) -> Stream {
        let end = t0 + ms(5000);
        let (mut q, _) =
            Stream::start(vec![addr("10.0.0.1:1")], end, t0, &options(), None).unwrap();
        q.made(0);
        q
    }

    #[test]
    fn connects_reads_to_the_end_and_answers() {
        let t0 = Instant::now();
        let (mut q, step) = Stream::start(
            vec![addr("10.0.0.1:4000")],
            t0 + ms(5000),
            t0,
            &options(),
            None,
        )
        .unwrap();
        assert!(matches!(step, Step::Connect(0, a) if a == addr("10.0.0.1:4000")));
        assert!(q.is_connecting(0));
        assert!(matches!(q.made(0), Step::Wait(d) if d == t0 + ms(5000)));
        assert!(matches!(q.received(0, b" 10:00:00 up"), Step::Wait(_)));
        assert!(matches!(q.received(0, b" 1 min\n"), Step::Wait(_)));
        match q.received(0, b"") {
            Step::Done(Ok(answer)) => assert_eq!(answer.reply, b" 10:00:00 up 1 min\n"),
            other => panic!("{other:?}"),
        }
        assert_eq!(q.round_trip(t0 + ms(3)), Some(ms(3)));
    }

    #[test]
    fn refused_addresses_are_retried_on_the_schedule_then_reported() {
        let t0 = Instant::now();
        let a = addr("127.0.0.1:1");
        let (mut q, _) = Stream::start(vec![a], t0 + ms(1000), t0, &options(), None).unwrap();
        let refused = || io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert!(matches!(q.connect_failed(0, t0, refused()), Step::Sleep(t) if t == t0 + ms(100)));
        assert!(matches!(q.woke(t0 + ms(100), None), Step::Connect(_, _)));
        assert!(
            matches!(q.connect_failed(0, t0 + ms(100), refused()), Step::Sleep(t) if t == t0 + ms(300))
        );
        assert!(matches!(q.woke(t0 + ms(300), None), Step::Connect(_, _)));
        assert!(
            matches!(q.connect_failed(0, t0 + ms(300), refused()), Step::Sleep(t) if t == t0 + ms(700))
        );
        assert!(matches!(q.woke(t0 + ms(700), None), Step::Connect(_, _)));
        match q.connect_failed(0, t0 + ms(700), refused()) {
            Step::Done(Err(e)) => assert_eq!(e.to_string(), "can't connect: Connection refused"),
            other => panic!("{other:?}"),
        }
        assert_eq!(q.round_trip(t0 + ms(700)), None, "not one clean attempt");
    }

    #[test]
    fn each_way_of_staying_silent_has_its_own_reason() {
        let t0 = Instant::now();
        let end = t0 + ms(5000);
        let start = || {
            Stream::start(vec![addr("10.0.0.1:1")], end, t0, &options(), None)
                .unwrap()
                .0
        };
        let reason = |step: Step| match step {
            Step::Done(Err(e)) => e.to_string(),
            other => panic!("{other:?}"),
        };
        let mut unanswered = start();
        assert!(matches!(unanswered.woke(t0 + ms(10), None), Step::Wait(d) if d == end));
        assert_eq!(
            reason(unanswered.woke(end, None)),
            "no answer to the connection attempt within 5 s"
        );
        let mut silent = start();
        silent.made(0);
        assert_eq!(
            reason(silent.woke(end, None)),
            "connected, but no reply within 5 s"
        );
        let mut partial = start();
        partial.made(0);
        partial.received(0, b"abc");
        assert_eq!(
            reason(partial.woke(end, None)),
            "reply incomplete after 5 s (3 bytes)"
        );
        let mut closed = start();
        closed.made(0);
        assert_eq!(
            reason(closed.received(0, b"")),
            "connection closed without a reply"
        );
    }

    #[test]
    fn a_whole_line_in_hand_at_the_deadline_is_the_answer() {
        let t0 = Instant::now();
        let mut q = connected(t0);
        q.received(0, LINE);
        match q.woke(t0 + ms(5000), None) {
            Step::Done(Ok(answer)) => assert_eq!(answer.reply, LINE),
            other => panic!("{other:?}"),
        }
        assert_eq!(q.round_trip(t0 + ms(5000)), None, "not a round trip");
    }

    #[test]
    fn a_whole_line_before_a_reset_is_the_answer_and_a_part_is_not() {
        let t0 = Instant::now();
        let reset = || io::Error::from_raw_os_error(libc::ECONNRESET);
        let mut whole = connected(t0);
        whole.received(0, LINE);
        match whole.receive_failed(0, reset()) {
            Step::Done(Ok(answer)) => assert_eq!(answer.reply, LINE),
            other => panic!("{other:?}"),
        }
        let mut part = connected(t0);
        part.received(0, &LINE[..20]);
        match part.receive_failed(0, reset()) {
            Step::Done(Err(e)) => assert_eq!(e.to_string(), "recv error: Connection reset by peer"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_silent_connection_gets_others_beside_it_and_the_first_to_answer_wins() {
        let t0 = Instant::now();
        let end = t0 + ms(5000);
        let a = addr("10.0.0.1:4000");
        let (mut q, step) = Stream::start(vec![a], end, t0, &options(), Some(ms(10))).unwrap();
        assert!(matches!(step, Step::Connect(0, _)));
        let hedge = Some(ms(10));
        assert!(matches!(q.woke(t0 + ms(5), hedge), Step::Wait(t) if t == t0 + ms(10)));
        assert!(matches!(q.woke(t0 + ms(10), hedge), Step::Connect(1, b) if b == a));
        // Twice the wait before the next one.
        assert!(matches!(q.woke(t0 + ms(20), hedge), Step::Wait(t) if t == t0 + ms(30)));
        assert!(matches!(q.woke(t0 + ms(30), hedge), Step::Connect(2, _)));
        assert!(matches!(q.woke(t0 + ms(70), hedge), Step::Connect(3, _)));
        // Four at most.
        assert!(matches!(q.woke(t0 + ms(500), hedge), Step::Wait(t) if t == end));
        // The first made, without a byte, and the third closed empty: the
        // others go on; the second answers.
        q.made(0);
        q.made(2);
        assert!(matches!(q.received(2, b""), Step::Wait(_)));
        q.made(1);
        assert!(matches!(q.received(1, LINE), Step::Wait(_)));
        match q.received(1, b"") {
            Step::Done(Ok(answer)) => assert_eq!(answer.reply, LINE),
            other => panic!("{other:?}"),
        }
        assert_eq!(q.round_trip(t0 + ms(80)), None, "several connections");
    }

    #[test]
    fn a_byte_stops_the_connections_beside_it() {
        let t0 = Instant::now();
        let a = addr("10.0.0.1:4000");
        let (mut q, _) =
            Stream::start(vec![a], t0 + ms(5000), t0, &options(), Some(ms(10))).unwrap();
        q.made(0);
        q.received(0, b" 10:");
        assert!(matches!(q.woke(t0 + ms(100), None), Step::Wait(t) if t == t0 + ms(5000)));
    }

    #[test]
    fn a_reply_past_the_cap_is_refused() {
        let mut q = connected(Instant::now());
        let chunk = vec![b'x'; 4096];
        for _ in 0..MAX_REPLY / chunk.len() {
            assert!(matches!(q.received(0, &chunk), Step::Wait(_)));
        }
        assert!(matches!(
            q.received(0, b"y"),
            Step::Done(Err(QueryError::TooLong(MAX_REPLY)))
        ));
    }
}
