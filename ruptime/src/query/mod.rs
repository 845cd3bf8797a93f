//! Asking hosts: one module per mode, each the port of one original client.
//!
//! Every host of a run is asked at once, so a run takes about one timeout
//! however many hosts are dead: `stream` and `dgram` ask from worker threads
//! ([`threads`]), `fork` from one child process per host ([`fork`]). Every
//! wait ends by the run's deadline. [`discover`] asks whole networks.

mod dgram;
pub mod discover;
mod fork;
mod stream;
mod threads;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ruptime_common::connect::Backoff;
use ruptime_common::duration::show_seconds;
use ruptime_common::mode::Mode;
use ruptime_common::oserror::describe;
use ruptime_common::resolve::ResolveError;

use crate::target::{Family, Target};

/// The most a stream reply may hold; a longer one is refused, not cut.
pub const MAX_REPLY: usize = 64 * 1024;

/// The most a datagram reply may hold: the daemon sends one line of at most
/// 1 KiB; a longer datagram is refused.
pub const MAX_DATAGRAM: usize = 4 * 1024;

/// What every query of a run shares.
#[derive(Clone, Debug)]
pub struct Options {
    /// Which address families to use.
    pub family: Family,
    /// When every wait of the run ends.
    pub deadline: Instant,
    /// The timeout the deadline came from, for messages.
    pub timeout: Duration,
    /// The delays between connection attempts.
    pub backoff: Backoff,
}

impl Options {
    /// Options for a run starting now and lasting at most `timeout`.
    pub fn new(family: Family, timeout: Duration) -> Options {
        Options {
            family,
            deadline: Instant::now() + timeout,
            timeout,
            backoff: Backoff::MAXSLEEP,
        }
    }
}

/// Why a host gave no reply.
#[derive(Debug)]
pub enum QueryError {
    /// The spec, the port or the name could not be resolved.
    Resolve(ResolveError),
    /// No address accepted the connection, or every one refused the datagram.
    Connect(io::Error),
    /// Receiving the reply failed.
    Receive(io::Error),
    /// Nothing came by the deadline.
    NoReply(Duration),
    /// Part of a reply came, these many bytes, but not its end by the deadline.
    Incomplete(Duration, usize),
    /// The server closed the connection without a byte.
    Empty,
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
            QueryError::TooLong(limit) => write!(f, "reply longer than {} KiB", limit / 1024),
            QueryError::Failed(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for QueryError {}

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

/// Asks every target in `mode`; the outcomes in the targets' order.
pub fn ask_all(mode: Mode, targets: &[Target], options: &Options) -> Vec<Outcome> {
    match mode {
        Mode::Stream => threads::ask_all(targets, options, stream::ask),
        Mode::Dgram => threads::ask_all(targets, options, dgram::ask),
        Mode::Fork => fork::ask_all(targets, options),
    }
}
