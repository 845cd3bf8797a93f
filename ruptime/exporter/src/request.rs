//! A probe request,
//! `/probe?target=HOST[:PORT][&mode=stream|fork|dgram][&debug=true]`, read
//! and checked, with the time it may take.
//!
//! A target is an IP address (an IPv6 one with its `%zone` in brackets when
//! a port follows) or a host name as DNS spells them, with an optional port;
//! anything else is refused before any lookup. The time a probe may take is
//! decided here, once: Prometheus's `X-Prometheus-Scrape-Timeout-Seconds`
//! less `--timeout-offset` (half of it when shorter than twice that), at
//! most `--probe.timeout`, which is also the time without the header.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use ruptime_common::duration::parse_seconds;
use ruptime_common::mode::Mode;
use ruptime_common::resolve::{self, Proto};

use ruptime::escape::escape;
use ruptime::target::{Family, Target};

/// The header in which Prometheus says how long a scrape may take.
pub(crate) const SCRAPE_TIMEOUT: &str = "x-prometheus-scrape-timeout-seconds";

/// The longest target taken: a full DNS name, a port and brackets.
const MAX_TARGET: usize = 300;

/// What a probe request leaves to the exporter's flags.
#[derive(Clone, Debug)]
pub(crate) struct Defaults {
    /// The mode, when the request names none.
    pub(crate) mode: Mode,
    /// The port over TCP, when the target has none.
    pub(crate) tcp_port: u16,
    /// The port over UDP, when the target has none.
    pub(crate) udp_port: u16,
    /// Which of a target's addresses to ask.
    pub(crate) family: Family,
    /// How long a probe may take at most, and without the scrape timeout header.
    pub(crate) timeout: Duration,
    /// What a probe leaves of the scrape timeout for its answer to reach
    /// Prometheus.
    pub(crate) offset: Duration,
}

/// A probe to make.
#[derive(Clone, Debug)]
pub(crate) struct Probe {
    /// The host to ask.
    pub(crate) target: Target,
    /// How to ask it.
    pub(crate) mode: Mode,
    /// How long the probe may take, from when the request came.
    pub(crate) budget: Duration,
    /// Whether to answer the probe's log instead of its metrics.
    pub(crate) debug: bool,
}

/// Reads a probe request: its query string and its scrape timeout header.
///
/// # Errors
/// A one-line reason, for a 400 answer.
pub(crate) fn parse(
    query: Option<&str>,
    scrape_timeout: Option<&[u8]>,
    defaults: &Defaults,
) -> Result<Probe, String> {
    let mut target = None;
    let mut mode = None;
    let mut debug = None;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let slot = match &*key {
            "target" => &mut target,
            // blackbox_exporter's name for it, as its configurations write it.
            "mode" | "module" => &mut mode,
            "debug" => &mut debug,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(match &*key {
                "mode" | "module" => "'mode' is given twice ('module' is its other name)".into(),
                key => format!("'{key}' is given twice"),
            });
        }
    }
    let mode = match mode.as_deref() {
        None => defaults.mode,
        Some("stream") => Mode::Stream,
        Some("fork") => Mode::Fork,
        Some("dgram") => Mode::Dgram,
        Some(other) => {
            return Err(format!(
                "mode '{}' is not stream, fork or dgram",
                shown(other)
            ));
        }
    };
    let debug = match debug.as_deref() {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(other) => return Err(format!("debug '{}' is not true or false", shown(other))),
    };
    let spec = target.ok_or("no target: ask /probe?target=HOST[:PORT]")?;
    let proto = mode.proto();
    let port = match proto {
        Proto::Tcp => defaults.tcp_port,
        Proto::Udp => defaults.udp_port,
    };
    check_target(&spec, proto).map_err(|why| format!("target '{}': {why}", shown(&spec)))?;
    let budget = match scrape_timeout {
        None => defaults.timeout,
        // Never longer than --timeout: a client cannot hold a probe slot
        // for as long as it likes.
        Some(header) => budget(header, defaults.offset)?.min(defaults.timeout),
    };
    Ok(Probe {
        target: Target::new(&spec, port, proto),
        mode,
        budget,
        debug,
    })
}

/// The most characters of a request's text written back in a reason.
const SHOWN: usize = 80;

/// Text from the request, safe to write back, and cut when long.
fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{}...", escape(&text.as_bytes()[..at], false)),
        None => escape(text.as_bytes(), false),
    }
}

/// Whether `spec` names a host to ask, and a port if it has one.
fn check_target(spec: &str, proto: Proto) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty".to_owned());
    }
    if spec.len() > MAX_TARGET {
        return Err(format!("longer than {MAX_TARGET} bytes"));
    }
    let (host, port) = resolve::split_host_port(spec).map_err(|e| e.to_string())?;
    match address(host) {
        Some(ip) => {
            if let Some(why) = not_unicast(ip) {
                return Err(why.to_owned());
            }
        }
        None if is_host_name(host) => {}
        None => return Err("not a host name or an IP address".to_owned()),
    }
    if let Some(port) = port {
        resolve::remote_port(port, proto).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The address `host` is: an IP address, or an IPv6 one with a zone
/// (`fe80::1%eth0`, the zone left out).
fn address(host: &str) -> Option<IpAddr> {
    if let Ok(ip) = host.parse() {
        return Some(ip);
    }
    let (ip, zone) = host.split_once('%')?;
    let zone_ok = !zone.is_empty()
        && zone
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    ip.parse::<Ipv6Addr>()
        .ok()
        .filter(|_| zone_ok)
        .map(IpAddr::V6)
}

/// Why `ip` cannot be probed, if it cannot: a probe asks one host.
pub(crate) fn not_unicast(ip: IpAddr) -> Option<&'static str> {
    // `::ffff:224.0.0.1` is sent to 224.0.0.1.
    let ip = ip.to_canonical();
    if ip.is_multicast() {
        Some("a multicast address, not a host")
    } else if ip.is_unspecified() {
        Some("the unspecified address, not a host")
    } else if ip == IpAddr::from(std::net::Ipv4Addr::BROADCAST) {
        Some("the broadcast address, not a host")
    } else {
        None
    }
}

/// A DNS name: dot-separated labels of letters, digits, `-` and `_`, not
/// beginning or ending with `-`, 63 bytes each and 253 in all; and not a
/// number the resolver would take for an address (`127.1`, `2130706433`,
/// `0x7f.1`): its last label is not all digits, nor every label a number.
fn is_host_name(host: &str) -> bool {
    let name = host.strip_suffix('.').unwrap_or(host);
    let digits = |label: &str| label.bytes().all(|b| b.is_ascii_digit());
    let numeric = |label: &str| {
        digits(label)
            || label
                .strip_prefix("0x")
                .or_else(|| label.strip_prefix("0X"))
                .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    !name.is_empty()
        && !digits(name.rsplit('.').next().unwrap_or_default())
        && !name.split('.').all(numeric)
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// How long a probe may take within a scrape timeout header's value,
/// leaving `offset` (half of it at most).
fn budget(header: &[u8], offset: Duration) -> Result<Duration, String> {
    let text = String::from_utf8_lossy(header);
    let whole = parse_seconds(&text)
        .map_err(|why| format!("X-Prometheus-Scrape-Timeout-Seconds: {}", shown(&why)))?;
    Ok(whole - offset.min(whole / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Defaults {
        Defaults {
            mode: Mode::Stream,
            tcp_port: 4000,
            udp_port: 4001,
            family: Family::Any,
            timeout: Duration::from_secs(5),
            offset: Duration::from_millis(500),
        }
    }

    fn probe(query: &str) -> Result<Probe, String> {
        parse(Some(query), None, &defaults())
    }

    #[test]
    fn a_target_with_and_without_a_port() {
        let p = probe("target=alpha").unwrap();
        assert_eq!(p.target.name, "alpha");
        assert_eq!(p.mode, Mode::Stream);
        assert_eq!(p.budget, Duration::from_secs(5));
        let p = probe("target=127.0.0.1%3A4100&mode=dgram").unwrap();
        assert_eq!(p.target.name, "127.0.0.1:4100");
        assert_eq!(p.mode, Mode::Dgram);
        assert_eq!(
            p.target.literal_address(),
            Some("127.0.0.1:4100".parse().unwrap())
        );
        let p = probe("mode=dgram&target=10.0.0.1").unwrap();
        assert_eq!(
            p.target.literal_address(),
            Some("10.0.0.1:4001".parse().unwrap())
        );
        for good in [
            "target=%5B%3A%3A1%5D%3A4000",
            "target=::1",
            "target=fe80::1%25eth0",
            "target=host-1.example.",
            "target=_svc.example",
            "target=alpha&module=fork",
        ] {
            assert!(probe(good).is_ok(), "{good}: {:?}", probe(good));
        }
        assert_eq!(probe("target=a&module=dgram").unwrap().mode, Mode::Dgram);
        assert!(!probe("target=a").unwrap().debug);
        assert!(probe("target=a&debug=true").unwrap().debug);
        assert!(!probe("target=a&debug=false").unwrap().debug);
    }

    #[test]
    fn bad_targets_say_why() {
        for (query, why) in [
            ("", "no target: ask /probe?target=HOST[:PORT]"),
            ("target=", "target '': empty"),
            ("target=a&target=b", "'target' is given twice"),
            (
                "target=a%20b",
                "target 'a b': not a host name or an IP address",
            ),
            (
                "target=a/b",
                "target 'a/b': not a host name or an IP address",
            ),
            ("target=-a", "target '-a': not a host name or an IP address"),
            (
                "target=a..b",
                "target 'a..b': not a host name or an IP address",
            ),
            (
                "target=a%0Ab",
                "target 'a\\nb': not a host name or an IP address",
            ),
            (
                "target=a:99999",
                "target 'a:99999': port 99999 is out of range: 0 to 65535",
            ),
            (
                "target=a:0",
                "target 'a:0': port 0 cannot be asked: 1 to 65535",
            ),
            ("target=a:", "target 'a:': invalid address 'a:'"),
            ("target=%5B%3A%3A1", "target '[::1': invalid address '[::1'"),
            (
                "target=a&mode=tcp",
                "mode 'tcp' is not stream, fork or dgram",
            ),
            ("target=a&debug=yes", "debug 'yes' is not true or false"),
            ("target=a&debug=1&debug=0", "'debug' is given twice"),
            (
                "target=a&mode=fork&module=dgram",
                "'mode' is given twice ('module' is its other name)",
            ),
            (
                "target=a&module=http_2xx",
                "mode 'http_2xx' is not stream, fork or dgram",
            ),
        ] {
            assert_eq!(probe(query).unwrap_err(), why, "{query}");
        }
        let long = format!("target={}", "a".repeat(301));
        let why = probe(&long).unwrap_err();
        assert_eq!(
            why,
            format!("target '{}...': longer than 300 bytes", "a".repeat(80))
        );
        for (query, why) in [
            (
                "target=224.0.0.1&mode=dgram",
                "a multicast address, not a host",
            ),
            (
                "target=%5Bff02::1%5D:4000",
                "a multicast address, not a host",
            ),
            ("target=0.0.0.0", "the unspecified address, not a host"),
            ("target=::", "the unspecified address, not a host"),
            (
                "target=255.255.255.255:4000",
                "the broadcast address, not a host",
            ),
            (
                "target=%5B::ffff:224.0.0.1%5D:4000",
                "a multicast address, not a host",
            ),
            (
                "target=::ffff:0.0.0.0",
                "the unspecified address, not a host",
            ),
            ("target=ff02::1%25lo", "a multicast address, not a host"),
        ] {
            assert!(
                probe(query).unwrap_err().ends_with(why),
                "{query}: {:?}",
                probe(query)
            );
        }
        for numeric in [
            "127.1",
            "2130706433",
            "0x7f.1",
            "0x7f000001",
            "999.1.1.1",
            "1.2.3.4.5",
        ] {
            assert_eq!(
                probe(&format!("target={numeric}")).unwrap_err(),
                format!("target '{numeric}': not a host name or an IP address"),
            );
        }
        assert!(probe("target=1.example").is_ok());
        assert!(probe("target=0xdead.example").is_ok());
        let label = format!("target={}.b", "a".repeat(64));
        assert!(probe(&label).is_err());
    }

    #[test]
    fn the_scrape_timeout_sets_the_budget_up_to_the_timeout() {
        let long = Defaults {
            timeout: Duration::from_secs(30),
            ..defaults()
        };
        let with = |header: &str| parse(Some("target=a"), Some(header.as_bytes()), &long);
        assert_eq!(with("10").unwrap().budget, Duration::from_millis(9500));
        assert_eq!(with("1").unwrap().budget, Duration::from_millis(500));
        assert_eq!(with("0.5").unwrap().budget, Duration::from_millis(250));
        assert_eq!(with("60").unwrap().budget, Duration::from_secs(30));
        assert_eq!(with("86400").unwrap().budget, Duration::from_secs(30));
        let tight = Defaults {
            offset: Duration::from_secs(2),
            ..long.clone()
        };
        let probe = parse(Some("target=a"), Some(b"10"), &tight).unwrap();
        assert_eq!(probe.budget, Duration::from_secs(8));
        for bad in ["", "abc", "-1", "0", "1e19", "NaN", "inf"] {
            assert!(
                with(bad)
                    .unwrap_err()
                    .starts_with("X-Prometheus-Scrape-Timeout-Seconds: "),
                "{bad}"
            );
        }
    }
}
