//! The datagram client for one host, as the original asks (APUE figure
//! 16.18): the request sent, and a reply waited for in `poll` under
//! SIGALRM, the state machine ([`Datagram`]) saying when to send again.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::time::Instant;

use ruptime_common::oserror::describe;
use ruptime_common::protocol::MAX_DATAGRAM;
use ruptime_common::resolve::Proto;

use super::wait_readable;
use crate::query::dgram::{Datagram, Step, first_resend};
use crate::query::options::Options;
use crate::query::outcome::{Outcome, QueryError};
use crate::query::sockets::{Sockets, connecting};
use crate::query::trace::Trace;

/// Asks `addrs` over UDP from this thread by `deadline`, waiting in `poll`
/// under SIGALRM; `trace` hears of each step.
pub(in crate::query) fn ask(
    addrs: Vec<SocketAddr>,
    deadline: Instant,
    options: &Options,
    trace: &mut dyn Trace,
) -> Outcome {
    let mut query = Datagram::new(addrs, deadline, Instant::now(), options);
    // One host: no round trip measured, the fixed schedule.
    let resend = first_resend(options.timeout);
    let mut sockets = Sockets::open(&mut query, |_, addr| connecting(addr, Proto::Udp), trace);
    // One byte more than allowed, so that a longer datagram shows.
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut step = query.due(Instant::now(), resend);
    loop {
        let until = match step {
            Step::Done(outcome) => return outcome,
            Step::Send(until) => {
                sockets.send(&mut query, trace);
                until
            }
            Step::Wait(until) => until,
        };
        sockets.close_unused(&query);
        let open: Vec<(usize, &socket2::Socket)> = sockets.open_ones().collect();
        let ready = match wait_readable(open.iter().map(|(_, s)| *s), until) {
            Ok(ready) => ready,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Vec::new(),
            Err(e) => return Err(QueryError::Receive(e)),
        };
        for r in ready {
            let (i, socket) = open[r];
            let got = (&*socket).read(&mut buf);
            match &got {
                Ok(n) => trace.note(format_args!("{n} bytes from {}", query.addrs()[i])),
                Err(e) => trace.note(format_args!("{}: {}", query.addrs()[i], describe(e))),
            }
            if let Some(outcome) = query.received(i, got.map(|n| &buf[..n])) {
                return outcome;
            }
        }
        step = query.due(Instant::now(), resend);
    }
}
