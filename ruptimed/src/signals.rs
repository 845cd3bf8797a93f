//! Signals, turned into events the serve loop polls for.
//!
//! signal-hook's handlers set a flag and then write a byte to a self-pipe whose
//! read end sits in the `poll` set beside the listening sockets, so the daemon
//! stays single-threaded and a signal never interrupts a request half-way.

use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM};
use signal_hook::{flag, low_level::pipe};

/// Flags for the signals the daemon acts on, and the pipe that wakes it.
#[derive(Debug)]
pub struct Signals {
    wake: UnixStream,
    terminate: Arc<AtomicBool>,
    hangup: Arc<AtomicBool>,
    child: Arc<AtomicBool>,
}

impl Signals {
    /// Installs handlers for SIGTERM and SIGINT (stop), SIGHUP (reopen the log)
    /// and SIGCHLD (reap).
    ///
    /// # Errors
    /// The pipe or a handler cannot be set up.
    pub fn install() -> io::Result<Signals> {
        let (wake, write) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        write.set_nonblocking(true)?;
        let signals = Signals {
            wake,
            terminate: Arc::default(),
            hangup: Arc::default(),
            child: Arc::default(),
        };
        for (signal, raised) in [
            (SIGTERM, &signals.terminate),
            (SIGINT, &signals.terminate),
            (SIGHUP, &signals.hangup),
            (SIGCHLD, &signals.child),
        ] {
            flag::register(signal, Arc::clone(raised))?;
            pipe::register(signal, write.try_clone()?)?;
        }
        Ok(signals)
    }

    /// The descriptor that becomes readable when a signal arrives.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// Empties the pipe; call before acting on the flags, so none is missed.
    pub fn drain(&self) {
        let mut buf = [0u8; 64];
        while matches!((&self.wake).read(&mut buf), Ok(n) if n > 0) {}
    }

    /// Whether SIGTERM or SIGINT has arrived.
    pub fn terminating(&self) -> bool {
        self.terminate.load(Ordering::SeqCst)
    }

    /// Whether SIGHUP arrived since the last call.
    pub fn take_hangup(&self) -> bool {
        self.hangup.swap(false, Ordering::SeqCst)
    }

    /// Whether SIGCHLD arrived since the last call.
    pub fn take_child(&self) -> bool {
        self.child.swap(false, Ordering::SeqCst)
    }
}
