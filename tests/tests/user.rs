//! `--user`: bind as root, then serve as the user, its group and its
//! supplementary groups; a warning when serving as root.
//!
//! The user exists only in a private mount namespace, where fake
//! `/etc/passwd` and `/etc/group` files are mounted.

use std::fs;
use std::path::Path;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::namespace::with_private_mounts;
use ruptime_tests::process::{ruptime, ruptimed};
use ruptime_tests::skip::can_run;
use tempfile::TempDir;

/// Shell commands mounting `/etc/passwd` and `/etc/group` with user `rupt`
/// (4242) in groups 4242, 4243 and 4244.
fn fake_accounts(dir: &Path) -> String {
    let passwd = fs::read_to_string("/etc/passwd").unwrap()
        + "rupt:x:4242:4242::/nonexistent:/usr/sbin/nologin\n";
    let group = fs::read_to_string("/etc/group").unwrap()
        + "rupt:x:4242:\nruptextra:x:4243:rupt\nruptmore:x:4244:nobody,rupt\n";
    fs::write(dir.join("passwd"), passwd).unwrap();
    fs::write(dir.join("group"), group).unwrap();
    let d = dir.display();
    format!("mount --bind {d}/passwd /etc/passwd; mount --bind {d}/group /etc/group")
}

fn status_line(pid: nix::unistd::Pid, field: &str) -> String {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_daemon_serves_as_the_user_after_binding() {
    if !can_run("the --user test", &["unshare"]) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let accounts = fake_accounts(dir.path());
    for mode in ["stream", "fork"] {
        let command = with_private_mounts(&accounts, &bin("ruptimed"), &[]);
        let daemon = Daemon::start_command(
            command,
            &[
                "-m",
                mode,
                "-l",
                "127.0.0.1",
                "-p",
                "0",
                "--user",
                "rupt",
                "--command",
                "/usr/bin/id",
            ],
        );
        assert_eq!(status_line(daemon.pid(), "Uid:"), "4242 4242 4242 4242");
        assert_eq!(status_line(daemon.pid(), "Gid:"), "4242 4242 4242 4242");
        assert_eq!(status_line(daemon.pid(), "Groups:"), "4242 4243 4244");
        let out = ruptime(&["-m", mode, "-p", &daemon.port().to_string(), "127.0.0.1"]);
        assert_eq!(
            out.stdout_text(),
            "uid=4242(rupt) gid=4242(rupt) groups=4242(rupt),4243(ruptextra),4244(ruptmore)\n",
            "{mode}: the command runs as the user"
        );
        let (status, stderr) = daemon.terminate();
        assert!(status.success(), "{stderr}");
        assert!(
            stderr.contains("ruptimed: running as rupt (uid 4242, gid 4242)\n"),
            "{stderr}"
        );
        assert!(!stderr.contains("running as root"), "{stderr}");
    }
}

#[test]
fn root_without_user_is_warned_once() {
    if !can_run("the root warning test", &[]) {
        return;
    }
    let daemon = Daemon::start(&["-l", "127.0.0.1"]);
    let (_, stderr) = daemon.terminate();
    let warning = "ruptimed: warning: running as root: --user NAME drops privileges once the sockets are bound\n";
    assert_eq!(stderr.matches(warning).count(), 1, "{stderr}");
}

#[test]
fn a_missing_user_or_a_non_root_start_is_refused() {
    if !can_run("the --user refusal test", &["setpriv"]) {
        return;
    }
    let out = ruptimed(&[
        "-f",
        "-l",
        "127.0.0.1",
        "-p",
        "0",
        "--user",
        "no-such-user-here",
    ]);
    assert_eq!(out.code(), 1);
    assert_eq!(
        out.stderr,
        "ruptimed: --user no-such-user-here: no such user\n"
    );
    let daemon = bin("ruptimed");
    let args = [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        daemon.to_str().unwrap(),
        "-f",
        "-p",
        "0",
        "--user",
        "root",
    ];
    let out = ruptime_tests::process::run(
        Path::new("setpriv"),
        &args,
        std::time::Duration::from_secs(30),
    );
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stderr,
        "ruptimed: --user root: only root can switch users (running as uid 65534)\n"
    );
}
