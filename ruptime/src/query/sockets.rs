//! A query's sockets: each opened non-blocking, its connection begun; and
//! the sockets of a datagram query, one per address of the host, with the
//! one loop that sends the request on them and the dropping of those the
//! query closed. The event loop and the blocking query both use them.

use std::io;
use std::mem::{MaybeUninit, offset_of, size_of};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
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

/// How many segments of `socket`'s connection the kernel sent again, its
/// SYN included (`TCP_INFO`'s `tcpi_total_retrans`); `None` if it cannot
/// tell.
#[allow(unsafe_code)]
pub(super) fn retransmissions(socket: &Socket) -> Option<u32> {
    let mut info = MaybeUninit::<libc::tcp_info>::zeroed();
    let mut len = libc::socklen_t::try_from(size_of::<libc::tcp_info>()).ok()?;
    // SAFETY: `info` is `len` bytes, writable; getsockopt writes at most
    // that many and sets `len` to how many it wrote; the descriptor is the
    // socket's, open for the call.
    let done = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &raw mut len,
        )
    };
    let needed = offset_of!(libc::tcp_info, tcpi_total_retrans) + size_of::<u32>();
    if done != 0 || (len as usize) < needed {
        return None;
    }
    // SAFETY: zeroed first, so every byte is initialised whatever the
    // kernel wrote, and `tcp_info` holds integers only.
    Some(unsafe { info.assume_init() }.tcpi_total_retrans)
}

/// Whether `error` says this host's own buffers or ports are short (a
/// send or a connect that would block, `ENOBUFS`).
pub(super) fn is_out_of_buffers(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::WouldBlock || error.raw_os_error() == Some(libc::ENOBUFS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_connection_made_at_once_sent_nothing_again() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let socket = connecting(&listener.local_addr().unwrap(), Proto::Tcp).unwrap();
        let _accepted = listener.accept().unwrap();
        assert_eq!(retransmissions(&socket), Some(0));
        let datagram = connecting(&listener.local_addr().unwrap(), Proto::Udp).unwrap();
        assert_eq!(retransmissions(&datagram), None, "not a TCP socket");
    }
}
