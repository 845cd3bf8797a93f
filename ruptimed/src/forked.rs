//! Forking a child of the daemon.
//!
//! ruptimed never starts a thread, so at every fork the process is
//! single-threaded and the child may run ordinary code (the native child
//! reads files, formats and sends); the fork server checks this at each
//! fork, in every build. A child that only execs (a `--command`) does
//! nothing but async-signal-safe work, and needs no such check.
//! The child ends with `_exit`: it never returns into the server loop, and
//! never runs the daemon's exit code (which would remove the pid file).
//!
//! A child keeps the daemon's signal handlers, which only set flags in its
//! own memory and wake the parent's loop (a spurious wake-up, nothing more),
//! and its blocked SIGCHLD (it has no children): a native child lives for
//! one send, and an overdue child gets SIGKILL. A child that execs resets
//! what exec keeps (see [`Command`](crate::command::Command)).

use std::io;

use nix::unistd::{ForkResult, Pid, fork};

/// Forks; the child runs `child` and exits with the status it returns; the
/// parent gets the child's pid.
///
/// # Safety
/// Either the process runs one thread (see
/// [`ensure_single`](ruptime_common::threads::ensure_single)), or `child`
/// does only async-signal-safe work: another thread may have held a lock
/// (the allocator's, stdio's) that the child would wait on for ever.
///
/// # Errors
/// `fork` fails (e.g. `EAGAIN` at the process limit).
#[allow(unsafe_code)]
pub(crate) unsafe fn fork_child(child: impl FnOnce() -> i32) -> io::Result<Pid> {
    // SAFETY: as the caller promises, the child may run `child`.
    match unsafe { fork() }? {
        ForkResult::Parent { child } => Ok(child),
        ForkResult::Child => {
            let status = child();
            // SAFETY: ends the child at once, without the parent's exit handlers.
            unsafe { libc::_exit(status) }
        }
    }
}
