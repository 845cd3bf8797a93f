//! The daemon's signals: SIGTERM and SIGINT stop it cleanly, SIGHUP reopens its log.

use std::time::Duration;

use nix::sys::signal::Signal;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::ruptime;
use ruptime_tests::procfs;
use ruptime_tests::syslog::SyslogReceiver;
use ruptime_tests::uptime;

#[test]
fn sigterm_and_sigint_stop_the_daemon_with_status_0() {
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        for mode in ["stream", "fork", "dgram"] {
            let daemon = Daemon::start(&["-m", mode, "-l", "127.0.0.1"]);
            let out = ruptime(&["-m", mode, "-p", &daemon.port().to_string(), "127.0.0.1"]);
            uptime::assert_line(&out.stdout);
            let (status, stderr) = daemon.stop(signal);
            assert!(
                status.success(),
                "{mode} after {signal}: {status:?} {stderr}"
            );
            assert!(stderr.ends_with("ruptimed: exiting\n"), "{stderr}");
        }
    }
}

#[test]
fn sighup_reopens_the_syslog_connection() {
    let syslog = SyslogReceiver::new();
    let daemon = Daemon::start(&[
        "-l",
        "127.0.0.1",
        "--syslog-socket",
        syslog.path().to_str().unwrap(),
    ]);
    let started = syslog.line_with("serving 127.0.0.1:", Duration::from_secs(10));
    assert!(
        started.contains(" (stream) with the native report"),
        "{started}"
    );
    daemon.signal(Signal::SIGHUP);
    syslog.line_with("log reopened on SIGHUP", Duration::from_secs(10));
    let out = ruptime(&["-p", &daemon.port().to_string(), "127.0.0.1"]);
    uptime::assert_line(&out.stdout);
}

#[test]
fn sigpipe_never_kills_the_daemon() {
    let daemon = Daemon::start(&["-l", "127.0.0.1"]);
    for _ in 0..10 {
        daemon.signal(Signal::SIGPIPE);
    }
    let out = ruptime(&["-p", &daemon.port().to_string(), "127.0.0.1"]);
    uptime::assert_line(&out.stdout);
    let (status, _) = daemon.terminate();
    assert!(status.success(), "it was alive until SIGTERM");
}

#[test]
fn a_storm_of_signals_loses_no_request() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread;

    for mode in ["stream", "fork", "dgram"] {
        let daemon = Daemon::start(&["-m", mode, "-l", "127.0.0.1"]);
        let (pid, port) = (daemon.pid(), daemon.port().to_string());
        let done = Arc::new(AtomicBool::new(false));
        let storm = {
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mut sent = 0;
                let signals = [
                    Signal::SIGHUP,
                    Signal::SIGCHLD,
                    Signal::SIGPIPE,
                    Signal::SIGWINCH,
                ];
                while !done.load(Ordering::SeqCst) && sent < 200_000 {
                    let _ = nix::sys::signal::kill(pid, signals[sent % signals.len()]);
                    sent += 1;
                }
                sent
            })
        };
        let clients: Vec<_> = (0..50)
            .map(|_| {
                let port = port.clone();
                let mode = mode.to_owned();
                thread::spawn(move || ruptime(&["-m", &mode, "-w", "20", "-p", &port, "127.0.0.1"]))
            })
            .collect();
        for client in clients {
            let out = client.join().unwrap();
            assert_eq!(out.code(), 0, "{mode}: {out:?}");
            uptime::assert_line(&out.stdout);
        }
        done.store(true, Ordering::SeqCst);
        let sent = storm.join().unwrap();
        let (status, stderr) = daemon.terminate();
        assert!(status.success(), "{mode}: {stderr}");
        eprintln!("{mode}: 50 clients answered through {sent} signals");
    }
}

#[test]
fn an_idle_daemon_never_wakes() {
    for mode in ["stream", "fork", "dgram"] {
        let daemon = Daemon::start(&["-m", mode, "-l", "127.0.0.1"]);
        let out = ruptime(&["-m", mode, "-p", &daemon.port().to_string(), "127.0.0.1"]);
        uptime::assert_line(&out.stdout);
        let pid = daemon.pid().as_raw() as u32;
        std::thread::sleep(Duration::from_millis(500));
        let (wakes, ticks) = (
            procfs::status_field(pid, "voluntary_ctxt_switches:"),
            procfs::cpu_ticks(pid),
        );
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(
            procfs::status_field(pid, "voluntary_ctxt_switches:"),
            wakes,
            "{mode}: woke up while idle"
        );
        assert_eq!(procfs::cpu_ticks(pid), ticks, "{mode}: used CPU while idle");
    }
}

#[test]
fn a_supervisor_that_ignores_sigchld_and_sigterm_cannot_wedge_the_fork_server() {
    use std::process::Command;

    // `trap ''` ignores the signals, and an ignored signal survives exec.
    let mut wrapper = Command::new("sh");
    wrapper
        .args(["-c", "trap '' CHLD TERM; exec \"$0\" \"$@\""])
        .arg(ruptime_tests::bins::bin("ruptimed"));
    let daemon = Daemon::start_command(
        wrapper,
        &["-m", "fork", "-l", "127.0.0.1", "--max-children", "4"],
    );
    let port = daemon.port().to_string();
    for i in 0..20 {
        let out = ruptime(&["-m", "fork", "-w", "10", "-p", &port, "127.0.0.1"]);
        assert_eq!(out.code(), 0, "query {i}: {out:?}");
    }
    // SIGTERM, ignored by the supervisor, still stops the daemon.
    let (status, stderr) = daemon.terminate();
    assert!(status.success(), "{status:?}: {stderr}");
}

#[test]
fn sighup_while_dev_log_is_missing_keeps_the_syslog_connection() {
    use ruptime_tests::daemon::Detached;
    use ruptime_tests::namespace::with_private_mounts;
    use ruptime_tests::process::run_command;
    use ruptime_tests::skip;

    if !skip::can_run(
        "the /dev/log test (a private mount namespace)",
        &["unshare"],
    ) {
        return;
    }
    let mut syslog = SyslogReceiver::new();
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("ruptimed.pid");
    // A /dev of its own: /dev/null, and /dev/log a link to the test's socket.
    let setup = format!(
        "mount -t tmpfs tmpfs /dev; mknod -m 666 /dev/null c 1 3; ln -s {} /dev/log",
        syslog.path().display()
    );
    let bin = ruptime_tests::bins::bin("ruptimed");
    let args = [
        "-l",
        "127.0.0.1",
        "-p",
        "0",
        "--pid-file",
        pid_file.to_str().unwrap(),
    ];
    let started = run_command(
        with_private_mounts(&setup, &bin, &args),
        Duration::from_secs(30),
    );
    assert_eq!(started.code(), 0, "{started:?}");
    let daemon = Detached::from_pid_file(&pid_file);
    syslog.line_with("serving 127.0.0.1:", Duration::from_secs(10));
    // /dev/log, as the daemon sees it, gone for a while (syslogd restarting).
    let dev_log = format!("/proc/{}/root/dev/log", daemon.pid);
    std::fs::remove_file(&dev_log).unwrap();
    nix::sys::signal::kill(daemon.pid, Signal::SIGHUP).unwrap();
    let kept = syslog.line_with("SIGHUP: ", Duration::from_secs(10));
    assert!(kept.contains("cannot log to /dev/log"), "{kept}");
    assert!(kept.contains("logging as before"), "{kept}");
    // Back, and syslogd restarted (a new socket): the next line finds it.
    std::os::unix::fs::symlink(syslog.path(), &dev_log).unwrap();
    syslog.restart();
    assert!(daemon.terminate(), "SIGTERM stops it");
    syslog.line_with("exiting", Duration::from_secs(10));
}
