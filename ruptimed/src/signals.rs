//! Signals, turned into events the serve loop waits for.
//!
//! SIGTERM, SIGINT and SIGHUP: signal-hook's handlers set a flag and then
//! write a byte to a self-pipe whose read end sits in the epoll set beside the
//! listening sockets, so the daemon stays single-threaded and a signal never
//! interrupts a request half-way.
//!
//! SIGCHLD arrives once per connection in fork mode, so it gets no handler:
//! it is blocked and read from a `signalfd` in the same epoll set. A handler
//! would push its frame onto a stack that the last fork made copy-on-write,
//! page faults every time. Children inherit the blocked SIGCHLD; a command's
//! child unblocks every signal before exec.

use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::{flag, low_level::pipe};

/// Flags for the signals the daemon acts on, and the descriptors that wake it.
#[derive(Debug)]
pub(crate) struct Signals {
    wake: UnixStream,
    terminate: Arc<AtomicBool>,
    hangup: Arc<AtomicBool>,
    exits: SignalFd,
}

impl Signals {
    /// Installs handlers for SIGTERM and SIGINT (stop) and SIGHUP (reopen
    /// the log), and takes SIGCHLD (reap) through a `signalfd`.
    ///
    /// # Errors
    /// The pipe, a handler or the `signalfd` cannot be set up.
    pub(crate) fn install() -> io::Result<Signals> {
        let (wake, write) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        write.set_nonblocking(true)?;
        let mut child = SigSet::empty();
        child.add(Signal::SIGCHLD);
        // The daemon has one thread: its mask is the process's.
        child.thread_block()?;
        let exits = SignalFd::with_flags(&child, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        let signals = Signals {
            wake,
            terminate: Arc::default(),
            hangup: Arc::default(),
            exits,
        };
        for (signal, raised) in [
            (SIGTERM, &signals.terminate),
            (SIGINT, &signals.terminate),
            (SIGHUP, &signals.hangup),
        ] {
            flag::register(signal, Arc::clone(raised))?;
            pipe::register(signal, write.try_clone()?)?;
        }
        Ok(signals)
    }

    /// The descriptor that becomes readable when SIGTERM, SIGINT or SIGHUP
    /// arrives.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// The descriptor that becomes readable when a child ends.
    pub(crate) fn exits_fd(&self) -> BorrowedFd<'_> {
        self.exits.as_fd()
    }

    /// Empties the pipe; call before acting on the flags, so none is missed.
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 64];
        while matches!((&self.wake).read(&mut buf), Ok(n) if n > 0) {}
    }

    /// Empties the `signalfd`; whether a child ended since the last call.
    pub(crate) fn take_exits(&self) -> bool {
        let mut ended = false;
        while let Ok(Some(_)) = self.exits.read_signal() {
            ended = true;
        }
        ended
    }

    /// Whether SIGTERM or SIGINT has arrived.
    pub(crate) fn terminating(&self) -> bool {
        self.terminate.load(Ordering::SeqCst)
    }

    /// Whether SIGHUP arrived since the last call.
    pub(crate) fn take_hangup(&self) -> bool {
        self.hangup.swap(false, Ordering::SeqCst)
    }
}
