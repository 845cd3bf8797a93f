//! The datagram server (APUE figure 16.20): one reply per request datagram,
//! to the requests the [guard](crate::guard) admits, from the address asked.

use std::os::fd::AsFd;
use std::time::Instant;

use nix::errno::Errno;
use socket2::Socket;

use super::Work;
use crate::throttle::held_note;
use crate::udp;

/// The most datagrams served per wake-up, so other sockets and signals get a turn.
const BATCH: usize = 64;

/// Answers the datagrams waiting on `socket`.
pub(super) fn serve(socket: &Socket, work: &mut Work) {
    let fd = socket.as_fd();
    let mut buf = [0u8; 64];
    for _ in 0..BATCH {
        let request = match udp::receive(fd, &mut buf) {
            Ok(request) => request,
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => return,
            Err(e) => return warn(work, "recvmsg error", e),
        };
        if !work.guard.admit(&request, Instant::now()) {
            continue;
        }
        let reply = work.reporter.datagram_reply();
        if let Err(e) = udp::reply(fd, &request, &reply) {
            warn(work, "sendmsg error", e);
        }
    }
}

fn warn(work: &mut Work, what: &str, error: Errno) {
    if let Some(held) = work.errors.check(Instant::now()) {
        log::warn!("{what}: {}{}", error.desc(), held_note(held));
    }
}
