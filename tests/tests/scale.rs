//! 550 hosts in one run: 500 distinct loopback addresses served by one
//! daemon listening on all of them, and 50 with nothing listening. Every live
//! host is up, every dead one down, and the run ends within its timeout plus
//! a small margin, in every mode.

use std::net::TcpListener;
use std::time::Duration;

use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::ruptime_with_input;

const LIVE: usize = 500;
const DEAD: usize = 50;
const TIMEOUT: u64 = 5;
const MARGIN: Duration = Duration::from_secs(3);

/// 127.0.1.1, 127.0.1.2, ... : `n` loopback addresses.
fn addresses(n: usize, third: usize) -> impl Iterator<Item = String> {
    (0..n).map(move |i| format!("127.0.{}.{}", third + i / 250, 1 + i % 250))
}

#[test]
fn five_hundred_live_and_fifty_dead_hosts_in_every_mode() {
    for (server, clients) in [
        ("stream", &["stream", "fork"][..]),
        ("dgram", &["dgram"][..]),
    ] {
        // All 550 requests come from one client address, to a daemon with
        // its default flags: padded requests are not limited per source.
        let daemon = Daemon::start(&["-m", server, "-l", "0.0.0.0"]);
        let port = daemon.port();
        let nobody = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let live: Vec<String> = addresses(LIVE, 1).collect();
        let dead: Vec<String> = addresses(DEAD, 3)
            .map(|a| format!("{a}:{nobody}"))
            .collect();
        let list: String = live.iter().chain(&dead).map(|h| format!("{h}\n")).collect();
        for client in clients {
            let timeout = TIMEOUT.to_string();
            let port = port.to_string();
            let out = ruptime_with_input(
                &[
                    "-m", client, "-p", &port, "-w", &timeout, "--json", "-f", "-",
                ],
                list.as_bytes(),
            );
            assert_eq!(
                out.code(),
                1,
                "{client}: the dead hosts fail the run: {}",
                out.stderr
            );
            let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let rows = rows.as_array().unwrap();
            assert_eq!(rows.len(), LIVE + DEAD, "{client}");
            for (row, host) in rows.iter().zip(live.iter().chain(&dead)) {
                assert_eq!(row["host"], host.as_str(), "{client}");
                let expected_up = !host.contains(&format!(":{nobody}"));
                assert_eq!(row["up"], expected_up, "{client}: {row}");
                if expected_up {
                    assert!(row["uptime_seconds"].is_u64(), "{client}: {row}");
                }
            }
            let limit = Duration::from_secs(TIMEOUT) + MARGIN;
            assert!(
                out.elapsed < limit,
                "{client}: {LIVE} + {DEAD} hosts took {:?}",
                out.elapsed
            );
            eprintln!(
                "{client} client, {server} server: {} hosts in {:?}",
                LIVE + DEAD,
                out.elapsed
            );
        }
    }
}
