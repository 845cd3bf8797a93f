//! The reference responder: the simplest server that writes a fixed line and
//! closes (TCP), or answers each datagram with it (UDP). Every figure of the
//! benchmark is a ratio to it, measured in the same run.

use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};

use ruptime_common::server::{BACKLOG, SocketKind, initserver};

use ruptime_tests::load::Transport;

/// Serves `line` on `addr` forever; calls `ready` with the bound address first.
///
/// # Errors
/// Binding fails, or the socket fails for good.
pub fn serve(
    transport: Transport,
    addr: SocketAddr,
    line: &[u8],
    ready: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    match transport {
        Transport::Tcp => {
            let listener: std::net::TcpListener =
                initserver(SocketKind::Stream, &addr, BACKLOG)?.into();
            ready(listener.local_addr()?);
            loop {
                if let Ok((mut conn, _)) = listener.accept() {
                    let _ = conn.write_all(line);
                }
            }
        }
        Transport::Udp => {
            let socket: UdpSocket = initserver(SocketKind::Datagram, &addr, 0)?.into();
            ready(socket.local_addr()?);
            let mut buf = [0u8; 64];
            loop {
                if let Ok((_, peer)) = socket.recv_from(&mut buf) {
                    let _ = socket.send_to(line, peer);
                }
            }
        }
    }
}
