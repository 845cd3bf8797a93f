//! The datagram server (APUE figure 16.20): one reply per request datagram.

use std::os::fd::AsRawFd;
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::socket::{MsgFlags, SockaddrStorage, recvfrom, sendto};
use socket2::Socket;

use super::Work;
use crate::throttle::held_note;

/// The most datagrams served per wake-up, so other sockets and signals get a turn.
const BATCH: usize = 64;

/// Answers the datagrams waiting on `socket`.
pub(super) fn serve(socket: &Socket, work: &mut Work) {
    let fd = socket.as_raw_fd();
    let mut request = [0u8; 64];
    for _ in 0..BATCH {
        let peer = match recvfrom::<SockaddrStorage>(fd, &mut request) {
            Ok((_, Some(peer))) => peer,
            Ok((_, None)) | Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => return,
            Err(e) => return warn(work, "recvfrom error", e),
        };
        let reply = work.reporter.datagram_reply();
        if let Err(e) = sendto(fd, &reply, &peer, MsgFlags::MSG_DONTWAIT) {
            warn(work, "sendto error", e);
        }
    }
}

fn warn(work: &mut Work, what: &str, error: Errno) {
    if let Some(held) = work.errors.check(Instant::now()) {
        log::warn!("{what}: {}{}", error.desc(), held_note(held));
    }
}
