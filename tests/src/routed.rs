//! Hosts on networks of their own, joined by links and routers: network
//! namespaces the test makes, each pair of them joined by a veth pair, all
//! removed when dropped (every process in them killed first). Addresses
//! are whatever the test gives, documentation ranges included: nothing
//! leaves the namespaces, which reach no other interface.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sys::signal::{Signal, kill};

use crate::network::{ip, netns_pids};

/// The namespaces and the links between them.
#[derive(Debug)]
pub struct Routed {
    prefix: String,
    hosts: Vec<String>,
    /// Each link's first end, and the namespace it is in.
    links: Vec<(String, String)>,
}

impl Routed {
    /// No host yet.
    pub fn new() -> Routed {
        static MADE: AtomicU32 = AtomicU32::new(0);
        let nth = MADE.fetch_add(1, Ordering::SeqCst);
        Routed {
            prefix: format!("rr{}x{nth}", std::process::id() % 100_000),
            hosts: Vec::new(),
            links: Vec::new(),
        }
    }

    /// A new host (its loopback up); its number.
    pub fn host(&mut self) -> usize {
        let ns = format!("{}h{}", self.prefix, self.hosts.len());
        self.step(&["netns", "add", &ns]);
        self.hosts.push(ns.clone());
        self.step(&["-n", &ns, "link", "set", "lo", "up"]);
        // IPv6 addresses, link-local ones included, usable at once: no
        // duplicate address detection on the links to come.
        for setting in [
            "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0",
        ] {
            self.step(&["netns", "exec", &ns, "sysctl", "-qw", setting]);
        }
        self.hosts.len() - 1
    }

    /// The network namespace of host `i`.
    pub fn netns(&self, i: usize) -> &str {
        &self.hosts[i]
    }

    /// Joins hosts `a` and `b`, with addresses (`ADDR/PREFIX`) on each end.
    pub fn link(&mut self, a: usize, a_addrs: &[&str], b: usize, b_addrs: &[&str]) {
        let name = format!("{}l{}", self.prefix, self.links.len());
        let (end_a, end_b) = (format!("{name}a"), format!("{name}b"));
        self.step(&[
            "link",
            "add",
            &end_a,
            "netns",
            &self.hosts[a].clone(),
            "type",
            "veth",
            "peer",
            "name",
            &end_b,
            "netns",
            &self.hosts[b].clone(),
        ]);
        self.links.push((end_a.clone(), self.hosts[a].clone()));
        for (host, end, addrs) in [(a, &end_a, a_addrs), (b, &end_b, b_addrs)] {
            let ns = self.hosts[host].clone();
            for addr in addrs {
                self.step(&["-n", &ns, "addr", "add", addr, "dev", end]);
            }
            self.step(&["-n", &ns, "link", "set", end, "up"]);
        }
    }

    /// Host `i` reaches `dest` (`default`, or `ADDR/PREFIX`) through `via`.
    pub fn route(&self, i: usize, dest: &str, via: &str) {
        let family = if via.contains(':') { "-6" } else { "-4" };
        self.step(&[
            family,
            "-n",
            &self.hosts[i],
            "route",
            "add",
            dest,
            "via",
            via,
        ]);
    }

    /// Host `i` forwards between its links, IPv4 and IPv6.
    pub fn forward(&self, i: usize) {
        for setting in ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"] {
            self.step(&["netns", "exec", &self.hosts[i], "sysctl", "-qw", setting]);
        }
    }

    /// `program ARGS` run in host `i`'s namespace.
    pub fn command_in(&self, i: usize, program: &std::path::Path, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.hosts[i]])
            .arg(program)
            .args(args);
        command
    }

    /// Runs `ip ARGS`, or panics saying why (the drop undoes what was made).
    fn step(&self, args: &[&str]) {
        if let Err(e) = ip(args) {
            panic!("cannot make the test network: {e}");
        }
    }
}

impl Default for Routed {
    fn default() -> Routed {
        Routed::new()
    }
}

impl Drop for Routed {
    fn drop(&mut self) {
        for ns in &self.hosts {
            for pid in netns_pids(ns) {
                let _ = kill(pid, Signal::SIGKILL);
            }
        }
        // The links first: `ip netns del` frees them only later.
        for (end, ns) in &self.links {
            let _ = ip(&["-n", ns, "link", "del", end]);
        }
        for ns in &self.hosts {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}
