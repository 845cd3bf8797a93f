//! A query's sockets: each opened non-blocking, its connection begun; and
//! the sockets of a datagram query, one per address of the host, with the
//! one loop that sends the request on them and the dropping of those the
//! query closed. The event loop and the blocking query both use them.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ruptime_common::oserror::describe;
use ruptime_common::resolve::Proto;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::dgram::{Datagram, REQUEST};
use super::trace::Trace;

/// A non-blocking socket for `proto` connected to `addr` (for TCP: the
/// connection begun, to be closed with a reset).
///
/// # Errors
/// The socket cannot be made, or the connection fails at once.
pub(super) fn connecting(addr: &SocketAddr, proto: Proto) -> io::Result<Socket> {
    let (kind, protocol) = match proto {
        Proto::Tcp => (Type::STREAM, Protocol::TCP),
        Proto::Udp => (Type::DGRAM, Protocol::UDP),
    };
    let socket = Socket::new(
        Domain::for_address(*addr),
        kind.nonblocking(),
        Some(protocol),
    )?;
    if proto == Proto::Tcp {
        // Closed with a reset once its reply is read to its end (or given
        // up): the daemon's side, which closed first, keeps no TIME_WAIT
        // for it (a fleet asked every minute would fill its table), and the
        // close costs both ends a packet less.
        socket.set_linger(Some(Duration::ZERO))?;
    }
    match socket.connect(&SockAddr::from(*addr)) {
        Ok(()) => Ok(socket),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(socket),
        Err(e) => Err(e),
    }
}

/// The sockets of a datagram query, numbered as its addresses.
#[derive(Debug, Default)]
pub(super) struct Sockets(Vec<Option<Socket>>);

impl Sockets {
    /// A socket per address of `query`, each made by `open` (given its
    /// number and address); one that cannot be made is closed in the query.
    pub(super) fn open(
        query: &mut Datagram,
        mut open: impl FnMut(usize, &SocketAddr) -> io::Result<Socket>,
        trace: &mut dyn Trace,
    ) -> Sockets {
        let mut sockets = Vec::with_capacity(query.addrs().len());
        for (i, addr) in query.addrs().to_vec().iter().enumerate() {
            match open(i, addr) {
                Ok(socket) => sockets.push(Some(socket)),
                Err(e) => {
                    trace.note(format_args!("{addr}: {}", describe(&e)));
                    query.closed(i, e);
                    sockets.push(None);
                }
            }
        }
        Sockets(sockets)
    }

    /// Sends the request on every open socket, telling `query` how each
    /// send went (a refusal closes its socket there); whether a send found
    /// this host's buffers full (`EAGAIN`, `ENOBUFS`).
    pub(super) fn send(&self, query: &mut Datagram, trace: &mut dyn Trace) -> bool {
        let mut full = false;
        for (i, socket) in self.open_ones() {
            let sent = socket.send(&REQUEST);
            let addr = query.addrs()[i];
            match &sent {
                Ok(n) => trace.note(format_args!("sent the request to {addr} ({n} bytes)")),
                Err(e) => {
                    full |= is_out_of_buffers(e);
                    trace.note(format_args!("sending to {addr}: {}", describe(e)));
                }
            }
            query.sent(i, sent);
        }
        full
    }

    /// Drops the sockets `query` no longer uses; how many.
    pub(super) fn close_unused(&mut self, query: &Datagram) -> usize {
        let mut closed = 0;
        for (i, socket) in self.0.iter_mut().enumerate() {
            if !query.is_open(i) && socket.take().is_some() {
                closed += 1;
            }
        }
        closed
    }

    /// Drops every socket; how many were open.
    pub(super) fn close_all(&mut self) -> usize {
        self.0.drain(..).flatten().count()
    }

    /// Socket `i`, if it is open.
    pub(super) fn get(&self, i: usize) -> Option<&Socket> {
        self.0.get(i)?.as_ref()
    }

    /// The open sockets and their numbers.
    pub(super) fn open_ones(&self) -> impl Iterator<Item = (usize, &Socket)> {
        self.0
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
    }
}

/// Whether `error` says this host's own buffers or ports are short (a
/// send or a connect that would block, `ENOBUFS`).
pub(super) fn is_out_of_buffers(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::WouldBlock || error.raw_os_error() == Some(libc::ENOBUFS)
}
