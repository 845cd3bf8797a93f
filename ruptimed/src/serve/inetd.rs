//! inetd style: one connection, or one datagram, on standard input, then exit.
//!
//! inetd, xinetd and systemd (`Accept=yes`, `StandardInput=socket`) accept
//! the connection and start the server with it on its standard streams. A
//! stream socket gets the reply and is closed; a datagram socket (inetd's
//! `wait` mode) has its waiting request answered.

use std::io;
use std::os::fd::AsFd;
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use ruptime_common::oserror::describe;
use socket2::{SockRef, Type};

use super::send_all;
use crate::fatal::Fatal;
use crate::guard;
use crate::report::Reporter;
use crate::udp;

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

/// Answers the connection or the datagram on standard input by `deadline`.
///
/// # Errors
/// The request or the reply fails, or no datagram comes in time.
pub(crate) fn serve(kind: Stdin, reporter: &mut Reporter, deadline: Instant) -> Result<(), Fatal> {
    let stdin = io::stdin();
    let failed = |e: io::Error| Fatal::new(format!("--inetd: {}", describe(&e)));
    match kind {
        Stdin::Connection => {
            let socket = SockRef::from(&stdin);
            send_all(&socket, &reporter.stream_reply(), deadline).map_err(failed)?;
            let peer = socket.peer_addr().ok().and_then(|a| a.as_socket());
            log::info!(
                "answered {} (inetd)",
                peer.map_or_else(|| "a client".to_owned(), |p| p.to_string())
            );
            Ok(())
        }
        Stdin::Datagram => {
            let fd = stdin.as_fd();
            let remaining = deadline.saturating_duration_since(Instant::now());
            let timeout = PollTimeout::try_from(remaining).unwrap_or(PollTimeout::MAX);
            if poll(&mut [PollFd::new(fd, PollFlags::POLLIN)], timeout)
                .map_err(|e| failed(e.into()))?
                == 0
            {
                return Err(Fatal::new("--inetd: no datagram came"));
            }
            let mut buf = [0u8; 64];
            let request = udp::receive(fd, &mut buf).map_err(|e| failed(e.into()))?;
            guard::check(&request)
                .map_err(|why| Fatal::new(format!("--inetd: request dropped: {why:?}")))?;
            udp::reply(fd, &request, &reporter.datagram_reply()).map_err(|e| failed(e.into()))?;
            log::info!("answered {} (inetd)", udp::show(&request));
            Ok(())
        }
    }
}
