//! A lossy link: 2 000 distinct hosts behind one daemon, with 10% then 30%
//! of the packets dropped at random each way (nftables in the fleet's
//! namespace). A host that answers is up: at 10% all but at most 2 of the
//! 2 000, at 30% at least 97%, in stream and in dgram, with `-w 5`.

use std::time::{Duration, Instant};

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::fleetnet::FleetNet;
use ruptime_tests::process::run_command_with_input;
use ruptime_tests::skip;
use serde_json::Value;

const HOSTS: usize = 2_000;

/// The loss each way, in percent, and the fewest hosts that must be up.
const LOSSES: [(u32, usize); 2] = [(10, HOSTS - 2), (30, HOSTS * 97 / 100)];

#[test]
fn hosts_that_answer_through_a_lossy_link_are_up() {
    if !skip::can_run("the lossy link", &["ip", "nft"]) {
        return;
    }
    let net = FleetNet::new(HOSTS);
    let list: String = (0..HOSTS)
        .map(|i| format!("{}\n", FleetNet::live(i)))
        .collect();
    for mode in ["stream", "dgram"] {
        let daemon = Daemon::start_command(
            net.command(&bin("ruptimed"), &[]),
            &["-m", mode, "-l", "0.0.0.0"],
        );
        let port = daemon.port().to_string();
        for (percent, least) in LOSSES {
            net.lose(percent);
            let args = ["-m", mode, "-w", "5", "-p", &port, "--json", "-f", "-"];
            let command = net.command(&bin("ruptime"), &args);
            let began = Instant::now();
            let out = run_command_with_input(command, list.as_bytes(), Duration::from_secs(60));
            let took = began.elapsed();
            net.lose(0);
            let rows: Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{mode} at {percent}%: {e}: {}", out.stderr));
            let rows = rows.as_array().unwrap();
            assert_eq!(rows.len(), HOSTS, "{mode} at {percent}%");
            let down: Vec<String> = rows
                .iter()
                .filter(|row| row["up"] != true)
                .map(|row| format!("{} {}", row["host"], row["error"]))
                .collect();
            let up = HOSTS - down.len();
            eprintln!("{mode} at {percent}% loss each way: {up} of {HOSTS} up in {took:.1?}");
            assert!(
                up >= least,
                "{mode} at {percent}%: {up} up, at least {least} must be; down: {:?}",
                &down[..down.len().min(20)]
            );
        }
        let (status, stderr) = daemon.terminate();
        assert!(status.success(), "{mode}: {stderr}");
    }
}
