//! Test hosts on one LAN: network namespaces the test makes, each joined by
//! a veth pair to a bridge in the root namespace, all removed when dropped.
//!
//! Host `i` (from 1) is `10.231.N.(10 + i)/24`; the bridge is `10.231.N.1`.
//! The hosts have no default route: nothing they send can leave the test
//! subnet, whatever the machine forwards. Names and `N` come from the test's
//! pid and a count, so no two LANs share them.

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A bridge and its hosts.
#[derive(Debug)]
pub struct Lan {
    prefix: String,
    subnet: u8,
    hosts: usize,
}

/// Runs `ip ARGS`; the error is the command and what it said.
///
/// # Errors
/// `ip` could not run, or failed.
pub fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Sets a sysctl of namespace `ns`.
pub(crate) fn sysctl(ns: &str, setting: &str) -> Result<(), String> {
    ip(&["netns", "exec", ns, "sysctl", "-qw", setting])
}

impl Lan {
    /// Makes the bridge and `hosts` namespaces; panics (after undoing what
    /// was made) when a step fails.
    pub fn new(hosts: usize) -> Lan {
        static MADE: AtomicU32 = AtomicU32::new(0);
        let (pid, nth) = (std::process::id(), MADE.fetch_add(1, Ordering::SeqCst));
        let subnet = ((pid + nth * 37) % 250) as u8 + 1;
        let lan = Lan {
            prefix: format!("rp{}x{nth}", pid % 100_000),
            subnet,
            hosts,
        };
        if let Err(e) = lan.build() {
            drop(lan);
            panic!("cannot make the test network: {e}");
        }
        lan
    }

    fn bridge(&self) -> String {
        format!("{}b", self.prefix)
    }

    fn veth(&self, i: usize) -> String {
        format!("{}v{i}", self.prefix)
    }

    /// The network namespace of host `i` (from 1).
    pub fn netns(&self, i: usize) -> String {
        format!("{}h{i}", self.prefix)
    }

    /// The address of host `i` (from 1).
    pub fn host(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 231, self.subnet, 10 + i as u8)
    }

    /// The bridge's own address, in the root namespace.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 231, self.subnet, 1)
    }

    /// `program ARGS` run in host `i`'s namespace.
    pub fn command_in(&self, i: usize, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.netns(i), program])
            .args(args);
        command
    }

    fn build(&self) -> Result<(), String> {
        let bridge = self.bridge();
        let gateway = format!("{}/24", self.gateway());
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        ip(&["addr", "add", &gateway, "brd", "+", "dev", &bridge])?;
        ip(&["link", "set", &bridge, "up"])?;
        for i in 1..=self.hosts {
            let (ns, veth, addr) = (self.netns(i), self.veth(i), format!("{}/24", self.host(i)));
            ip(&["netns", "add", &ns])?;
            ip(&[
                "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ])?;
            ip(&["link", "set", &veth, "master", &bridge, "up"])?;
            ip(&["-n", &ns, "addr", "add", &addr, "brd", "+", "dev", "eth0"])?;
            // IPv6 link-local addresses usable at once, without duplicate detection.
            sysctl(&ns, "net.ipv6.conf.eth0.accept_dad=0")?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ip(&[
                "-n",
                &ns,
                "route",
                "add",
                "default",
                "via",
                &self.gateway().to_string(),
            ])?;
        }
        Ok(())
    }

    /// The processes in host `i`'s namespace (all started by this test).
    fn pids(&self, i: usize) -> Vec<Pid> {
        netns_pids(&self.netns(i))
    }
}

/// The processes in the network namespace `ns`.
pub fn netns_pids(ns: &str) -> Vec<Pid> {
    let out = Command::new("ip").args(["netns", "pids", ns]).output();
    out.map(|o| {
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .map(Pid::from_raw)
            .collect()
    })
    .unwrap_or_default()
}

impl Drop for Lan {
    fn drop(&mut self) {
        for i in 1..=self.hosts {
            for pid in self.pids(i) {
                let _ = kill(pid, Signal::SIGKILL);
            }
            // The veth goes first: `ip netns del` frees it only later.
            let _ = ip(&["link", "del", &self.veth(i)]);
            let _ = ip(&["netns", "del", &self.netns(i)]);
        }
        let _ = ip(&["link", "del", &self.bridge()]);
    }
}
