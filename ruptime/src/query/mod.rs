//! Asking hosts.
//!
//! - [`stream`], [`dgram`]: each mode's protocol for one host, a state machine
//!   fed bytes and the time that says what to send and when to wake (the
//!   ports of the original clients), and the blocking query of one host under
//!   a SIGALRM deadline, as the originals ask.
//! - [`fleet`]: the event loop that asks many hosts at once: it owns the
//!   sockets, the timers and each host's deadline, keeps a window of
//!   descriptors and paces new connections ([`pace`]); names are looked up
//!   by [`resolver`].
//! - [`fork`]: fork mode: child processes, each running the loop on its share.
//! - [`discover`]: whole networks.
//!
//! Every host gets the whole timeout, counted from when its own query begins.

mod dgram;
pub mod discover;
mod fleet;
mod fork;
mod pace;
mod resolver;
mod slots;
mod stream;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ruptime_common::connect::Backoff;
use ruptime_common::duration::show_seconds;
use ruptime_common::mode::Mode;
use ruptime_common::oserror::describe;
use ruptime_common::resolve::{Proto, ResolveError};

use crate::target::{Family, Target};

/// The most a stream reply may hold; a longer one is refused, not cut.
pub const MAX_REPLY: usize = 64 * 1024;

/// The most a datagram reply may hold: the daemon sends one line of at most
/// 1 KiB; a longer datagram is refused.
pub const MAX_DATAGRAM: usize = 4 * 1024;

/// How many new hosts a run begins per second by default: in the sweep of
/// BENCHMARKS.md the one pace at which 10 000 hosts behind one daemon of any
/// mode all answer (unpaced, a fork-mode daemon's backlog overflows and a
/// fifth of them do not); it begins 100 000 hosts in 5 s.
pub const DEFAULT_PACE: u32 = 20_000;

/// The most hosts begun at once: half the listen backlog of `ruptimed`
/// (`initserver`'s 1024), so that a burst alone cannot overflow it.
pub const BURST: u32 = 512;

/// What every query of a run shares.
#[derive(Clone, Debug)]
pub struct Options {
    /// Which address families to use.
    pub family: Family,
    /// How long each host is given, from when its query begins.
    pub timeout: Duration,
    /// The delays between connection attempts.
    pub backoff: Backoff,
    /// New hosts asked per second at most; 0 for no limit.
    pub pace: u32,
    /// New hosts asked at once at most.
    pub burst: u32,
}

impl Options {
    /// Options giving each host `timeout`.
    pub fn new(family: Family, timeout: Duration) -> Options {
        Options {
            family,
            timeout,
            backoff: Backoff::MAXSLEEP,
            pace: DEFAULT_PACE,
            burst: BURST,
        }
    }
}

/// Why a host gave no reply.
#[derive(Debug)]
pub enum QueryError {
    /// The spec, the port or the name could not be resolved.
    Resolve(ResolveError),
    /// The connection was refused, or the host is unreachable.
    Connect(io::Error),
    /// Every address refused the datagram (ICMP port unreachable), or none
    /// can be reached.
    Unreachable(io::Error),
    /// Nothing answered the connection attempt by the deadline.
    Unanswered(Duration),
    /// Connected, but nothing came by the deadline.
    Silent(Duration),
    /// Receiving the reply failed.
    Receive(io::Error),
    /// No datagram came back by the deadline.
    NoReply(Duration),
    /// Part of a reply came, these many bytes, but not its end by the deadline.
    Incomplete(Duration, usize),
    /// The server closed the connection without a byte.
    Empty,
    /// An empty datagram came back.
    EmptyDatagram,
    /// The reply was longer than this many bytes.
    TooLong(usize),
    /// The query could not be made, or its process failed; the text says why.
    Failed(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Resolve(e) => write!(f, "{e}"),
            QueryError::Connect(e) => write!(f, "can't connect: {}", describe(e)),
            QueryError::Unreachable(e) => write!(f, "can't reach: {}", describe(e)),
            QueryError::Unanswered(timeout) => write!(
                f,
                "no answer to the connection attempt within {}",
                show_seconds(*timeout)
            ),
            QueryError::Silent(timeout) => {
                write!(
                    f,
                    "connected, but no reply within {}",
                    show_seconds(*timeout)
                )
            }
            QueryError::Receive(e) => write!(f, "recv error: {}", describe(e)),
            QueryError::NoReply(timeout) => write!(f, "no reply within {}", show_seconds(*timeout)),
            QueryError::Incomplete(timeout, got) => {
                write!(
                    f,
                    "reply incomplete after {} ({got} bytes)",
                    show_seconds(*timeout)
                )
            }
            QueryError::Empty => f.write_str("connection closed without a reply"),
            QueryError::EmptyDatagram => f.write_str("an empty datagram came back"),
            QueryError::TooLong(limit) => write!(f, "reply longer than {} KiB", limit / 1024),
            QueryError::Failed(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for QueryError {}

impl QueryError {
    /// A lookup that did not end within `timeout`.
    pub fn lookup_unanswered(timeout: Duration) -> QueryError {
        let reason = format!("no answer within {}", show_seconds(timeout));
        QueryError::Resolve(ResolveError::Lookup(reason))
    }

    /// A lookup that could not start within `timeout`: every thread that
    /// could make it was stuck in one that went before.
    pub fn lookup_stuck(timeout: Duration) -> QueryError {
        let reason = format!(
            "no lookup could start within {}: every resolver thread is stuck",
            show_seconds(timeout)
        );
        QueryError::Resolve(ResolveError::Lookup(reason))
    }
}

impl From<ResolveError> for QueryError {
    fn from(error: ResolveError) -> QueryError {
        QueryError::Resolve(error)
    }
}

/// A reply and the address it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The reply, as received.
    pub reply: Vec<u8>,
    /// The address that sent it.
    pub from: SocketAddr,
}

/// A host's reply, or why there is none.
pub type Outcome = Result<Answer, QueryError>;

/// What a run tells as it goes, host by host (by index in the run's order).
pub trait Watch {
    /// The query of host `index` began; it ends by `deadline`.
    fn begun(&mut self, index: usize, deadline: Instant);
    /// The query of host `index` ended.
    fn ended(&mut self, index: usize, outcome: &Outcome);
    /// Time passed: called at least every [`TICK`] while a run goes on.
    fn tick(&mut self) {}
}

/// How often a run calls [`Watch::tick`] at the least.
pub const TICK: Duration = Duration::from_millis(200);

/// A watch that wants to hear nothing.
pub struct Unwatched;

impl Watch for Unwatched {
    fn begun(&mut self, _: usize, _: Instant) {}
    fn ended(&mut self, _: usize, _: &Outcome) {}
}

/// A watch that times each host's query, and tells another watch.
pub struct Stopwatch<'a> {
    inner: &'a mut dyn Watch,
    began: Vec<Option<Instant>>,
    took: Vec<Option<Duration>>,
}

impl<'a> Stopwatch<'a> {
    /// Times a run of `total` hosts, telling `inner`.
    pub fn new(inner: &'a mut dyn Watch, total: usize) -> Stopwatch<'a> {
        Stopwatch {
            inner,
            began: vec![None; total],
            took: vec![None; total],
        }
    }

    /// How long each host's query took, in the run's order.
    pub fn took(self) -> Vec<Option<Duration>> {
        self.took
    }
}

impl Watch for Stopwatch<'_> {
    fn begun(&mut self, index: usize, deadline: Instant) {
        if let Some(began) = self.began.get_mut(index) {
            *began = Some(Instant::now());
        }
        self.inner.begun(index, deadline);
    }

    fn ended(&mut self, index: usize, outcome: &Outcome) {
        if let (Some(Some(began)), Some(took)) = (self.began.get(index), self.took.get_mut(index)) {
            *took = Some(began.elapsed());
        }
        self.inner.ended(index, outcome);
    }

    fn tick(&mut self) {
        self.inner.tick();
    }
}

/// Asks every target in `mode`; the outcomes in the targets' order.
pub fn ask_all(
    mode: Mode,
    targets: &[Target],
    options: &Options,
    watch: &mut dyn Watch,
) -> Vec<Outcome> {
    match mode {
        Mode::Fork => fork::ask_all(targets, options, watch),
        Mode::Stream | Mode::Dgram => ask_here(mode.proto(), targets, options, watch),
    }
}

/// Asks every target from this process: one host needing no lookup with
/// the blocking query (no resolver to wait for, no loop to set up), any
/// other run with the loop.
fn ask_here(
    proto: Proto,
    targets: &[Target],
    options: &Options,
    watch: &mut dyn Watch,
) -> Vec<Outcome> {
    if let [target] = targets
        && target.is_resolved()
    {
        let deadline = Instant::now() + options.timeout;
        watch.begun(0, deadline);
        let outcome = ask_one(proto, target, options, deadline, &mut Untraced);
        watch.ended(0, &outcome);
        return vec![outcome];
    }
    fleet::ask_all(proto, targets, options, watch)
}

/// Asks one target over `proto` from this thread, blocking until its reply
/// or `deadline` (its name, when it has one not looked up yet, is looked up
/// first, blocking too); `trace` hears of each step.
pub fn ask_one(
    proto: Proto,
    target: &Target,
    options: &Options,
    deadline: Instant,
    trace: &mut dyn Trace,
) -> Outcome {
    let addrs = target.addresses(options.family)?;
    match proto {
        Proto::Tcp => stream::ask(&addrs, deadline, options, trace),
        Proto::Udp => dgram::ask(addrs, deadline, options, trace),
    }
}

/// What a single host's query tells as it goes: each address tried, each
/// datagram sent, what came back.
pub trait Trace {
    /// Something happened.
    fn note(&mut self, what: fmt::Arguments<'_>);
}

/// A trace that keeps nothing.
pub struct Untraced;

impl Trace for Untraced {
    fn note(&mut self, _: fmt::Arguments<'_>) {}
}
