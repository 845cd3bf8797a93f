//! The cost of one report: built natively, or by running `/usr/bin/uptime`
//! (fork + exec, as the forking server does, and `popen`, as the others do).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ruptime_common::uptime::{self, LineBuilder};

/// Mean time per report.
#[derive(Debug)]
pub struct Cost {
    /// Reading /proc and utmp and formatting the line.
    pub native: Duration,
    /// Running `/usr/bin/uptime` and reading its output.
    pub exec: Duration,
    /// Running `sh -c /usr/bin/uptime`, as `popen` does.
    pub popen: Duration,
}

/// Builds `native_runs` lines natively, and runs uptime `exec_runs` times
/// each way (the two ways interleaved).
pub fn measure(native_runs: u32, exec_runs: u32) -> Cost {
    let reporter = LineBuilder::from_environment();
    let mut line = Vec::with_capacity(128);
    let start = Instant::now();
    for _ in 0..native_runs {
        line.clear();
        reporter
            .write_line(uptime::now(), &mut line)
            .expect("this host's uptime line");
    }
    let native = start.elapsed() / native_runs;
    let (mut exec, mut popen) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..exec_runs {
        exec += time(Command::new("/usr/bin/uptime"));
        let mut sh = Command::new("/bin/sh");
        sh.args(["-c", "/usr/bin/uptime"]);
        popen += time(sh);
    }
    Cost {
        native,
        exec: exec / exec_runs,
        popen: popen / exec_runs,
    }
}

fn time(mut command: Command) -> Duration {
    let start = Instant::now();
    let out = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .expect("uptime runs");
    assert!(!out.stdout.is_empty(), "uptime printed nothing");
    start.elapsed()
}
