//! Shared pieces of the ruptime suite, the Rust port of the `ruptime`/`ruptimed`
//! programs of *Advanced Programming in the UNIX Environment*, chapter 16.
//!
//! - [`duration`]: seconds on the command line and in messages.
//! - [`inherited`]: signal dispositions and the mask, reset at start.
//! - [`manual`]: the manual's extra sections, for `--help` and man pages.
//! - [`mode`]: the three ways of speaking the protocol (`stream`, `fork`, `dgram`).
//! - [`resolve`]: the `ruptime` service and its port, host names and `HOST:PORT` specs;
//!   [`lookups`]: lookups on a bounded pool of threads.
//! - [`connect`]: `connect_retry`, the original's exponential backoff, bounded by a deadline.
//! - [`protocol`]: the wire protocol, with no I/O: the request, the limits,
//!   the uptime line written and read, the verdict on a reply.
//! - [`oserror`]: OS errors in the words users read.
//! - [`server`]: `initserver`, a bound (and for streams, listening) socket.
//! - [`timeout`]: SIGALRM-style timeouts around one blocking call.
//! - [`systemd`]: what systemd passes a service (sockets, the notify socket), taken once.
//! - [`threads`]: how many threads run, checked before every raw `fork`;
//!   [`child`]: forking a child that runs a closure, then ends.
//! - [`descriptors`]: the descriptor limit, raised for programs that hold many sockets.
//! - [`uptime`]: this host's figures for the uptime line, from `/proc` and utmp.
//! - [`logging`]: the `log` backend: syslog for the daemon, stderr in the foreground.

pub mod child;
pub mod connect;
pub mod descriptors;
pub mod duration;
pub mod inherited;
pub mod logging;
pub mod lookups;
pub mod manual;
pub mod mode;
pub mod oserror;
pub mod protocol;
pub mod resolve;
pub mod server;
pub mod systemd;
pub mod threads;
pub mod timeout;
pub mod uptime;
