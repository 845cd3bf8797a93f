//! The datagram server (APUE figure 16.20): one reply per request datagram,
//! to the requests the [guard](crate::guard) admits, from the address asked.

use std::os::fd::AsFd;
use std::time::Instant;

use nix::errno::Errno;
use socket2::Socket;

use super::Work;
use crate::throttle::held_note;
use crate::udp;

/// The most batches served per wake-up, so other sockets and signals get a turn.
const BATCHES: usize = 4;

/// Answers the datagrams waiting on `socket`, a batch (`recvmmsg`) at a time.
pub(super) fn serve(socket: &Socket, work: &mut Work) {
    let fd = socket.as_fd();
    for _ in 0..BATCHES {
        match work.batch.receive(fd) {
            Ok(()) => {}
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => return,
            Err(e) => return warn(work, "recvmmsg error", e),
        }
        let now = Instant::now();
        for request in &work.batch.requests {
            if !work.guard.admit(request, now) {
                continue;
            }
            let reply = work.reporter.datagram_reply();
            if let Err(e) = udp::reply(fd, request, &reply)
                && let Some(held) = work.errors.check(now)
            {
                log::warn!("sendmsg error: {}{}", e.desc(), held_note(held));
            }
        }
        if work.batch.requests.len() < udp::BATCH {
            return;
        }
    }
}

fn warn(work: &mut Work, what: &str, error: Errno) {
    if let Some(held) = work.errors.check(Instant::now()) {
        log::warn!("{what}: {}{}", error.desc(), held_note(held));
    }
}
