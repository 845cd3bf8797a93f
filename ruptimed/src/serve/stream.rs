//! The iterative server (APUE figure 16.15): accept, reply, close, next.
//!
//! Unlike the original, a reply that cannot be sent within the send timeout
//! (a client that never reads) is abandoned instead of stalling everyone
//! queued behind it.

use std::time::Instant;

use ruptime_common::oserror::describe;
use socket2::Socket;

use super::ServeState;
use super::send::send_all;
use crate::throttle::held_note;

/// The most connections served per wake-up, so other sockets and signals get a turn.
const BATCH: usize = 64;

/// Serves the connections waiting on `listener`.
pub(super) fn serve(listener: &Socket, work: &mut ServeState) {
    for _ in 0..BATCH {
        let Some(conn) = work.acceptor.accept(listener) else {
            return;
        };
        let reply = work.replies.stream_reply();
        if let Err(e) = send_all(&conn, &reply, Instant::now() + work.send_timeout)
            && let Some(held) = work.errors.check(Instant::now())
        {
            log::warn!("reply not sent: {}{}", describe(&e), held_note(held));
        }
    }
}
