//! The Debian package under a real systemd: built by `make deb`, installed
//! with apt in a container booted from this machine's root (in a network
//! namespace of its own), upgraded by a later revision, then purged.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ruptime_tests::container::Container;
use ruptime_tests::network::Lan;
use ruptime_tests::process::{Finished, run_command};
use ruptime_tests::skip::can_run;
use ruptime_tests::uptime;

/// `make deb DEB_REVISION=revision`; the package's path.
fn build(revision: u32) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut make = Command::new("make");
    make.args(["-s", "-C"])
        .arg(&root)
        .args(["deb", &format!("DEB_REVISION={revision}")]);
    let out = run_command(make, Duration::from_secs(900));
    assert!(out.status.success(), "make deb: {out:?}");
    let version = env!("CARGO_PKG_VERSION");
    let deb = root.join(format!(
        "target/debian/ruptime_{version}-{revision}_amd64.deb"
    ));
    assert!(deb.is_file(), "{} is missing", deb.display());
    deb
}

/// lintian finds no error in the package, and the README explains each
/// warning left.
fn lintian_passes(deb: &Path) {
    let mut lintian = Command::new("lintian");
    lintian.arg(deb);
    let out = run_command(lintian, Duration::from_secs(300));
    let text = out.stdout_text();
    assert!(
        !text.lines().any(|l| l.starts_with("E: ")),
        "lintian errors:\n{text}"
    );
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    for line in text.lines().filter(|l| l.starts_with("W: ")) {
        let tag = line.split_whitespace().nth(2).unwrap_or_default();
        assert!(
            readme.contains(&format!("`{tag}`")),
            "the README does not explain {line}"
        );
    }
}

fn ok(host: &Container, args: &[&str]) -> Finished {
    let out = host.run(args);
    assert!(out.status.success(), "{}: {out:?}", args.join(" "));
    out
}

/// What `systemctl QUERY unit` says.
fn systemctl(host: &Container, query: &str, unit: &str) -> String {
    host.run(&["systemctl", query, unit])
        .stdout_text()
        .trim()
        .to_owned()
}

/// Asks the host itself in stream and dgram mode: both answer.
fn answers(host: &Container) {
    for mode in ["stream", "dgram"] {
        let out = ok(host, &["ruptime", "-m", mode, "-w", "10", "127.0.0.1"]);
        uptime::assert_line(&out.stdout);
    }
}

/// Starts the exporter's socket, which shipped disabled as its service
/// did; the first scrape starts the exporter, which probes the host in
/// every mode from its sandbox, under a dynamic user. Its alert rules are
/// where the package says, and promtool takes them.
fn exporter_answers(host: &Container) {
    for unit in ["ruptime-exporter.socket", "ruptime-exporter.service"] {
        assert_eq!(
            systemctl(host, "is-enabled", unit),
            "disabled",
            "{unit} ships disabled"
        );
    }
    ok(host, &["systemctl", "start", "ruptime-exporter.socket"]);
    for mode in ["stream", "fork", "dgram"] {
        let url = format!("http://127.0.0.1:10090/probe?target=localhost&mode={mode}");
        let script =
            format!("for i in $(seq 100); do curl -sf '{url}' && exit 0; sleep 0.1; done; exit 1");
        let out = ok(host, &["sh", "-c", &script]).stdout_text();
        assert!(out.lines().any(|l| l == "probe_success 1"), "{mode}: {out}");
        assert!(
            out.lines().any(|l| l.starts_with("ruptime_load1 ")),
            "{mode}: {out}"
        );
    }
    let show = ["systemctl", "show", "--property=MainPID", "--value"];
    let pid = ok(host, &[&show[..], &["ruptime-exporter.service"]].concat()).stdout_text();
    let user = ok(host, &["ps", "-o", "user=", "-p", pid.trim()]).stdout_text();
    assert_ne!(user.trim(), "root", "the exporter runs as root");
    ok(
        host,
        &[
            "systemctl",
            "stop",
            "ruptime-exporter.socket",
            "ruptime-exporter.service",
        ],
    );
    let rules = "/usr/share/ruptime/prometheus/ruptime.rules.yml";
    ok(host, &["promtool", "check", "rules", rules]);
}

fn apt(host: &Container, args: &[&str]) -> Finished {
    let mut all = vec![
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "-y",
        "-q",
    ];
    all.extend_from_slice(args);
    ok(host, &all)
}

#[test]
fn the_package_installs_upgrades_and_purges_under_a_real_systemd() {
    if !can_run(
        "the Debian package test",
        &[
            "systemd-nspawn",
            "nsenter",
            "ip",
            "unshare",
            "make",
            "cargo-deb",
            "lintian",
            "curl",
            "promtool",
        ],
    ) {
        return;
    }
    let tree = tempfile::Builder::new()
        .prefix("ruptime-deb")
        .tempdir_in("/var/tmp")
        .unwrap();
    std::fs::create_dir_all(tree.path().join("root")).unwrap();
    lintian_passes(&build(1));
    // Each build replaces the last one's package: keep each as it comes.
    let [first, second] = [1, 2].map(|revision| {
        let deb = build(revision);
        let kept = tree.path().join("root").join(deb.file_name().unwrap());
        std::fs::copy(&deb, &kept).unwrap();
        kept
    });
    let lan = Lan::new(1);
    let host = Container::boot("ruptime-deb", &lan.netns(1), tree.path());
    // A build-time guard of this image that a real host has not: it would
    // make deb-systemd-invoke refuse every start.
    ok(&host, &["rm", "-f", "/usr/sbin/policy-rc.d"]);
    let in_root = |deb: &Path| format!("/root/{}", deb.file_name().unwrap().to_string_lossy());

    apt(&host, &["install", &in_root(&first)]);
    assert_eq!(systemctl(&host, "is-enabled", "ruptimed.socket"), "enabled");
    assert_eq!(systemctl(&host, "is-active", "ruptimed.socket"), "active");
    for unit in ["ruptimed.service", "ruptimed-inetd.socket"] {
        assert_eq!(
            systemctl(&host, "is-enabled", unit),
            "disabled",
            "{unit} ships disabled"
        );
    }
    answers(&host);
    assert_eq!(
        systemctl(&host, "is-active", "ruptimed.service"),
        "active",
        "started by the socket"
    );
    exporter_answers(&host);
    let journal = ok(
        &host,
        &["journalctl", "-t", "ruptimed", "-o", "cat", "--no-pager"],
    );
    assert!(
        journal
            .stdout_text()
            .contains("serving [::]:4000 (stream), [::]:4000 (dgram)"),
        "{}",
        journal.stdout_text()
    );

    apt(&host, &["install", &in_root(&second)]);
    let version = ok(&host, &["dpkg-query", "-W", "-f", "${Version}", "ruptime"]);
    assert!(
        version.stdout_text().ends_with("-2"),
        "{}",
        version.stdout_text()
    );
    assert_eq!(systemctl(&host, "is-enabled", "ruptimed.socket"), "enabled");
    assert_eq!(systemctl(&host, "is-active", "ruptimed.socket"), "active");
    answers(&host);

    let listed = ok(&host, &["dpkg-query", "-L", "ruptime"]).stdout_text();
    let files: Vec<&str> = listed.lines().filter(|l| l.starts_with('/')).collect();
    assert!(files.contains(&"/usr/sbin/ruptimed"), "{listed}");
    apt(&host, &["purge", "ruptime"]);
    let mut check = vec![
        "sh",
        "-c",
        // Files and links to files: directories (and /lib, a link to one) stay.
        "for f; do if [ -f \"$f\" ] || { [ -L \"$f\" ] && [ ! -d \"$f\" ]; }; then echo \"$f\"; fi; done",
        "sh",
    ];
    check.extend(files.iter().copied());
    let left = ok(&host, &check).stdout_text();
    assert_eq!(left, "", "files left after the purge");
    ok(&host, &["systemctl", "daemon-reload"]);
    // (both exit 1 when they list nothing)
    let units = host
        .run(&[
            "systemctl",
            "list-unit-files",
            "ruptimed*",
            "ruptime-exporter*",
            "--no-legend",
        ])
        .stdout_text();
    assert_eq!(units.trim(), "", "unit files left");
    let loaded = host
        .run(&[
            "systemctl",
            "list-units",
            "--all",
            "ruptimed*",
            "ruptime-exporter*",
            "--no-legend",
        ])
        .stdout_text();
    assert_eq!(loaded.trim(), "", "units still loaded");
    let state = ok(
        &host,
        &[
            "sh",
            "-c",
            "ls /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked 2>/dev/null | grep ruptime; true",
        ],
    );
    assert_eq!(state.stdout_text(), "", "enablement remembered");
    let listening = ok(&host, &["sh", "-c", "ss -H -ltnu 'sport = :4000'"]).stdout_text();
    assert_eq!(listening.trim(), "", "something still on port 4000");
}
