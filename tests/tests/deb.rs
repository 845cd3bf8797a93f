//! The Debian package under a real systemd: built by `make deb`, installed
//! with apt in a container booted from this machine's root (in a network
//! namespace of its own) where Debian's rwho was, then over the package as
//! first published (named ruptime), beside a repository offering other
//! packages named ruptime and ruptimed, upgraded by a later revision, and
//! purged.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ruptime_tests::container::Container;
use ruptime_tests::network::Lan;
use ruptime_tests::process::{Finished, run_command};
use ruptime_tests::skip::can_run;
use ruptime_tests::uptime;

/// The package's name: not `ruptime`, Debian's for another program.
const PACKAGE: &str = "ruptime-suite";

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
        "target/debian/{PACKAGE}_{version}-{revision}_amd64.deb"
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

/// Runs `program ARGS` in `dir` on this machine; it must succeed.
fn here(dir: &Path, program: &str, args: &[&str]) -> Finished {
    let mut command = Command::new(program);
    command.args(args).current_dir(dir);
    let out = run_command(command, Duration::from_secs(300));
    assert!(
        out.status.success(),
        "{program} {}: {out:?}",
        args.join(" ")
    );
    out
}

/// The package as first published, remade from `deb` in `dir`: named
/// ruptime, version 0.1.0-1, without today's relations, with its
/// maintainer scripts of then (`tests/fixtures/ruptime-0.1.0-1`).
fn first_published(deb: &Path, dir: &Path) -> PathBuf {
    let unpacked = dir.join("first");
    here(dir, "dpkg-deb", &["-R", deb.to_str().unwrap(), "first"]);
    let control = unpacked.join("DEBIAN/control");
    let fields: Vec<String> = fs::read_to_string(&control)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("Conflicts:") && !l.starts_with("Replaces:"))
        .map(|l| match l.split_once(": ") {
            Some(("Package", _)) => "Package: ruptime".to_owned(),
            Some(("Version", _)) => "Version: 0.1.0-1".to_owned(),
            _ => l.to_owned(),
        })
        .collect();
    fs::write(&control, fields.join("\n") + "\n").unwrap();
    // Its documentation was under its own name.
    let docs = unpacked.join("usr/share/doc");
    fs::remove_dir_all(docs.join("ruptime")).unwrap();
    fs::rename(docs.join(PACKAGE), docs.join("ruptime")).unwrap();
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ruptime-0.1.0-1");
    for script in ["postinst", "prerm", "postrm"] {
        fs::copy(scripts.join(script), unpacked.join("DEBIAN").join(script)).unwrap();
    }
    here(
        dir,
        "dpkg-deb",
        &[
            "--root-owner-group",
            "-b",
            "first",
            "ruptime_0.1.0-1_amd64.deb",
        ],
    );
    dir.join("ruptime_0.1.0-1_amd64.deb")
}

/// Debian's rwho, rwhod and what rwhod needs that this machine lacks,
/// downloaded by apt into `dir`; their file names.
fn debians_rwho(dir: &Path) -> Vec<String> {
    here(
        dir,
        "apt-get",
        &["download", "-q", "rwho", "rwhod", "lsb-base"],
    );
    let mut debs: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".deb") && !name.starts_with("ruptime"))
        .collect();
    debs.sort();
    assert_eq!(debs.len(), 3, "{debs:?}");
    debs
}

/// A repository in `dir/repo` offering packages named ruptime and ruptimed
/// at 1.8-9, as Debian's and Ubuntu's are another program of those names.
fn other_repository(dir: &Path) {
    let repo = dir.join("repo");
    for name in ["ruptime", "ruptimed"] {
        let package = repo.join(name);
        fs::create_dir_all(package.join("DEBIAN")).unwrap();
        fs::create_dir_all(package.join("usr/share/doc").join(name)).unwrap();
        fs::write(
            package.join("DEBIAN/control"),
            format!(
                "Package: {name}\nVersion: 1.8-9\nArchitecture: all\n\
                 Maintainer: Someone Else <else@example.org>\n\
                 Description: another program named {name}\n"
            ),
        )
        .unwrap();
        here(
            &repo,
            "dpkg-deb",
            &[
                "--root-owner-group",
                "-b",
                name,
                &format!("{name}_1.8-9_all.deb"),
            ],
        );
        fs::remove_dir_all(&package).unwrap();
    }
    let index = here(&repo, "dpkg-scanpackages", &[".", "/dev/null"]);
    fs::write(repo.join("Packages"), &index.stdout).unwrap();
    fs::write(
        dir.join("other.list"),
        "deb [trusted=yes] file:/root/repo ./\n",
    )
    .unwrap();
}

/// The version of `package` installed, if it is (unpacked and configured).
fn installed(host: &Container, package: &str) -> Option<String> {
    let out = host.run(&[
        "dpkg-query",
        "-W",
        "-f",
        "${db:Status-Abbrev}${Version}",
        package,
    ]);
    let text = out.stdout_text();
    text.strip_prefix("ii ")
        .map(|version| version.trim().to_owned())
}

/// What dpkg knows of `package`: its status in short (`ii `, `rc `), or
/// nothing.
fn status(host: &Container, package: &str) -> String {
    let out = host.run(&["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", package]);
    out.stdout_text()
}

/// Asserts that the socket is enabled and active, and both modes answer.
fn serving(host: &Container, when: &str) {
    assert_eq!(
        systemctl(host, "is-enabled", "ruptimed.socket"),
        "enabled",
        "{when}"
    );
    assert_eq!(
        systemctl(host, "is-active", "ruptimed.socket"),
        "active",
        "{when}"
    );
    answers(host);
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
fn the_package_lives_beside_debian_s_and_installs_upgrades_and_purges() {
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
            "dpkg-deb",
            "dpkg-scanpackages",
            "apt-get",
        ],
    ) {
        return;
    }
    let tree = tempfile::Builder::new()
        .prefix("ruptime-deb")
        .tempdir_in("/var/tmp")
        .unwrap();
    let root = tree.path().join("root");
    fs::create_dir_all(&root).unwrap();
    lintian_passes(&build(1));
    // Each build replaces the last one's package: keep each as it comes.
    let [first, second] = [1, 2].map(|revision| {
        let deb = build(revision);
        let kept = root.join(deb.file_name().unwrap());
        fs::copy(&deb, &kept).unwrap();
        kept
    });
    let published = first_published(&first, &root);
    let rwho = debians_rwho(&root);
    other_repository(&root);
    let lan = Lan::new(1);
    let host = Container::boot("ruptime-deb", &lan.netns(1), tree.path());
    let in_root = |deb: &Path| format!("/root/{}", deb.file_name().unwrap().to_string_lossy());

    // Debian's rwho first: its /usr/bin/ruptime is another program's. Its
    // daemon is not started (the image's policy-rc.d forbids it). By dpkg:
    // apt would fetch them again from the archive, which the container
    // cannot reach.
    let mut install = vec!["dpkg".to_owned(), "-i".to_owned()];
    install.extend(rwho.iter().map(|deb| format!("/root/{deb}")));
    let install: Vec<&str> = install.iter().map(String::as_str).collect();
    ok(&host, &install);
    assert!(installed(&host, "rwho").is_some());
    // A build-time guard of this image that a real host has not: it would
    // make deb-systemd-invoke refuse every start.
    ok(&host, &["rm", "-f", "/usr/sbin/policy-rc.d"]);
    let out = apt(&host, &["install", &in_root(&first)]);
    let said = format!("{}{}", out.stdout_text(), out.stderr);
    assert!(!said.contains("trying to overwrite"), "{said}");
    assert!(
        said.contains("rwho"),
        "apt does not say it removes rwho: {said}"
    );
    assert_eq!(installed(&host, "rwho"), None, "rwho left behind");
    let owner = ok(&host, &["dpkg", "-S", "/usr/bin/ruptime"]).stdout_text();
    assert!(owner.starts_with(&format!("{PACKAGE}:")), "{owner}");
    serving(&host, "installed where rwho was");
    for unit in ["ruptimed.service", "ruptimed-inetd.socket"] {
        assert_eq!(
            systemctl(&host, "is-enabled", unit),
            "disabled",
            "{unit} ships disabled"
        );
    }
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
    purged(&host);

    // Over the package as first published: the socket stays enabled and
    // answering.
    apt(&host, &["install", &in_root(&published)]);
    serving(&host, "the package as first published");
    let out = apt(&host, &["install", &in_root(&first)]);
    let said = format!("{}{}", out.stdout_text(), out.stderr);
    assert!(!said.contains("trying to overwrite"), "{said}");
    assert_eq!(installed(&host, "ruptime"), None, "the old package is left");
    assert!(installed(&host, PACKAGE).is_some());
    serving(&host, "installed over the package as first published");
    // Every file of it replaced, the old package disappears: no remove
    // script of it is left (state rc) whose purge would disable the socket.
    assert!(said.contains("disappearance of ruptime"), "{said}");
    let left = status(&host, "ruptime");
    assert!(
        matches!(&*left, "" | "un " | "pn "),
        "the old package is left: {left}"
    );

    // Other packages named ruptime and ruptimed, of a higher version: an
    // upgrade, even a dist-upgrade, leaves ours in place.
    let other = [
        "-o",
        "Dir::Etc::sourcelist=/root/other.list",
        "-o",
        "Dir::Etc::sourceparts=-",
    ];
    apt(&host, &[&other[..], &["update"]].concat());
    let policy = ok(
        &host,
        &[&["apt-cache"][..], &other, &["policy", "ruptime"]].concat(),
    )
    .stdout_text();
    assert!(
        policy.contains("1.8-9"),
        "the repository is not seen: {policy}"
    );
    for upgrade in ["upgrade", "dist-upgrade"] {
        apt(&host, &[&other[..], &[upgrade]].concat());
        assert_eq!(installed(&host, "ruptime"), None, "{upgrade}");
        assert_eq!(installed(&host, "ruptimed"), None, "{upgrade}");
        let ours = installed(&host, PACKAGE);
        assert_eq!(ours.as_deref(), Some("0.1.0-1"), "{upgrade}");
    }
    serving(&host, "after the upgrades");

    // A later revision of ours.
    apt(&host, &["install", &in_root(&second)]);
    assert_eq!(installed(&host, PACKAGE).as_deref(), Some("0.1.0-2"));
    serving(&host, "upgraded");
    purged(&host);
}

/// Purges the package: every file it listed gone, no unit loaded or
/// enabled, nothing on port 4000.
fn purged(host: &Container) {
    let listed = ok(host, &["dpkg-query", "-L", PACKAGE]).stdout_text();
    let files: Vec<&str> = listed.lines().filter(|l| l.starts_with('/')).collect();
    assert!(files.contains(&"/usr/sbin/ruptimed"), "{listed}");
    apt(host, &["purge", PACKAGE]);
    let mut check = vec![
        "sh",
        "-c",
        // Files and links to files: directories (and /lib, a link to one) stay.
        "for f; do if [ -f \"$f\" ] || { [ -L \"$f\" ] && [ ! -d \"$f\" ]; }; then echo \"$f\"; fi; done",
        "sh",
    ];
    check.extend(files.iter().copied());
    let left = ok(host, &check).stdout_text();
    assert_eq!(left, "", "files left after the purge");
    ok(host, &["systemctl", "daemon-reload"]);
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
        host,
        &[
            "sh",
            "-c",
            "ls /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked 2>/dev/null | grep ruptime; true",
        ],
    );
    assert_eq!(state.stdout_text(), "", "enablement remembered");
    let listening = ok(host, &["sh", "-c", "ss -H -ltnu 'sport = :4000'"]).stdout_text();
    assert_eq!(listening.trim(), "", "something still on port 4000");
}
