//! `connect_retry`: APUE's connect with exponential backoff (figure 16.11).
//!
//! Like the original, every attempt uses a new socket (a socket whose connect
//! failed is in an unspecified state) and the delays double: 1 s, 2 s, 4 s ...
//! Unlike the original, which sleeps up to 127 s per address and may block in
//! `connect` for minutes, every attempt and every delay ends by the caller's
//! deadline, and each round tries all the addresses of a host in order, so a
//! refused first address does not hold up the next one.

use std::io;
use std::iter;
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

/// The delays between rounds of connection attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The delay after the first failed round.
    pub first: Duration,
    /// The longest delay; the schedule ends after it, as the original's does.
    pub last: Duration,
}

impl Backoff {
    /// The original schedule: 1 s, doubling while it is at most `MAXSLEEP / 2` = 64 s.
    pub const MAXSLEEP: Backoff = Backoff {
        first: Duration::from_secs(1),
        last: Duration::from_secs(64),
    };

    /// The delays in order: `first`, `2 * first`, ... up to `last`.
    pub fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        let last = self.last;
        iter::successors(Some(self.first).filter(|d| *d <= last), move |d| {
            Some(*d * 2).filter(|next| *next <= last)
        })
    }
}

/// Connects to the first of `addrs` that accepts, retrying with `backoff`.
///
/// A round tries each address in order; after a failed round it waits the next
/// delay, unless that wait would end at or past `deadline`.
///
/// # Errors
/// The error of the last attempt when no address accepted by the deadline or
/// the schedule ran out; `TimedOut` when the deadline had already passed;
/// `InvalidInput` when `addrs` is empty.
pub fn connect_retry(
    addrs: &[SocketAddr],
    deadline: Instant,
    backoff: &Backoff,
) -> io::Result<TcpStream> {
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no address to connect to",
        ));
    }
    let mut delays = backoff.delays();
    let mut last_error = io::Error::from(io::ErrorKind::TimedOut);
    loop {
        for addr in addrs {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(last_error);
            }
            match connect_once(addr, remaining) {
                Ok(stream) => return Ok(stream),
                Err(e) => last_error = e,
            }
        }
        match delays.next() {
            Some(delay) if Instant::now() + delay < deadline => thread::sleep(delay),
            _ => return Err(last_error),
        }
    }
}

/// One attempt on a new close-on-exec socket, waiting at most `limit`.
fn connect_once(addr: &SocketAddr, limit: Duration) -> io::Result<TcpStream> {
    let socket = Socket::new(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.connect_timeout(&(*addr).into(), limit)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn original_schedule_is_1_to_64_seconds() {
        let secs: Vec<u64> = Backoff::MAXSLEEP.delays().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64]);
        let shrunk = Backoff {
            first: ms(1),
            last: ms(8),
        };
        assert_eq!(
            shrunk.delays().collect::<Vec<_>>(),
            [ms(1), ms(2), ms(4), ms(8)]
        );
    }

    /// A port on loopback with nobody listening (bound, then closed).
    fn refused_addr() -> SocketAddr {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    #[test]
    fn refused_gives_up_when_the_schedule_ends() {
        let backoff = Backoff {
            first: ms(1),
            last: ms(4),
        };
        let start = Instant::now();
        let err = connect_retry(&[refused_addr()], start + Duration::from_secs(30), &backoff)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn never_waits_past_the_deadline() {
        let backoff = Backoff {
            first: ms(50),
            last: Duration::from_secs(64),
        };
        let start = Instant::now();
        let err = connect_retry(&[refused_addr()], start + ms(300), &backoff).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        let took = start.elapsed();
        assert!(took >= ms(150) && took < ms(300), "took {took:?}");
    }

    #[test]
    fn tries_every_address_in_each_round() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let live = listener.local_addr().unwrap();
        let backoff = Backoff {
            first: Duration::from_secs(10),
            last: Duration::from_secs(10),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        let stream = connect_retry(&[refused_addr(), live], deadline, &backoff).unwrap();
        assert_eq!(stream.peer_addr().unwrap(), live);
    }

    #[test]
    fn succeeds_once_the_server_comes_up() {
        let addr = refused_addr();
        let server = thread::spawn(move || {
            thread::sleep(ms(100));
            let listener = TcpListener::bind(addr).unwrap();
            listener.accept().map(|_| ())
        });
        let backoff = Backoff {
            first: ms(20),
            last: Duration::from_secs(1),
        };
        let stream = connect_retry(&[addr], Instant::now() + Duration::from_secs(5), &backoff);
        assert_eq!(stream.unwrap().peer_addr().unwrap(), addr);
        server.join().unwrap().unwrap();
    }
}
