//! A whole fleet in one network namespace the test makes: thousands of
//! distinct loopback hosts, each reached from its own source address, a
//! silent subnet that drops every packet, and names for hosts in a hosts
//! file of the namespace's own. Removed, with every process in it, when
//! dropped. The recipes are those of `real-components.md` §4.1.
//!
//! - Live host `i` is `127.10.0.0 + i`, reached from `127.110.0.0 + i` (a
//!   `local` route with that source per host), so that a per-source limit of
//!   a daemon sees a fleet, not one client.
//! - Silent host `i` is in `10.231.92.0/22`, routed through a veth to a
//!   gateway whose MAC nobody has: SYNs and datagrams leave and vanish.
//! - ICMP errors are not rate-limited in the namespace, so every refused
//!   datagram is told.
//! - A share of its packets can be lost at random ([`FleetNet::lose`]).

use std::fs::{self, File};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use nix::sched::{CloneFlags, setns};
use nix::sys::signal::{Signal, kill};
use socket2::{Domain, Socket, Type};

use crate::bins::bin;
use crate::network::{ip, netns_pids, sysctl};
use crate::process::{Finished, run_command_with_input};

/// How many addresses the silent subnet has.
pub const SILENT_HOSTS: usize = 1022;

/// Where the hung daemons listen in the namespace (nothing else does).
pub const HUNG_PORT: u16 = 47;

/// Where nothing listens in the namespace.
pub const REFUSED_PORT: u16 = 9;

/// How many hosts of each kind a mixed fleet has, in the order listed.
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    /// In the silent subnet (at most [`SILENT_HOSTS`]).
    pub silent: usize,
    /// Hung daemons: they accept, or take the datagram, and never answer.
    pub hung: usize,
    /// Ports where nothing listens.
    pub refused: usize,
    /// Live hosts.
    pub live: usize,
    /// How many of the live hosts are given by name (see [`FleetNet::name_live`]).
    pub named: usize,
}

/// A host of a mixed fleet, and the reason it must fail with (none: it is up).
#[derive(Clone, Debug)]
pub struct Host {
    /// As listed.
    pub spec: String,
    /// The error of its row, when it must be down.
    pub reason: Option<&'static str>,
}

impl Mix {
    /// The fleet's hosts, the daemon of the live ones on `port`, asked over
    /// UDP when `dgram`, with a timeout of 5 s.
    pub fn hosts(&self, port: u16, dgram: bool) -> Vec<Host> {
        let (silent, hung) = if dgram {
            ("no reply within 5 s", "no reply within 5 s")
        } else {
            (
                "no answer to the connection attempt within 5 s",
                "connected, but no reply within 5 s",
            )
        };
        let down = |spec: String, reason| Host {
            spec,
            reason: Some(reason),
        };
        let mut hosts = Vec::new();
        hosts.extend(
            (0..self.silent).map(|i| down(format!("{}:{port}", FleetNet::silent(i)), silent)),
        );
        hosts.extend((0..self.hung).map(|i| {
            let addr = offset(Ipv4Addr::new(127, 2, 0, 1), i);
            down(format!("{addr}:{HUNG_PORT}"), hung)
        }));
        hosts.extend((0..self.refused).map(|i| {
            let addr = offset(Ipv4Addr::new(127, 3, 0, 1), i);
            let refused = if dgram {
                "can't reach: Connection refused"
            } else {
                "can't connect: Connection refused"
            };
            down(format!("{addr}:{REFUSED_PORT}"), refused)
        }));
        hosts.extend((0..self.live).map(|i| {
            let host = if i < self.named {
                FleetNet::name(i)
            } else {
                FleetNet::live(i).to_string()
            };
            Host {
                spec: format!("{host}:{port}"),
                reason: None,
            }
        }));
        hosts
    }
}

/// The namespace and its sink.
#[derive(Debug)]
pub struct FleetNet {
    ns: String,
    sink: String,
}

/// `base + i` as an IPv4 address.
fn offset(base: Ipv4Addr, i: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(base) + i as u32)
}

impl FleetNet {
    /// Makes the namespace with `live` distinct hosts; panics (after undoing
    /// what was made) when a step fails.
    pub fn new(live: usize) -> FleetNet {
        static MADE: AtomicU32 = AtomicU32::new(0);
        let nth = MADE.fetch_add(1, Ordering::SeqCst);
        let ns = format!("rf{}x{nth}", std::process::id() % 100_000);
        let net = FleetNet {
            sink: format!("{ns}s"),
            ns,
        };
        if let Err(e) = net.build(live) {
            drop(net);
            panic!("cannot make the fleet's namespace: {e}");
        }
        net
    }

    /// Live host `i` (from 0).
    pub fn live(i: usize) -> Ipv4Addr {
        offset(Ipv4Addr::new(127, 10, 0, 0), i)
    }

    /// The name of live host `i`.
    pub fn name(i: usize) -> String {
        format!("host{i}.fleet.test")
    }

    /// Silent host `i` (from 0, below [`SILENT_HOSTS`]).
    pub fn silent(i: usize) -> Ipv4Addr {
        offset(Ipv4Addr::new(10, 231, 92, 1), i)
    }

    fn build(&self, live: usize) -> Result<(), String> {
        let (ns, sink) = (self.ns.as_str(), self.sink.as_str());
        ip(&["netns", "add", ns])?;
        ip(&["netns", "add", sink])?;
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
        ip(&[
            "-n", ns, "link", "add", "fa", "type", "veth", "peer", "name", "fb", "netns", sink,
        ])?;
        ip(&["-n", ns, "link", "set", "fa", "up"])?;
        ip(&["-n", sink, "link", "set", "fb", "up"])?;
        ip(&["-n", ns, "addr", "add", "10.231.91.1/24", "dev", "fa"])?;
        ip(&[
            "-n",
            ns,
            "neigh",
            "add",
            "10.231.91.254",
            "lladdr",
            "02:00:5e:00:91:fe",
            "dev",
            "fa",
            "nud",
            "permanent",
        ])?;
        ip(&[
            "-n",
            ns,
            "route",
            "add",
            "10.231.92.0/22",
            "via",
            "10.231.91.254",
        ])?;
        sysctl(ns, "net.ipv4.icmp_ratemask=0")?;
        let batch = std::env::temp_dir().join(format!("{ns}.routes"));
        let mut routes = String::new();
        for i in 0..live {
            let source = offset(Ipv4Addr::new(127, 110, 0, 0), i);
            routes.push_str(&format!(
                "route add local {}/32 dev lo table local proto kernel scope host src {source}\n",
                FleetNet::live(i)
            ));
        }
        fs::write(&batch, routes).map_err(|e| e.to_string())?;
        let loaded = ip(&["-n", ns, "-batch", &batch.to_string_lossy()]);
        let _ = fs::remove_file(&batch);
        loaded
    }

    /// `program ARGS` run in the namespace (with its hosts file, if any).
    pub fn command(&self, program: &std::path::Path, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.ns])
            .arg(program)
            .args(args);
        command
    }

    fn etc(&self) -> PathBuf {
        PathBuf::from("/etc/netns").join(&self.ns)
    }

    /// Gives the namespace a hosts file naming live hosts `0..n` (and localhost).
    pub fn name_live(&self, n: usize) {
        let lines: String = (0..n)
            .map(|i| format!("{} {}\n", FleetNet::live(i), FleetNet::name(i)))
            .collect();
        self.hosts_file(&lines);
    }

    /// Gives the namespace a hosts file of localhost and these lines.
    pub fn hosts_file(&self, lines: &str) {
        fs::create_dir_all(self.etc()).expect("/etc/netns/NS");
        let mut file = File::create(self.etc().join("hosts")).expect("the hosts file");
        let text = format!("127.0.0.1 localhost\n{lines}");
        file.write_all(text.as_bytes()).expect("the hosts file");
    }

    /// Makes `server` (an address in the namespace) its DNS server.
    pub fn dns(&self, server: Ipv4Addr) {
        fs::create_dir_all(self.etc()).expect("/etc/netns/NS");
        let text = format!("nameserver {server}\noptions timeout:30 attempts:1\n");
        fs::write(self.etc().join("resolv.conf"), text).expect("resolv.conf");
    }

    /// Gives the namespace a DNS server in the silent subnet: a name not in
    /// its hosts file is looked up there, and the lookup hangs for 30 s.
    pub fn hang_dns(&self) {
        self.dns(FleetNet::silent(SILENT_HOSTS - 1));
    }

    /// The hung daemons of every address: a TCP listener on [`HUNG_PORT`]
    /// that never accepts (room for 4 096 connections in its queue) and a UDP
    /// socket there that never reads. They live while the sockets do; a run
    /// that ends leaves its connections in the queue, so each run wants
    /// daemons of its own.
    pub fn hung(&self) -> (TcpListener, UdpSocket) {
        self.inside(|| {
            let any: SocketAddr = ([0, 0, 0, 0], HUNG_PORT).into();
            let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
            socket.bind(&any.into()).expect("the hung port");
            socket.listen(4096).expect("listen");
            (socket.into(), UdpSocket::bind(any).expect("the hung port"))
        })
    }

    /// `ruptime ARGS -w 5 --json -f -` in the namespace over `hosts`,
    /// within `limit`: what it did, and the hosts down, with why (every
    /// host has its row).
    pub fn ask(&self, args: &[&str], hosts: &[String], limit: Duration) -> (Finished, Vec<String>) {
        let mut all = args.to_vec();
        all.extend(["-w", "5", "--json", "-f", "-"]);
        let list: String = hosts.iter().map(|h| format!("{h}\n")).collect();
        let out =
            run_command_with_input(self.command(&bin("ruptime"), &all), list.as_bytes(), limit);
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", out.stderr));
        let rows = rows.as_array().expect("an array of rows");
        assert_eq!(rows.len(), hosts.len(), "{args:?}");
        let down = rows
            .iter()
            .filter(|row| row["up"] != true)
            .map(|row| format!("{} {}", row["host"], row["error"]))
            .collect();
        (out, down)
    }

    /// Sets a sysctl of the namespace (`net.core.somaxconn=8192`).
    pub fn sysctl(&self, setting: &str) {
        let set = sysctl(&self.ns, setting);
        assert!(set.is_ok(), "{set:?}");
    }

    /// Drops `percent` of the packets sent in the namespace at random
    /// (nftables `numgen random`, this kernel having no netem): every
    /// exchange loses that share each way. 0 drops none.
    pub fn lose(&self, percent: u32) {
        let rules = format!(
            "flush ruleset\n\
             table inet loss {{\n\
             chain out {{ type filter hook output priority 0; policy accept; \
             numgen random mod 100 < {percent} drop; }}\n}}\n"
        );
        let file = std::env::temp_dir().join(format!("{}.nft", self.ns));
        fs::write(&file, rules).expect("the rules");
        let loaded = ip(&[
            "netns",
            "exec",
            &self.ns,
            "nft",
            "-f",
            &file.to_string_lossy(),
        ]);
        let _ = fs::remove_file(&file);
        assert!(loaded.is_ok(), "nft could not load the rules: {loaded:?}");
    }

    /// Runs `make` on a thread that has entered the namespace: the sockets
    /// it makes live there.
    pub fn inside<T: Send>(&self, make: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.ns);
        thread::scope(|scope| {
            scope
                .spawn(|| {
                    let ns = File::open(&path).expect("the namespace");
                    setns(&ns, CloneFlags::CLONE_NEWNET).expect("setns");
                    make()
                })
                .join()
                .expect("the thread in the namespace")
        })
    }
}

impl Drop for FleetNet {
    fn drop(&mut self) {
        for ns in [&self.ns, &self.sink] {
            for pid in netns_pids(ns) {
                let _ = kill(pid, Signal::SIGKILL);
            }
            let _ = ip(&["netns", "del", ns]);
        }
        let _ = fs::remove_dir_all(self.etc());
    }
}
