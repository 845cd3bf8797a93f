//! The datagram server (APUE figure 16.20): one reply per request datagram,
//! to the requests the [guard](crate::guard) admits, from the address asked,
//! a batch of requests and of replies per system call.

use std::os::fd::AsFd;
use std::time::Instant;

use nix::errno::Errno;
use ruptime_common::protocol::request::RequestKind;
use socket2::Socket;

use super::ServeState;
use crate::report::ReplySource;
use crate::throttle::{Throttle, held_note};
use crate::udp;

/// The most batches served per wake-up, so other sockets and signals get a turn.
const BATCHES: usize = 4;

/// Answers the datagrams waiting on `socket`, a batch (`recvmmsg`) at a
/// time; how many requests it admitted.
pub(super) fn serve(socket: &Socket, work: &mut ServeState) -> usize {
    let fd = socket.as_fd();
    let mut admitted = 0;
    for _ in 0..BATCHES {
        let received = match work.batch.receive(fd) {
            Ok(received) => received,
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => return admitted,
            Err(e) => {
                warn(&mut work.errors, "recvmmsg error", e);
                return admitted;
            }
        };
        let now = Instant::now();
        let guard = &mut work.guard;
        let line = work.replies.datagram_len();
        work.batch.requests.retain_mut(|request| {
            guard
                .admit(request, line, now)
                .map(|kind| request.kind = kind)
                .is_some()
        });
        admitted += work.batch.requests.len();
        let errors = &mut work.errors;
        if matches!(work.replies, ReplySource::Command(_)) {
            // A run of the command per request, as the original.
            for request in &work.batch.requests {
                let reply = work.replies.datagram_reply();
                if request.kind == RequestKind::Legacy {
                    work.guard.sent_legacy(reply.len());
                }
                if let Err(e) = udp::reply(fd, request, &reply) {
                    warn(errors, "sendmsg error", e);
                }
            }
        } else {
            // The line of the second: one reply for the whole batch.
            let reply = work.replies.datagram_reply();
            work.batch
                .reply(fd, &reply, |e| warn(errors, "sendmmsg error", e));
        }
        if received < udp::BATCH {
            return admitted;
        }
    }
    admitted
}

fn warn(errors: &mut Throttle, what: &str, error: Errno) {
    if let Some(held) = errors.check(Instant::now()) {
        log::warn!("{what}: {}{}", error.desc(), held_note(held));
    }
}
