//! The sockets the daemon serves on.
//!
//! The originals bind the addresses of their own host name, which on Debian is
//! a loopback address, so no other host can reach them. By default we bind
//! every address, IPv4 (`0.0.0.0`) and IPv6 (`[::]`), on one port; `--listen`
//! names addresses instead. With port 0 the first socket gets a free port and
//! the others share it, so one port number reaches the daemon on every address.
//!
//! Under systemd socket activation ([`from_systemd`]) the daemon binds nothing
//! and serves the sockets it was passed instead.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use ruptime_common::mode::Mode;
use ruptime_common::oserror::describe;
use ruptime_common::resolve::{self, Proto};
use ruptime_common::server::{BACKLOG, SocketKind, initserver};
use socket2::{Socket, Type};

use crate::fatal::Fatal;
use crate::udp;

/// A bound socket and how it is served.
#[derive(Debug)]
pub(crate) struct Listener {
    /// The socket: listening for stream and fork, bound for dgram.
    pub socket: Socket,
    /// The address it is bound to, with the port the kernel chose for port 0.
    pub local: SocketAddr,
    /// How its requests are served.
    pub mode: Mode,
    /// A datagram socket's receive buffer, as the kernel granted it.
    pub receive_buffer: Option<usize>,
}

impl Listener {
    /// `socket`, bound to `local`, made ready to serve in `mode`:
    /// non-blocking, and for dgram told each request's destination and
    /// given a larger receive buffer.
    fn ready(socket: Socket, local: SocketAddr, mode: Mode) -> io::Result<Listener> {
        socket.set_nonblocking(true)?;
        let mut receive_buffer = None;
        if mode == Mode::Dgram {
            udp::follow_destinations(&socket, local.ip())?;
            receive_buffer = Some(udp::receive_buffer::enlarge(&socket)?);
        }
        Ok(Listener {
            socket,
            local,
            mode,
            receive_buffer,
        })
    }
}

/// How many times a shared free port is chosen again when another family's
/// socket finds it taken.
const PORT_ATTEMPTS: usize = 8;

/// Binds a socket for `mode` on each address of `specs` (all addresses when
/// empty), on `port` unless a spec names its own.
///
/// # Errors
/// A one-line reason: a spec that does not resolve, or a failed bind.
pub(crate) fn bind_all(specs: &[String], port: u16, mode: Mode) -> Result<Vec<Listener>, Fatal> {
    let (addrs, optional_v6) = if specs.is_empty() {
        let all = [
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        ];
        (all.map(|ip| SocketAddr::new(ip, port)).to_vec(), true)
    } else {
        (addresses(specs, port, mode.proto())?, false)
    };
    let mut attempt = 0;
    loop {
        match bind_together(&addrs, mode, optional_v6) {
            Ok(listeners) => return Ok(listeners),
            Err((i, e)) => {
                attempt += 1;
                let retry = e.kind() == io::ErrorKind::AddrInUse && i > 0 && addrs[i].port() == 0;
                if !retry || attempt == PORT_ATTEMPTS {
                    return Err(Fatal::new(format!(
                        "cannot listen on {} ({mode}): {}",
                        addrs[i],
                        describe(&e)
                    )));
                }
            }
        }
    }
}

/// Binds every address; port-0 addresses after the first share its port.
/// With `optional_v6`, an IPv6 address the kernel does not support is skipped.
/// A failure names the index of the address that failed.
fn bind_together(
    addrs: &[SocketAddr],
    mode: Mode,
    optional_v6: bool,
) -> Result<Vec<Listener>, (usize, io::Error)> {
    let kind = match mode.proto() {
        Proto::Tcp => SocketKind::Stream,
        Proto::Udp => SocketKind::Datagram,
    };
    let mut listeners: Vec<Listener> = Vec::with_capacity(addrs.len());
    let mut chosen_port = None;
    for (i, addr) in addrs.iter().enumerate() {
        let mut addr = *addr;
        if addr.port() == 0
            && let Some(port) = chosen_port
        {
            addr.set_port(port);
        }
        let socket = match initserver(kind, &addr, BACKLOG) {
            Ok(socket) => socket,
            Err(e) if optional_v6 && addr.is_ipv6() && ipv6_missing(&e) => continue,
            Err(e) => return Err((i, e)),
        };
        let local = socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .unwrap_or(addr);
        if addr.port() == 0 {
            chosen_port = Some(local.port());
        }
        listeners.push(Listener::ready(socket, local, mode).map_err(|e| (i, e))?);
    }
    Ok(listeners)
}

/// The sockets systemd passed (`fds`, from `LISTEN_FDS` for this process),
/// or `None` when there are none. Listening stream sockets are served in
/// `stream_mode` (stream, or fork), datagram sockets as dgram.
///
/// # Errors
/// A descriptor is not a listening TCP or a UDP socket (`Accept=yes` wants
/// `--inetd`).
#[allow(unsafe_code)]
pub(crate) fn from_systemd(
    fds: &[RawFd],
    stream_mode: Mode,
) -> Result<Option<Vec<Listener>>, Fatal> {
    if fds.is_empty() {
        return Ok(None);
    }
    let mut listeners = Vec::with_capacity(fds.len());
    for &fd in fds {
        // SAFETY: systemd passes these descriptors to this process (LISTEN_PID
        // was checked), they are open, and each is taken once, here.
        let socket = Socket::from(unsafe { OwnedFd::from_raw_fd(fd) });
        let failed = |why: String| Fatal::new(format!("socket activation: fd {fd}: {why}"));
        let mode = match socket.r#type().map_err(|e| failed(describe(&e)))? {
            Type::STREAM if socket.is_listener().map_err(|e| failed(describe(&e)))? => stream_mode,
            Type::STREAM => {
                return Err(failed(
                    "a connected socket (Accept=yes wants --inetd)".into(),
                ));
            }
            Type::DGRAM => Mode::Dgram,
            _ => return Err(failed("neither a stream nor a datagram socket".into())),
        };
        let local = socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .ok_or_else(|| failed("not an IP socket".into()))?;
        listeners.push(Listener::ready(socket, local, mode).map_err(|e| failed(describe(&e)))?);
    }
    Ok(Some(listeners))
}

/// Whether the kernel has no IPv6 (disabled, or not built in).
fn ipv6_missing(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EAFNOSUPPORT | libc::EADDRNOTAVAIL | libc::EPROTONOSUPPORT)
    )
}

/// The addresses named by `--listen` specs, in order, without repeats.
fn addresses(specs: &[String], port: u16, proto: Proto) -> Result<Vec<SocketAddr>, Fatal> {
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for spec in specs {
        let failed = |e: resolve::ResolveError| Fatal::new(format!("--listen {spec}: {e}"));
        let (host, own_port) = resolve::split_host_port(spec).map_err(failed)?;
        let port = own_port
            .map_or(Ok(port), |p| resolve::port(p, proto))
            .map_err(failed)?;
        for addr in resolve::resolve(host, port).map_err(failed)? {
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn free_port_is_shared_by_every_address() {
        let listeners = bind_all(&specs(&["127.0.0.1", "::1"]), 0, Mode::Dgram).unwrap();
        assert_eq!(listeners.len(), 2);
        let port = listeners[0].local.port();
        assert_ne!(port, 0);
        assert_eq!(listeners[1].local, format!("[::1]:{port}").parse().unwrap());
    }

    #[test]
    fn spec_port_and_service_names_are_honoured() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = bind_all(&specs(&[&format!("127.0.0.1:{port}")]), 0, Mode::Stream).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot listen on 127.0.0.1:{port} (stream): Address already in use")
        );
        let err = bind_all(&specs(&["127.0.0.1:nosuchservice"]), 0, Mode::Fork).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--listen 127.0.0.1:nosuchservice: unknown port"),
            "{err}"
        );
    }

    #[test]
    fn repeated_addresses_are_bound_once() {
        let listeners = bind_all(&specs(&["127.0.0.1", "127.0.0.1:0"]), 0, Mode::Stream).unwrap();
        assert_eq!(listeners.len(), 1);
        assert!(listeners[0].socket.nonblocking().unwrap());
    }
}
