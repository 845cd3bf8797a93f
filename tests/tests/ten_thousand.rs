//! 12 500 hosts in one run, in every mode: 10 000 live ones (distinct
//! loopback addresses, each reached from its own source address, one daemon
//! on 0.0.0.0 answering them all, 1 000 of them by name), 1 000 in a silent
//! subnet, 1 000 hung daemons (they accept, or take the datagram, and never
//! answer) and 500 refused ports, the unresponsive ones first in the list.
//! Every live host is up, every other host down with its own reason, and the
//! run ends within the timeout plus 2 s.

use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::fleetnet::{FleetNet, Mix};
use ruptime_tests::process::run_command_with_input;
use ruptime_tests::skip;

const MIX: Mix = Mix {
    silent: 1_000,
    hung: 1_000,
    refused: 500,
    live: 10_000,
    named: 1_000,
};
const TIMEOUT: Duration = Duration::from_secs(5);
const MARGIN: Duration = Duration::from_secs(2);

#[test]
fn twelve_thousand_five_hundred_hosts_whatever_they_do_in_every_mode() {
    if !skip::can_run("the fleet of 12 500 hosts", &["ip"]) {
        return;
    }
    let net = FleetNet::new(MIX.live);
    net.name_live(MIX.named);
    for (server, clients) in [
        ("stream", &["stream", "fork"][..]),
        ("dgram", &["dgram"][..]),
    ] {
        let daemon = Daemon::start_command(
            net.command(&bin("ruptimed"), &[]),
            &["-m", server, "-l", "0.0.0.0"],
        );
        let hosts = MIX.hosts(daemon.port(), server == "dgram");
        let list: String = hosts.iter().map(|h| format!("{}\n", h.spec)).collect();
        for client in clients {
            // Hung daemons of their own: connections a run left in their
            // queues (never accepted) must not fill them for the next.
            let _hung = net.hung();
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
            assert!(
                out.elapsed < TIMEOUT + MARGIN,
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
