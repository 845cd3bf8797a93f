//! A host to ask, as named on the command line, and its addresses.

use std::net::SocketAddr;

use ruptime_common::resolve::{self, Proto, ResolveError};

/// Which address families to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4 and IPv6, in the resolver's order.
    Any,
    /// IPv4 only (`-4`).
    V4,
    /// IPv6 only (`-6`).
    V6,
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::Any => "IP",
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }

    fn admits(self, addr: &SocketAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }
}

/// A host to ask.
#[derive(Clone, Debug)]
pub struct Target {
    /// The host as the user wrote it, for output.
    pub name: String,
    endpoint: Result<(String, u16), ResolveError>,
    /// The addresses, when they were looked up before the query.
    looked_up: Option<Vec<SocketAddr>>,
}

impl Target {
    /// Reads `HOST`, `HOST:PORT`, `[V6ADDR]:PORT` ...; `port` when none is given.
    /// A spec that cannot be read is kept, to be reported as this host's failure.
    pub fn new(spec: &str, port: u16, proto: Proto) -> Target {
        let endpoint = resolve::split_host_port(spec).and_then(|(host, own)| {
            let port = own.map_or(Ok(port), |p| resolve::remote_port(p, proto))?;
            Ok((host.to_owned(), port))
        });
        Target {
            name: spec.to_owned(),
            endpoint,
            looked_up: None,
        }
    }

    /// The target with its addresses looked up already (in the resolver's
    /// order): asking it needs no lookup.
    pub fn with_addresses(self, addrs: Vec<SocketAddr>) -> Target {
        Target {
            looked_up: Some(addrs),
            ..self
        }
    }

    /// Whether asking needs no lookup, which could block: the host is an IP
    /// address, or its addresses were looked up already.
    pub fn is_resolved(&self) -> bool {
        self.looked_up.is_some()
            || self
                .endpoint
                .as_ref()
                .is_ok_and(|(host, _)| host.parse::<std::net::IpAddr>().is_ok())
    }

    /// The host and port, if the spec could be read.
    pub fn endpoint(&self) -> Option<(&str, u16)> {
        let (host, port) = self.endpoint.as_ref().ok()?;
        Some((host, *port))
    }

    /// The address of a host given as an IP address, without any lookup.
    pub fn literal_address(&self) -> Option<SocketAddr> {
        let (host, port) = self.endpoint.as_ref().ok()?;
        let ip: std::net::IpAddr = host.parse().ok()?;
        Some(SocketAddr::new(ip, *port))
    }

    /// The first of the host's addresses of `family` (for an IP address,
    /// without making the list).
    ///
    /// # Errors
    /// As [`Target::addresses`].
    pub fn first_address(&self, family: Family) -> Result<SocketAddr, ResolveError> {
        match self.literal_address() {
            Some(addr) if family.admits(&addr) => Ok(addr),
            _ => self.addresses(family).map(|addrs| addrs[0]),
        }
    }

    /// The host's addresses of `family`, in the resolver's order.
    ///
    /// # Errors
    /// The spec could not be read, the name does not resolve, or it has no
    /// address of `family`.
    pub fn addresses(&self, family: Family) -> Result<Vec<SocketAddr>, ResolveError> {
        let (host, port) = self.endpoint.clone()?;
        let found = match &self.looked_up {
            Some(addrs) => addrs.clone(),
            None => resolve::resolve(&host, port)?,
        };
        let addrs: Vec<SocketAddr> = found.into_iter().filter(|a| family.admits(a)).collect();
        if addrs.is_empty() {
            return Err(ResolveError::Lookup(format!(
                "no {} address",
                family.name()
            )));
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_own_ports() {
        let plain = Target::new("127.0.0.1", 4000, Proto::Tcp);
        assert_eq!(
            plain.addresses(Family::Any).unwrap(),
            ["127.0.0.1:4000".parse().unwrap()]
        );
        let own = Target::new("[::1]:4711", 4000, Proto::Udp);
        assert_eq!(
            own.addresses(Family::V6).unwrap(),
            ["[::1]:4711".parse().unwrap()]
        );
        assert_eq!(own.name, "[::1]:4711");
    }

    #[test]
    fn literals_are_told_from_names() {
        assert!(Target::new("127.0.0.1", 1, Proto::Tcp).is_resolved());
        assert!(Target::new("[::1]:4000", 1, Proto::Tcp).is_resolved());
        assert!(!Target::new("localhost", 1, Proto::Tcp).is_resolved());
        assert!(!Target::new("host:", 1, Proto::Tcp).is_resolved());
        assert_eq!(
            Target::new("[::1]:4000", 1, Proto::Tcp).literal_address(),
            Some("[::1]:4000".parse().unwrap())
        );
        assert_eq!(
            Target::new("localhost", 1, Proto::Tcp).literal_address(),
            None
        );
    }

    #[test]
    fn addresses_looked_up_before_are_used() {
        let addrs: Vec<SocketAddr> = vec![
            "10.0.0.1:4000".parse().unwrap(),
            "[::2]:4000".parse().unwrap(),
        ];
        let name = Target::new("nowhere.invalid", 4000, Proto::Tcp).with_addresses(addrs.clone());
        assert!(name.is_resolved());
        assert_eq!(name.addresses(Family::Any).unwrap(), addrs);
        assert_eq!(name.addresses(Family::V6).unwrap(), &addrs[1..]);
        assert_eq!(name.literal_address(), None);
    }

    #[test]
    fn family_filters_addresses() {
        let v4 = Target::new("127.0.0.1", 4000, Proto::Tcp);
        let err = v4.addresses(Family::V6).unwrap_err();
        assert_eq!(err.to_string(), "cannot resolve: no IPv6 address");
    }

    #[test]
    fn bad_specs_fail_as_the_host_s_error() {
        let bad = Target::new("host:", 4000, Proto::Tcp);
        assert_eq!(
            bad.addresses(Family::Any),
            Err(ResolveError::BadSpec("host:".into()))
        );
        let unknown = Target::new("host:nosuchservice", 4000, Proto::Tcp);
        assert!(matches!(
            unknown.addresses(Family::Any),
            Err(ResolveError::UnknownService { .. })
        ));
    }
}
