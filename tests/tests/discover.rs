//! `ruptime --discover` on a LAN of test hosts: network namespaces on one
//! bridge, three running ruptimed, a fourth asking. Nothing leaves the
//! test's subnet.

use std::fs;
use std::path::Path;
use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::namespace::with_private_mounts;
use ruptime_tests::network::Lan;
use ruptime_tests::process::{Finished, run_command};
use ruptime_tests::skip::can_run;

const DAEMONS: usize = 3;
const CLIENT: usize = 4;

/// `ruptime --discover ARGS` on the client host, with `hosts` as its /etc/hosts.
fn discover(lan: &Lan, hosts: &str, args: &[&str]) -> Finished {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hosts");
    fs::write(&file, hosts).unwrap();
    let setup = format!("mount --bind {} /etc/hosts", file.display());
    let ruptime = bin("ruptime");
    let netns = lan.netns(CLIENT);
    let mut all = vec!["netns", "exec", &netns, ruptime.to_str().unwrap()];
    all.extend_from_slice(&["--discover", "-p", "4000", "-w", "1"]);
    all.extend_from_slice(args);
    let command = with_private_mounts(&setup, Path::new("ip"), &all);
    run_command(command, Duration::from_secs(60))
}

#[test]
fn discovery_finds_every_daemon_on_the_lan() {
    if !can_run("the discovery test", &["ip", "unshare", "sysctl"]) {
        return;
    }
    let lan = Lan::new(CLIENT);
    let ruptimed = bin("ruptimed");
    let _daemons: Vec<Daemon> = (1..=DAEMONS)
        .map(|i| {
            let command = lan.command_in(i, ruptimed.to_str().unwrap(), &[]);
            Daemon::start_command(command, &["-m", "dgram", "-p", "4000"])
        })
        .collect();
    let names = ["alpha", "bravo", "charlie"];
    let hosts: String = (1..=DAEMONS)
        .map(|i| format!("{} {}\n", lan.host(i), names[i - 1]))
        .collect();

    let out = discover(&lan, &hosts, &[]);
    assert_eq!(out.code(), 0, "{out:?}");
    let found: Vec<&str> = out
        .stdout_text()
        .leak()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        found,
        names,
        "named by reverse lookup: {}",
        out.stdout_text()
    );
    assert!(
        out.stdout_text()
            .lines()
            .all(|l| l.contains(" up ") && l.contains("load")),
        "{}",
        out.stdout_text()
    );

    let out = discover(&lan, &hosts, &["-n", "--json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let addresses: Vec<String> = parsed
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["address"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        addresses,
        (1..=DAEMONS)
            .map(|i| format!("{}:4000", lan.host(i)))
            .collect::<Vec<_>>()
    );
    assert!(
        parsed
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["up"] == true && h["mode"] == "dgram")
    );

    let out = discover(&lan, &hosts, &["-6", "-n"]);
    assert_eq!(out.code(), 0, "{out:?}");
    let rows: Vec<String> = out.stdout_text().lines().map(str::to_owned).collect();
    assert_eq!(rows.len(), DAEMONS, "one link-local address each: {rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.starts_with("fe80::") && r.contains("%eth0 ") && r.contains(" up ")),
        "{rows:?}"
    );

    let out = discover(&lan, &hosts, &["-I", "eth0", "-n"]);
    assert_eq!(out.stdout_text().lines().count(), DAEMONS);
    let out = discover(&lan, &hosts, &["-I", "nosuch0"]);
    assert_eq!(out.code(), 1);
    assert_eq!(
        out.stderr,
        "ruptime: --discover: no interface to send the request on\n"
    );
}

#[test]
fn discovery_with_nobody_answering_says_so() {
    if !can_run("the discovery test", &["ip", "unshare", "sysctl"]) {
        return;
    }
    let lan = Lan::new(1);
    let ruptime = bin("ruptime");
    let command = lan.command_in(
        1,
        ruptime.to_str().unwrap(),
        &["--discover", "-p", "4000", "-w", "1", "-n"],
    );
    let out = run_command(command, Duration::from_secs(60));
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stderr,
        "ruptime: --discover: no host answered within 1 s\n"
    );
    assert_eq!(out.stdout_text(), "");
}

#[test]
fn a_flood_of_fake_answers_cannot_hold_discovery_past_its_timeout() {
    use std::net::UdpSocket;
    use std::time::Instant;

    if !can_run("the discovery flood test", &["ip", "unshare", "sysctl"]) {
        return;
    }
    let lan = Lan::new(2);
    let path = format!("/run/netns/{}", lan.netns(1));
    let flooder = std::thread::spawn(move || {
        let ns = std::fs::File::open(path).unwrap();
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let socket = UdpSocket::bind("0.0.0.0:4000").unwrap();
        let other = UdpSocket::bind("0.0.0.0:4001").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut request = [0u8; 2048];
        let (_, client) = socket.recv_from(&mut request).unwrap();
        // Its first answer is over 4 KiB, then empties, junk from another
        // port and lines, for 4 s.
        socket.send_to(&[b'x'; 5000], client).unwrap();
        socket.set_nonblocking(true).unwrap();
        let start = Instant::now();
        let mut sent = 0u64;
        while start.elapsed() < Duration::from_secs(4) && sent < 2_000_000 {
            let _ = socket.send_to(&[], client);
            let _ = other.send_to(b"fake\n", client);
            let _ = socket.send_to(
                b" 00:00:00 up 1 min,  0 user,  load average: 0.00, 0.00, 0.00\n",
                client,
            );
            sent += 3;
        }
        sent
    });
    let ruptime = bin("ruptime");
    let command = lan.command_in(
        2,
        ruptime.to_str().unwrap(),
        &["--discover", "-p", "4000", "-w", "1", "-n"],
    );
    let out = run_command(command, Duration::from_secs(60));
    let sent = flooder.join().unwrap();
    assert!(
        out.elapsed < Duration::from_secs(3),
        "{sent} datagrams held discovery for {:?}",
        out.elapsed
    );
    assert_eq!(
        out.stdout_text(),
        format!(
            "{:<12} down         (reply longer than 4 KiB)\n",
            lan.host(1)
        ),
        "one host, once, its long reply not cut: {out:?}"
    );
    eprintln!("{sent} fake datagrams; discovery took {:?}", out.elapsed);
}
