//! Where the exporter listens: `--web.listen-address`, as Go's servers read
//! it (`ADDR:PORT`, `[V6ADDR]:PORT`, `HOST:PORT`, and `:PORT` for every
//! address), or the sockets systemd passes (`--web.systemd-socket`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use ruptime_common::oserror::describe;
use ruptime_common::resolve;
use ruptime_common::server::{BACKLOG, SocketKind, initserver};
use socket2::{Socket, Type};

/// The exporter's port by default: the first free one above the allocations
/// on Prometheus's list of default exporter ports that we know of (see the
/// README), and in no entry of `/etc/services`.
pub const DEFAULT_PORT: u16 = 10090;

/// Where the exporter listens when told nothing.
pub const DEFAULT: ListenAddress = ListenAddress::Address(SocketAddr::new(
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    DEFAULT_PORT,
));

/// One `--web.listen-address`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddress {
    /// An IP address and a port.
    Address(SocketAddr),
    /// Every address (IPv4 and IPv6) on this port.
    Every(u16),
    /// Each address of a host name, on this port.
    Name(String, u16),
}

/// Reads a `--web.listen-address`.
///
/// # Errors
/// A one-line reason, for clap to show.
pub fn parse(spec: &str) -> Result<ListenAddress, String> {
    let wrong = || format!("'{spec}' is not ADDR:PORT, [V6ADDR]:PORT, HOST:PORT or :PORT");
    let (host, port) = spec.rsplit_once(':').ok_or_else(wrong)?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(wrong());
    }
    let port: u16 = port
        .parse()
        .map_err(|_| format!("port {port} is out of range: 0 to 65535"))?;
    if host.is_empty() {
        return Ok(ListenAddress::Every(port));
    }
    if let Ok(addr) = spec.parse::<SocketAddr>() {
        return Ok(ListenAddress::Address(addr));
    }
    // A bare IPv6 address has colons of its own: it needs brackets.
    if host.contains([':', '[', ']']) {
        return Err(wrong());
    }
    Ok(ListenAddress::Name(host.to_owned(), port))
}

/// Binds a listening socket on each address of `specs`.
///
/// # Errors
/// A one-line reason: a name that does not resolve, or a failed bind.
pub fn bind(specs: &[ListenAddress]) -> Result<Vec<TcpListener>, String> {
    let mut listeners = Vec::new();
    for spec in specs {
        let addrs = match spec {
            ListenAddress::Address(addr) => vec![*addr],
            ListenAddress::Every(port) => vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), *port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), *port),
            ],
            ListenAddress::Name(host, port) => resolve::resolve(host, *port)
                .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?,
        };
        for addr in addrs {
            let socket = initserver(SocketKind::Stream, &addr, BACKLOG)
                .map_err(|e| format!("cannot listen on {addr}: {}", describe(&e)))?;
            listeners.push(socket.into());
        }
    }
    Ok(listeners)
}

/// The listening TCP sockets systemd passed (descriptors `fds`).
///
/// # Errors
/// None was passed, or one is not a listening TCP socket.
pub fn from_systemd(fds: &[RawFd]) -> Result<Vec<TcpListener>, String> {
    if fds.is_empty() {
        return Err("--web.systemd-socket: systemd passed no socket (LISTEN_FDS)".to_owned());
    }
    fds.iter()
        .map(|&fd| {
            // SAFETY: systemd passed `fd` to this process, which owns it from
            // now on; the variables naming it were taken out of the
            // environment, so nothing else takes it.
            #[allow(unsafe_code)]
            let socket = Socket::from(unsafe { OwnedFd::from_raw_fd(fd) });
            let listening = socket.r#type()? == Type::STREAM
                && socket.is_listener()?
                && socket.local_addr()?.as_socket().is_some();
            if !listening {
                return Err(io::Error::other("not a listening TCP socket"));
            }
            Ok(socket.into())
        })
        .collect::<io::Result<_>>()
        .map_err(|e| format!("--web.systemd-socket: descriptor passed: {}", describe(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_as_go_reads_them() {
        let addr = |a: &str| ListenAddress::Address(a.parse().unwrap());
        assert_eq!(parse("0.0.0.0:9999"), Ok(addr("0.0.0.0:9999")));
        assert_eq!(parse("[::1]:8080"), Ok(addr("[::1]:8080")));
        assert_eq!(parse("127.0.0.1:0"), Ok(addr("127.0.0.1:0")));
        assert_eq!(parse(":10090"), Ok(ListenAddress::Every(10090)));
        assert_eq!(
            parse("localhost:80"),
            Ok(ListenAddress::Name("localhost".into(), 80))
        );
        assert_eq!(
            parse(":70000").unwrap_err(),
            "port 70000 is out of range: 0 to 65535"
        );
        for bad in [
            "", ":", "10090", "1.2.3.4:", "[::1", "::1:80", "1e19", "a:b", "[::1]",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
