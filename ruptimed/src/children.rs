//! The fork server's children: counted, timed, killed when overdue, reaped.
//!
//! The original forking server `waitpid`s each child before the next `accept`,
//! so it serves no more at once than the iterative one. Here the parent goes
//! straight back to `accept` and reaps children as SIGCHLD reports them, with
//! `waitpid(-1, WNOHANG)`, so there are no zombies and no blocking wait.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use ruptime_common::duration::show_seconds;

/// How long past the request limit a child may run before the parent kills
/// it: a command's own alarm (armed before exec) comes first.
pub(crate) const KILL_GRACE: Duration = Duration::from_secs(1);

/// The running children and the most that may run at once.
#[derive(Debug)]
pub(crate) struct Children {
    /// Each child's deadline; `None` once it has been killed.
    running: HashMap<Pid, Option<Instant>>,
    max: usize,
    limit: Duration,
}

impl Children {
    /// Room for `max` children, each killed when it runs longer than `limit`
    /// plus [`KILL_GRACE`].
    pub(crate) fn new(max: usize, limit: Duration) -> Children {
        Children {
            running: HashMap::new(),
            max,
            limit,
        }
    }

    /// Whether another child may start.
    pub(crate) fn has_room(&self) -> bool {
        self.running.len() < self.max
    }

    /// Whether no child is running.
    pub(crate) fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Records a child started now.
    pub(crate) fn add(&mut self, pid: Pid, now: Instant) {
        self.running
            .insert(pid, Some(now + self.limit + KILL_GRACE));
    }

    /// The earliest deadline of a child not yet killed.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.running.values().flatten().min().copied()
    }

    /// Kills (SIGKILL) every child past its deadline; they are reaped later.
    pub(crate) fn kill_overdue(&mut self, now: Instant) {
        for (pid, deadline) in &mut self.running {
            if deadline.is_some_and(|d| d <= now) {
                *deadline = None;
                let _ = kill(*pid, Signal::SIGKILL);
                log::warn!(
                    "killed child {pid}: still running after {}",
                    show_seconds(self.limit)
                );
            }
        }
    }

    /// Collects every child that has exited, without blocking, and logs any
    /// that ended badly.
    pub(crate) fn reap(&mut self) {
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(status) => {
                    let Some(pid) = status.pid() else { return };
                    if let Some(killed) = self.running.remove(&pid).map(|d| d.is_none())
                        && !killed
                        && let Some(problem) = describe(status)
                    {
                        log::warn!("child {pid} {problem}");
                    }
                }
            }
        }
    }
}

/// How a child ended, when it is worth a log line (anything but exit 0).
pub(crate) fn describe(status: WaitStatus) -> Option<String> {
    match status {
        WaitStatus::Exited(_, 0) => None,
        WaitStatus::Exited(_, 127) => {
            Some("exited with status 127: the command could not be executed".into())
        }
        WaitStatus::Exited(_, code) => Some(format!("exited with status {code}")),
        WaitStatus::Signaled(_, signal, _) => Some(format!("was killed by {signal}")),
        other => Some(format!("changed state: {other:?}")),
    }
}
