//! The stream client for one host, as the original asks (APUE figure
//! 16.14): `connect_retry`, then the reads, blocking, under a SIGALRM
//! deadline; the reply read as the state machine reads it ([`Reading`]).

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use ruptime_common::connect::connect_retry;
use ruptime_common::oserror::describe;
use ruptime_common::timeout::Alarm;

use crate::query::options::Options;
use crate::query::outcome::{Outcome, QueryError};
use crate::query::stream::{Reading, connect_error};
use crate::query::trace::Trace;

/// Asks `addrs` over TCP, blocking, by `deadline`: `connect_retry`, then the
/// reads under a SIGALRM deadline; `trace` hears of each step.
pub(in crate::query) fn ask(
    addrs: &[SocketAddr],
    deadline: Instant,
    options: &Options,
    trace: &mut dyn Trace,
) -> Outcome {
    let mut attempted = |addr: SocketAddr, made: &io::Result<TcpStream>| match made {
        Ok(_) => trace.note(format_args!("connected to {addr}")),
        Err(e) => trace.note(format_args!("connecting to {addr}: {}", describe(e))),
    };
    let mut stream = connect_retry(addrs, deadline, &options.backoff, &mut attempted)
        .map_err(|e| connect_error(e, options.timeout))?;
    let from = stream.peer_addr().map_err(QueryError::Receive)?;
    let mut reading = Reading::new(from);
    let Ok(alarm) = Alarm::arm(deadline) else {
        return reading.at_deadline(options.timeout);
    };
    let mut buf = [0u8; 8192];
    loop {
        match alarm.run(|| stream.read(&mut buf)) {
            Ok(n) => {
                match n {
                    0 => trace.note(format_args!("closed by {from}")),
                    n => trace.note(format_args!("received {n} bytes")),
                }
                if let Some(outcome) = reading.received(&buf[..n]) {
                    return outcome;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                return reading.at_deadline(options.timeout);
            }
            Err(e) => return reading.failed(e),
        }
    }
}
