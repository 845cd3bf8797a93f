//! A lossy link: 2 000 distinct hosts behind one daemon, with 10% then 30%
//! of the packets dropped at random each way (nftables in the fleet's
//! namespace). A host that answers is up: at 10% all but at most 2 of the
//! 2 000, at 30% at least 97%, in stream and in dgram, with `-w 5`.

use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::fleetnet::FleetNet;
use ruptime_tests::skip;

const HOSTS: usize = 2_000;

/// Generous: a run takes one timeout, or a few more seconds at 30%.
const LIMIT: Duration = Duration::from_secs(60);

/// The loss each way, in percent, and the fewest hosts that must be up.
const LOSSES: [(u32, usize); 2] = [(10, HOSTS - 2), (30, HOSTS * 97 / 100)];

#[test]
fn hosts_that_answer_through_a_lossy_link_are_up() {
    if !skip::can_run("the lossy link", &["ip", "nft"]) {
        return;
    }
    let net = FleetNet::new(HOSTS);
    let hosts: Vec<String> = (0..HOSTS).map(|i| FleetNet::live(i).to_string()).collect();
    for mode in ["stream", "dgram"] {
        let daemon = Daemon::start_command(
            net.command(&bin("ruptimed"), &[]),
            &["-m", mode, "-l", "0.0.0.0"],
        );
        let port = daemon.port().to_string();
        for (percent, least) in LOSSES {
            net.lose(percent);
            let (out, down) = net.ask(&["-m", mode, "-p", &port], &hosts, LIMIT);
            net.lose(0);
            let up = HOSTS - down.len();
            eprintln!(
                "{mode} at {percent}% loss each way: {up} of {HOSTS} up in {:.1?}",
                out.elapsed
            );
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
