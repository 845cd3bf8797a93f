//! `--allow CIDR`: who may ask. Without the flag, anyone may.
//!
//! A connection from anyone else is closed at once, without a byte; a
//! datagram from anyone else is dropped and counted in the summary. An
//! IPv4 client of a dual-stack socket (`::ffff:a.b.c.d`) is matched as IPv4.

use std::net::IpAddr;

use ipnet::IpNet;

/// The networks allowed to ask; empty: everyone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Allow(Vec<IpNet>);

impl Allow {
    /// Only these networks (everyone when there are none).
    pub(crate) fn new(nets: Vec<IpNet>) -> Allow {
        Allow(nets)
    }

    /// Whether `addr` may ask.
    pub(crate) fn admits(&self, addr: IpAddr) -> bool {
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        self.0.is_empty() || self.0.iter().any(|net| net.contains(&addr))
    }
}

/// Parses `CIDR` (`10.0.0.0/8`, `2001:db8::/32`) or a single address.
///
/// # Errors
/// A one-line reason for clap to show.
pub(crate) fn parse_cidr(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| format!("'{text}' is not an address or a network (ADDR/PREFIX)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(nets: &[&str]) -> Allow {
        Allow::new(nets.iter().map(|n| parse_cidr(n).unwrap()).collect())
    }

    #[test]
    fn admits_the_networks_named_and_no_one_else() {
        let nets = allow(&["127.0.0.0/8", "2001:db8::/32", "192.0.2.7"]);
        for (addr, ok) in [
            ("127.1.2.3", true),
            ("::ffff:127.0.0.1", true),
            ("10.0.0.1", false),
            ("2001:db8:1::5", true),
            ("2001:db9::1", false),
            ("192.0.2.7", true),
            ("192.0.2.8", false),
            ("::1", false),
        ] {
            assert_eq!(nets.admits(addr.parse().unwrap()), ok, "{addr}");
        }
        assert!(Allow::default().admits("10.0.0.1".parse().unwrap()));
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("localhost").is_err());
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
    }
}
