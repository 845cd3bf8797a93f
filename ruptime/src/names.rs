//! Names for discovered hosts: reverse lookups, all at once, each given up
//! at a deadline (a resolver can take many seconds); the address where no
//! name came.

use std::net::IpAddr;
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

/// A name for each of `addrs`, in order.
pub fn names(addrs: &[IpAddr], give_up: Instant) -> Vec<String> {
    let (sender, received) = mpsc::channel();
    for (i, addr) in addrs.iter().enumerate() {
        let (sender, addr) = (sender.clone(), *addr);
        let _ = thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let _ = sender.send((i, dns_lookup::lookup_addr(&addr).ok()));
            });
    }
    drop(sender);
    let mut named: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    while let Ok((i, name)) =
        received.recv_timeout(give_up.saturating_duration_since(Instant::now()))
    {
        if let Some(name) = name {
            named[i] = name;
        }
    }
    named
}
