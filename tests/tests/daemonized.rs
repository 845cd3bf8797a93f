//! Without --foreground the daemon detaches, writes its pid file, logs to
//! syslog, and stops cleanly on SIGTERM.

use std::time::Duration;

use nix::unistd::{getpid, getsid};
use ruptime_tests::daemon::Detached;
use ruptime_tests::process::{ruptime, ruptimed};
use ruptime_tests::syslog::SyslogReceiver;
use ruptime_tests::uptime;

const LOG_WAIT: Duration = Duration::from_secs(10);

#[test]
fn it_detaches_logs_to_syslog_and_stops_on_sigterm() {
    let syslog = SyslogReceiver::new();
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("ruptimed.pid");
    let started = ruptimed(&[
        "-m",
        "dgram",
        "-l",
        "127.0.0.1",
        "-p",
        "0",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--syslog-socket",
        syslog.path().to_str().unwrap(),
    ]);
    assert_eq!(started.code(), 0, "{started:?}");
    assert_eq!(
        started.stdout_text(),
        "",
        "a detached daemon prints nothing"
    );

    // The pid file exists as soon as the command has returned.
    let daemon = Detached::from_pid_file(&pid_file);
    let stat = daemon.stat().expect("the daemon runs");
    let (ppid, session, tty) = (&stat[1], &stat[3], &stat[4]);
    assert_ne!(
        ppid,
        &getpid().to_string(),
        "the daemon is not the test's child"
    );
    assert_ne!(
        session,
        &getsid(None).unwrap().to_string(),
        "the daemon has left the test's session"
    );
    assert_eq!(tty, "0", "the daemon has no controlling terminal");

    // Its start reaches syslog: facility daemon, severity info, ident and pid.
    let start = syslog.line_with("serving 127.0.0.1:", LOG_WAIT);
    assert!(
        start.starts_with("<30>"),
        "daemon.info is priority 30: {start}"
    );
    assert!(
        start.contains(&format!("ruptimed[{}]: serving 127.0.0.1:", daemon.pid)),
        "{start}"
    );
    let port = start
        .split("127.0.0.1:")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(
        start.ends_with(&format!(
            "127.0.0.1:{port} (dgram) with the native report (ruptimed {})",
            env!("CARGO_PKG_VERSION")
        )),
        "{start}"
    );

    let out = ruptime(&["-m", "dgram", "-p", port, "127.0.0.1"]);
    assert_eq!(out.code(), 0, "{out:?}");
    uptime::assert_line(&out.stdout);

    assert!(daemon.terminate(), "the daemon exits on SIGTERM");
    assert!(!pid_file.exists(), "the pid file is removed");
    let exiting = syslog.line_with("exiting", LOG_WAIT);
    assert!(
        exiting.contains(&format!("ruptimed[{}]: exiting", daemon.pid)),
        "{exiting}"
    );
}

#[test]
fn a_second_daemon_with_the_same_pid_file_refuses_to_start() {
    let syslog = SyslogReceiver::new();
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("ruptimed.pid");
    let pid_arg = pid_file.to_str().unwrap();
    let syslog_path = syslog.path();
    let args = [
        "-l",
        "127.0.0.1",
        "-p",
        "0",
        "--pid-file",
        pid_arg,
        "--syslog-socket",
        syslog_path.to_str().unwrap(),
    ];
    assert_eq!(ruptimed(&args).code(), 0);
    let first = Detached::from_pid_file(&pid_file);
    let second = ruptimed(&args);
    assert_eq!(second.code(), 1, "{second:?}");
    assert_eq!(
        second.stderr,
        format!(
            "ruptimed: pid file {pid_arg} is locked by a running process (pid {})\n",
            first.pid
        )
    );
    assert!(first.is_running());
    assert_eq!(
        Detached::from_pid_file(&pid_file).pid,
        first.pid,
        "the pid file is untouched"
    );
}

#[test]
fn a_failure_after_detaching_reaches_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-syslog-here.sock");
    let out = ruptimed(&[
        "-l",
        "127.0.0.1",
        "-p",
        "0",
        "--syslog-socket",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            "ruptimed: cannot log to {}: No such file or directory\n",
            missing.display()
        )
    );
}

#[test]
fn a_pid_file_that_is_a_link_or_not_a_file_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("precious");
    std::fs::write(&precious, "precious\n").unwrap();
    let link = dir.path().join("link.pid");
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    let fifo = dir.path().join("fifo.pid");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    for (path, why) in [
        (&link, " is a symbolic link; refusing to follow it"),
        (&fifo, ": not a regular file; refusing it"),
    ] {
        let out = ruptimed(&[
            "-f",
            "-l",
            "127.0.0.1",
            "-p",
            "0",
            "--pid-file",
            path.to_str().unwrap(),
        ]);
        assert_eq!(out.code(), 1, "{out:?}");
        assert_eq!(
            out.stderr,
            format!("ruptimed: pid file {}{why}\n", path.display()),
        );
    }
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious\n");
}
