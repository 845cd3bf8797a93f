//! The native report against the real `/usr/bin/uptime` (procps-ng 4.0.2).
//!
//! For each case, fake `/proc/uptime`, `/proc/loadavg` and `/run/utmp` are
//! bind-mounted in a private mount namespace; the daemon runs there, and so
//! does `uptime`, with the same TZ and locale. The two lines must be the same
//! bytes, but for a clock field that may tick by one second in between.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::namespace::with_private_mounts;
use ruptime_tests::process::{run_command, ruptime};
use ruptime_tests::skip::can_run;
use ruptime_tests::utmp::{record, users};
use tempfile::TempDir;

const UPTIME: &str = "/usr/bin/uptime";
const LOADAVG: &str = "0.24 0.07 0.02 1/123 4567\n";

struct Case {
    what: String,
    uptime: String,
    loadavg: String,
    /// `None`: there is no /run/utmp at all.
    utmp: Option<Vec<u8>>,
    tz: &'static str,
    lc_all: &'static str,
}

impl Case {
    fn new(what: impl Into<String>) -> Case {
        Case {
            what: what.into(),
            uptime: "350.25 1200.50\n".into(),
            loadavg: LOADAVG.into(),
            utmp: None,
            tz: "UTC",
            lc_all: "C",
        }
    }

    /// Writes the fake files; the shell commands that mount them.
    fn setup(&self, dir: &Path) -> String {
        fs::write(dir.join("uptime"), &self.uptime).unwrap();
        fs::write(dir.join("loadavg"), &self.loadavg).unwrap();
        let d = dir.display();
        let utmp = match &self.utmp {
            Some(bytes) => {
                fs::write(dir.join("utmp"), bytes).unwrap();
                format!("cp {d}/utmp /run/utmp")
            }
            None => "true".to_owned(),
        };
        format!(
            "mount -t tmpfs tmpfs /run; {utmp}; \
             mount --bind {d}/uptime /proc/uptime; mount --bind {d}/loadavg /proc/loadavg"
        )
    }
}

/// The daemon's line (asked in `mode`) and uptime's, for one case.
fn both_lines(case: &Case, mode: &str) -> (Vec<u8>, Vec<u8>) {
    let dir = TempDir::new().unwrap();
    let setup = case.setup(dir.path());
    let mut daemon_command = with_private_mounts(&setup, &bin("ruptimed"), &[]);
    daemon_command.env("TZ", case.tz).env("LC_ALL", case.lc_all);
    let daemon = Daemon::start_command(daemon_command, &["-m", mode, "-l", "127.0.0.1"]);
    let ours = ruptime(&["-m", mode, "-p", &daemon.port().to_string(), "127.0.0.1"]);
    assert_eq!(ours.code(), 0, "{}: {ours:?}", case.what);
    let mut uptime_command: Command = with_private_mounts(&setup, Path::new(UPTIME), &[]);
    uptime_command.env("TZ", case.tz).env("LC_ALL", case.lc_all);
    let theirs = run_command(uptime_command, Duration::from_secs(30));
    assert_eq!(theirs.code(), 0, "{}: {theirs:?}", case.what);
    (ours.stdout, theirs.stdout)
}

/// Seconds of the day in a ` HH:MM:SS ...` line.
fn clock(line: &[u8]) -> i64 {
    let text = std::str::from_utf8(&line[1..9]).unwrap();
    let fields: Vec<i64> = text.split(':').map(|f| f.parse().unwrap()).collect();
    fields[0] * 3600 + fields[1] * 60 + fields[2]
}

fn assert_same(case: &Case, ours: &[u8], theirs: &[u8]) {
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(
        ours.len() > 9 && theirs.len() > 9,
        "{}: ours {:?}, uptime {:?}",
        case.what,
        show(ours),
        show(theirs)
    );
    assert_eq!(show(&ours[9..]), show(&theirs[9..]), "{}", case.what);
    let tick = (clock(theirs) - clock(ours)).rem_euclid(86_400);
    assert!(
        tick <= 1,
        "{}: clocks {:?} and {:?}",
        case.what,
        show(ours),
        show(theirs)
    );
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for seconds in [
        "0",
        "0.5",
        "59.99",
        "60",
        "61",
        "119",
        "3599",
        "3600",
        "3660",
        "36000",
        "86399",
        "86400",
        "86460",
        "90000",
        "172800",
        "86400000",
        "2147483647.99",
        "1e5",
        " 7.0",
    ] {
        let mut case = Case::new(format!("/proc/uptime {seconds:?}"));
        case.uptime = format!("{seconds} 12345.67\n");
        cases.push(case);
    }
    for (what, utmp) in [
        ("an empty utmp", Some(Vec::new())),
        ("1 user", Some(users(1))),
        ("2 users", Some(users(2))),
        ("10 users", Some(users(10))),
        ("12 users", Some(users(12))),
        ("100 users", Some(users(100))),
        (
            "users among other records, one with an empty name",
            Some(
                [
                    record(2, "reboot"),
                    record(7, ""),
                    record(7, "alice"),
                    record(8, "bob"),
                    record(6, "LOGIN"),
                    record(7, "alice"),
                ]
                .concat(),
            ),
        ),
        (
            "a partial last record",
            Some([users(3), vec![7u8; 100]].concat()),
        ),
    ] {
        let mut case = Case::new(what);
        case.utmp = utmp;
        cases.push(case);
    }
    for tz in [
        "America/New_York",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "EST5EDT",
        "UTC",
    ] {
        let mut case = Case::new(format!("TZ={tz}"));
        case.tz = tz;
        case.uptime = "90061 1\n".into();
        cases.push(case);
    }
    for loadavg in [
        "0.125 2.675 1.005 1/1 1\n",
        "123.456 0.00 99.995 2/300 9\n",
        "1 2\n",
        "abc 1 2\n",
        "-1.5 1e2 0.5x\n",
        "0.005 0.015 0.025\n",
    ] {
        let mut case = Case::new(format!("/proc/loadavg {loadavg:?}"));
        case.loadavg = loadavg.into();
        cases.push(case);
    }
    for lc_all in ["de_DE.UTF-8", "C.UTF-8", "xx_XX.UTF-8"] {
        let mut case = Case::new(format!("LC_ALL={lc_all}"));
        case.lc_all = lc_all;
        case.loadavg = "0.50 10.25 3.99 1/1 1\n".into();
        case.utmp = Some(users(2));
        cases.push(case);
    }
    cases
}

#[test]
fn the_native_line_is_byte_identical_to_uptime() {
    if !can_run(
        "the differential test against /usr/bin/uptime",
        &["unshare", "uptime"],
    ) {
        return;
    }
    let modes = ["stream", "fork", "dgram"];
    for (i, case) in cases().iter().enumerate() {
        let (ours, theirs) = both_lines(case, modes[i % modes.len()]);
        assert_same(case, &ours, &theirs);
    }
}

#[test]
fn the_decimal_comma_locale_is_really_used() {
    if !can_run("the decimal-comma locale test", &["unshare", "uptime"]) {
        return;
    }
    let mut case = Case::new("LC_ALL=de_DE.UTF-8");
    case.lc_all = "de_DE.UTF-8";
    let (ours, theirs) = both_lines(&case, "stream");
    assert_same(&case, &ours, &theirs);
    let text = String::from_utf8(ours).unwrap();
    assert!(
        text.ends_with("load average: 0,24, 0,07, 0,02\n"),
        "de_DE.UTF-8 must be generated (make deps does it): {text:?}"
    );
}

#[test]
fn each_forked_child_builds_its_own_line() {
    if !can_run("the forked child test", &["unshare"]) {
        return;
    }
    // The iterative server may reuse a line within its second; a forked
    // child reads the files anew, so each load written shows at once.
    let case = Case::new("loads that change between requests");
    let dir = TempDir::new().unwrap();
    let command = with_private_mounts(&case.setup(dir.path()), &bin("ruptimed"), &[]);
    let daemon = Daemon::start_command(command, &["-m", "fork", "-l", "127.0.0.1"]);
    for load in ["1.00", "2.00", "3.00", "4.00"] {
        // Rewritten in place: the bind mount shows the same inode.
        fs::write(
            dir.path().join("loadavg"),
            format!("{load} 0.07 0.02 1/123 4567\n"),
        )
        .unwrap();
        let out = ruptime(&["-m", "fork", "-p", &daemon.port().to_string(), "127.0.0.1"]);
        let text = out.stdout_text();
        assert!(
            text.contains(&format!("load average: {load}, 0.07, 0.02")),
            "asked after writing {load}: {text}"
        );
    }
}

#[test]
fn an_unusable_proc_uptime_gives_the_client_an_error_line() {
    if !can_run("the unusable /proc/uptime test", &["unshare"]) {
        return;
    }
    for mode in ["stream", "fork", "dgram"] {
        let mut case = Case::new("/proc/uptime holding no number");
        case.uptime = "abc\n".into();
        let dir = TempDir::new().unwrap();
        let command = with_private_mounts(&case.setup(dir.path()), &bin("ruptimed"), &[]);
        let daemon = Daemon::start_command(command, &["-m", mode, "-l", "127.0.0.1"]);
        let out = ruptime(&["-m", mode, "-p", &daemon.port().to_string(), "127.0.0.1"]);
        assert_eq!(
            (out.code(), out.stdout_text(), out.stderr.as_str()),
            (
                1,
                String::new(),
                "ruptime: 127.0.0.1: ruptimed: cannot get system uptime: /proc/uptime holds no valid number\n"
            ),
            "{mode}"
        );
        let again = ruptime(&["-m", mode, "-p", &daemon.port().to_string(), "127.0.0.1"]);
        assert_eq!(again.stderr, out.stderr, "{mode}: the daemon still serves");
        let (status, stderr) = daemon.terminate();
        assert!(status.success(), "{mode}: {stderr}");
        assert!(
            stderr.contains("error: cannot get system uptime: /proc/uptime holds no valid number"),
            "{mode}: {stderr}"
        );
    }
}
