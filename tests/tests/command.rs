//! `--command`: the original servers' behaviour (run a program per request),
//! bounded in time and output, in a clean environment.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::{ruptime, ruptimed};
use ruptime_tests::procfs;
use ruptime_tests::uptime;

/// The flags of a daemon in `mode` on 127.0.0.1 that runs `command` (the
/// program, then its arguments).
fn flags<'a>(mode: &'a str, command: &[&'a str]) -> Vec<&'a str> {
    let mut flags = vec!["-m", mode, "-l", "127.0.0.1", "--command", command[0]];
    for arg in &command[1..] {
        flags.extend(["--command-arg", arg]);
    }
    flags
}

fn ask(daemon: &Daemon, mode: &str) -> ruptime_tests::process::Finished {
    ruptime(&[
        "-m",
        mode,
        "-w",
        "20",
        "-p",
        &daemon.port().to_string(),
        "127.0.0.1",
    ])
}

#[test]
fn every_mode_relays_usr_bin_uptime() {
    for mode in ["stream", "fork", "dgram"] {
        let daemon = Daemon::start(&flags(mode, &["/usr/bin/uptime"]));
        let out = ask(&daemon, mode);
        assert_eq!(out.code(), 0, "{mode}: {out:?}");
        uptime::assert_line(&out.stdout);
        let (_, stderr) = daemon.terminate();
        assert!(
            stderr.contains("with the command /usr/bin/uptime (ruptimed "),
            "{stderr}"
        );
    }
}

#[test]
fn arguments_are_passed_and_dgram_gets_the_first_line() {
    for (mode, expected) in [
        ("stream", "first -x-\nsecond\n"),
        ("fork", "first -x-\nsecond\n"),
        ("dgram", "first -x-\n"),
    ] {
        let command = ["/usr/bin/printf", "first %s\\nsecond\\n", "-x-"];
        let daemon = Daemon::start(&flags(mode, &command));
        let out = ask(&daemon, mode);
        assert_eq!(out.stdout_text(), expected, "{mode}");
    }
}

#[test]
fn datagrams_that_arrive_together_each_get_their_own_run() {
    // Each run of this command prints a fresh random UUID.
    let uuid = ["/bin/cat", "/proc/sys/kernel/random/uuid"];
    let daemon = Daemon::start(&flags("dgram", &uuid));
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let burst = 8;
    for _ in 0..burst {
        socket
            .send_to(
                &ruptime_common::protocol::request::padded_request(),
                daemon.addrs[0],
            )
            .unwrap();
    }
    let mut replies = std::collections::BTreeSet::new();
    for _ in 0..burst {
        let mut reply = [0u8; 256];
        let n = socket.recv(&mut reply).unwrap();
        replies.insert(reply[..n].to_vec());
    }
    assert_eq!(replies.len(), burst, "one run per request: {replies:?}");
}

#[test]
fn output_is_capped() {
    for (mode, expected) in [("stream", 64 * 1024), ("dgram", 2)] {
        let daemon = Daemon::start(&flags(mode, &["/usr/bin/yes"]));
        let out = ask(&daemon, mode);
        assert_eq!(
            out.code(),
            0,
            "{mode}: y is an answer, though no uptime line"
        );
        assert_eq!(out.stdout.len(), expected, "{mode}");
        assert!(out.stdout.starts_with(b"y\n"), "{mode}");
        let (_, stderr) = daemon.terminate();
        if mode == "stream" {
            assert!(
                stderr.contains("killed command /usr/bin/yes: too much output"),
                "{stderr}"
            );
        }
    }
}

#[test]
fn a_command_past_the_time_limit_is_killed_and_the_connection_closed() {
    for mode in ["stream", "fork", "dgram"] {
        let mut args = flags(mode, &["/bin/sleep", "30"]);
        args.extend(["--request-timeout", "1"]);
        let daemon = Daemon::start(&args);
        let start = Instant::now();
        let out = ask(&daemon, mode);
        let took = start.elapsed();
        assert!(took < Duration::from_secs(5), "{mode}: took {took:?}");
        if mode == "dgram" {
            assert_eq!(out.stdout_text(), "", "{mode}: an empty line is not sent");
        } else {
            assert_eq!(out.code(), 1, "{mode}: {out:?}");
            assert_eq!(
                out.stderr, "ruptime: 127.0.0.1: connection closed without a reply\n",
                "{mode}"
            );
        }
        thread::sleep(Duration::from_millis(300));
        let (status, stderr) = daemon.terminate();
        assert!(status.success(), "{mode}: {stderr}");
        let killed = match mode {
            "fork" => "was killed by SIGALRM", // the alarm armed before exec
            _ => "killed command /bin/sleep: still running after 1 s",
        };
        assert!(stderr.contains(killed), "{mode}: {stderr}");
    }
}

#[test]
fn the_command_gets_default_sigpipe_and_none_of_the_daemon_s_descriptors() {
    let script = "grep SigIgn /proc/$$/status; ls -l /proc/$$/fd";
    for mode in ["stream", "fork"] {
        // The daemon inherits fd 7 (not close-on-exec) from the shell that starts it.
        let mut wrapper = Command::new("/bin/sh");
        wrapper
            .args(["-c", "exec 7</etc/hostname; exec \"$@\"", "sh"])
            .arg(bin("ruptimed"));
        let daemon = Daemon::start_command(wrapper, &flags(mode, &["/bin/sh", "-c", script]));
        let out = ask(&daemon, mode);
        let text = out.stdout_text();
        let ignored = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("SigIgn:"))
            .unwrap()
            .trim();
        let ignored = u64::from_str_radix(ignored, 16).unwrap();
        assert_eq!(
            ignored & (1 << (libc::SIGPIPE - 1)),
            0,
            "{mode}: SIGPIPE ignored: {text}"
        );
        let fds: Vec<(u32, &str)> = text
            .lines()
            .filter_map(|l| l.split_once(" -> "))
            .map(|(left, target)| (left.rsplit(' ').next().unwrap().parse().unwrap(), target))
            .collect();
        assert_eq!(
            fds.iter().map(|(fd, _)| *fd).take(3).collect::<Vec<_>>(),
            [0, 1, 2],
            "{mode}: {text}"
        );
        for (fd, target) in fds {
            assert!(
                fd <= 2 || target == "/dev/null",
                "{mode}: inherited fd {fd} -> {target}"
            );
        }
    }
}

#[test]
fn the_command_starts_with_no_signal_blocked() {
    // The daemon blocks SIGCHLD. grep, not a shell: dash unblocks every
    // signal when it starts, which would hide an inherited mask.
    for mode in ["stream", "fork", "dgram"] {
        let grep = ["/bin/grep", "^SigBlk", "/proc/self/status"];
        let daemon = Daemon::start(&flags(mode, &grep));
        let out = ask(&daemon, mode);
        let text = out.stdout_text();
        let blocked = text
            .lines()
            .find_map(|l| l.strip_prefix("SigBlk:"))
            .unwrap_or_else(|| panic!("{mode}: no mask in {out:?}"));
        assert_eq!(
            u64::from_str_radix(blocked.trim(), 16).unwrap(),
            0,
            "{mode}: signals blocked: {text}"
        );
    }
}

#[test]
fn a_command_that_cannot_be_executed_ends_its_child_with_127() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("report");
    fs::write(&script, "#!/bin/sh\necho scripted report\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let daemon = Daemon::start(&flags("fork", &[script.to_str().unwrap()]));
    assert_eq!(ask(&daemon, "fork").stdout_text(), "scripted report\n");
    fs::remove_file(&script).unwrap();
    let out = ask(&daemon, "fork");
    assert_eq!(
        (out.code(), out.stdout_text(), out.stderr.as_str()),
        (
            1,
            String::new(),
            format!(
                "ruptime: 127.0.0.1: ruptimed: cannot execute {}\n",
                script.display()
            )
            .as_str()
        ),
        "the daemon's error line is a failure, on stderr"
    );
    thread::sleep(Duration::from_millis(300));
    let children = procfs::children(daemon.pid().as_raw() as u32);
    assert_eq!(children, [0u32; 0], "no second server process is left");
    let (status, stderr) = daemon.terminate();
    assert!(status.success());
    assert!(
        stderr.contains("exited with status 127: the command could not be executed"),
        "{stderr}"
    );
}

#[test]
fn a_command_that_is_not_executable_is_refused_at_start() {
    let out = ruptimed(&[
        "-f",
        "-l",
        "127.0.0.1",
        "-p",
        "0",
        "--command",
        "/etc/passwd",
    ]);
    assert_eq!(out.code(), 1);
    assert_eq!(
        out.stderr,
        "ruptimed: --command /etc/passwd: Permission denied\n"
    );
    let out = ruptimed(&["-f", "-p", "0", "--command-arg", "x"]);
    assert_eq!(out.code(), 2, "--command-arg needs --command: {out:?}");
}

#[test]
fn any_other_reply_is_an_answer_printed_as_received() {
    for mode in ["stream", "fork", "dgram"] {
        let daemon = Daemon::start(&flags(mode, &["/bin/echo", "hi"]));
        let out = ask(&daemon, mode);
        assert_eq!(out.code(), 0, "{mode}: {out:?}");
        assert_eq!(out.stdout_text(), "hi\n", "{mode}");
        assert_eq!(out.stderr, "", "{mode}");
    }
}
