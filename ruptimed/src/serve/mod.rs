//! The serve loop: one thread, one epoll set over the signal pipe and every
//! socket.
//!
//! The originals block in `accept` or `recvfrom` on a single socket. Serving
//! IPv4 and IPv6 on one port takes one wait over several sockets; epoll keeps
//! them registered between waits (`poll` would register and unregister each
//! socket at every wait, which on loopback costs as much as the request).
//! The sockets are non-blocking, so a readiness that vanished costs nothing.
//! Each mode's serving lives in its own module, the port of one original
//! program. The loop sleeps in `epoll_wait` without a timeout unless a
//! child's deadline, the end of an accept pause or a summary of refused
//! clients or dropped datagrams is due: an idle daemon uses no CPU.

mod accept;
mod dgram;
mod fork;
pub(crate) mod inetd;
mod send;
mod stream;

use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::PollTimeout;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use ruptime_common::duration::millis_until;
use ruptime_common::logging::Logger;
use ruptime_common::mode::Mode;

use crate::allow::Allow;
use crate::children::Children;
use crate::fatal::Fatal;
use crate::guard::Guard;
use crate::listen::Listener;
use crate::ratelimit::Limits;
use crate::report::ReplySource;
use crate::signals::Signals;
use crate::throttle::Throttle;
use crate::udp;
use accept::Acceptor;
pub(crate) use send::send_all;

/// What the mode modules share while serving.
#[derive(Debug)]
pub(crate) struct ServeState {
    replies: ReplySource,
    children: Children,
    acceptor: Acceptor,
    guard: Guard,
    batch: udp::Batch,
    errors: Throttle,
    limit: Duration,
    send_timeout: Duration,
}

/// The bounds the serve loop keeps.
#[derive(Clone, Debug)]
pub(crate) struct Bounds {
    /// The longest one request (a child, a command) may take.
    pub request_timeout: Duration,
    /// The longest the iterative server waits for a client to take a reply.
    pub send_timeout: Duration,
    /// The most children at once, in fork mode.
    pub max_children: usize,
    /// The datagram rate limits.
    pub limits: Limits,
    /// Who may ask.
    pub allow: Allow,
}

impl ServeState {
    /// Serving with `reporter`, within `bounds`.
    pub(crate) fn new(replies: ReplySource, bounds: Bounds) -> ServeState {
        ServeState {
            replies,
            children: Children::new(bounds.max_children, bounds.request_timeout),
            acceptor: Acceptor::new(bounds.allow.clone()),
            guard: Guard::new(bounds.limits, bounds.allow),
            batch: udp::Batch::new(),
            errors: Throttle::new(Duration::from_secs(1)),
            limit: bounds.request_timeout,
            send_timeout: bounds.send_timeout,
        }
    }
}

impl ServeState {
    /// Logs the summaries of refused clients and dropped datagrams that
    /// are due at `now` (all of them at the end).
    pub(crate) fn summarize(&mut self, now: Instant, at_end: bool) {
        self.acceptor.summarize(now, at_end);
        self.guard.summarize(now, at_end);
    }
}

/// The daemon at work: its sockets, its signals and its log.
#[derive(Debug)]
pub(crate) struct Server {
    listeners: Vec<Listener>,
    /// Which listeners are in the epoll set now.
    armed: Vec<bool>,
    epoll: Epoll,
    signals: Signals,
    logger: &'static Logger,
    work: ServeState,
}

/// The epoll tokens of the signal pipe and of the children's exits; a
/// listener's is its index.
const SIGNALS: u64 = u64::MAX;
const EXITS: u64 = u64::MAX - 1;

/// The most events taken from one `epoll_wait`.
const EVENTS: usize = 32;

impl Server {
    /// A server for `listeners`, ready to [`run`](Server::run).
    ///
    /// # Errors
    /// The epoll instance cannot be made.
    pub(crate) fn new(
        listeners: Vec<Listener>,
        signals: Signals,
        logger: &'static Logger,
        work: ServeState,
    ) -> Result<Server, Fatal> {
        let failed = |e: Errno| Fatal::new(format!("epoll: {}", e.desc()));
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).map_err(failed)?;
        for (fd, token) in [(signals.fd(), SIGNALS), (signals.exits_fd(), EXITS)] {
            epoll
                .add(fd, EpollEvent::new(EpollFlags::EPOLLIN, token))
                .map_err(failed)?;
        }
        let armed = vec![false; listeners.len()];
        Ok(Server {
            listeners,
            armed,
            epoll,
            signals,
            logger,
            work,
        })
    }

    /// Serves until SIGTERM or SIGINT, calls `stopping`, then closes the
    /// sockets and waits for the running children.
    ///
    /// # Errors
    /// `epoll` itself fails.
    pub(crate) fn run(mut self, stopping: impl FnOnce()) -> Result<(), Fatal> {
        while !self.signals.terminating() {
            self.serve_ready()?;
        }
        stopping();
        for (listener, armed) in self.listeners.iter().zip(&self.armed) {
            if *armed {
                // Forked children hold copies: epoll would go on reporting it.
                let _ = self.epoll.delete(&listener.socket);
            }
        }
        self.listeners.clear();
        self.armed.clear();
        if !self.work.children.is_empty() {
            log::info!("no longer accepting; waiting for running children");
        }
        while !self.work.children.is_empty() {
            self.serve_ready()?;
        }
        self.work.summarize(Instant::now(), true);
        Ok(())
    }

    /// Puts in the epoll set the listeners that may be served now, and takes
    /// out the others (fork mode with no room for a child, accepting paused).
    fn arm(&mut self, now: Instant) -> Result<(), Fatal> {
        let accepting = !self.work.acceptor.is_paused(now);
        let forking = accepting && self.work.children.has_room();
        for (i, listener) in self.listeners.iter().enumerate() {
            let wanted = match listener.mode {
                Mode::Stream => accepting,
                Mode::Fork => forking,
                Mode::Dgram => true,
            };
            if wanted == self.armed[i] {
                continue;
            }
            let changed = if wanted {
                self.epoll.add(
                    &listener.socket,
                    EpollEvent::new(EpollFlags::EPOLLIN, i as u64),
                )
            } else {
                self.epoll.delete(&listener.socket)
            };
            changed.map_err(|e| Fatal::new(format!("epoll: {}", e.desc())))?;
            self.armed[i] = wanted;
        }
        Ok(())
    }

    /// Waits for the next event, then serves every socket that is ready.
    fn serve_ready(&mut self) -> Result<(), Fatal> {
        let now = Instant::now();
        self.arm(now)?;
        let wake = [
            self.work.children.next_deadline(),
            self.work.acceptor.resume_at(),
            self.work.guard.summary_due(),
            self.work.acceptor.summary_due(),
        ]
        .into_iter()
        .flatten()
        .min();
        let mut events = [EpollEvent::empty(); EVENTS];
        let ready = match self.epoll.wait(&mut events, timeout_until(wake, now)) {
            Ok(n) => n,
            Err(Errno::EINTR) => 0,
            Err(e) => return Err(Fatal::new(format!("epoll_wait error: {}", e.desc()))),
        };
        for event in &events[..ready] {
            match event.data() {
                SIGNALS => self.on_signals(),
                EXITS => {
                    if self.signals.take_exits() {
                        self.work.children.reap();
                    }
                }
                token => self.serve_listener(token),
            }
        }
        let now = Instant::now();
        self.work.children.kill_overdue(now);
        self.work.summarize(now, false);
        Ok(())
    }

    /// Serves the listener whose token (its index) epoll reported.
    fn serve_listener(&mut self, token: u64) {
        let Some(listener) = usize::try_from(token)
            .ok()
            .and_then(|i| self.listeners.get(i))
        else {
            return;
        };
        match listener.mode {
            Mode::Stream => stream::serve(&listener.socket, &mut self.work),
            Mode::Fork => fork::serve(&listener.socket, &mut self.work),
            Mode::Dgram => {
                dgram::serve(&listener.socket, &mut self.work);
            }
        }
    }

    fn on_signals(&mut self) {
        self.signals.drain();
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
        PollTimeout::try_from(millis_until(at, now)).unwrap_or(PollTimeout::MAX)
    })
}
