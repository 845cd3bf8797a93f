//! The serve loop: one thread, one `poll` over the signal pipe and every socket.
//!
//! The originals block in `accept` or `recvfrom` on a single socket. Serving
//! IPv4 and IPv6 on one port takes one `poll` over several sockets; they are
//! non-blocking, so a readiness that vanished costs nothing. Each mode's
//! serving lives in its own module, the port of one original program. The
//! loop sleeps in `poll` without a timeout unless a child's deadline, the end
//! of an accept pause or a summary of dropped datagrams is due: an idle
//! daemon uses no CPU.

mod accept;
mod dgram;
mod fork;
pub(crate) mod inetd;
mod send;
mod stream;

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use ruptime_common::logging::Logger;
use ruptime_common::mode::Mode;

use crate::children::Children;
use crate::fatal::Fatal;
use crate::guard::Guard;
use crate::listen::Listener;
use crate::ratelimit::Limits;
use crate::report::Reporter;
use crate::signals::Signals;
use crate::throttle::Throttle;
use accept::Acceptor;
pub(crate) use send::send_all;

/// What the mode modules share while serving.
#[derive(Debug)]
pub struct Work {
    reporter: Reporter,
    children: Children,
    acceptor: Acceptor,
    guard: Guard,
    errors: Throttle,
    limit: Duration,
    send_timeout: Duration,
}

/// The bounds the serve loop keeps.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// The longest one request (a child, a command) may take.
    pub request_timeout: Duration,
    /// The longest the iterative server waits for a client to take a reply.
    pub send_timeout: Duration,
    /// The most children at once, in fork mode.
    pub max_children: usize,
    /// The datagram rate limits.
    pub limits: Limits,
}

impl Work {
    /// Serving with `reporter`, within `bounds`.
    pub fn new(reporter: Reporter, bounds: Bounds) -> Work {
        Work {
            reporter,
            children: Children::new(bounds.max_children, bounds.request_timeout),
            acceptor: Acceptor::new(),
            guard: Guard::new(bounds.limits),
            errors: Throttle::new(Duration::from_secs(1)),
            limit: bounds.request_timeout,
            send_timeout: bounds.send_timeout,
        }
    }
}

/// The daemon at work: its sockets, its signals and its log.
#[derive(Debug)]
pub struct Server {
    listeners: Vec<Listener>,
    signals: Signals,
    logger: &'static Logger,
    work: Work,
}

impl Server {
    /// A server for `listeners`, ready to [`run`](Server::run).
    pub fn new(
        listeners: Vec<Listener>,
        signals: Signals,
        logger: &'static Logger,
        work: Work,
    ) -> Server {
        Server {
            listeners,
            signals,
            logger,
            work,
        }
    }

    /// Serves until SIGTERM or SIGINT, then closes the sockets and waits for
    /// the running children.
    ///
    /// # Errors
    /// `poll` itself fails.
    pub fn run(mut self) -> Result<(), Fatal> {
        while !self.signals.terminating() {
            self.serve_ready()?;
        }
        self.listeners.clear();
        if !self.work.children.is_empty() {
            log::info!("no longer accepting; waiting for running children");
        }
        while !self.work.children.is_empty() {
            self.serve_ready()?;
        }
        self.work.guard.summarize(Instant::now(), true);
        Ok(())
    }

    /// Waits for the next event, then serves every socket that is ready.
    fn serve_ready(&mut self) -> Result<(), Fatal> {
        let now = Instant::now();
        let accepting = !self.work.acceptor.is_paused(now);
        let forking = accepting && self.work.children.has_room();
        let wake = [
            self.work.children.next_deadline(),
            self.work.acceptor.resume_at(),
            self.work.guard.summary_due(),
        ]
        .into_iter()
        .flatten()
        .min();
        let mut ready = Vec::new();
        let signalled = {
            let mut fds = vec![PollFd::new(self.signals.fd(), PollFlags::POLLIN)];
            let mut polled = Vec::with_capacity(self.listeners.len());
            for (i, listener) in self.listeners.iter().enumerate() {
                let wanted = match listener.mode {
                    Mode::Stream => accepting,
                    Mode::Fork => forking,
                    Mode::Dgram => true,
                };
                if wanted {
                    fds.push(PollFd::new(listener.socket.as_fd(), PollFlags::POLLIN));
                    polled.push(i);
                }
            }
            match poll(&mut fds, timeout_until(wake, now)) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(Fatal::new(format!("poll error: {}", e.desc()))),
            }
            let is_ready = |fd: &PollFd<'_>| fd.revents().is_some_and(|r| !r.is_empty());
            ready.extend(
                polled
                    .iter()
                    .zip(&fds[1..])
                    .filter(|(_, fd)| is_ready(fd))
                    .map(|(i, _)| *i),
            );
            is_ready(&fds[0])
        };
        if signalled {
            self.on_signals();
        }
        for i in ready {
            let listener = &self.listeners[i];
            match listener.mode {
                Mode::Stream => stream::serve(&listener.socket, &mut self.work),
                Mode::Fork => fork::serve(&listener.socket, &mut self.work),
                Mode::Dgram => dgram::serve(&listener.socket, &mut self.work),
            }
        }
        let now = Instant::now();
        self.work.children.kill_overdue(now);
        self.work.guard.summarize(now, false);
        Ok(())
    }

    fn on_signals(&mut self) {
        self.signals.drain();
        if self.signals.take_child() {
            self.work.children.reap();
        }
        if self.signals.take_hangup() {
            match self.logger.reopen() {
                Ok(()) => log::info!("log reopened on SIGHUP"),
                Err(e) => log::error!("SIGHUP: {e}; logging as before"),
            }
        }
    }
}

/// The `poll` timeout that wakes at `wake` (rounded up to whole
/// milliseconds, so the loop never wakes just before it is due), or never.
fn timeout_until(wake: Option<Instant>, now: Instant) -> PollTimeout {
    wake.map_or(PollTimeout::NONE, |at| {
        let ms = at.saturating_duration_since(now).as_micros().div_ceil(1000);
        PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
    })
}
