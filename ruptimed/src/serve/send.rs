//! Sending a reply without ever blocking the server on a slow client.

use std::io;
use std::os::fd::AsFd;
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use socket2::Socket;

/// Sends all of `bytes` on `conn` by `deadline`, waiting in `poll` when the
/// socket buffer is full. Never raises SIGPIPE.
///
/// # Errors
/// The send fails (e.g. the client reset the connection), or `TimedOut`.
pub(crate) fn send_all(conn: &Socket, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        match conn.send_with_flags(bytes, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => wait_writable(conn, deadline)?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn wait_writable(conn: &Socket, deadline: Instant) -> io::Result<()> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let timeout = PollTimeout::try_from(remaining).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(conn.as_fd(), PollFlags::POLLOUT)];
    match poll(&mut fds, timeout) {
        Ok(0) => Err(io::Error::from(io::ErrorKind::TimedOut)),
        Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
