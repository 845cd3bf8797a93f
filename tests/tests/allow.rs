//! `--allow CIDR`: a client outside every network named gets nothing, in
//! every mode (a connection closed at once; a datagram dropped and counted),
//! and a client inside gets its line.

use std::time::Duration;

use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::ruptime;
use ruptime_tests::uptime;

#[test]
fn only_the_networks_allowed_are_answered_in_every_mode() {
    for (mode, refused) in [
        ("stream", "connection closed without a reply"),
        ("fork", "connection closed without a reply"),
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
        let out = ruptime(&["-m", mode, "-w", "1", "-p", &port, "127.0.0.1"]);
        assert_eq!(out.code(), 1, "{mode}: {out:?}");
        assert_eq!(
            out.stderr,
            format!("ruptime: 127.0.0.1: {refused}\n"),
            "{mode}"
        );
        assert!(
            out.elapsed < Duration::from_secs(3),
            "{mode}: {:?}",
            out.elapsed
        );
        let out = ruptime(&["-m", mode, "-w", "5", "-p", &port, "::1"]);
        assert_eq!(out.code(), 0, "{mode}: {out:?}");
        uptime::assert_line(&out.stdout);
        let (status, stderr) = daemon.terminate();
        assert!(status.success(), "{stderr}");
        let logged = if mode == "dgram" {
            "from senders not in --allow"
        } else {
            "refused 127.0.0.1: not in --allow"
        };
        assert!(stderr.contains(logged), "{mode}: {stderr}");
        if mode == "dgram" {
            assert!(
                !stderr.contains(", 0 from senders not in --allow"),
                "{stderr}"
            );
        }
    }
}

#[test]
fn a_bad_network_is_a_usage_error() {
    let out = ruptime_tests::process::ruptimed(&["--allow", "10.0.0.0/33"]);
    assert_eq!(out.code(), 2, "{out:?}");
    assert!(
        out.stderr
            .contains("'10.0.0.0/33' is not an address or a network (ADDR/PREFIX)"),
        "{}",
        out.stderr
    );
}
