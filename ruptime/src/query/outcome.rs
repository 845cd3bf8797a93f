//! What asking a host comes to: its [`Answer`] (judged once, as it came),
//! or why there is none ([`QueryError`]).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ruptime_common::duration::show_seconds;
use ruptime_common::oserror::describe;
use ruptime_common::protocol::Verdict;
use ruptime_common::resolve::ResolveError;

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

/// A reply, the address it came from, and what it says.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The reply, as received.
    pub reply: Vec<u8>,
    /// The address that sent it.
    pub from: SocketAddr,
    /// What it says, judged once for the whole client.
    pub verdict: Verdict,
}

impl Answer {
    /// `reply` from `from`, judged.
    pub fn new(reply: Vec<u8>, from: SocketAddr) -> Answer {
        let verdict = Verdict::of(&reply);
        Answer {
            reply,
            from,
            verdict,
        }
    }

    /// Whether the host answered: anything but the daemon's error line.
    pub fn answered(&self) -> bool {
        self.verdict.answered()
    }
}

/// A host's reply, or why there is none.
pub type Outcome = Result<Answer, QueryError>;
