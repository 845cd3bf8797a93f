//! The load generator: keeps C requests in flight from one process and one
//! thread, bounded by a request count and a time limit.
//!
//! TCP: connect, read to EOF, close. UDP: a 1-byte request on a connected
//! socket, then wait for the reply; a request unanswered within the timeout
//! counts as a timeout and its socket is replaced, so a late reply is never
//! taken for the next one.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use socket2::{Domain, Protocol, Socket, Type};

use crate::stats::Latencies;

/// The transport to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TCP: a connection per request.
    Tcp,
    /// UDP: a datagram each way.
    Udp,
}

/// What to send, and how much.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// The server.
    pub addr: SocketAddr,
    /// TCP or UDP.
    pub transport: Transport,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests to make at most.
    pub count: u64,
    /// Time to keep starting requests.
    pub duration: Duration,
    /// How long one request may take.
    pub timeout: Duration,
}

/// What a load run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Requests answered.
    pub ok: u64,
    /// Requests that failed (refused, reset, empty reply).
    pub errors: u64,
    /// Requests unanswered within the timeout.
    pub timeouts: u64,
    /// From the first request to the last answer.
    pub elapsed: Duration,
    /// Latency of every answered request.
    pub latencies: Latencies,
}

impl Outcome {
    /// Answered requests per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `load` to its end.
///
/// # Errors
/// `poll` fails.
pub fn run(load: &Load) -> io::Result<Outcome> {
    let mut slots: Vec<Slot> = (0..load.concurrency).map(|_| Slot::Idle(None)).collect();
    let mut outcome = Outcome::default();
    let start = Instant::now();
    let mut started = 0u64;
    let mut buf = [0u8; 4096];
    loop {
        let now = Instant::now();
        let starting = now < start + load.duration;
        for slot in &mut slots {
            if started >= load.count || !starting {
                break;
            }
            if let Slot::Idle(spare) = slot {
                started += 1;
                match Slot::start(load, now, spare.take()) {
                    Ok(busy) => *slot = busy,
                    Err(_) => outcome.errors += 1,
                }
            }
        }
        if slots.iter().all(Slot::is_idle) {
            if !starting || started >= load.count {
                break;
            }
            continue;
        }
        let ready = wait(&slots, load.timeout)?;
        let now = Instant::now();
        for (slot, readable) in slots.iter_mut().zip(ready) {
            if readable {
                slot.read(&mut buf, now, &mut outcome);
            } else if slot.started().is_some_and(|t| now >= t + load.timeout) {
                // A late reply must not count for the next request: a new socket.
                outcome.timeouts += 1;
                *slot = Slot::Idle(None);
            }
        }
    }
    outcome.elapsed = start.elapsed();
    Ok(outcome)
}

/// Waits until a busy slot is readable or the oldest request times out;
/// which slots are readable.
fn wait(slots: &[Slot], timeout: Duration) -> io::Result<Vec<bool>> {
    let oldest = slots.iter().filter_map(Slot::started).min();
    let wait = oldest.map_or(Duration::ZERO, |t| {
        (t + timeout).saturating_duration_since(Instant::now())
    });
    let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(slots.len());
    let mut index = Vec::with_capacity(slots.len());
    for (i, slot) in slots.iter().enumerate() {
        if let Some(fd) = slot.busy_fd() {
            fds.push(PollFd::new(fd, PollFlags::POLLIN));
            index.push(i);
        }
    }
    let ms = wait.as_micros().div_ceil(1000);
    match poll(
        &mut fds,
        PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
    ) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => {}
        Err(e) => return Err(e.into()),
    }
    let mut ready = vec![false; slots.len()];
    for (fd, i) in fds.iter().zip(index) {
        ready[i] = fd.revents().is_some_and(|r| !r.is_empty());
    }
    Ok(ready)
}

/// One request in flight, or none (keeping a UDP socket for the next).
enum Slot {
    Idle(Option<UdpSocket>),
    Tcp {
        stream: TcpStream,
        started: Instant,
        got: usize,
    },
    Udp {
        socket: UdpSocket,
        started: Instant,
    },
}

impl Slot {
    fn is_idle(&self) -> bool {
        matches!(self, Slot::Idle(_))
    }

    fn started(&self) -> Option<Instant> {
        match self {
            Slot::Idle(_) => None,
            Slot::Tcp { started, .. } | Slot::Udp { started, .. } => Some(*started),
        }
    }

    fn busy_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        match self {
            Slot::Idle(_) => None,
            Slot::Tcp { stream, .. } => Some(stream.as_fd()),
            Slot::Udp { socket, .. } => Some(socket.as_fd()),
        }
    }

    /// Starts a request: a non-blocking connect, or a datagram sent (on
    /// `spare`, the slot's socket, when it has one).
    fn start(load: &Load, now: Instant, spare: Option<UdpSocket>) -> io::Result<Slot> {
        let domain = Domain::for_address(load.addr);
        match load.transport {
            Transport::Tcp => {
                let socket = Socket::new(domain, Type::STREAM.nonblocking(), Some(Protocol::TCP))?;
                match socket.connect(&load.addr.into()) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
                    Err(e) => return Err(e),
                }
                Ok(Slot::Tcp {
                    stream: socket.into(),
                    started: now,
                    got: 0,
                })
            }
            Transport::Udp => {
                let socket = match spare {
                    Some(socket) => socket,
                    None => {
                        let socket =
                            Socket::new(domain, Type::DGRAM.nonblocking(), Some(Protocol::UDP))?;
                        socket.connect(&load.addr.into())?;
                        socket.into()
                    }
                };
                // Padded, as ruptime pads it.
                socket.send(&ruptime_common::protocol::request::padded_request())?;
                Ok(Slot::Udp {
                    socket,
                    started: now,
                })
            }
        }
    }

    /// Reads what is there; a finished request goes into `outcome`.
    fn read(&mut self, buf: &mut [u8], now: Instant, outcome: &mut Outcome) {
        let done = match self {
            Slot::Idle(_) => return,
            Slot::Tcp {
                stream,
                started,
                got,
            } => loop {
                match stream.read(buf) {
                    Ok(0) => break Some((*got > 0, *started)),
                    Ok(n) => *got += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break None,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break Some((false, *started)),
                }
            },
            Slot::Udp { socket, started } => match socket.recv(buf) {
                Ok(n) => Some((n > 0, *started)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
                Err(_) => Some((false, *started)),
            },
        };
        if let Some((answered, started)) = done {
            if answered {
                outcome.ok += 1;
                outcome.latencies.record(now - started);
            } else {
                outcome.errors += 1;
            }
            let spare = match std::mem::replace(self, Slot::Idle(None)) {
                Slot::Udp { socket, .. } if answered => Some(socket),
                _ => None,
            };
            *self = Slot::Idle(spare);
        }
    }
}
