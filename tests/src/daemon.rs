//! A `ruptimed` in the foreground, known by the addresses it prints, and
//! killed when dropped (also when a test fails).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::bins::bin;
use crate::process::{collect, spawn_piped, wait_until};
use crate::procfs;

/// How long a daemon may take to print its addresses, or to exit on SIGTERM.
pub const STARTUP: Duration = Duration::from_secs(10);

/// A running `ruptimed --foreground`.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
    /// The addresses it listens on, in the order it printed them.
    pub addrs: Vec<SocketAddr>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Daemon {
    /// Starts `ruptimed --foreground ARGS` (with `--port 0` unless ARGS name
    /// a port) and waits for one `listening on` line per `--listen` (two
    /// without one: IPv4 and IPv6).
    pub fn start(args: &[&str]) -> Daemon {
        Daemon::start_command(Command::new(bin("ruptimed")), args)
    }

    /// As [`Daemon::start`], with `command` (e.g. a wrapper) in place of
    /// plain `ruptimed`; `args` are appended to it.
    pub fn start_command(mut command: Command, args: &[&str]) -> Daemon {
        command.arg("--foreground").args(args);
        if !args
            .iter()
            .any(|a| matches!(*a, "-p" | "--port") || a.starts_with("--port="))
        {
            command.args(["--port", "0"]);
        }
        let listens = args
            .iter()
            .filter(|a| matches!(**a, "-l" | "--listen"))
            .count();
        Daemon::spawn(command, if listens == 0 { 2 } else { listens })
    }

    /// Starts `command`, a server that prints `listening on ADDR[ ...]`
    /// once per address, and waits for `expected` such lines.
    pub fn spawn(mut command: Command, expected: usize) -> Daemon {
        let mut child = spawn_piped(&mut command, false);
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = Some(collect(child.stderr.take()));
        let (lines, received) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    return;
                }
            }
        });
        let mut daemon = Daemon {
            child,
            addrs: Vec::new(),
            stderr,
        };
        let deadline = Instant::now() + STARTUP;
        while daemon.addrs.len() < expected {
            let line = received
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| {
                    panic!(
                        "{command:?} printed no address in time: {}",
                        daemon.stop_and_stderr()
                    )
                });
            daemon.addrs.push(parse_listening(&line));
        }
        daemon
    }

    /// The port of its first address.
    pub fn port(&self) -> u16 {
        self.addrs[0].port()
    }

    /// Its process id.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("a pid fits in i32"))
    }

    /// Sends `signal`.
    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).expect("the daemon is alive");
    }

    /// SIGTERM, then its exit status and everything it wrote on stderr.
    pub fn terminate(self) -> (ExitStatus, String) {
        self.stop(Signal::SIGTERM)
    }

    /// Sends `signal`, then returns its exit status and everything it wrote on stderr.
    pub fn stop(mut self, signal: Signal) -> (ExitStatus, String) {
        self.signal(signal);
        let status = wait_until(&mut self.child, Instant::now() + STARTUP).unwrap_or_else(|| {
            panic!(
                "the server did not exit on {signal}: {}",
                self.stop_and_stderr()
            )
        });
        (status, self.stderr_text())
    }

    /// Kills it and returns its stderr, for a failure message.
    fn stop_and_stderr(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr_text()
    }

    fn stderr_text(&mut self) -> String {
        let bytes = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address in `listening on ADDR (MODE)` or `listening on ADDR`.
fn parse_listening(line: &str) -> SocketAddr {
    line.strip_prefix("listening on ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("not a listening line: {line:?}"))
}

/// A detached `ruptimed`, known by its pid file; killed when dropped.
#[derive(Debug)]
pub struct Detached {
    /// Its process id, from the pid file.
    pub pid: Pid,
}

impl Detached {
    /// The daemon named by the pid file at `path`.
    pub fn from_pid_file(path: &std::path::Path) -> Detached {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("pid file {path:?}: {e}"));
        let pid = text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("pid file holds {text:?}"));
        Detached {
            pid: Pid::from_raw(pid),
        }
    }

    /// Fields of `/proc/PID/stat` after the command name: state, ppid, pgrp,
    /// session, tty_nr ...; `None` once the process is gone.
    pub fn stat(&self) -> Option<Vec<String>> {
        procfs::stat(self.pid.as_raw() as u32)
    }

    /// Whether it is still running (not gone, not a zombie).
    pub fn is_running(&self) -> bool {
        procfs::state(self.pid.as_raw() as u32).is_some_and(|s| s != 'Z')
    }

    /// SIGTERM, then waits until it has exited; whether it did in time.
    pub fn terminate(&self) -> bool {
        let _ = kill(self.pid, Signal::SIGTERM);
        let deadline = Instant::now() + STARTUP;
        while self.is_running() {
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
        true
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = kill(self.pid, Signal::SIGKILL);
        }
    }
}
