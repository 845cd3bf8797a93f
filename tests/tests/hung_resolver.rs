//! A resolver that hangs costs its hosts, not the run: 100 names whose DNS
//! server never answers (it is in a silent subnet), listed before 50 names
//! from the hosts file and 200 live addresses. The hung names are down with
//! `cannot resolve: no answer within 2 s`, every other host is up, and the
//! run takes about one timeout, though the pool starts with 16 threads.

use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::fleetnet::{FleetNet, Mix};
use ruptime_tests::process::run_command_with_input;
use ruptime_tests::skip;

const HUNG_NAMES: usize = 100;
const MIX: Mix = Mix {
    silent: 0,
    hung: 0,
    refused: 0,
    live: 250,
    named: 50,
};

#[test]
fn hung_lookups_cost_their_hosts_not_the_run() {
    if !skip::can_run("the hung resolver test", &["ip"]) {
        return;
    }
    let net = FleetNet::new(MIX.live);
    net.name_live(MIX.named);
    net.hang_dns();
    for mode in ["stream", "dgram"] {
        let daemon = Daemon::start_command(
            net.command(&bin("ruptimed"), &[]),
            &["-m", mode, "-l", "0.0.0.0"],
        );
        let port = daemon.port();
        let hung: Vec<String> = (0..HUNG_NAMES)
            .map(|i| format!("hang{i}.nowhere.test:{port}"))
            .collect();
        let live = MIX.hosts(port, mode == "dgram");
        let list: String = hung
            .iter()
            .chain(live.iter().map(|h| &h.spec))
            .map(|h| format!("{h}\n"))
            .collect();
        let args = ["-m", mode, "-w", "2", "--json", "-f", "-"];
        let out = run_command_with_input(
            net.command(&bin("ruptime"), &args),
            list.as_bytes(),
            Duration::from_secs(60),
        );
        assert_eq!(out.code(), 1, "{mode}: {}", out.stderr);
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), HUNG_NAMES + live.len());
        for row in &rows[..HUNG_NAMES] {
            assert_eq!(
                row["error"], "cannot resolve: no answer within 2 s",
                "{mode}: {row}"
            );
        }
        for row in &rows[HUNG_NAMES..] {
            assert_eq!(row["up"], true, "{mode}: {row}");
        }
        assert!(
            out.elapsed < Duration::from_secs(5),
            "{mode}: took {:?}",
            out.elapsed
        );
        eprintln!("{mode}: {} hosts in {:?}", rows.len(), out.elapsed);
    }
}
