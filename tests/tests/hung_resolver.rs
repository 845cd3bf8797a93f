//! A resolver that hangs costs its hosts, not the run: 100 names whose DNS
//! server never answers (it is in a silent subnet), listed before 50 names
//! from the hosts file and 200 live addresses. The hung names are down with
//! `cannot resolve: no answer within 2 s`, every other host is up, and the
//! run takes about one timeout, though the pool starts with 16 threads.
//! And names of several addresses, 600 of them under a limit of 256
//! descriptors: every host answered, no socket opened past the limit.

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

#[test]
fn hosts_of_several_addresses_fit_a_small_descriptor_limit() {
    use std::process::Command;

    if !skip::can_run("the descriptor limit test", &["ip", "prlimit"]) {
        return;
    }
    // A name with two addresses: a socket each over UDP, within 256 descriptors.
    let net = FleetNet::new(2);
    net.hosts_file(&format!(
        "{} dual.fleet.test\n{} dual.fleet.test\n",
        FleetNet::live(0),
        FleetNet::live(1)
    ));
    let daemon = Daemon::start_command(
        net.command(&bin("ruptimed"), &[]),
        &["-m", "dgram", "-l", "0.0.0.0"],
    );
    let list = format!("dual.fleet.test:{}\n", daemon.port()).repeat(600);
    let mut command = Command::new("prlimit");
    command.args(["--nofile=256:256", "--", "ip", "netns", "exec"]);
    let netns_command = net.command(
        &bin("ruptime"),
        &["-m", "dgram", "-w", "10", "--json", "-f", "-"],
    );
    command.args(netns_command.get_args().skip(2));
    let out = run_command_with_input(command, list.as_bytes(), Duration::from_secs(60));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let down: Vec<_> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["up"] != true)
        .collect();
    assert!(
        down.is_empty(),
        "{} down, such as {:?}",
        down.len(),
        down.first()
    );
    assert_eq!(out.code(), 0, "{}", out.stderr);
}
