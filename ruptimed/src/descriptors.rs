//! Descriptors the daemon inherited beyond stdin, stdout and stderr.
//!
//! APUE's `daemonize` closes every descriptor; the `daemonize` crate does
//! not, and systemd passes its sockets from fd 3 on. So at start every
//! descriptor above 2 is marked close-on-exec instead: the daemon can still
//! use what it was given, and a command it runs gets none of it.

use std::io;

/// Marks every descriptor above 2 close-on-exec.
///
/// # Errors
/// The kernel lacks `close_range` (before Linux 5.11).
#[allow(unsafe_code)]
pub(crate) fn close_on_exec_above_stderr() -> io::Result<()> {
    // SAFETY: `close_range` with CLOSE_RANGE_CLOEXEC only sets descriptor
    // flags; it neither closes descriptors nor touches memory.
    let done = unsafe {
        libc::close_range(
            3,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC as libc::c_int,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
