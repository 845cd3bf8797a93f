//! Detaching from the terminal, as APUE's `daemonize` does, with one addition:
//! the command returns only once the daemon is ready, and with its verdict.
//!
//! The `daemonize` crate forks, calls `setsid`, changes to `/`, sets the umask,
//! forks again (so the daemon can never reacquire a controlling terminal) and
//! puts /dev/null on the standard streams. Before that we open a pipe; the
//! original process waits on it and exits 0 once the daemon writes "ready", or
//! prints the daemon's error and exits 1, so `ruptimed && ruptime localhost`
//! and `ruptimed --pid-file F && cat F` work without a sleep.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process;

use daemonize::{Daemonize, Outcome};
use nix::fcntl::OFlag;
use nix::unistd::pipe2;
use ruptime_common::oserror::describe;

use crate::fatal::Fatal;

/// What the daemon writes when it is serving.
const READY: &[u8] = b"ready";

/// The daemon's end of the readiness pipe.
#[derive(Debug)]
pub(crate) struct Readiness(File);

impl Readiness {
    /// Tells the waiting command that the daemon serves; it exits 0.
    pub(crate) fn ready(mut self) {
        let _ = self.0.write_all(READY);
    }

    /// Tells the waiting command why the daemon stops; it prints this and exits 1.
    pub(crate) fn failed(mut self, error: &Fatal) {
        let _ = self.0.write_all(error.to_string().as_bytes());
    }
}

/// Detaches; returns in the daemon only. The original process waits for the
/// daemon's verdict and exits with it.
///
/// # Errors
/// The pipe or the first fork fails (reported on the terminal).
pub(crate) fn daemonize() -> Result<Readiness, Fatal> {
    let failed = |e: nix::Error| Fatal::new(format!("cannot detach: {}", describe(&e.into())));
    let (read, write) = pipe2(OFlag::O_CLOEXEC).map_err(failed)?;
    match Daemonize::new()
        .working_directory("/")
        .umask(0o022)
        .execute()
    {
        Outcome::Parent(Ok(_)) => {
            drop(write);
            process::exit(wait_for_verdict(read))
        }
        Outcome::Parent(Err(e)) => Err(Fatal::new(format!("cannot detach: {e}"))),
        Outcome::Child(Ok(_)) => {
            drop(read);
            Ok(Readiness(File::from(write)))
        }
        Outcome::Child(Err(e)) => {
            Readiness(File::from(write)).failed(&Fatal::new(format!("cannot detach: {e}")));
            process::exit(1)
        }
    }
}

/// Reads the daemon's verdict; the exit status for the original process.
fn wait_for_verdict(read: OwnedFd) -> i32 {
    let mut verdict = Vec::new();
    let _ = File::from(read).read_to_end(&mut verdict);
    if verdict == READY {
        return 0;
    }
    let reason = String::from_utf8_lossy(&verdict);
    let reason = if reason.is_empty() {
        "the daemon exited before it was ready"
    } else {
        &reason
    };
    ruptime_common::logging::stderr_line(format_args!("ruptimed: {reason}"));
    1
}
