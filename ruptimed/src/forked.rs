//! Forking a child of the daemon.
//!
//! ruptimed never starts a thread, so at every fork the process is
//! single-threaded and the child may run ordinary code (the native child
//! reads files, formats and sends); a debug build checks this at each fork.
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
/// # Errors
/// `fork` fails (e.g. `EAGAIN` at the process limit).
#[allow(unsafe_code)]
pub fn fork_child(child: impl FnOnce() -> i32) -> io::Result<Pid> {
    #[cfg(all(debug_assertions, not(test)))]
    debug_assert_eq!(
        threads(),
        Some(1),
        "ruptimed forks only while single-threaded"
    );
    // SAFETY: the daemon is single-threaded here (see above), so the child is
    // a whole copy of it and may run ordinary code.
    match unsafe { fork() }? {
        ForkResult::Parent { child } => Ok(child),
        ForkResult::Child => {
            let status = child();
            // SAFETY: ends the child at once, without the parent's exit handlers.
            unsafe { libc::_exit(status) }
        }
    }
}

/// The number of threads of this process, from /proc.
#[cfg(all(debug_assertions, not(test)))]
fn threads() -> Option<usize> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(17)?
        .parse()
        .ok()
}
