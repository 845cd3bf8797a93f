//! 12 500 hosts in one run, in every mode: 10 000 live ones (distinct
//! loopback addresses, each reached from its own source address, one daemon
//! on 0.0.0.0 answering them all, 1 000 of them by name), 1 000 in a silent
//! subnet, 1 000 hung daemons (they accept, or take the datagram, and never
//! answer) and 500 refused ports, the unresponsive ones first in the list.
//! Every live host is up, every other host down with its own reason, and the
//! run ends within the timeout plus 2 s.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::fleetnet::{FleetNet, SILENT_HOSTS};
use ruptime_tests::process::run_command_with_input;
use ruptime_tests::skip;
use socket2::{Domain, Socket, Type};

const LIVE: usize = 10_000;
const NAMED: usize = 1_000;
const SILENT: usize = 1_000;
const HUNG: usize = 1_000;
const REFUSED: usize = 500;
const TIMEOUT: u64 = 5;
const MARGIN: Duration = Duration::from_secs(2);

/// Where the hung daemons listen (in the namespace, nothing else does).
const HUNG_PORT: u16 = 47;
/// Where nothing listens.
const REFUSED_PORT: u16 = 9;

/// A TCP listener that never accepts and a UDP socket that never reads, on
/// `port` of every address.
fn hung(port: u16) -> (TcpListener, UdpSocket) {
    let any: SocketAddr = ([0, 0, 0, 0], port).into();
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.bind(&any.into()).unwrap();
    // Room for every hung host of the stream and fork runs in the accept queue.
    socket.listen(4096).unwrap();
    (socket.into(), UdpSocket::bind(any).unwrap())
}

/// A host of the list, and the reason it must fail with (none: it is up).
struct Host {
    spec: String,
    reason: Option<&'static str>,
}

fn fleet(port: u16, dgram: bool) -> Vec<Host> {
    let silent = if dgram {
        "no reply within 5 s"
    } else {
        "no answer to the connection attempt within 5 s"
    };
    let hung = if dgram {
        "no reply within 5 s"
    } else {
        "connected, but no reply within 5 s"
    };
    let mut hosts = Vec::new();
    for i in 0..SILENT {
        hosts.push(Host {
            spec: format!("{}:{port}", FleetNet::silent(i)),
            reason: Some(silent),
        });
    }
    for i in 0..HUNG {
        hosts.push(Host {
            spec: format!("127.2.{}.{}:{HUNG_PORT}", i / 250, 1 + i % 250),
            reason: Some(hung),
        });
    }
    for i in 0..REFUSED {
        hosts.push(Host {
            spec: format!("127.3.{}.{}:{REFUSED_PORT}", i / 250, 1 + i % 250),
            reason: Some("can't connect: Connection refused"),
        });
    }
    for i in 0..LIVE {
        let host = if i < NAMED {
            format!("host{i}.fleet.test")
        } else {
            FleetNet::live(i).to_string()
        };
        hosts.push(Host {
            spec: format!("{host}:{port}"),
            reason: None,
        });
    }
    hosts
}

#[test]
fn twelve_thousand_five_hundred_hosts_whatever_they_do_in_every_mode() {
    if !skip::can_run("the fleet of 12 500 hosts", &["ip"]) {
        return;
    }
    assert!(SILENT <= SILENT_HOSTS);
    let net = FleetNet::new(LIVE);
    let names: Vec<(String, _)> = (0..NAMED)
        .map(|i| (format!("host{i}.fleet.test"), FleetNet::live(i)))
        .collect();
    net.name_hosts(&names);
    let _hung = net.inside(|| hung(HUNG_PORT));
    for (server, clients) in [
        ("stream", &["stream", "fork"][..]),
        ("dgram", &["dgram"][..]),
    ] {
        // The global datagram limit would pace 10 000 honest requests.
        let daemon = Daemon::start_command(
            net.command(&bin("ruptimed"), &[]),
            &["-m", server, "-l", "0.0.0.0", "--global-limit", "1000000"],
        );
        let port = daemon.port();
        let hosts = fleet(port, server == "dgram");
        let list: String = hosts.iter().map(|h| format!("{}\n", h.spec)).collect();
        for client in clients {
            let args = ["-m", client, "-w", "5", "--json", "-f", "-"];
            let command = net.command(&bin("ruptime"), &args);
            let out = run_command_with_input(command, list.as_bytes(), Duration::from_secs(60));
            assert_eq!(out.code(), 1, "{client}: {}", out.stderr);
            let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let rows = rows.as_array().unwrap();
            assert_eq!(rows.len(), hosts.len(), "{client}");
            let mut wrong = Vec::new();
            for (row, host) in rows.iter().zip(&hosts) {
                assert_eq!(row["host"], host.spec.as_str(), "{client}");
                let right = match host.reason {
                    None => row["up"] == true && row["uptime_seconds"].is_u64(),
                    Some(reason) => row["up"] == false && row["error"] == reason,
                };
                if !right {
                    wrong.push(row.to_string());
                }
            }
            assert!(
                wrong.is_empty(),
                "{client}: {} rows wrong, such as {:?}",
                wrong.len(),
                &wrong[..wrong.len().min(5)]
            );
            let limit = Duration::from_secs(TIMEOUT) + MARGIN;
            assert!(
                out.elapsed < limit,
                "{client}: {} hosts took {:?}",
                hosts.len(),
                out.elapsed
            );
            eprintln!(
                "{client} client, {server} server: {} hosts in {:?}",
                hosts.len(),
                out.elapsed
            );
        }
    }
}
