//! The `ruptime` service, its port, and host names.
//!
//! The originals ask `getaddrinfo` for the service `ruptime`, which Debian's
//! `/etc/services` does not list, so out of the box they fail. We look the name
//! up in `/etc/services` for the protocol the mode uses and fall back to
//! [`DEFAULT_PORT`]. A port on the command line may be a number or a service name.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};

/// The service name the originals look up.
pub(crate) const SERVICE_NAME: &str = "ruptime";

/// The port used when `/etc/services` has no `ruptime` entry (Debian has none).
pub const DEFAULT_PORT: u16 = 4000;

/// Where service names are looked up.
pub(crate) const SERVICES_FILE: &str = "/etc/services";

/// Transport protocol, as `/etc/services` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    /// TCP, for the stream and fork modes.
    Tcp,
    /// UDP, for the datagram mode.
    Udp,
}

impl Proto {
    /// The protocol's name in `/etc/services`.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// Why a port, an address or a host name could not be turned into socket addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// Not a port number and not a service in `/etc/services` for this protocol.
    UnknownService {
        /// The name asked for.
        name: String,
        /// The protocol it was looked up for.
        proto: Proto,
    },
    /// A `HOST:PORT` spec that cannot be split (e.g. `[::1` or `host:`).
    BadSpec(String),
    /// A port number out of range.
    PortRange(String),
    /// Port 0, which a client cannot ask.
    ZeroPort,
    /// The resolver failed, or found no usable address; the text says why.
    Lookup(String),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::UnknownService { name, proto } => write!(
                f,
                "unknown port '{name}': not a number, nor a {} service in {SERVICES_FILE}",
                proto.name()
            ),
            ResolveError::BadSpec(spec) => write!(f, "invalid address '{spec}'"),
            ResolveError::PortRange(spec) => {
                write!(f, "port {spec} is out of range: 0 to 65535")
            }
            ResolveError::ZeroPort => f.write_str("port 0 cannot be asked: 1 to 65535"),
            ResolveError::Lookup(reason) => write!(f, "cannot resolve: {reason}"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// The port of the `ruptime` service for `proto`, or [`DEFAULT_PORT`].
pub fn default_port(proto: Proto) -> u16 {
    lookup_service(SERVICE_NAME, proto).unwrap_or(DEFAULT_PORT)
}

/// A port given as a number (`0` included) or as a service name.
///
/// # Errors
/// [`ResolveError::UnknownService`] when `spec` is neither.
pub fn port(spec: &str, proto: Proto) -> Result<u16, ResolveError> {
    if !spec.is_empty() && spec.bytes().all(|b| b.is_ascii_digit()) {
        return spec
            .parse::<u16>()
            .map_err(|_| ResolveError::PortRange(spec.to_owned()));
    }
    lookup_service(spec, proto).ok_or_else(|| ResolveError::UnknownService {
        name: spec.to_owned(),
        proto,
    })
}

/// A port to ask, as [`port`] reads it, but not 0.
///
/// # Errors
/// As [`port`]; [`ResolveError::ZeroPort`] for 0.
pub fn remote_port(spec: &str, proto: Proto) -> Result<u16, ResolveError> {
    match port(spec, proto)? {
        0 => Err(ResolveError::ZeroPort),
        number => Ok(number),
    }
}

fn lookup_service(name: &str, proto: Proto) -> Option<u16> {
    let text = std::fs::read_to_string(SERVICES_FILE).ok()?;
    find_service(&text, name, proto)
}

/// Finds `name` (or an alias) for `proto` in the text of a services(5) file.
pub(crate) fn find_service(text: &str, name: &str, proto: Proto) -> Option<u16> {
    text.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or_default();
        let mut fields = line.split_whitespace();
        let official = fields.next()?;
        let (port, p) = fields.next()?.split_once('/')?;
        let named = official == name || fields.any(|alias| alias == name);
        (named && p == proto.name()).then(|| port.parse().ok())?
    })
}

/// Splits `HOST`, `HOST:PORT`, `[V6ADDR]`, `[V6ADDR]:PORT` or a bare IPv6 literal.
///
/// # Errors
/// [`ResolveError::BadSpec`] for an empty host or port, or an unclosed bracket.
pub fn split_host_port(spec: &str) -> Result<(&str, Option<&str>), ResolveError> {
    let bad = || ResolveError::BadSpec(spec.to_owned());
    let (host, port) = if let Some(rest) = spec.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else if spec.matches(':').count() == 1 {
        let (host, port) = spec.split_once(':').ok_or_else(bad)?;
        (host, Some(port))
    } else {
        (spec, None)
    };
    if host.is_empty() || port.is_some_and(str::is_empty) {
        return Err(bad());
    }
    Ok((host, port))
}

/// Every address `host` resolves to, in the resolver's order, without repeats.
///
/// # Errors
/// [`ResolveError::Lookup`] with the resolver's reason.
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, ResolveError> {
    let found = (host, port).to_socket_addrs().map_err(|e| {
        let text = e.to_string();
        let reason = text
            .strip_prefix("failed to lookup address information: ")
            .unwrap_or(&text);
        ResolveError::Lookup(reason.to_owned())
    })?;
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for addr in found {
        if !addrs.contains(&addr) {
            addrs.push(addr);
        }
    }
    if addrs.is_empty() {
        return Err(ResolveError::Lookup("no address".to_owned()));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICES: &str = "\
# comment line
daytime\t\t13/tcp
daytime\t\t13/udp
ruptime 4711/tcp rup  # our entry
ruptime 4712/udp
";

    #[test]
    fn finds_service_by_name_alias_and_protocol() {
        assert_eq!(find_service(SERVICES, "ruptime", Proto::Tcp), Some(4711));
        assert_eq!(find_service(SERVICES, "ruptime", Proto::Udp), Some(4712));
        assert_eq!(find_service(SERVICES, "rup", Proto::Tcp), Some(4711));
        assert_eq!(find_service(SERVICES, "rup", Proto::Udp), None);
        assert_eq!(find_service(SERVICES, "daytime", Proto::Udp), Some(13));
        assert_eq!(find_service(SERVICES, "comment", Proto::Tcp), None);
        assert_eq!(
            find_service("ruptime notaport/tcp", "ruptime", Proto::Tcp),
            None
        );
    }

    #[test]
    fn port_accepts_numbers_and_rejects_unknown_names() {
        assert_eq!(port("0", Proto::Tcp), Ok(0));
        assert_eq!(port("65535", Proto::Udp), Ok(65535));
        assert!(matches!(
            port("no-such-service-here", Proto::Tcp),
            Err(ResolveError::UnknownService { .. })
        ));
        assert_eq!(
            port("99999", Proto::Tcp),
            Err(ResolveError::PortRange("99999".into()))
        );
        assert_eq!(
            port("99999", Proto::Tcp).unwrap_err().to_string(),
            "port 99999 is out of range: 0 to 65535"
        );
    }

    #[test]
    fn splits_host_and_port() {
        assert_eq!(split_host_port("alpha"), Ok(("alpha", None)));
        assert_eq!(split_host_port("alpha:4001"), Ok(("alpha", Some("4001"))));
        assert_eq!(
            split_host_port("10.0.0.1:ruptime"),
            Ok(("10.0.0.1", Some("ruptime")))
        );
        assert_eq!(split_host_port("::1"), Ok(("::1", None)));
        assert_eq!(split_host_port("fe80::1%eth0"), Ok(("fe80::1%eth0", None)));
        assert_eq!(split_host_port("[::1]"), Ok(("::1", None)));
        assert_eq!(split_host_port("[::1]:4001"), Ok(("::1", Some("4001"))));
        for bad in ["", ":4000", "host:", "[::1", "[::1]4000", "[]:1", "[::1]:"] {
            assert!(split_host_port(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn resolves_literals_without_repeats() {
        let v4 = resolve("127.0.0.1", 4000).unwrap();
        assert_eq!(v4, vec!["127.0.0.1:4000".parse().unwrap()]);
        let v6 = resolve("::1", 7).unwrap();
        assert_eq!(v6, vec!["[::1]:7".parse().unwrap()]);
    }

    #[test]
    fn lookup_failure_keeps_the_resolver_reason() {
        let err = resolve("no-such-host.invalid", 1).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("cannot resolve: "), "{text}");
        assert!(!text.contains("failed to lookup"), "{text}");
    }
}
