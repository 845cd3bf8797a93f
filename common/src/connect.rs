//! `connect_retry`: APUE's connect with exponential backoff (figure 16.11).
//!
//! Like the original, every attempt uses a new socket (a socket whose connect
//! failed is in an unspecified state) and the delays double: 1 s, 2 s, 4 s ...
//! Unlike the original, which sleeps up to 127 s per address and may block in
//! `connect` for minutes, every attempt and every delay ends by the caller's
//! deadline, and each round tries all the addresses of a host in order, so a
//! refused first address does not hold up the next one.

use std::io;
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
    pub fn delays(&self) -> Delays {
        Delays {
            next: Some(self.first).filter(|d| *d <= self.last),
            last: self.last,
        }
    }
}

/// The delays of a [`Backoff`], in order.
#[derive(Clone, Debug)]
pub struct Delays {
    next: Option<Duration>,
    last: Duration,
}

impl Iterator for Delays {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.next?;
        self.next = delay.checked_mul(2).filter(|d| *d <= self.last);
        Some(delay)
    }
}

/// The connection attempts of one host, as a schedule: which address to try
/// next and how long to wait between rounds. [`connect_retry`] drives it with
/// blocking calls; an event loop drives it with non-blocking connects and
/// timers. Time comes in as an argument.
#[derive(Debug)]
pub struct Retry {
    addrs: Vec<SocketAddr>,
    next: usize,
    delays: Delays,
    deadline: Instant,
    last_error: Option<io::Error>,
}

/// What to do next for a host, as [`Retry::next`] says.
#[derive(Debug)]
pub enum Attempt {
    /// Try this address now, waiting for it at most until the deadline.
    Connect(SocketAddr),
    /// Wait until this instant, then ask again.
    Sleep(Instant),
    /// Stop: the error of the last attempt (`TimedOut` when there was none).
    GiveUp(io::Error),
}

impl Retry {
    /// The schedule for `addrs`, tried in order, each round after a delay of
    /// `backoff`, all ending by `deadline`.
    ///
    /// # Errors
    /// `InvalidInput` when `addrs` is empty.
    pub fn new(addrs: Vec<SocketAddr>, deadline: Instant, backoff: &Backoff) -> io::Result<Retry> {
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no address to connect to",
            ));
        }
        Ok(Retry {
            addrs,
            next: 0,
            delays: backoff.delays(),
            deadline,
            last_error: None,
        })
    }

    /// What to do at `now`: the next address of this round, a wait before the
    /// next round, or to give up (the deadline has come, or the schedule ended).
    pub fn next(&mut self, now: Instant) -> Attempt {
        if now >= self.deadline {
            return Attempt::GiveUp(self.take_error());
        }
        if let Some(addr) = self.addrs.get(self.next) {
            self.next += 1;
            return Attempt::Connect(*addr);
        }
        match self.delays.next() {
            Some(delay) if now + delay < self.deadline => {
                self.next = 0;
                Attempt::Sleep(now + delay)
            }
            _ => Attempt::GiveUp(self.take_error()),
        }
    }

    /// The attempt [`next`](Retry::next) asked for failed with `error`.
    pub fn failed(&mut self, error: io::Error) {
        self.last_error = Some(error);
    }

    /// When every attempt must end.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    fn take_error(&mut self) -> io::Error {
        self.last_error
            .take()
            .unwrap_or_else(|| io::Error::from(io::ErrorKind::TimedOut))
    }
}

/// Connects to the first of `addrs` that accepts, retrying with `backoff`;
/// `attempted` hears of each attempt and how it ended.
///
/// A round tries each address in order; after a failed round it waits the next
/// delay, unless that wait would end at or past `deadline` (see [`Retry`]).
///
/// # Errors
/// The error of the last attempt when no address accepted by the deadline or
/// the schedule ran out; `TimedOut` when the deadline had already passed;
/// `InvalidInput` when `addrs` is empty.
pub fn connect_retry(
    addrs: &[SocketAddr],
    deadline: Instant,
    backoff: &Backoff,
    attempted: &mut dyn FnMut(SocketAddr, &io::Result<TcpStream>),
) -> io::Result<TcpStream> {
    let mut retry = Retry::new(addrs.to_vec(), deadline, backoff)?;
    loop {
        let now = Instant::now();
        match retry.next(now) {
            Attempt::Connect(addr) => {
                let made = connect_once(&addr, deadline - now);
                attempted(addr, &made);
                match made {
                    Ok(stream) => return Ok(stream),
                    Err(e) => retry.failed(e),
                }
            }
            Attempt::Sleep(until) => thread::sleep(until - now),
            Attempt::GiveUp(e) => return Err(e),
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

    fn refused() -> io::Error {
        io::Error::from(io::ErrorKind::ConnectionRefused)
    }

    #[test]
    fn retry_rounds_follow_the_schedule_on_an_injected_clock() {
        let (a, b): (SocketAddr, SocketAddr) =
            ("127.0.0.1:1".parse().unwrap(), "[::1]:2".parse().unwrap());
        let t0 = Instant::now();
        let backoff = Backoff {
            first: ms(100),
            last: ms(400),
        };
        let mut retry = Retry::new(vec![a, b], t0 + ms(1000), &backoff).unwrap();
        let mut seen = Vec::new();
        let mut now = t0;
        loop {
            match retry.next(now) {
                Attempt::Connect(addr) => {
                    seen.push(format!("{addr}"));
                    retry.failed(refused());
                }
                Attempt::Sleep(until) => {
                    seen.push(format!("sleep {}", (until - t0).as_millis()));
                    now = until;
                }
                Attempt::GiveUp(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
                    break;
                }
            }
        }
        let round = "127.0.0.1:1 [::1]:2";
        assert_eq!(
            seen.join(" "),
            format!("{round} sleep 100 {round} sleep 300 {round} sleep 700 {round}")
        );
    }

    #[test]
    fn retry_gives_up_at_the_deadline_and_never_sleeps_past_it() {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let t0 = Instant::now();
        let mut retry = Retry::new(vec![a], t0 + ms(150), &Backoff::MAXSLEEP).unwrap();
        assert!(matches!(retry.next(t0), Attempt::Connect(_)));
        retry.failed(refused());
        // The first delay (1 s) would end past the deadline.
        assert!(
            matches!(retry.next(t0), Attempt::GiveUp(e) if e.kind() == io::ErrorKind::ConnectionRefused)
        );
        let mut late = Retry::new(vec![a], t0, &Backoff::MAXSLEEP).unwrap();
        assert!(matches!(late.next(t0), Attempt::GiveUp(e) if e.kind() == io::ErrorKind::TimedOut));
        assert!(Retry::new(Vec::new(), t0, &Backoff::MAXSLEEP).is_err());
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
        let err = connect_retry(
            &[refused_addr()],
            start + Duration::from_secs(30),
            &backoff,
            &mut |_, _| {},
        )
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
        let err = connect_retry(&[refused_addr()], start + ms(300), &backoff, &mut |_, _| {})
            .unwrap_err();
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
        let mut tried = Vec::new();
        let stream = connect_retry(&[refused_addr(), live], deadline, &backoff, &mut |a, r| {
            tried.push((a, r.is_ok()))
        })
        .unwrap();
        assert_eq!(stream.peer_addr().unwrap(), live);
        assert_eq!(tried.len(), 2);
        assert_eq!(tried[1], (live, true));
        assert!(!tried[0].1);
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
        let deadline = Instant::now() + Duration::from_secs(5);
        let stream = connect_retry(&[addr], deadline, &backoff, &mut |_, _| {});
        assert_eq!(stream.unwrap().peer_addr().unwrap(), addr);
        server.join().unwrap().unwrap();
    }
}
