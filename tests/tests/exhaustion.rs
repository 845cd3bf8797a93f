//! Out of descriptors: with RLIMIT_NOFILE lowered on the running daemon,
//! `accept` fails with EMFILE; the daemon logs it once per burst, backs off
//! instead of spinning, and serves again once descriptors free up.

use std::path::Path;
use std::thread;
use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::{Background, run};
use ruptime_tests::procfs;
use ruptime_tests::skip::have_tools;
use ruptime_tests::uptime;

fn prlimit(pid: u32, soft: u32) {
    let args = ["--pid", &pid.to_string(), &format!("--nofile={soft}:")];
    let out = run(Path::new("prlimit"), &args, Duration::from_secs(10));
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn running_out_of_descriptors_pauses_accepting_and_service_resumes() {
    if !have_tools("the descriptor exhaustion test", &["prlimit"]) {
        return;
    }
    for mode in ["stream", "fork"] {
        let daemon = Daemon::start(&["-m", mode, "-l", "127.0.0.1"]);
        let pid = daemon.pid().as_raw() as u32;
        prlimit(pid, procfs::lowest_free_fd(pid));
        let port = daemon.port().to_string();
        let client = Background::start(
            &bin("ruptime"),
            &["-m", mode, "-w", "20", "-p", &port, "127.0.0.1"],
        );
        thread::sleep(Duration::from_millis(300));
        let ticks = procfs::cpu_ticks(pid);
        thread::sleep(Duration::from_millis(1500));
        let spent = procfs::cpu_ticks(pid) - ticks;
        assert!(
            spent < 30,
            "{mode}: {spent} ticks of CPU in 1.5 s: the accept loop spins"
        );
        prlimit(pid, 1024);
        let out = client.finish(Duration::from_secs(30));
        assert!(out.status.success(), "{mode}: service resumes: {out:?}");
        uptime::assert_line(&out.stdout);
        let (status, stderr) = daemon.terminate();
        assert!(status.success());
        let logged = stderr
            .matches("accept error: Too many open files; pausing 100 ms")
            .count();
        assert!(
            (1..=3).contains(&logged),
            "{mode}: logged {logged} times, once per second at most:\n{stderr}"
        );
    }
}
