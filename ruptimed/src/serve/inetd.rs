//! inetd style: one connection, or one datagram, on standard input, then exit.
//!
//! inetd, xinetd and systemd (`Accept=yes`, `StandardInput=socket`) accept
//! the connection and start the server with it on its standard streams. A
//! stream socket gets the reply and is closed; a datagram socket (inetd's
//! `wait` mode) is served as the datagram server serves, guard and budgets
//! included, until it has been idle for [`IDLE`]: a burst of requests costs
//! one process, not one each.

use std::io;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use ruptime_common::oserror::describe;
use socket2::{SockRef, Type};

use super::{ServeState, dgram, send_all};
use crate::fatal::Fatal;

/// How long a datagram socket may stay idle before the process exits.
pub(crate) const IDLE: Duration = Duration::from_secs(3);

/// What standard input holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stdin {
    /// A connected stream socket: one connection to answer.
    Connection,
    /// A datagram socket: one request waiting.
    Datagram,
}

/// What standard input is, checked before logging starts (so that the
/// mistake of running `--inetd` by hand is told on the terminal).
///
/// # Errors
/// Standard input is not a stream or datagram socket.
pub(crate) fn stdin_kind() -> Result<Stdin, Fatal> {
    match SockRef::from(&io::stdin()).r#type() {
        Ok(Type::STREAM) => Ok(Stdin::Connection),
        Ok(Type::DGRAM) => Ok(Stdin::Datagram),
        Ok(_) => Err(Fatal::new(
            "--inetd: standard input is neither a stream nor a datagram socket",
        )),
        Err(e) => Err(Fatal::new(format!(
            "--inetd: standard input is not a socket: {}",
            describe(&e)
        ))),
    }
}

/// Answers the connection, or the datagrams, on standard input: a
/// connection once, by the request timeout; datagrams with the guard and the
/// budgets of the datagram server, until none has come for [`IDLE`] (as
/// inetd's `wait` services do).
///
/// # Errors
/// The connection's reply fails, or no datagram comes at all.
pub(crate) fn serve(kind: Stdin, mut work: ServeState) -> Result<(), Fatal> {
    let stdin = io::stdin();
    let failed = |e: io::Error| Fatal::new(format!("--inetd: {}", describe(&e)));
    let socket = SockRef::from(&stdin);
    match kind {
        Stdin::Connection => {
            let peer = socket.peer_addr().ok().and_then(|a| a.as_socket());
            // A refusal is not logged: a line per process would be a line
            // per request (the client is told; systemd counts instances).
            if let Some(peer) = peer
                && !work.acceptor.admits(&socket, peer.ip(), Instant::now())
            {
                return Ok(());
            }
            let deadline = Instant::now() + work.limit;
            send_all(&socket, &work.replies.stream_reply(), deadline).map_err(failed)?;
            log::info!(
                "answered {} (inetd)",
                peer.map_or_else(|| "a client".to_owned(), |p| p.to_string())
            );
            Ok(())
        }
        Stdin::Datagram => {
            let timeout = PollTimeout::try_from(IDLE).unwrap_or(PollTimeout::MAX);
            let (mut woken, mut admitted) = (0usize, 0usize);
            loop {
                let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, timeout) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(Errno::EINTR) => continue,
                    Err(e) => return Err(failed(e.into())),
                }
                woken += 1;
                admitted += dgram::serve(&socket, &mut work);
                work.summarize(Instant::now(), false);
            }
            work.summarize(Instant::now(), true);
            if woken == 0 {
                return Err(Fatal::new("--inetd: no datagram came"));
            }
            log::info!(
                "answered {admitted} datagram requests (inetd); none for {} s, exiting",
                IDLE.as_secs()
            );
            Ok(())
        }
    }
}
