//! Fork probes' child processes, each in a process group of its own.
//!
//! A child `ruptime -m fork` forks its query process; killing the child
//! alone would leave that one running to its own deadline, unparented and
//! uncounted. So each child leads a group, and what overruns is killed as a
//! group: at its limit, and at the exporter's exit ([`Children::kill_all`]).
//! A group is killed only while its leader is unreaped, so its id cannot
//! have been reused: a leader is reaped, and its group struck off the list,
//! under the list's lock, which `kill_all` takes too; once it has run, no
//! child starts.

use std::collections::HashSet;
use std::io;
use std::process::Stdio;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};

/// What a child wrote, once it ended.
#[derive(Debug)]
pub(super) struct Output {
    pub(super) stdout: Vec<u8>,
    pub(super) stderr: Vec<u8>,
}

/// How often a child whose output has ended is looked at until it has exited.
const REAP_POLL: Duration = Duration::from_millis(2);

/// The groups of the children running now.
#[derive(Debug, Default)]
pub(super) struct Children {
    groups: Mutex<Groups>,
}

/// The groups listed, and whether the exporter is closing.
#[derive(Debug, Default)]
struct Groups {
    running: HashSet<i32>,
    closing: bool,
}

impl Children {
    /// Runs `command` in a group of its own, reading at most `cap` bytes of
    /// each output, for `limit` at most; then the whole group is killed.
    ///
    /// # Errors
    /// The child cannot start (or the exporter is closing), or ran past
    /// `limit` (`TimedOut`).
    pub(super) async fn run(
        &self,
        mut command: Command,
        cap: usize,
        limit: Duration,
    ) -> io::Result<Output> {
        command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let (mut child, group) = {
            let mut groups = self.lock();
            if groups.closing {
                return Err(io::Error::other("the exporter is closing"));
            }
            let child = command.spawn()?;
            let group = child.id().and_then(|id| i32::try_from(id).ok());
            if let Some(group) = group {
                groups.running.insert(group);
            }
            (child, group)
        };
        let _listed = group.map(|group| Listed {
            children: self,
            group,
        });
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let ran = tokio::time::timeout(limit, async {
            let (stdout, stderr) = tokio::join!(read(stdout, cap), read(stderr, cap));
            self.reap(&mut child, group).await?;
            Ok::<_, io::Error>((stdout?, stderr?))
        })
        .await;
        match ran {
            Ok(done) => {
                let (stdout, stderr) = done?;
                Ok(Output { stdout, stderr })
            }
            Err(_) => {
                // Unreaped: the group's id is still the child's. Struck off
                // before the leader is reaped.
                if let Some(group) = group {
                    let mut groups = self.lock();
                    let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
                    groups.running.remove(&group);
                }
                let _ = child.kill().await;
                Err(io::Error::from(io::ErrorKind::TimedOut))
            }
        }
    }

    /// Waits for `child` to exit, then reaps it and strikes its group off,
    /// under the lock.
    async fn reap(&self, child: &mut Child, group: Option<i32>) -> io::Result<()> {
        loop {
            {
                let mut groups = self.lock();
                if child.try_wait()?.is_some() {
                    if let Some(group) = group {
                        groups.running.remove(&group);
                    }
                    return Ok(());
                }
            }
            tokio::time::sleep(REAP_POLL).await;
        }
    }

    /// Kills every group still running, and lets no child start again: at exit.
    pub(super) fn kill_all(&self) {
        let mut groups = self.lock();
        groups.closing = true;
        for group in &groups.running {
            let _ = killpg(Pid::from_raw(*group), Signal::SIGKILL);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Groups> {
        self.groups.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A group listed in [`Children`]: struck off when its run ends however it
/// ends (reaped or killed).
struct Listed<'a> {
    children: &'a Children,
    group: i32,
}

impl Drop for Listed<'_> {
    fn drop(&mut self) {
        self.children.lock().running.remove(&self.group);
    }
}

/// Everything `pipe` holds, up to `cap` bytes (the rest is drained unread).
async fn read(pipe: Option<impl AsyncRead + Unpin>, cap: usize) -> io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else {
        return Ok(kept);
    };
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = pipe.read(&mut buf).await?;
        if n == 0 {
            return Ok(kept);
        }
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
}
