//! UDP requests, and replies sent from the address the client asked.
//!
//! A socket bound to every address (`0.0.0.0`, `[::]`) would reply from the
//! kernel's choice of source: on a host with several addresses (or on
//! loopback's 127/8) often not the one the client asked, and a client that
//! accepts replies only from the address it asked (ours, as it should) never
//! sees the reply. So such a socket asks for each request's destination
//! (`IP_PKTINFO`, `IPV6_RECVPKTINFO`) and the reply goes out from it; a
//! request sent to a broadcast or multicast address is answered from the
//! receiving interface's own address.

use std::io::{IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, sendmsg, setsockopt,
    sockopt,
};
use socket2::Socket;

/// Asks the kernel for each request's destination, on a socket bound to
/// every address (a no-op for one bound to a single address).
///
/// # Errors
/// The socket option cannot be set.
pub fn follow_destinations(socket: &Socket, local: IpAddr) -> nix::Result<()> {
    if !local.is_unspecified() {
        return Ok(());
    }
    match local {
        IpAddr::V4(_) => setsockopt(socket, sockopt::Ipv4PacketInfo, &true),
        IpAddr::V6(_) => {
            setsockopt(socket, sockopt::Ipv6RecvPacketInfo, &true)?;
            if !socket.only_v6().unwrap_or(true) {
                // IPv4 requests reach a dual-stack socket as mapped addresses.
                setsockopt(socket, sockopt::Ipv4PacketInfo, &true)?;
            }
            Ok(())
        }
    }
}

/// Where a request was sent to, when the socket was told to follow it.
#[derive(Clone, Copy, Debug)]
enum Destination {
    Unknown,
    V4(libc::in_pktinfo),
    V6(libc::in6_pktinfo),
}

/// A request: its length, who sent it and where to.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// How many bytes it held (at most the buffer's size).
    pub len: usize,
    /// Whether it was longer than the buffer.
    pub truncated: bool,
    /// Its sender.
    pub peer: SockaddrStorage,
    to: Destination,
}

impl Request {
    /// The sender's IP address and port, if it is an IP sender.
    pub fn sender(&self) -> Option<SocketAddr> {
        self.peer
            .as_sockaddr_in()
            .map(|a| SocketAddr::from(SocketAddrV4::from(*a)))
            .or_else(|| {
                self.peer
                    .as_sockaddr_in6()
                    .map(|a| SocketAddr::from(SocketAddrV6::from(*a)))
            })
    }
}

/// Receives one request into `buf`, without blocking.
///
/// # Errors
/// `EAGAIN` when none is waiting; other errors of `recvmsg`.
pub fn receive(fd: BorrowedFd<'_>, buf: &mut [u8]) -> nix::Result<Request> {
    let mut space = nix::cmsg_space!(libc::in_pktinfo, libc::in6_pktinfo);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrStorage>(
        fd.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_DONTWAIT,
    )?;
    let mut to = Destination::Unknown;
    for cmsg in msg.cmsgs()? {
        match cmsg {
            ControlMessageOwned::Ipv4PacketInfo(info) => to = Destination::V4(info),
            ControlMessageOwned::Ipv6PacketInfo(info) if matches!(to, Destination::Unknown) => {
                to = Destination::V6(info);
            }
            _ => {}
        }
    }
    let peer = msg.address.ok_or(nix::errno::Errno::EDESTADDRREQ)?;
    let truncated = msg.flags.contains(MsgFlags::MSG_TRUNC);
    Ok(Request {
        len: msg.bytes,
        truncated,
        peer,
        to,
    })
}

/// Sends `reply` to the request's sender, from the address it asked.
///
/// # Errors
/// The errors of `sendmsg`, e.g. `EAGAIN` when the socket buffer is full.
pub fn reply(fd: BorrowedFd<'_>, request: &Request, reply: &[u8]) -> nix::Result<()> {
    let iov = [IoSlice::new(reply)];
    let (mut v4, mut v6) = (None, None);
    match request.to {
        Destination::Unknown => {}
        Destination::V4(mut info) => {
            // The source is `ipi_spec_dst`: the address asked, or for a
            // broadcast the interface's own; the route picks the interface.
            info.ipi_ifindex = 0;
            v4 = Some(info);
        }
        Destination::V6(mut info) => {
            if Ipv6Addr::from(info.ipi6_addr.s6_addr).is_multicast() {
                info.ipi6_addr.s6_addr = Ipv6Addr::UNSPECIFIED.octets();
            }
            v6 = Some(info);
        }
    }
    let cmsg = v4
        .as_ref()
        .map(ControlMessage::Ipv4PacketInfo)
        .or(v6.as_ref().map(ControlMessage::Ipv6PacketInfo));
    sendmsg(
        fd.as_raw_fd(),
        &iov,
        cmsg.as_slice(),
        MsgFlags::MSG_DONTWAIT,
        Some(&request.peer),
    )
    .map(|_| ())
}

/// A request's sender, for messages.
pub fn show(request: &Request) -> String {
    request
        .sender()
        .map_or_else(|| "a non-IP sender".to_owned(), |a| a.to_string())
}
