//! Forking a child that runs a closure, then ends.
//!
//! Both programs fork raw children that run ordinary code: the fork
//! server's child builds and sends the line, fork mode's child asks its
//! share of the hosts. A child forked from a process with threads may only
//! do async-signal-safe work (another thread may have held the
//! allocator's lock), so they fork while they have one thread (see
//! [`threads::ensure_single`](crate::threads::ensure_single)), or with a
//! closure that only execs. The child ends with `_exit`: it never returns
//! into its parent's loop, and never runs its exit code (which would flush
//! the parent's buffers or remove the daemon's pid file).

use std::io;

use nix::unistd::{ForkResult, Pid, fork};

/// Forks; the child runs `child` and exits with the status it returns; the
/// parent gets the child's pid.
///
/// # Safety
/// Either the process runs one thread (see
/// [`ensure_single`](crate::threads::ensure_single)), or `child` does only
/// async-signal-safe work: another thread may have held a lock (the
/// allocator's, stdio's) that the child would wait on for ever.
///
/// # Errors
/// `fork` fails (e.g. `EAGAIN` at the process limit).
#[allow(unsafe_code)]
pub unsafe fn fork_child(child: impl FnOnce() -> i32) -> io::Result<Pid> {
    // SAFETY: as the caller promises, the child may run `child`.
    match unsafe { fork() }? {
        ForkResult::Parent { child } => Ok(child),
        ForkResult::Child => {
            let status = child();
            // SAFETY: ends the child at once, without the parent's exit
            // handlers or the flushing of its buffers.
            unsafe { libc::_exit(status) }
        }
    }
}
