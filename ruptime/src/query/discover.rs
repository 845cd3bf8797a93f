//! Discovery: the datagram request sent to the broadcast address of every
//! IPv4 interface that has one, and to the IPv6 all-nodes group (`ff02::1`)
//! of every IPv6 interface; every reply that comes from the ruptime port
//! before the deadline is kept, one per address. The request is sent again a
//! few times within the deadline, as datagrams get lost.

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::time::Instant;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::{InterfaceFlags, if_nametoindex};

use super::dgram::{REQUEST, first_resend, wait_readable};
use super::{Answer, MAX_DATAGRAM, Options, QueryError};
use crate::target::Family;

/// IPv6's all-nodes group on one link.
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// Where to send the request on `port`: the interfaces named (all when
/// none are) that are up, not loopback, and of `family`.
///
/// # Errors
/// The interfaces cannot be listed.
pub fn destinations(port: u16, family: Family, only: &[String]) -> io::Result<Vec<SocketAddr>> {
    let mut found = Vec::new();
    for interface in getifaddrs()? {
        let flags = interface.flags;
        let wanted = only.is_empty() || only.contains(&interface.interface_name);
        if !wanted
            || !flags.contains(InterfaceFlags::IFF_UP)
            || flags.contains(InterfaceFlags::IFF_LOOPBACK)
        {
            continue;
        }
        let v4 = family != Family::V6 && flags.contains(InterfaceFlags::IFF_BROADCAST);
        if let Some(broadcast) = interface
            .broadcast
            .as_ref()
            .and_then(|b| b.as_sockaddr_in())
            .filter(|_| v4)
        {
            found.push(SocketAddr::new(IpAddr::V4(broadcast.ip()), port));
        }
        let v6 = family != Family::V4 && flags.contains(InterfaceFlags::IFF_MULTICAST);
        if v6
            && interface
                .address
                .as_ref()
                .and_then(|a| a.as_sockaddr_in6())
                .is_some()
        {
            let index = if_nametoindex(interface.interface_name.as_str())?;
            found.push(SocketAddr::V6(SocketAddrV6::new(ALL_NODES, port, 0, index)));
        }
    }
    found.dedup();
    Ok(found)
}

/// Asks every host behind `destinations` and collects the replies until the
/// deadline, sorted by address.
///
/// # Errors
/// No socket can be made, or every send fails.
pub fn discover(destinations: &[SocketAddr], options: &Options) -> Result<Vec<Answer>, QueryError> {
    let failed = |what: &str, e: io::Error| {
        QueryError::Failed(format!("{what}: {}", ruptime_common::oserror::describe(&e)))
    };
    let port = destinations.first().map_or(0, SocketAddr::port);
    let mut sockets = Vec::new();
    if destinations.iter().any(SocketAddr::is_ipv4) {
        let socket =
            UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).map_err(|e| failed("socket", e))?;
        socket
            .set_broadcast(true)
            .map_err(|e| failed("SO_BROADCAST", e))?;
        sockets.push(socket);
    }
    if destinations.iter().any(SocketAddr::is_ipv6) {
        sockets.push(UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0)).map_err(|e| failed("socket", e))?);
    }
    for socket in &sockets {
        socket
            .set_nonblocking(true)
            .map_err(|e| failed("socket", e))?;
    }
    let socket_for = |dest: &SocketAddr| {
        sockets
            .iter()
            .find(|s| s.local_addr().is_ok_and(|l| l.is_ipv4() == dest.is_ipv4()))
    };
    let mut answers: Vec<Answer> = Vec::new();
    let mut seen = HashSet::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut gap = first_resend(options.timeout);
    let mut resend_at = Instant::now();
    let deadline = resend_at + options.timeout;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        if now >= resend_at {
            let mut last_error = None;
            let sent = destinations
                .iter()
                .filter(
                    |dest| match socket_for(dest).map(|s| s.send_to(&REQUEST, dest)) {
                        Some(Ok(_)) => true,
                        Some(Err(e)) => {
                            last_error = Some(e);
                            false
                        }
                        None => false,
                    },
                )
                .count();
            if sent == 0 && answers.is_empty() {
                let e = last_error.unwrap_or_else(|| io::Error::from(io::ErrorKind::NotFound));
                return Err(failed("cannot send the request", e));
            }
            resend_at = now + gap;
            gap *= 2;
        }
        let ready = match wait_readable(sockets.iter(), resend_at.min(deadline)) {
            Ok(ready) => ready,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => continue,
            Err(e) => return Err(QueryError::Receive(e)),
        };
        for i in ready {
            while let Ok((n, from)) = sockets[i].recv_from(&mut buf) {
                if from.port() == port && seen.insert(from.ip()) {
                    answers.push(Answer {
                        reply: buf[..n].to_vec(),
                        from,
                    });
                }
            }
        }
    }
    answers.sort_by_key(|a| a.from);
    Ok(answers)
}
