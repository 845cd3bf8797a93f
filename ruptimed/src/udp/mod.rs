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

mod batch;
pub(crate) mod receive_buffer;

use std::io::IoSlice;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, RecvMsg, SockaddrStorage, sendmsg, setsockopt,
    sockopt,
};
use ruptime_common::protocol::request::RequestKind;
use socket2::Socket;

pub(crate) use batch::{BATCH, Batch};

/// Asks the kernel for each request's destination, on a socket bound to
/// every address (a no-op for one bound to a single address).
///
/// # Errors
/// The socket option cannot be set.
pub(crate) fn follow_destinations(socket: &Socket, local: IpAddr) -> nix::Result<()> {
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

/// Where a reply goes out from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReplyFrom {
    /// The kernel's choice: the socket is bound to one address.
    Bound,
    /// This IPv4 address: the one asked, or for a broadcast the receiving
    /// interface's own (`ipi_spec_dst`); the route picks the interface.
    V4(Ipv4Addr),
    /// This IPv6 address (unspecified for a multicast request: the kernel
    /// picks one) on this interface.
    V6(Ipv6Addr, u32),
}

impl ReplyFrom {
    /// The reply's source, from a request's destination.
    fn of(cmsg: ControlMessageOwned) -> Option<ReplyFrom> {
        match cmsg {
            ControlMessageOwned::Ipv4PacketInfo(info) => Some(ReplyFrom::V4(Ipv4Addr::from(
                u32::from_be(info.ipi_spec_dst.s_addr),
            ))),
            ControlMessageOwned::Ipv6PacketInfo(info) => {
                let asked = Ipv6Addr::from(info.ipi6_addr.s6_addr);
                let from = if asked.is_multicast() {
                    Ipv6Addr::UNSPECIFIED
                } else {
                    asked
                };
                Some(ReplyFrom::V6(from, info.ipi6_ifindex))
            }
            _ => None,
        }
    }

    /// Calls `send` with the control messages that set this source.
    fn with_cmsgs<R>(self, send: impl FnOnce(&[ControlMessage<'_>]) -> R) -> R {
        match self {
            ReplyFrom::Bound => send(&[]),
            ReplyFrom::V4(from) => {
                let info = libc::in_pktinfo {
                    ipi_ifindex: 0,
                    ipi_spec_dst: libc::in_addr {
                        s_addr: u32::from(from).to_be(),
                    },
                    ipi_addr: libc::in_addr { s_addr: 0 },
                };
                send(&[ControlMessage::Ipv4PacketInfo(&info)])
            }
            ReplyFrom::V6(from, ifindex) => {
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: from.octets(),
                    },
                    ipi6_ifindex: ifindex,
                };
                send(&[ControlMessage::Ipv6PacketInfo(&info)])
            }
        }
    }
}

/// A request: its length, who sent it and where from to answer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request {
    /// How many bytes it held (at most the buffer's size).
    pub len: usize,
    /// Whether it was longer than the buffer.
    pub truncated: bool,
    /// Its sender.
    pub peer: SockaddrStorage,
    /// What kind of request it is, which says how much of the line it may
    /// get (set by the guard; legacy, the whole line, until then).
    pub kind: RequestKind,
    from: ReplyFrom,
}

impl Request {
    /// The sender's IP address and port, if it is an IP sender.
    pub(crate) fn sender(&self) -> Option<SocketAddr> {
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

/// A received message as a request.
fn request(msg: &RecvMsg<'_, '_, SockaddrStorage>) -> nix::Result<Request> {
    // A dual-stack socket may report both destinations of an IPv4 request;
    // the IPv4 one names the address asked.
    let mut from = ReplyFrom::Bound;
    for cmsg in msg.cmsgs()? {
        match ReplyFrom::of(cmsg) {
            Some(v4 @ ReplyFrom::V4(_)) => from = v4,
            Some(v6) if from == ReplyFrom::Bound => from = v6,
            _ => {}
        }
    }
    let peer = msg.address.ok_or(nix::errno::Errno::EDESTADDRREQ)?;
    let truncated = msg.flags.contains(MsgFlags::MSG_TRUNC);
    Ok(Request {
        len: msg.bytes,
        truncated,
        peer,
        kind: RequestKind::Legacy,
        from,
    })
}

/// Sends `reply` (as much of it as the request may get) to the request's
/// sender, from the address it asked.
///
/// # Errors
/// The errors of `sendmsg`, e.g. `EAGAIN` when the socket buffer is full.
pub(crate) fn reply(fd: BorrowedFd<'_>, request: &Request, reply: &[u8]) -> nix::Result<()> {
    let iov = [IoSlice::new(request.kind.cut(reply))];
    request.from.with_cmsgs(|cmsgs| {
        sendmsg(
            fd.as_raw_fd(),
            &iov,
            cmsgs,
            MsgFlags::MSG_DONTWAIT,
            Some(&request.peer),
        )
        .map(|_| ())
    })
}
