//! The daemon's signals: SIGTERM and SIGINT stop it cleanly, SIGHUP reopens its log.

use std::time::Duration;

use nix::sys::signal::Signal;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::ruptime;
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
    let started = syslog.lines_until("serving 127.0.0.1:", Duration::from_secs(10));
    assert!(
        started
            .last()
            .is_some_and(|l| l.contains(" (stream) with the native report")),
        "{started:?}"
    );
    daemon.signal(Signal::SIGHUP);
    let reopened = syslog.lines_until("log reopened on SIGHUP", Duration::from_secs(10));
    assert!(
        reopened
            .last()
            .is_some_and(|l| l.contains("log reopened on SIGHUP")),
        "{reopened:?}"
    );
    let out = ruptime(&["-p", &daemon.port().to_string(), "127.0.0.1"]);
    uptime::assert_line(&out.stdout);
}
