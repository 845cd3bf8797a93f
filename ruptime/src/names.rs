//! Names for discovered hosts: reverse lookups on the suite's pool of lookup
//! threads, each given up at a deadline (a resolver can take many seconds); the
//! address where no name came, a link-local one with its interface
//! (`fe80::1%eth0`), as a user would type it.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Instant;

use nix::net::if_::if_indextoname;
use ruptime_common::lookups::{Limits, Lookups};

/// The most reverse lookups at once.
const THREADS: usize = 16;

/// A name for each of `addrs`, in order: looked up unless `numeric`.
pub(crate) fn names(addrs: &[SocketAddr], numeric: bool, give_up: Instant) -> Vec<String> {
    let mut named: Vec<String> = addrs.iter().map(|a| shown(*a)).collect();
    if numeric || addrs.is_empty() {
        return named;
    }
    let pool = Lookups::new(Limits {
        threads: THREADS,
        most: THREADS,
    });
    let (sender, received) = mpsc::channel();
    for (i, addr) in addrs.iter().map(SocketAddr::ip).enumerate() {
        let sender = sender.clone();
        let job = move || {
            let _ = sender.send((i, dns_lookup::lookup_addr(&addr).ok()));
        };
        if pool.submit(Some(give_up), job).is_err() {
            break;
        }
    }
    drop(sender);
    while let Ok((i, name)) =
        received.recv_timeout(give_up.saturating_duration_since(Instant::now()))
    {
        if let Some(name) = name {
            named[i] = name;
        }
    }
    named
}

/// `addr`'s address as a user writes it: a link-local IPv6 address with its
/// interface's name (or number).
pub(crate) fn shown(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V6(v6) if v6.ip().is_unicast_link_local() && v6.scope_id() != 0 => {
            let interface = if_indextoname(v6.scope_id())
                .ok()
                .map(|name| name.to_string_lossy().into_owned())
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| v6.scope_id().to_string());
            format!("{}%{interface}", v6.ip())
        }
        other => other.ip().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_local_addresses_keep_their_interface() {
        assert_eq!(shown("10.0.0.1:4000".parse().unwrap()), "10.0.0.1");
        assert_eq!(shown("[2001:db8::1]:4000".parse().unwrap()), "2001:db8::1");
        // Interface 1 is loopback on Linux.
        assert_eq!(shown("[fe80::1%1]:4000".parse().unwrap()), "fe80::1%lo");
        assert_eq!(
            shown("[fe80::1%4242]:4000".parse().unwrap()),
            "fe80::1%4242"
        );
    }
}
