//! Every server mode with every client mode that speaks its protocol, over
//! IPv4 and IPv6, against the real binaries.

use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::{Finished, ruptime};
use ruptime_tests::uptime;

fn ask(mode: &str, port: u16, hosts: &[&str]) -> Finished {
    let port = port.to_string();
    let mut args = vec!["-m", mode, "-p", &port];
    args.extend_from_slice(hosts);
    ruptime(&args)
}

fn assert_answered(out: &Finished) {
    assert_eq!(out.code(), 0, "{out:?}");
    assert_eq!(out.stderr, "", "{out:?}");
    uptime::assert_line(&out.stdout);
}

#[test]
fn stream_and_fork_clients_get_the_uptime_line_from_stream_and_fork_servers() {
    for server in ["stream", "fork"] {
        let daemon = Daemon::start(&["-m", server, "-l", "127.0.0.1", "-l", "::1"]);
        for client in ["stream", "fork"] {
            for host in ["127.0.0.1", "::1", "localhost"] {
                assert_answered(&ask(client, daemon.port(), &[host]));
            }
        }
    }
}

#[test]
fn the_dgram_client_gets_the_uptime_line_from_the_dgram_server() {
    let daemon = Daemon::start(&["-m", "dgram", "-l", "127.0.0.1", "-l", "::1"]);
    for host in ["127.0.0.1", "::1", "localhost"] {
        assert_answered(&ask("dgram", daemon.port(), &[host]));
    }
}

#[test]
fn family_flags_pick_the_address() {
    let daemon = Daemon::start(&["-m", "dgram", "-l", "::1"]);
    assert_answered(&ask("dgram", daemon.port(), &["-6", "::1"]));
    let out = ask("dgram", daemon.port(), &["-4", "::1"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stderr,
        "ruptime: ::1: cannot resolve: no IPv4 address\n"
    );
    let out = ask("dgram", daemon.port(), &["-4", "127.0.0.1"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stderr,
        "ruptime: 127.0.0.1: can't reach: Connection refused\n"
    );
}

#[test]
fn by_default_the_daemon_serves_ipv4_and_ipv6_on_one_port() {
    let daemon = Daemon::start(&["-m", "stream"]);
    let port = daemon.port();
    let shown: Vec<String> = daemon.addrs.iter().map(ToString::to_string).collect();
    assert_eq!(shown, [format!("0.0.0.0:{port}"), format!("[::]:{port}")]);
    assert_answered(&ask("stream", port, &["127.0.0.1"]));
    assert_answered(&ask("stream", port, &["::1"]));
}
