//! Running a command to its end, with a hard limit, capturing its output.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How a finished command ended.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote on stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote on stderr, as text.
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Finished {
    /// Its exit code; panics if a signal ended it.
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("killed by a signal: {self:?}"))
    }

    /// Its stdout as text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs `program` with `args`; panics if it runs longer than `limit` (after
/// killing it).
pub fn run(program: &Path, args: &[&str], limit: Duration) -> Finished {
    let mut command = Command::new(program);
    command.args(args);
    run_command(command, limit)
}

/// Runs `command` with stdin closed and its output captured; panics if it
/// runs longer than `limit` (after killing it).
pub fn run_command(command: Command, limit: Duration) -> Finished {
    finish(command, None, limit)
}

/// Runs `command` with `input` on its stdin, its output captured; panics if
/// it runs longer than `limit` (after killing it).
pub fn run_command_with_input(command: Command, input: &[u8], limit: Duration) -> Finished {
    finish(command, Some(input), limit)
}

/// Runs `command` with `input` on its stdin (closed when `None`), its
/// output captured; panics if it runs longer than `limit` (after killing it).
fn finish(mut command: Command, input: Option<&[u8]>, limit: Duration) -> Finished {
    let start = Instant::now();
    let mut child = spawn_piped(&mut command, input.is_some());
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        let _ = std::io::Write::write_all(&mut stdin, input);
    }
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());
    let status = wait_until(&mut child, start + limit);
    let elapsed = start.elapsed();
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{command:?} still running after {limit:?}");
    };
    Finished {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: String::from_utf8_lossy(&stderr.join().expect("stderr reader")).into_owned(),
        elapsed,
    }
}

/// Starts `command` with stdout and stderr piped, and stdin closed (or
/// piped, with `input`).
pub fn spawn_piped(command: &mut Command, input: bool) -> Child {
    command
        .stdin(if input { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"))
}

/// Reads a pipe to its end on a thread of its own.
pub fn collect(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut all = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut all);
        }
        all
    })
}

/// Waits for `child` until `deadline`; its status, or `None` if still running.
pub fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// How long a `ruptime` run may take before a test calls it hung.
pub const CLIENT_LIMIT: Duration = Duration::from_secs(60);

/// Runs `ruptime ARGS` to its end.
pub fn ruptime(args: &[&str]) -> Finished {
    run(&crate::bins::bin("ruptime"), args, CLIENT_LIMIT)
}

/// Runs `ruptimed ARGS` to its end (e.g. a failing start, or one that detaches).
pub fn ruptimed(args: &[&str]) -> Finished {
    run(&crate::bins::bin("ruptimed"), args, CLIENT_LIMIT)
}

/// A process left running while the test talks to it; killed when dropped.
#[derive(Debug)]
pub struct Background {
    child: Child,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_reader: Option<JoinHandle<()>>,
    start: Instant,
}

impl Background {
    /// Starts `program ARGS` with stdin closed and its output captured.
    pub fn start(program: &Path, args: &[&str]) -> Background {
        let mut command = Command::new(program);
        command.args(args);
        let start = Instant::now();
        let mut child = spawn_piped(&mut command, false);
        let stdout = Some(collect(child.stdout.take()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (sink, pipe) = (Arc::clone(&stderr), child.stderr.take());
        let stderr_reader = Some(thread::spawn(move || {
            let Some(mut pipe) = pipe else { return };
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                sink.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend_from_slice(&buf[..n]);
            }
        }));
        Background {
            child,
            stdout,
            stderr,
            stderr_reader,
            start,
        }
    }

    /// Waits until its stderr holds `pattern` `count` times (panics after `limit`).
    pub fn wait_for_stderr(&self, pattern: &str, count: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let text = String::from_utf8_lossy(
                &self.stderr.lock().unwrap_or_else(PoisonError::into_inner),
            )
            .into_owned();
            if text.matches(pattern).count() >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{pattern:?} not {count} times in {limit:?}:\n{text}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Its process id.
    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    /// Waits for it to end by itself within `limit` (panics otherwise).
    pub fn finish(mut self, limit: Duration) -> Finished {
        let status = wait_until(&mut self.child, Instant::now() + limit)
            .unwrap_or_else(|| panic!("still running after {limit:?}"));
        self.collect(status)
    }

    /// Kills it and returns what it wrote.
    pub fn kill(mut self) -> Finished {
        let _ = self.child.kill();
        let status = self.child.wait().expect("the child is ours");
        self.collect(status)
    }

    fn collect(&mut self, status: ExitStatus) -> Finished {
        let stdout = self
            .stdout
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        let stderr =
            std::mem::take(&mut *self.stderr.lock().unwrap_or_else(PoisonError::into_inner));
        Finished {
            status,
            stdout,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            elapsed: self.start.elapsed(),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `ruptime ARGS` with `input` on its standard input.
pub fn ruptime_with_input(args: &[&str], input: &[u8]) -> Finished {
    let mut command = Command::new(crate::bins::bin("ruptime"));
    command.args(args);
    finish(command, Some(input), CLIENT_LIMIT)
}

/// Raises this process's descriptor limit to its hard limit, for tests that
/// hold many sockets at once.
pub fn raise_descriptor_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}
