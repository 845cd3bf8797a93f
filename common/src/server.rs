//! `initserver`: a socket bound to one address, listening when it is a stream.
//!
//! APUE's `initserver` (figure 16.22) with four changes: the socket is
//! close-on-exec from birth (the original's forking server leaks it into
//! `uptime`); an IPv6 socket is IPv6-only so that `0.0.0.0` and `[::]` can be
//! bound side by side on one port; `SO_REUSEADDR` is set on stream sockets
//! only (on UDP it would let a second daemon bind a port already served); and
//! the backlog is [`BACKLOG`], the largest allowed, not 10.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

/// The listen backlog: the largest the system allows, as the kernel cuts
/// any larger one to `net.core.somaxconn` (4096 by default, per network
/// namespace).
///
/// The original's 10 overflows during a burst: the kernel then drops the
/// client's SYNs, or its final ACK under SYN cookies, and a client without a
/// timeout waits forever for a reply; a burst of thousands of clients (a
/// fleet asked at once) overflows any smaller fixed number.
pub const BACKLOG: i32 = i32::MAX;

/// The kind of socket to serve on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketKind {
    /// A TCP socket, listening.
    Stream,
    /// A UDP socket.
    Datagram,
}

/// Creates a close-on-exec socket, binds it to `addr`, and for
/// [`SocketKind::Stream`] sets `SO_REUSEADDR` first and listens with `backlog`.
///
/// # Errors
/// The failing call's error, e.g. `AddrInUse` or `PermissionDenied` from `bind`.
pub fn initserver(kind: SocketKind, addr: &SocketAddr, backlog: i32) -> io::Result<Socket> {
    let (ty, proto) = match kind {
        SocketKind::Stream => (Type::STREAM, Protocol::TCP),
        SocketKind::Datagram => (Type::DGRAM, Protocol::UDP),
    };
    let socket = Socket::new(Domain::for_address(*addr), ty, Some(proto))?;
    socket.set_reuse_address(kind == SocketKind::Stream)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&(*addr).into())?;
    if kind == SocketKind::Stream {
        socket.listen(backlog)?;
    }
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{TcpListener, TcpStream, UdpSocket};

    fn any_port(ip: &str) -> SocketAddr {
        format!("{ip}:0").parse().unwrap()
    }

    #[test]
    fn stream_socket_listens() {
        let socket = initserver(SocketKind::Stream, &any_port("127.0.0.1"), BACKLOG).unwrap();
        let listener: TcpListener = socket.into();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).unwrap();
        let (mut served, _) = listener.accept().unwrap();
        std::io::Write::write_all(&mut served, b"hi\n").unwrap();
        drop(served);
        let mut got = String::new();
        client.read_to_string(&mut got).unwrap();
        assert_eq!(got, "hi\n");
    }

    #[test]
    fn ipv4_and_ipv6_share_a_port() {
        let v4 = initserver(SocketKind::Datagram, &any_port("127.0.0.1"), 0).unwrap();
        let port = v4.local_addr().unwrap().as_socket().unwrap().port();
        let v6_addr: SocketAddr = format!("[::1]:{port}").parse().unwrap();
        let v6 = initserver(SocketKind::Datagram, &v6_addr, 0).unwrap();
        assert!(v6.only_v6().unwrap());
        assert!(is_cloexec(&v4) && is_cloexec(&v6));
    }

    /// Reads the descriptor's flags (octal) from /proc; O_CLOEXEC is 0o2000000.
    fn is_cloexec(socket: &Socket) -> bool {
        use std::os::fd::AsRawFd;
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", socket.as_raw_fd()));
        let flags = info
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("flags:").map(str::trim).map(str::to_owned));
        u32::from_str_radix(&flags.unwrap(), 8).unwrap() & 0o2_000_000 != 0
    }

    #[test]
    fn address_in_use_is_reported() {
        let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = initserver(SocketKind::Datagram, &taken.local_addr().unwrap(), 0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        let first = initserver(SocketKind::Datagram, &any_port("127.0.0.1"), 0).unwrap();
        let addr = first.local_addr().unwrap().as_socket().unwrap();
        let err = initserver(SocketKind::Datagram, &addr, 0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        let listening = initserver(SocketKind::Stream, &any_port("127.0.0.1"), BACKLOG).unwrap();
        let addr = listening.local_addr().unwrap().as_socket().unwrap();
        let err = initserver(SocketKind::Stream, &addr, BACKLOG).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }
}
