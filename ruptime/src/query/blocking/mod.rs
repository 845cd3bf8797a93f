//! One host asked from this thread, blocking, as the original clients ask:
//! each mode's driver ([`stream`], [`dgram`]) waits on one thing at a time
//! under a SIGALRM deadline. A run of one host given as an address uses it
//! (no resolver to wait for, no loop to set up), and so does the exporter,
//! on a thread of its own for each probe.

mod dgram;
mod stream;

use std::io;
use std::os::fd::AsFd;
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use ruptime_common::resolve::Proto;
use ruptime_common::timeout::with_deadline;

use super::options::Options;
use super::outcome::Outcome;
use super::trace::Trace;
use crate::target::Target;

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

/// Waits in `poll`, under a SIGALRM at `until`, for sockets to become
/// readable; their indexes.
///
/// # Errors
/// `TimedOut` at `until`; what `poll` fails with.
pub(super) fn wait_readable<'a, S: AsFd + 'a>(
    sockets: impl Iterator<Item = &'a S>,
    until: Instant,
) -> io::Result<Vec<usize>> {
    let mut fds: Vec<PollFd<'_>> = sockets
        .map(|s| PollFd::new(s.as_fd(), PollFlags::POLLIN))
        .collect();
    with_deadline(until, || Ok(poll(&mut fds, PollTimeout::NONE)?))?;
    Ok(fds
        .iter()
        .enumerate()
        .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
        .map(|(i, _)| i)
        .collect())
}
