//! The wire protocol of the original programs, with no I/O (no sockets, no
//! clocks): what both sides send and how much of it, and what a reply means.
//!
//! - stream and fork modes: the client connects over TCP, the daemon writes
//!   the uptime line and closes, the client reads to the end;
//! - dgram mode: the client sends a datagram ([`request`]), the daemon
//!   answers with one datagram holding the line.
//!
//! [`line`] writes and reads the uptime line; [`verdict`] judges a reply;
//! the limits below bound what either side sends or takes.

pub mod line;
pub mod request;
pub mod verdict;

pub use line::Sample;
pub use verdict::Verdict;

/// The most a stream reply holds: the daemon sends no more (a `--command`
/// writing more is cut), the client refuses a longer one.
pub const MAX_REPLY: usize = 64 * 1024;

/// The most a datagram reply of the daemon holds: one line, cut to fit, so
/// that it is never fragmented.
pub const MAX_DATAGRAM_REPLY: usize = 1024;

/// The most a datagram reply may hold for the client (another daemon may
/// send a longer line than ours); a longer one is refused.
pub const MAX_DATAGRAM: usize = 4 * 1024;
