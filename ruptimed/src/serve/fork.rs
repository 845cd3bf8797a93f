//! The forking server (APUE figure 16.16): a child process per connection.
//!
//! The child builds the uptime line (from `/proc` and utmp, now: it does not
//! reuse a line of the second) and sends it; with `--command` it puts the
//! connection on the command's stdout and stderr and execs it, as the
//! original does. The parent closes its copy and goes straight back to
//! `accept`; [`Children`](crate::children::Children) caps how many run at
//! once (further connections wait in the listen backlog) and reaps them.
//!
//! ruptimed never starts a thread, so at every fork the process is
//! single-threaded and the native child may run ordinary code (checked at
//! each fork, in every build). A child keeps the daemon's signal handlers,
//! which only set flags in its own memory and wake the parent's loop (a
//! spurious wake-up, nothing more), and its blocked SIGCHLD (it has no
//! children): it lives for one send, and an overdue child gets SIGKILL. A
//! child that execs resets what exec keeps (see
//! [`Command`](crate::command::Command)).

use std::os::fd::AsFd;
use std::time::Instant;

use ruptime_common::oserror::describe;
use ruptime_common::uptime;
use socket2::Socket;

use super::{ServeState, send_all};
use crate::report::ReplySource;
use crate::throttle::held_note;
use ruptime_common::child::fork_child;

/// Serves the connections waiting on `listener` while there is room for a child.
pub(super) fn serve(listener: &Socket, work: &mut ServeState) {
    while work.children.has_room() {
        let Some(conn) = work.acceptor.accept(listener) else {
            return;
        };
        let now = Instant::now();
        let spawned = match &mut work.replies {
            ReplySource::Command(command) => command.spawn(conn.as_fd(), conn.as_fd()),
            ReplySource::Native(native) => {
                let deadline = now + work.limit;
                let second = uptime::now();
                ruptime_common::threads::ensure_single().and_then(|()| {
                    let child =
                        || i32::from(send_all(&conn, native.fresh(second), deadline).is_err());
                    // SAFETY: the process runs one thread (checked just
                    // above): the child may read, format and send.
                    #[allow(unsafe_code)]
                    unsafe {
                        fork_child(child)
                    }
                })
            }
        };
        match spawned {
            Ok(pid) => work.children.add(pid, now),
            Err(e) => {
                // Out of processes or memory: forking again at once would spin.
                work.acceptor.pause(now);
                if let Some(held) = work.errors.check(now) {
                    log::error!(
                        "fork error: {}; pausing accepts{}",
                        describe(&e),
                        held_note(held)
                    );
                }
            }
        }
    }
}
