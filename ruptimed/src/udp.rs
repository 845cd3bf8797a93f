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
    ControlMessage, ControlMessageOwned, MsgFlags, MultiHeaders, RecvMsg, SockaddrStorage,
    recvmmsg, recvmsg, sendmsg, setsockopt, sockopt,
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
    request(&msg)
}

/// A received message as a request.
fn request(msg: &RecvMsg<'_, '_, SockaddrStorage>) -> nix::Result<Request> {
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

/// How many requests one `recvmmsg` takes at most.
pub const BATCH: usize = 32;

/// The longest request kept (a longer one shows as truncated).
const REQUEST_ROOM: usize = 64;

/// Room to receive [`BATCH`] requests with one system call.
#[derive(Debug)]
pub struct Batch {
    buffers: Box<[[u8; REQUEST_ROOM]; BATCH]>,
    /// The requests of the last [`Batch::receive`].
    pub requests: Vec<Request>,
}

impl Batch {
    /// Room for a batch, allocated once.
    pub fn new() -> Batch {
        Batch {
            buffers: Box::new([[0; REQUEST_ROOM]; BATCH]),
            requests: Vec::with_capacity(BATCH),
        }
    }

    /// Receives the requests waiting (up to [`BATCH`]) into `requests`,
    /// without blocking.
    ///
    /// # Errors
    /// `EAGAIN` when none is waiting; other errors of `recvmmsg`.
    pub fn receive(&mut self, fd: BorrowedFd<'_>) -> nix::Result<()> {
        self.requests.clear();
        // Fresh headers each call: the kernel overwrites each header's name
        // and control lengths with what it wrote, and nix does not restore
        // them (nix-rust/nix#2813), so reused headers would truncate the
        // next sender's address or destination.
        let cmsg = nix::cmsg_space!(libc::in_pktinfo, libc::in6_pktinfo);
        let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, Some(cmsg));
        let mut slices = self
            .buffers
            .each_mut()
            .map(|b| [IoSliceMut::new(&mut b[..])]);
        let received = recvmmsg(
            fd.as_raw_fd(),
            &mut headers,
            slices.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        )?;
        // A message that cannot be read as a request (no IP sender) is
        // skipped, not allowed to cost the rest of the batch.
        self.requests
            .extend(received.filter_map(|msg| request(&msg).ok()));
        Ok(())
    }
}

impl Default for Batch {
    fn default() -> Batch {
        Batch::new()
    }
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
