//! Asking hosts.
//!
//! - [`stream`], [`dgram`]: each mode's protocol for one host, a state
//!   machine fed events and the time that says what to send and when to
//!   wake (the ports of the original clients), with no I/O.
//! - [`blocking`]: one host asked as the originals ask, waiting under a
//!   SIGALRM deadline; [`fleet`]: the event loop that asks many hosts at
//!   once: it owns the sockets ([`sockets`]), the timers and each host's
//!   deadline ([`slots`]), keeps a window of descriptors, begins hosts at
//!   the adaptive pace of their [`groups`] (each a [`rate`] driving a token
//!   bucket, [`pace`]), resends and opens connections beside silent ones on
//!   the measured [`round_trip`]; names are looked up by [`resolver`].
//! - [`here`]: asking from this process, with the one or the other;
//!   [`fork`]: fork mode, child processes each asking their share.
//! - [`discover`]: whole networks.
//! - [`outcome`]: what asking comes to; [`options`]: what a run's queries
//!   share; [`watch`]: what a run tells as it goes; [`trace`]: what one
//!   host's query tells.
//!
//! Every host gets the whole timeout, counted from when its own query begins.

pub mod blocking;
mod dgram;
pub mod discover;
mod fleet;
mod fork;
mod groups;
mod here;
pub mod options;
pub mod outcome;
mod pace;
mod rate;
mod resolver;
mod round_trip;
mod slots;
mod sockets;
mod stream;
pub mod trace;
pub mod watch;

pub use blocking::ask_one;
pub use options::{Bounds, Options};
pub use outcome::{Answer, Outcome, QueryError};
pub use trace::{Trace, Untraced};
pub use watch::{Stopwatch, TICK, Unwatched, Watch};

use ruptime_common::mode::Mode;

use crate::target::Target;

/// Asks every target in `mode`; the outcomes in the targets' order.
pub fn ask_all(
    mode: Mode,
    targets: &[Target],
    options: &Options,
    watch: &mut dyn Watch,
) -> Vec<Outcome> {
    match mode {
        Mode::Fork => fork::ask_all(targets, options, watch),
        Mode::Stream | Mode::Dgram => here::ask_all(mode.proto(), targets, options, watch),
    }
}
