//! Discovery: the datagram request sent to the broadcast address of every
//! IPv4 interface that has one, and to the IPv6 all-nodes group (`ff02::1`)
//! of every IPv6 interface; the request is sent again a few times within the
//! deadline, as datagrams get lost.
//!
//! A reply counts only when it is not empty, comes from the ruptime port and
//! from a network asked (the interface's IPv4 subnet; for IPv6 link-local
//! addresses, the interface asked), one per address. Everything is bounded,
//! so a flood of fake answers cannot keep discovery past its deadline: the
//! hosts listed ([`MAX_HOSTS`]), the datagrams read per wake-up, and each
//! reply ([`MAX_DATAGRAM`], a longer one listed as such, not cut). A
//! link-local address keeps its interface.

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::time::Instant;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::{InterfaceFlags, if_nametoindex};

use ruptime_common::protocol::MAX_DATAGRAM;

use super::blocking::wait_readable;
use super::dgram::{REQUEST, first_resend};
use super::options::Options;
use super::outcome::{Answer, Outcome, QueryError};
use crate::target::Family;

/// IPv6's all-nodes group on one link.
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// The most hosts one discovery lists; later answers are counted, not kept.
pub const MAX_HOSTS: usize = 4096;

/// The most datagrams read from a socket per wake-up, so the deadline is
/// looked at however many keep coming.
const READS_PER_WAKE: usize = 256;

/// Where the request goes, and which senders may answer it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Destination {
    /// The broadcast address, or the all-nodes group on one interface.
    pub to: SocketAddr,
    /// The IPv4 subnet (network and mask) the broadcast reaches.
    subnet: Option<(u32, u32)>,
}

impl Destination {
    /// Whether an answer from `from` can be a reply to this request.
    fn admits(&self, from: SocketAddr) -> bool {
        match (self.to, from, self.subnet) {
            (SocketAddr::V4(_), SocketAddr::V4(from), Some((net, mask))) => {
                from.ip().to_bits() & mask == net
            }
            (SocketAddr::V6(to), SocketAddr::V6(from), _) => {
                !from.ip().is_unicast_link_local() || from.scope_id() == to.scope_id()
            }
            _ => false,
        }
    }
}

/// Where to send the request on `port`: the interfaces named (all when
/// none are) that are up, not loopback, and of `family`.
///
/// # Errors
/// The interfaces cannot be listed.
pub fn destinations(port: u16, family: Family, only: &[String]) -> io::Result<Vec<Destination>> {
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
        let broadcast = interface
            .broadcast
            .as_ref()
            .and_then(|b| b.as_sockaddr_in());
        let address = interface.address.as_ref().and_then(|a| a.as_sockaddr_in());
        let mask = interface.netmask.as_ref().and_then(|m| m.as_sockaddr_in());
        if let (true, Some(broadcast), Some(address), Some(mask)) = (v4, broadcast, address, mask) {
            let mask = mask.ip().to_bits();
            found.push(Destination {
                to: SocketAddr::new(IpAddr::V4(broadcast.ip()), port),
                subnet: Some((address.ip().to_bits() & mask, mask)),
            });
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
            found.push(Destination {
                to: SocketAddr::V6(SocketAddrV6::new(ALL_NODES, port, 0, index)),
                subnet: None,
            });
        }
    }
    found.dedup();
    Ok(found)
}

/// What one discovery found: each answering address and its reply, sorted
/// by address, and how many more hosts answered past [`MAX_HOSTS`].
#[derive(Debug)]
pub struct Found {
    /// An outcome per host: its reply, or why it is not listed as up.
    pub hosts: Vec<(SocketAddr, Outcome)>,
    /// Hosts not kept: the list was full.
    pub beyond: usize,
}

/// Asks every host behind `destinations` and collects the replies until
/// the deadline.
///
/// # Errors
/// No socket can be made, or every send fails.
pub fn discover(destinations: &[Destination], options: &Options) -> Result<Found, QueryError> {
    let failed = |what: &str, e: io::Error| {
        QueryError::Failed(format!("{what}: {}", ruptime_common::oserror::describe(&e)))
    };
    let port = destinations.first().map_or(0, |d| d.to.port());
    let mut sockets = Vec::new();
    if destinations.iter().any(|d| d.to.is_ipv4()) {
        let socket =
            UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).map_err(|e| failed("socket", e))?;
        socket
            .set_broadcast(true)
            .map_err(|e| failed("SO_BROADCAST", e))?;
        sockets.push(socket);
    }
    if destinations.iter().any(|d| d.to.is_ipv6()) {
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
    let mut found = Found {
        hosts: Vec::new(),
        beyond: 0,
    };
    let mut seen = HashSet::new();
    // One byte more than allowed, so that a longer datagram shows.
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
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
                    |dest| match socket_for(&dest.to).map(|s| s.send_to(&REQUEST, dest.to)) {
                        Some(Ok(_)) => true,
                        Some(Err(e)) => {
                            last_error = Some(e);
                            false
                        }
                        None => false,
                    },
                )
                .count();
            if sent == 0 && found.hosts.is_empty() {
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
            for _ in 0..READS_PER_WAKE {
                let Ok((n, from)) = sockets[i].recv_from(&mut buf) else {
                    break;
                };
                let asked = destinations.iter().any(|d| d.admits(from));
                if n == 0 || from.port() != port || !asked || !seen.insert(from) {
                    continue;
                }
                if found.hosts.len() >= MAX_HOSTS {
                    found.beyond += 1;
                    continue;
                }
                let outcome = if n > MAX_DATAGRAM {
                    Err(QueryError::TooLong(MAX_DATAGRAM))
                } else {
                    Ok(Answer::new(buf[..n].to_vec(), from))
                };
                found.hosts.push((from, outcome));
            }
        }
    }
    found.hosts.sort_by_key(|(from, _)| *from);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_senders_on_a_network_asked_count() {
        let v4 = Destination {
            to: "10.231.7.255:4000".parse().unwrap(),
            subnet: Some((0x0ae7_0700, 0xffff_ff00)),
        };
        assert!(v4.admits("10.231.7.12:4000".parse().unwrap()));
        assert!(!v4.admits("10.231.8.12:4000".parse().unwrap()));
        assert!(!v4.admits("[fe80::1%3]:4000".parse().unwrap()));
        let v6 = Destination {
            to: "[ff02::1%3]:4000".parse().unwrap(),
            subnet: None,
        };
        assert!(v6.admits("[fe80::1%3]:4000".parse().unwrap()));
        assert!(!v6.admits("[fe80::1%4]:4000".parse().unwrap()));
        assert!(!v6.admits("10.231.7.12:4000".parse().unwrap()));
    }
}
