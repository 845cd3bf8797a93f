//! The shipped units under a real systemd: two "hosts", each a container
//! booted from this machine's root in a network namespace of its own on one
//! bridge, with the binaries and units installed by `make install`; asked
//! from the root namespace in every way the units offer.

use ruptime_tests::container::Container;
use ruptime_tests::install::make;
use ruptime_tests::network::Lan;
use ruptime_tests::process::{Finished, ruptime};
use ruptime_tests::skip::can_run;
use ruptime_tests::uptime;
use ruptime_tests::utmp::users;

const HOSTS: usize = 2;
const PORT: &str = "4000";

/// `make install DESTDIR=...` of the binaries under test; the tree.
fn installed_tree() -> tempfile::TempDir {
    let tree = tempfile::Builder::new()
        .prefix("ruptime-install")
        .tempdir_in("/var/tmp")
        .unwrap();
    make("install", tree.path(), &[]);
    tree
}

fn ok(host: &Container, args: &[&str]) -> Finished {
    let out = host.run(args);
    assert!(out.status.success(), "{}: {out:?}", args.join(" "));
    out
}

/// Starts `unit`, asks the host in each client mode, stops what ran.
fn exercise(host: &Container, addr: &str, users: usize, unit: &str, modes: &[&str], stop: &[&str]) {
    ok(host, &["systemctl", "start", unit]);
    let field = format!("{users:2} {},", if users > 1 { "users" } else { "user" });
    for mode in modes {
        let out = ruptime(&["-m", mode, "-w", "10", "-p", PORT, addr]);
        assert_eq!(out.code(), 0, "{unit}, {mode} client: {out:?}");
        uptime::assert_line(&out.stdout);
        assert!(
            out.stdout_text().contains(&field),
            "{unit}, {mode}: not this host's line: {}",
            out.stdout_text()
        );
    }
    let mut stop_args = vec!["systemctl", "stop"];
    stop_args.extend_from_slice(stop);
    ok(host, &stop_args);
    for unit in stop {
        let state = host.run(&["systemctl", "is-active", unit]).stdout_text();
        assert_eq!(state.trim(), "inactive", "{unit}");
    }
}

#[test]
fn the_shipped_units_serve_under_a_real_systemd() {
    if !can_run(
        "the systemd end-to-end test",
        &["systemd-nspawn", "nsenter", "ip", "unshare", "make"],
    ) {
        return;
    }
    let tree = installed_tree();
    let lan = Lan::new(HOSTS);
    let hosts: Vec<Container> = (1..=HOSTS)
        .map(|i| Container::boot(&format!("ruptime-host{i}"), &lan.netns(i), tree.path()))
        .collect();
    for (i, host) in hosts.iter().enumerate() {
        let n = i + 1;
        let addr = lan.host(n).to_string();
        let utmp = tree.path().join(format!("utmp{n}"));
        std::fs::write(&utmp, users(n)).unwrap();
        ok(
            host,
            &["sh", "-c", &format!("cat {} >> /run/utmp", utmp.display())],
        );

        exercise(
            host,
            &addr,
            n,
            "ruptimed.service",
            &["stream", "fork"],
            &["ruptimed.service"],
        );
        exercise(
            host,
            &addr,
            n,
            "ruptimed.socket",
            &["stream", "fork", "dgram"],
            &["ruptimed.socket", "ruptimed.service"],
        );
        exercise(
            host,
            &addr,
            n,
            "ruptimed-inetd.socket",
            &["stream", "fork"],
            &["ruptimed-inetd.socket"],
        );

        let journal = ok(
            host,
            &[
                "journalctl",
                "-t",
                "ruptimed",
                "_TRANSPORT=syslog",
                "-o",
                "cat",
                "--no-pager",
            ],
        );
        let journal = journal.stdout_text();
        for line in [
            format!("serving 0.0.0.0:{PORT} (stream), [::]:{PORT} (stream) with the native report"),
            format!("serving [::]:{PORT} (stream), [::]:{PORT} (dgram) with the native report"),
        ] {
            assert!(
                journal.contains(&line),
                "host {n}: no {line:?} in the journal:\n{journal}"
            );
        }
        assert!(
            journal.contains(&format!("answered [::ffff:{}]:", lan.gateway()))
                && journal.contains(" (inetd)"),
            "host {n}:\n{journal}"
        );
        let failed = ok(host, &["systemctl", "--failed", "--plain", "--no-legend"]).stdout_text();
        assert_eq!(failed.trim(), "", "host {n}: failed units");
    }
}
