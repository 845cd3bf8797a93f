//! The datagram client (APUE figure 16.18): a 1-byte request, one datagram back.
//!
//! The reply is awaited under a SIGALRM deadline, as in the original, with
//! three fixes: the request is sent again a few times within the deadline
//! (UDP drops), each of the host's addresses gets its own connected socket, so
//! only a reply from an address asked is accepted and an ICMP "port
//! unreachable" ends the wait with "connection refused" at once (the
//! original's unconnected socket never sees it and waits 20 s), and the wait
//! ends by the run's deadline.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use ruptime_common::timeout::with_deadline;

use super::{Answer, MAX_DATAGRAM, Options, Outcome, QueryError};
use crate::target::Target;

/// The request: one NUL byte, as the original sends.
pub(super) const REQUEST: [u8; 1] = [0];

/// The first wait before the request is sent again; it doubles after each send.
const FIRST_RESEND: Duration = Duration::from_millis(500);

/// The wait before the first resend within a run of `timeout`.
pub(super) fn first_resend(timeout: Duration) -> Duration {
    FIRST_RESEND.min(timeout / 4)
}

/// Asks `target` over UDP.
pub(super) fn ask(target: &Target, options: &Options) -> Outcome {
    let addrs = target.addresses(options.family)?;
    let mut sockets = Vec::with_capacity(addrs.len());
    let mut refused = None;
    for addr in &addrs {
        match connected(addr) {
            Ok(socket) => sockets.push(socket),
            Err(e) => refused = Some(e),
        }
    }
    // One byte more than allowed, so that a longer datagram shows.
    let mut reply = vec![0u8; MAX_DATAGRAM + 1];
    let mut gap = first_resend(options.timeout);
    let mut resend_at = Instant::now();
    loop {
        if Instant::now() >= resend_at {
            sockets.retain(|s| keep(s.send(&REQUEST), &mut refused));
            resend_at = Instant::now() + gap;
            gap *= 2;
        }
        if sockets.is_empty() {
            let error =
                refused.unwrap_or_else(|| io::Error::from(io::ErrorKind::ConnectionRefused));
            return Err(QueryError::Connect(error));
        }
        if Instant::now() >= options.deadline {
            return Err(QueryError::NoReply(options.timeout));
        }
        let readable = match wait_readable(&sockets, resend_at.min(options.deadline)) {
            Ok(readable) => readable,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => continue,
            Err(e) => return Err(QueryError::Receive(e)),
        };
        for i in readable.into_iter().rev() {
            match sockets[i].recv(&mut reply) {
                Ok(n) if n > MAX_DATAGRAM => return Err(QueryError::TooLong(MAX_DATAGRAM)),
                Ok(n) => {
                    reply.truncate(n);
                    let from = sockets[i].peer_addr().map_err(QueryError::Receive)?;
                    return Ok(Answer { reply, from });
                }
                Err(e) => {
                    if !keep::<()>(Err(e), &mut refused) {
                        sockets.remove(i);
                    }
                }
            }
        }
    }
}

/// A non-blocking UDP socket connected to `addr`.
fn connected(addr: &SocketAddr) -> io::Result<UdpSocket> {
    let local: SocketAddr = match addr {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(addr)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Whether a socket stays in use after `result`: a refusal (ICMP port
/// unreachable) drops it and is remembered; other outcomes keep it.
fn keep<T>(result: io::Result<T>, refused: &mut Option<io::Error>) -> bool {
    match result {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            *refused = Some(e);
            false
        }
        _ => true,
    }
}

/// Waits in `poll`, under a SIGALRM at `until`, for sockets to become
/// readable; their indexes.
pub(super) fn wait_readable(sockets: &[UdpSocket], until: Instant) -> io::Result<Vec<usize>> {
    let mut fds: Vec<PollFd<'_>> = sockets
        .iter()
        .map(|s| PollFd::new(s.as_fd(), PollFlags::POLLIN))
        .collect();
    with_deadline(until, || Ok(poll(&mut fds, PollTimeout::NONE)?))?;
    Ok(fds
        .iter()
        .enumerate()
        .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
        .map(|(i, _)| i)
        .collect())
}
