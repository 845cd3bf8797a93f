//! Fork probes' child processes, each in a process group of its own.
//!
//! A child `ruptime -m fork` forks its query process; killing the child
//! alone would leave that one running to its own deadline, unparented and
//! uncounted. So each child leads a group, and what overruns is killed as a
//! group: at its limit, and at the exporter's exit ([`Children::kill_all`]).
//! A group is killed only while its leader is unreaped, so its id cannot
//! have been reused.

use std::collections::HashSet;
use std::io;
use std::process::Stdio;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// What a child wrote, once it ended.
#[derive(Debug)]
pub(super) struct Output {
    pub(super) stdout: Vec<u8>,
    pub(super) stderr: Vec<u8>,
}

/// The groups of the children running now.
#[derive(Debug, Default)]
pub(super) struct Children {
    groups: Mutex<HashSet<i32>>,
}

impl Children {
    /// Runs `command` in a group of its own, reading at most `cap` bytes of
    /// each output, for `limit` at most; then the whole group is killed.
    ///
    /// # Errors
    /// The child cannot start, or ran past `limit` (`TimedOut`).
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
        let mut child = command.spawn()?;
        let group = child.id().and_then(|id| i32::try_from(id).ok());
        let _tracked = group.map(|g| Tracked::new(self, g));
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let ran = tokio::time::timeout(limit, async {
            let (stdout, stderr) = tokio::join!(read(stdout, cap), read(stderr, cap));
            child.wait().await?;
            Ok::<_, io::Error>((stdout?, stderr?))
        })
        .await;
        match ran {
            Ok(done) => {
                let (stdout, stderr) = done?;
                Ok(Output { stdout, stderr })
            }
            Err(_) => {
                // Unreaped: the group's id is still the child's.
                if let Some(group) = group {
                    let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
                }
                let _ = child.kill().await;
                Err(io::Error::from(io::ErrorKind::TimedOut))
            }
        }
    }

    /// Kills every group still running: at exit.
    pub(super) fn kill_all(&self) {
        let groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        for group in groups.iter() {
            let _ = killpg(Pid::from_raw(*group), Signal::SIGKILL);
        }
    }
}

/// A group listed in [`Children`] while its leader runs.
struct Tracked<'a> {
    children: &'a Children,
    group: i32,
}

impl<'a> Tracked<'a> {
    fn new(children: &'a Children, group: i32) -> Tracked<'a> {
        children
            .groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(group);
        Tracked { children, group }
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.children
            .groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.group);
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
