//! Who may ask.
//!
//! The uptime, the users and the load are what scanners of the internet
//! index (a 400-day uptime marks an unpatched kernel), and rwhod's traffic
//! never left its LAN: by default the daemon answers only the sources a
//! LAN has ([`DEFAULT_NETWORKS`]: loopback, the private and shared ranges,
//! link-local and unique local addresses) and those on a network attached
//! to this host (the prefix of any of its interface addresses, so that a
//! LAN numbered with global IPv6 or public IPv4 still works). Interfaces
//! come and go: their networks are read again when a source outside the
//! LAN's ranges asks and they were read more than [`REREAD`] ago.
//! A prefix wider than a site's (an IPv4 one shorter than /8, an IPv6 one
//! shorter than /48: a 6to4 tunnel's `2002::/16`) or a translation's
//! (`::/96` of `sit0`, NAT64's `64:ff9b::/96`) stands for much of the
//! internet, not a LAN: it is not taken as attached.
//!
//! `--allow CIDR` (repeatable) names the networks instead; `--allow any`
//! opens the daemon to everyone. An IPv4 client of a dual-stack socket
//! (`::ffff:a.b.c.d`) is matched as IPv4.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use nix::ifaddrs::getifaddrs;

/// The networks answered by default, besides those attached to this host.
pub(crate) const DEFAULT_NETWORKS: [&str; 9] = [
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "fe80::/10",
    "fc00::/7",
];

/// How old the list of attached networks may be when a source matches no
/// other network.
pub(crate) const REREAD: Duration = Duration::from_secs(2);

/// One `--allow`: a network, or everyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Allowed {
    /// Everyone (`any`).
    Anyone,
    /// The clients of a network.
    Network(IpNet),
}

/// Who may ask.
#[derive(Clone, Debug)]
pub(crate) enum Allow {
    /// The networks a LAN has ([`DEFAULT_NETWORKS`], parsed), and those
    /// attached to this host.
    Lan(Vec<IpNet>, Attached),
    /// The networks `--allow` named.
    Networks(Vec<IpNet>),
    /// Everyone (`--allow any`).
    Anyone,
}

impl Allow {
    /// Who may ask, as the `--allow` flags say (none: the default).
    pub(crate) fn new(allowed: &[Allowed]) -> Allow {
        if allowed.is_empty() {
            let lan = DEFAULT_NETWORKS.iter().filter_map(|net| net.parse().ok());
            return Allow::Lan(lan.collect(), Attached::default());
        }
        let mut networks = Vec::new();
        for entry in allowed {
            match entry {
                Allowed::Anyone => return Allow::Anyone,
                Allowed::Network(net) => networks.push(*net),
            }
        }
        Allow::Networks(networks)
    }

    /// Whether `addr` may ask at `now`.
    pub(crate) fn admits(&mut self, addr: IpAddr, now: Instant) -> bool {
        let addr = addr.to_canonical();
        match self {
            Allow::Anyone => true,
            Allow::Networks(networks) => networks.iter().any(|net| net.contains(&addr)),
            Allow::Lan(lan, attached) => {
                lan.iter().any(|net| net.contains(&addr)) || attached.contains(addr, now)
            }
        }
    }
}

/// The networks of this host's interfaces, as last read.
#[derive(Clone, Debug, Default)]
pub(crate) struct Attached {
    networks: Vec<IpNet>,
    read_at: Option<Instant>,
}

impl Attached {
    /// Whether `addr` is on a network attached to this host, the list read
    /// again first when it is older than [`REREAD`] at `now` (kept as it
    /// was when the interfaces cannot be listed, e.g. out of descriptors).
    fn contains(&mut self, addr: IpAddr, now: Instant) -> bool {
        if self
            .read_at
            .is_none_or(|at| now.saturating_duration_since(at) >= REREAD)
        {
            if let Some(networks) = attached_networks() {
                self.networks = networks;
            }
            self.read_at = Some(now);
        }
        self.networks.iter().any(|net| net.contains(&addr))
    }
}

/// The network of every address of every interface that stands for a LAN
/// (`None` when they cannot be listed).
fn attached_networks() -> Option<Vec<IpNet>> {
    let interfaces = getifaddrs().ok()?;
    let networks = interfaces.filter_map(|interface| {
        let ip = socket_ip(interface.address.as_ref()?)?;
        let mask = socket_ip(interface.netmask.as_ref()?)?;
        IpNet::with_netmask(ip, mask).ok().map(|net| net.trunc())
    });
    Some(networks.filter(is_a_lan).collect())
}

/// Whether an interface's network stands for a LAN: one address, or not
/// wider than a site's prefix and no address translation's.
fn is_a_lan(net: &IpNet) -> bool {
    const TRANSLATIONS: [&str; 3] = ["::/96", "64:ff9b::/96", "64:ff9b:1::/48"];
    match net {
        IpNet::V4(v4) => v4.prefix_len() >= 8,
        IpNet::V6(v6) => {
            v6.prefix_len() == 128
                || (v6.prefix_len() >= 48
                    && !TRANSLATIONS
                        .iter()
                        .filter_map(|t| t.parse::<IpNet>().ok())
                        .any(|t| t.contains(net)))
        }
    }
}

/// The IP address of a socket address, if it is one.
fn socket_ip(addr: &nix::sys::socket::SockaddrStorage) -> Option<IpAddr> {
    addr.as_sockaddr_in()
        .map(|v4| IpAddr::V4(v4.ip()))
        .or_else(|| addr.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip())))
}

/// Parses `CIDR` (`10.0.0.0/8`, `2001:db8::/32`), a single address, or
/// `any`.
///
/// # Errors
/// A one-line reason for clap to show.
pub(crate) fn parse(text: &str) -> Result<Allowed, String> {
    if text == "any" {
        return Ok(Allowed::Anyone);
    }
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map(|net| Allowed::Network(canonical(net).trunc()))
        .map_err(|_| format!("'{text}' is not an address, a network (ADDR/PREFIX) or 'any'"))
}

/// `net` as sources are matched: an IPv4-mapped network
/// (`::ffff:192.0.2.0/120`) as the IPv4 one (`192.0.2.0/24`).
fn canonical(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).unwrap_or(net),
            None => net,
        },
        _ => net,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(specs: &[&str]) -> Allow {
        let allowed: Vec<Allowed> = specs.iter().map(|s| parse(s).unwrap()).collect();
        Allow::new(&allowed)
    }

    fn admits(allow: &mut Allow, addr: &str) -> bool {
        allow.admits(addr.parse().unwrap(), Instant::now())
    }

    #[test]
    fn admits_the_networks_named_and_no_one_else() {
        let mut nets = allow(&["127.0.0.0/8", "2001:db8::/32", "192.0.2.7"]);
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
            assert_eq!(admits(&mut nets, addr), ok, "{addr}");
        }
        assert!(admits(&mut allow(&["10.0.0.0/8", "any"]), "198.51.100.1"));
        assert!(parse("10.0.0.0/33").is_err());
        assert!(parse("localhost").is_err());
        assert_eq!(
            parse("10.1.2.3/8"),
            Ok(Allowed::Network("10.0.0.0/8".parse().unwrap()))
        );
    }

    #[test]
    fn by_default_a_lan_s_sources_and_no_one_from_afar() {
        let mut lan = allow(&[]);
        assert!(
            matches!(&lan, Allow::Lan(nets, _) if nets.len() == DEFAULT_NETWORKS.len()),
            "every default network parses"
        );
        for (addr, ok) in [
            ("127.0.0.1", true),
            ("::1", true),
            ("10.9.8.7", true),
            ("172.31.255.254", true),
            ("172.32.0.1", false),
            ("192.168.1.1", true),
            ("100.64.0.1", true),
            ("100.128.0.1", false),
            ("169.254.3.4", true),
            ("fe80::1", true),
            ("fd00::1", true),
            ("fc00::1", true),
            ("::ffff:10.0.0.1", true),
            ("::ffff:8.8.8.8", false),
            // Documentation ranges: on no network of this host.
            ("198.51.100.7", false),
            ("203.0.113.9", false),
            ("2001:db8::1", false),
        ] {
            assert_eq!(admits(&mut lan, addr), ok, "{addr}");
        }
    }

    #[test]
    fn the_attached_networks_are_read_again_only_when_old() {
        let mut attached = Attached::default();
        let t0 = Instant::now();
        // Loopback is attached to every host.
        assert!(attached.contains("127.0.0.1".parse().unwrap(), t0));
        assert_eq!(attached.read_at, Some(t0));
        assert!(!attached.contains("198.51.100.7".parse().unwrap(), t0));
        assert!(attached.contains("127.0.0.1".parse().unwrap(), t0 + REREAD / 2));
        assert_eq!(attached.read_at, Some(t0), "not read again within REREAD");
        let later = t0 + REREAD;
        assert!(attached.contains("127.0.0.1".parse().unwrap(), later));
        assert_eq!(attached.read_at, Some(later), "read again, matched or not");
    }

    #[test]
    fn a_prefix_wider_than_a_site_or_a_translation_s_is_not_a_lan() {
        for (net, lan) in [
            ("192.0.2.0/24", true),
            ("10.0.0.0/8", true),
            ("0.0.0.0/0", false),
            ("2001:db8:1:2::/64", true),
            ("2001:db8:1::/48", true),
            ("2002::/16", false),
            ("2001::/32", false),
            ("::/96", false),
            ("::c000:201/96", false),
            ("64:ff9b::/96", false),
            ("64:ff9b:1::/48", false),
            ("::1/128", true),
        ] {
            let parsed: IpNet = net.parse().unwrap();
            assert_eq!(is_a_lan(&parsed.trunc()), lan, "{net}");
        }
    }

    #[test]
    fn an_ipv4_mapped_network_is_matched_as_ipv4() {
        assert_eq!(
            parse("::ffff:192.0.2.0/120"),
            Ok(Allowed::Network("192.0.2.0/24".parse().unwrap()))
        );
        let mut mapped = allow(&["::ffff:192.0.2.0/120"]);
        assert!(admits(&mut mapped, "192.0.2.5"));
        assert!(admits(&mut mapped, "::ffff:192.0.2.5"));
        assert!(!admits(&mut mapped, "192.0.3.5"));
        assert_eq!(
            parse("::ffff:0:0/95"),
            Ok(Allowed::Network("::fffe:0:0/95".parse().unwrap()))
        );
    }
}
