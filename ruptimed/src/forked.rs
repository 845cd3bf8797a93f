//! Forking a child of the daemon.
//!
//! ruptimed never starts a thread, so at every fork the process is
//! single-threaded and the child may run ordinary code (the native report
//! reads files and formats); a debug build checks this at each fork. The child
//! gets default signal dispositions and an empty mask, and ends with `_exit`:
//! it never returns into the server loop, and never runs the daemon's exit
//! code (which would remove the pid file).

use std::io;

use nix::unistd::{ForkResult, Pid, fork};

/// The signals whose handling a child must not inherit: the daemon's
/// handlers, and SIGPIPE, which Rust ignores (an exec would keep that).
const RESET: [libc::c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGCHLD,
    libc::SIGPIPE,
    libc::SIGALRM,
];

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
            reset_signals();
            let status = child();
            // SAFETY: ends the child at once, without the parent's exit handlers.
            unsafe { libc::_exit(status) }
        }
    }
}

/// Default dispositions for [`RESET`] and an empty signal mask.
#[allow(unsafe_code)]
fn reset_signals() {
    // SAFETY: `signal`, `sigemptyset` and `sigprocmask` are async-signal-safe
    // and get valid arguments.
    unsafe {
        for signal in RESET {
            libc::signal(signal, libc::SIG_DFL);
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
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
