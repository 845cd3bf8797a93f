//! The forking server (APUE figure 16.16): a child process per connection.
//!
//! The child builds the uptime line (from `/proc` and utmp, now: it does not
//! reuse a line of the second) and sends it; with `--command` it puts the
//! connection on the command's stdout and stderr and execs it, as the
//! original does. The parent closes its copy and goes straight back to
//! `accept`; [`Children`](crate::children::Children) caps how many run at
//! once (further connections wait in the listen backlog) and reaps them.

use std::os::fd::AsFd;
use std::time::Instant;

use ruptime_common::oserror::describe;
use socket2::Socket;

use super::{Work, send_all};
use crate::forked::fork_child;
use crate::report::Reporter;
use crate::throttle::held_note;

/// Serves the connections waiting on `listener` while there is room for a child.
pub(super) fn serve(listener: &Socket, work: &mut Work) {
    while work.children.has_room() {
        let Some(conn) = work.acceptor.accept(listener) else {
            return;
        };
        let now = Instant::now();
        let spawned = match &mut work.reporter {
            Reporter::Command(command) => command.spawn(conn.as_fd(), conn.as_fd()),
            Reporter::Native(native) => {
                let deadline = now + work.limit;
                ruptime_common::threads::ensure_single().and_then(|()| {
                    // SAFETY: the process runs one thread (checked just
                    // above): the child may read, format and send.
                    #[allow(unsafe_code)]
                    unsafe {
                        fork_child(|| i32::from(send_all(&conn, native.fresh(), deadline).is_err()))
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
