//! The daemon's queues, where a fleet's burst waits: the stream daemons
//! listen with the largest backlog the system allows (`net.core.somaxconn`,
//! set per namespace), and the datagram daemon asks for a larger receive
//! buffer, bounded, and logs what it was granted.

use std::fs;
use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::fleetnet::FleetNet;
use ruptime_tests::process::run_command;
use ruptime_tests::skip::can_run;

/// `ss ARGS` in `net`, its lines.
fn ss(net: &FleetNet, args: &[&str]) -> Vec<String> {
    let out = run_command(
        net.command(std::path::Path::new("ss"), args),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "ss {args:?}: {out:?}");
    out.stdout_text().lines().map(str::to_owned).collect()
}

#[test]
fn stream_daemons_listen_with_the_largest_backlog_the_system_allows() {
    if !can_run("the listen backlog", &["ip", "ss"]) {
        return;
    }
    let net = FleetNet::new(1);
    net.sysctl("net.core.somaxconn=8192");
    for mode in ["stream", "fork"] {
        let daemon = Daemon::start_command(
            net.command(&bin("ruptimed"), &[]),
            &["-m", mode, "-l", "0.0.0.0"],
        );
        let port = format!(":{}", daemon.port());
        let lines = ss(&net, &["-ltnH"]);
        let line = lines
            .iter()
            .find(|l| {
                l.split_whitespace()
                    .nth(3)
                    .is_some_and(|a| a.ends_with(&port))
            })
            .unwrap_or_else(|| panic!("{mode}: not listening: {lines:?}"));
        // LISTEN, Recv-Q (waiting), Send-Q (the backlog).
        assert_eq!(
            line.split_whitespace().nth(2),
            Some("8192"),
            "{mode}: {line}"
        );
        let (status, stderr) = daemon.terminate();
        assert!(status.success(), "{stderr}");
    }
}

/// The size `ss -ulmn` shows for the receive buffer of the socket on `port`.
fn receive_buffer(net: &FleetNet, port: u16) -> u64 {
    let lines = ss(net, &["-ulmnH"]);
    let at = lines
        .iter()
        .position(|l| l.contains(&format!(":{port} ")))
        .unwrap_or_else(|| panic!("no socket on {port}: {lines:?}"));
    // The next line: skmem:(r0,rb8388608,...).
    let skmem = lines[at..]
        .iter()
        .find(|l| l.contains("skmem:"))
        .expect("skmem");
    let rb = skmem.split("rb").nth(1).expect("rb");
    rb.split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

const RMEM_MAX: &str = "/proc/sys/net/core/rmem_max";

/// A kernel setting changed for a while: the old value is written back when
/// dropped, however the test ends.
struct Setting {
    path: &'static str,
    old: String,
}

impl Setting {
    fn set(path: &'static str, value: &str) -> Setting {
        let old = fs::read_to_string(path).expect("the setting");
        fs::write(path, value).expect("the setting is written");
        Setting { path, old }
    }
}

impl Drop for Setting {
    fn drop(&mut self) {
        let _ = fs::write(self.path, self.old.trim());
    }
}

#[test]
fn the_datagram_daemon_asks_for_a_larger_receive_buffer_and_logs_the_grant() {
    if !can_run("the receive buffer", &["ip", "ss", "setpriv"]) {
        return;
    }
    let net = FleetNet::new(1);
    // Debian's default, below the 4 MiB asked (the machine's own setting,
    // which no namespace has of its own, comes back at the end).
    let capped = 212_992;
    let _rmem_max = Setting::set(RMEM_MAX, &capped.to_string());
    // As root: past net.core.rmem_max. Without CAP_NET_ADMIN (as under the
    // shipped units): up to it.
    let asked: u64 = 4 << 20;
    let without_admin = {
        let mut command = net.command(std::path::Path::new("setpriv"), &[]);
        command
            .args(["--bounding-set", "-net_admin", "--"])
            .arg(bin("ruptimed"));
        command
    };
    for (command, granted) in [
        (net.command(&bin("ruptimed"), &[]), asked),
        (without_admin, capped),
    ] {
        let daemon = Daemon::start_command(command, &["-m", "dgram", "-l", "127.0.0.1"]);
        let port = daemon.port();
        assert_eq!(
            receive_buffer(&net, port),
            granted * 2,
            "the kernel doubles it"
        );
        let (status, stderr) = daemon.terminate();
        assert!(status.success(), "{stderr}");
        let told = if granted == asked {
            format!("127.0.0.1:{port} (dgram): a receive buffer of 4096 KiB\n")
        } else {
            format!(
                "127.0.0.1:{port} (dgram): a receive buffer of {} KiB (4096 KiB asked; \
                 net.core.rmem_max allows no more)\n",
                granted / 1024
            )
        };
        assert!(stderr.contains(&told), "{told:?} not in {stderr}");
    }
}
