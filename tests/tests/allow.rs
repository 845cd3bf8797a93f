//! Who may ask: `--allow CIDR` in every mode (a client outside every
//! network named gets one line saying so and the close, or nothing for a
//! datagram, and refusals are summed up in the log), and the default: the
//! networks a LAN has and those attached to the daemon's host, tried from
//! hosts of their own behind a router (documentation ranges, in the test's
//! namespaces only).

use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::{Finished, run_command, ruptime};
use ruptime_tests::routed::Routed;
use ruptime_tests::skip::can_run;
use ruptime_tests::uptime;
use serde_json::Value;

/// The one row of `ruptime --json ARGS`.
fn row(out: &Finished) -> Value {
    let rows: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    rows[0].clone()
}

#[test]
fn only_the_networks_allowed_are_answered_in_every_mode() {
    for (mode, refused) in [
        (
            "stream",
            "ruptimed: not allowed from 127.0.0.1 (see --allow)",
        ),
        ("fork", "ruptimed: not allowed from 127.0.0.1 (see --allow)"),
        ("dgram", "no reply within 1 s"),
    ] {
        // 127.0.0.1 is not allowed; ::1 is.
        let daemon = Daemon::start(&[
            "-m",
            mode,
            "-l",
            "127.0.0.1",
            "-l",
            "::1",
            "--allow",
            "10.0.0.0/8",
            "--allow",
            "::1",
        ]);
        let port = daemon.port().to_string();
        for _ in 0..3 {
            let out = ruptime(&["-m", mode, "-w", "1", "-p", &port, "--json", "127.0.0.1"]);
            assert_eq!(out.code(), 1, "{mode}: {out:?}");
            assert_eq!(row(&out)["error"], refused, "{mode}");
            assert!(
                out.elapsed < Duration::from_secs(3),
                "{mode}: {:?}",
                out.elapsed
            );
        }
        let out = ruptime(&["-m", mode, "-w", "5", "-p", &port, "::1"]);
        assert_eq!(out.code(), 0, "{mode}: {out:?}");
        uptime::assert_line(&out.stdout);
        let (status, stderr) = daemon.terminate();
        assert!(status.success(), "{stderr}");
        // One summary line for the three, none per request (a datagram
        // query sends its request more than once).
        let logged = if mode == "dgram" {
            " from senders not in --allow"
        } else {
            "refused 3 connections from clients --allow does not admit (the last from 127.0.0.1)"
        };
        assert_eq!(stderr.matches(logged).count(), 1, "{mode}: {stderr}");
        assert!(
            !stderr.contains(" 0 from senders not in --allow"),
            "{stderr}"
        );
        assert!(!stderr.contains("refused 127.0.0.1"), "{mode}: {stderr}");
    }
}

#[test]
fn a_bad_network_is_a_usage_error() {
    let out = ruptime_tests::process::ruptimed(&["--allow", "10.0.0.0/33"]);
    assert_eq!(out.code(), 2, "{out:?}");
    assert!(
        out.stderr
            .contains("'10.0.0.0/33' is not an address, a network (ADDR/PREFIX) or 'any'"),
        "{}",
        out.stderr
    );
}

/// The hosts of [`lan_and_afar`], by what they are.
struct Hosts {
    net: Routed,
    daemon: usize,
    /// From documentation ranges (IPv4 and IPv6), on none of the daemon's networks.
    afar: usize,
    /// From 10.x and fd00::/8.
    private: usize,
    /// From 192.168.x.
    home: usize,
    /// From a documentation range on a network attached to the daemon's host.
    attached: usize,
}

/// The daemon's host, a router, and clients on networks of their own
/// behind it, and one on a network of the daemon's own.
fn lan_and_afar() -> Hosts {
    let mut net = Routed::new();
    let (daemon, router) = (net.host(), net.host());
    let (afar, private, home, attached) = (net.host(), net.host(), net.host(), net.host());
    net.link(
        daemon,
        &["10.77.0.1/24", "fd77::1/64"],
        router,
        &["10.77.0.254/24", "fd77::fe/64"],
    );
    net.route(daemon, "default", "10.77.0.254");
    net.route(daemon, "default", "fd77::fe");
    for (client, mine, its) in [
        (
            afar,
            ["198.51.100.2/24", "2001:db8:200::2/64"],
            ["198.51.100.254/24", "2001:db8:200::fe/64"],
        ),
        (
            private,
            ["10.9.0.2/24", "fd00:9::2/64"],
            ["10.9.0.254/24", "fd00:9::fe/64"],
        ),
        (
            home,
            ["192.168.5.2/24", "fd00:5::2/64"],
            ["192.168.5.254/24", "fd00:5::fe/64"],
        ),
    ] {
        net.link(client, &mine, router, &its);
        let gateways = (its[0].split('/').next(), its[1].split('/').next());
        if let (Some(v4), Some(v6)) = gateways {
            net.route(client, "default", v4);
            net.route(client, "default", v6);
        }
    }
    net.forward(router);
    // A LAN of the daemon's own, numbered from a documentation range.
    net.link(
        daemon,
        &["203.0.113.1/24", "2001:db8:100::1/64"],
        attached,
        &["203.0.113.2/24", "2001:db8:100::2/64"],
    );
    Hosts {
        net,
        daemon,
        afar,
        private,
        home,
        attached,
    }
}

/// `ruptime --json -w 2 -m MODE -p PORT ADDR` from host `client`: the row.
fn ask_from(hosts: &Hosts, client: usize, mode: &str, port: u16, addr: &str) -> Value {
    let port = port.to_string();
    let args = ["--json", "-w", "2", "-m", mode, "-p", &port, addr];
    let out = run_command(
        hosts.net.command_in(client, &bin("ruptime"), &args),
        Duration::from_secs(30),
    );
    row(&out)
}

#[test]
fn by_default_a_lan_is_answered_and_a_stranger_from_afar_is_not() {
    if !can_run("the test of who may ask", &["ip"]) {
        return;
    }
    let hosts = lan_and_afar();
    let ruptimed = bin("ruptimed");
    for (open, allow) in [(false, &[][..]), (true, &["--allow", "any"][..])] {
        for mode in ["stream", "fork", "dgram"] {
            let mut args = vec!["-m", mode];
            args.extend_from_slice(allow);
            let command = hosts.net.command_in(hosts.daemon, &ruptimed, &[]);
            let daemon = Daemon::start_command(command, &args);
            let port = daemon.port();
            for (client, addrs) in [
                (hosts.afar, ["10.77.0.1", "fd77::1"]),
                (hosts.private, ["10.77.0.1", "fd77::1"]),
                (hosts.home, ["10.77.0.1", "fd77::1"]),
                (hosts.attached, ["203.0.113.1", "2001:db8:100::1"]),
            ] {
                for addr in addrs {
                    let got = ask_from(&hosts, client, mode, port, addr);
                    let answered = open || client != hosts.afar;
                    assert_eq!(got["up"], answered, "{mode} {allow:?} {addr}: {got}");
                    if answered {
                        continue;
                    }
                    let source = if addr.contains(':') {
                        "2001:db8:200::2"
                    } else {
                        "198.51.100.2"
                    };
                    let reason = if mode == "dgram" {
                        "no reply within 2 s".to_owned()
                    } else {
                        format!("ruptimed: not allowed from {source} (see --allow)")
                    };
                    assert_eq!(got["error"], reason, "{mode} {addr}");
                }
            }
            let (status, stderr) = daemon.terminate();
            assert!(status.success(), "{stderr}");
            let summary = if open {
                None
            } else if mode == "dgram" {
                Some(" from senders not in --allow")
            } else {
                Some("refused 2 connections from clients --allow does not admit")
            };
            match summary {
                Some(line) => assert!(stderr.contains(line), "{mode}: {stderr}"),
                None => assert!(!stderr.contains("--allow"), "{mode}: {stderr}"),
            }
        }
    }
    drop(hosts.net);
}
