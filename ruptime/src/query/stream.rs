//! The stream client (APUE figure 16.14): connect, read until EOF.
//!
//! `connect_retry` tries every address of the host in order, and every wait
//! ends by the run's deadline (the original could wait 127 s per address, or
//! forever on a server that accepts and never writes). The reply is capped at
//! [`MAX_REPLY`](super::MAX_REPLY).

use std::io::{self, Read};
use std::net::TcpStream;

use ruptime_common::connect::connect_retry;
use ruptime_common::timeout::Alarm;

use super::{Answer, MAX_REPLY, Options, Outcome, QueryError};
use crate::target::Target;

/// Asks `target` over TCP.
pub(super) fn ask(target: &Target, options: &Options) -> Outcome {
    let addrs = target.addresses(options.family)?;
    let stream =
        connect_retry(&addrs, options.deadline, &options.backoff).map_err(|e| match e.kind() {
            io::ErrorKind::TimedOut => QueryError::NoReply(options.timeout),
            _ => QueryError::Connect(e),
        })?;
    let from = stream.peer_addr().map_err(QueryError::Receive)?;
    let reply = read_reply(stream, options)?;
    Ok(Answer { reply, from })
}

/// Reads until EOF, under a SIGALRM deadline; at most [`MAX_REPLY`] bytes.
fn read_reply(mut stream: TcpStream, options: &Options) -> Result<Vec<u8>, QueryError> {
    let failed = |e: io::Error, got: usize| match (e.kind(), got) {
        (io::ErrorKind::TimedOut, 0) => QueryError::NoReply(options.timeout),
        (io::ErrorKind::TimedOut, got) => QueryError::Incomplete(options.timeout, got),
        _ => QueryError::Receive(e),
    };
    let alarm = Alarm::arm(options.deadline).map_err(|e| failed(e, 0))?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = alarm
            .run(|| stream.read(&mut buf))
            .map_err(|e| failed(e, reply.len()))?;
        if n == 0 {
            return if reply.is_empty() {
                Err(QueryError::Empty)
            } else {
                Ok(reply)
            };
        }
        if reply.len() + n > MAX_REPLY {
            return Err(QueryError::TooLong(MAX_REPLY));
        }
        reply.extend_from_slice(&buf[..n]);
    }
}
