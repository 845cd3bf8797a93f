//! The adaptive pace, with every daemon on its default flags and no
//! `--pace`: 10 000 distinct hosts behind one forking daemon (whose accept
//! queue a burst overflows), behind one datagram daemon, and a slow daemon's
//! hosts beside a fast one's in one run, every host up; `--pace` as a
//! ceiling that holds; the flags' bounds. How fast is for the bench
//! (`make bench-fleet`); here only generous limits.

use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::fleetnet::FleetNet;
use ruptime_tests::process::{Finished, ruptime};
use ruptime_tests::skip;

const HOSTS: usize = 10_000;

/// Generous: the bench's goals are 1 to 3 s.
const LIMIT: Duration = Duration::from_secs(60);

/// Live hosts `range` of the namespace, on `port`.
fn live(range: std::ops::Range<usize>, port: u16) -> Vec<String> {
    range
        .map(|i| format!("{}:{port}", FleetNet::live(i)))
        .collect()
}

fn all_up(what: &str, (out, down): (Finished, Vec<String>)) {
    assert!(
        down.is_empty(),
        "{what}: {} down, such as {:?}",
        down.len(),
        &down[..down.len().min(5)]
    );
    assert_eq!(out.code(), 0, "{what}");
    eprintln!("{what}: every host up in {:?}", out.elapsed);
}

#[test]
fn every_host_behind_one_daemon_answers_at_the_adaptive_pace() {
    if !skip::can_run("the adaptive pace", &["ip"]) {
        return;
    }
    let net = FleetNet::new(HOSTS);
    let start = |mode: &str| {
        Daemon::start_command(
            net.command(&bin("ruptimed"), &[]),
            &["-m", mode, "-l", "0.0.0.0"],
        )
    };
    let (fork, stream, dgram) = (start("fork"), start("stream"), start("dgram"));

    let hosts = live(0..HOSTS, fork.port());
    all_up(
        "10 000 behind one forking daemon",
        net.ask(&[], &hosts, LIMIT),
    );
    let hosts = live(0..HOSTS, dgram.port());
    all_up(
        "10 000 behind one datagram daemon",
        net.ask(&["-m", "dgram"], &hosts, LIMIT),
    );
    // Two groups: the forking daemon's hosts and the iterative one's.
    let mut hosts = live(0..HOSTS / 2, fork.port());
    hosts.extend(live(HOSTS / 2..HOSTS, stream.port()));
    all_up(
        "a slow daemon's hosts beside a fast one's",
        net.ask(&[], &hosts, LIMIT),
    );
    for daemon in [fork, stream, dgram] {
        let (status, stderr) = daemon.terminate();
        assert!(status.success(), "{stderr}");
    }
}

#[test]
fn pace_is_a_ceiling_that_holds_and_with_min_pace_a_fixed_pace() {
    if !skip::can_run("--pace in a namespace", &["ip"]) {
        return;
    }
    let net = FleetNet::new(2_000);
    let daemon = Daemon::start_command(
        net.command(&bin("ruptimed"), &[]),
        &["-m", "stream", "-l", "0.0.0.0"],
    );
    let hosts = live(0..2_000, daemon.port());
    // 2 000 hosts at 1 000 a second (25 at once): 2 s at the least, however
    // fast the machine; a slow one only makes it longer.
    for args in [
        &["--pace", "1000"][..],
        &["--pace", "1000", "--min-pace", "1000"],
    ] {
        let (out, down) = net.ask(args, &hosts, LIMIT);
        assert!(down.is_empty(), "{args:?}: {down:?}");
        assert!(
            out.elapsed >= Duration::from_millis(1_900),
            "{args:?}: 2 000 hosts in {:?}",
            out.elapsed
        );
    }
    let (status, stderr) = daemon.terminate();
    assert!(status.success(), "{stderr}");
}

#[test]
fn pace_flags_out_of_range_are_usage_errors() {
    for args in [
        &["--pace", "1e19", "localhost"][..],
        &["--pace", "-1", "localhost"],
        &["--pace", "10000001", "localhost"],
        &["--min-pace", "0", "localhost"],
        &["--min-pace", "x", "localhost"],
    ] {
        let out = ruptime(args);
        assert_eq!(out.code(), 2, "{args:?}: {out:?}");
        assert!(
            out.stderr.starts_with("error: "),
            "{args:?}: {}",
            out.stderr
        );
    }
}
