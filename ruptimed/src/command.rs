//! Running an external command for a report, as the originals run `/usr/bin/uptime`.
//!
//! The iterative and datagram servers `popen` uptime per request; the forking
//! server's child puts the connection on uptime's stdout and stderr and execs
//! it. [`Command::spawn`] is that child and [`Command::capture`] is `popen`.
//! Both are bounded: the child arms `alarm` before `execve` (an alarm survives
//! exec, and SIGALRM's default action ends the command), and the parent kills
//! a command that outlives its limit anyway. The command gets /dev/null on
//! stdin, default signal dispositions and an empty mask, and none of the
//! daemon's descriptors (all are close-on-exec). When `execve` fails the
//! child exits with status 127: it never falls back into the server loop as
//! the original's does.

use std::ffi::{CString, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::ptr;
use std::time::{Duration, Instant};

use nix::fcntl::{OFlag, open};
use nix::sys::signal::{Signal, kill};
use nix::sys::stat::Mode as Permissions;
use nix::sys::wait::waitpid;
use nix::unistd::{AccessFlags, Pid, access, pipe2};
use ruptime_common::duration::show_seconds;
use ruptime_common::oserror::describe;
use ruptime_common::timeout::with_deadline;

use crate::children;
use crate::fatal::Fatal;
use ruptime_common::child::fork_child;

/// A command to run per request, prepared once so that a forked child needs
/// no allocation before `execve`.
#[derive(Debug)]
pub(crate) struct Command {
    shown: String,
    path: CString,
    _argv: Vec<CString>,
    _env: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    env_ptrs: Vec<*const libc::c_char>,
    exec_failed: Vec<u8>,
    devnull: OwnedFd,
    limit: Duration,
}

fn c_string(bytes: &[u8], what: &str) -> Result<CString, Fatal> {
    CString::new(bytes).map_err(|_| Fatal::new(format!("{what} contains a NUL byte")))
}

impl Command {
    /// Prepares `path` with `args`, in the daemon's environment, each run
    /// limited to `limit`.
    ///
    /// # Errors
    /// `path` is not an executable file, or an argument holds a NUL byte.
    pub(crate) fn new(path: &Path, args: &[OsString], limit: Duration) -> Result<Command, Fatal> {
        let shown = path.display().to_string();
        let failed = |e: io::Error| Fatal::new(format!("--command {shown}: {}", describe(&e)));
        if path.is_dir() {
            return Err(failed(io::Error::from_raw_os_error(libc::EISDIR)));
        }
        access(path, AccessFlags::X_OK).map_err(|e| failed(e.into()))?;
        let name = path.file_name().unwrap_or(path.as_os_str());
        let argv = std::iter::once(name)
            .chain(args.iter().map(OsString::as_os_str))
            .map(|arg| c_string(arg.as_bytes(), "a command argument"))
            .collect::<Result<Vec<_>, _>>()?;
        let env = std::env::vars_os()
            .filter_map(|(key, value)| {
                let mut pair = key.into_vec();
                pair.push(b'=');
                pair.extend_from_slice(value.as_bytes());
                CString::new(pair).ok()
            })
            .collect::<Vec<_>>();
        let devnull = open(
            "/dev/null",
            OFlag::O_RDWR | OFlag::O_CLOEXEC,
            Permissions::empty(),
        )
        .map_err(|e| failed(e.into()))?;
        Ok(Command {
            path: c_string(path.as_os_str().as_bytes(), "the command path")?,
            argv_ptrs: pointers(&argv),
            env_ptrs: pointers(&env),
            _argv: argv,
            _env: env,
            exec_failed: format!("ruptimed: cannot execute {shown}\n").into_bytes(),
            shown,
            devnull,
            limit,
        })
    }

    /// The command as given, for messages.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// Forks a child that runs the command with `stdout` and `stderr` on the
    /// given descriptors, and returns its pid.
    ///
    /// # Errors
    /// `fork` fails (e.g. `EAGAIN` at the process limit).
    #[allow(unsafe_code)]
    pub(crate) fn spawn(&self, stdout: BorrowedFd<'_>, stderr: BorrowedFd<'_>) -> io::Result<Pid> {
        // SAFETY: `exec` does only async-signal-safe work (its pointers are
        // built before the fork), so any process may fork it.
        unsafe { fork_child(|| self.exec(stdout.as_raw_fd(), stderr.as_raw_fd())) }
    }

    /// The child's side of [`Command::spawn`]: returns only when `execve`
    /// fails, with the status 127.
    #[allow(unsafe_code)]
    fn exec(&self, stdout: RawFd, stderr: RawFd) -> i32 {
        let alarm_secs = self
            .limit
            .as_secs_f64()
            .ceil()
            .clamp(1.0, f64::from(u32::MAX));
        // SAFETY: only async-signal-safe calls (dup2, signal, sigemptyset,
        // sigprocmask, alarm, execve, write) on data built before the fork;
        // `argv_ptrs` and `env_ptrs` point into CStrings owned by `self` and
        // end with a null pointer.
        unsafe {
            libc::dup2(self.devnull.as_raw_fd(), libc::STDIN_FILENO);
            libc::dup2(stdout, libc::STDOUT_FILENO);
            libc::dup2(stderr, libc::STDERR_FILENO);
            // exec resets caught signals but keeps ignored ones and the mask.
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            libc::alarm(alarm_secs as libc::c_uint);
            libc::execve(
                self.path.as_ptr(),
                self.argv_ptrs.as_ptr(),
                self.env_ptrs.as_ptr(),
            );
            libc::write(
                libc::STDERR_FILENO,
                self.exec_failed.as_ptr().cast(),
                self.exec_failed.len(),
            );
        }
        127
    }

    /// Runs the command like `popen`: its standard output, at most `cap`
    /// bytes, read within the limit. A command that overruns either is killed;
    /// what it wrote by then is returned. Anything unusual is logged.
    ///
    /// # Errors
    /// The pipe or the fork fails.
    pub(crate) fn capture(&self, cap: usize) -> io::Result<Vec<u8>> {
        let (read, write) = pipe2(OFlag::O_CLOEXEC)?;
        let pid = self.spawn(write.as_fd(), self.devnull.as_fd())?;
        drop(write);
        let deadline = Instant::now() + self.limit;
        let mut output = Vec::with_capacity(128);
        let read_all = read_capped(File::from(read), cap, deadline, &mut output);
        let status = read_all.and_then(|()| with_deadline(deadline, || Ok(waitpid(pid, None)?)));
        match status {
            Ok(status) => {
                if let Some(problem) = children::describe(status) {
                    log::warn!("command {} {problem}", self.shown);
                }
            }
            Err(reason) => {
                let _ = kill(pid, Signal::SIGKILL);
                let _ = waitpid(pid, None);
                log::warn!("killed command {}: {}", self.shown, self.overrun(&reason));
            }
        }
        Ok(output)
    }

    /// Why a run was cut short, in words.
    fn overrun(&self, reason: &io::Error) -> String {
        match reason.kind() {
            io::ErrorKind::TimedOut => format!("still running after {}", show_seconds(self.limit)),
            io::ErrorKind::FileTooLarge => "too much output".to_owned(),
            _ => describe(reason),
        }
    }
}

/// Reads `pipe` to its end into `output`, failing past `cap` bytes or `deadline`.
fn read_capped(
    mut pipe: File,
    cap: usize,
    deadline: Instant,
    output: &mut Vec<u8>,
) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        let n = with_deadline(deadline, || pipe.read(&mut buf))?;
        if n == 0 {
            return Ok(());
        }
        let room = cap - output.len();
        output.extend_from_slice(&buf[..n.min(room)]);
        if n > room {
            return Err(io::Error::from(io::ErrorKind::FileTooLarge));
        }
    }
}

/// Null-terminated pointers to `strings`, for `execve`.
fn pointers(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(ptr::null()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(path: &str, args: &[&str], limit_ms: u64) -> Command {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        Command::new(Path::new(path), &args, Duration::from_millis(limit_ms)).unwrap()
    }

    #[test]
    fn captures_standard_output() {
        let echo = command("/bin/echo", &["up", "3 days"], 5000);
        assert_eq!(echo.capture(1024).unwrap(), b"up 3 days\n");
    }

    #[test]
    fn caps_the_output() {
        let yes = command("/usr/bin/yes", &[], 5000);
        let out = yes.capture(100).unwrap();
        assert_eq!(out.len(), 100);
    }

    #[test]
    fn kills_a_command_past_its_limit() {
        let sleep = command("/bin/sleep", &["30"], 200);
        let start = Instant::now();
        assert!(sleep.capture(100).unwrap().is_empty());
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn the_command_gets_default_sigpipe() {
        let sh = command("/bin/sh", &["-c", "grep SigIgn /proc/self/status"], 5000);
        let out = String::from_utf8(sh.capture(1024).unwrap()).unwrap();
        let ignored =
            u64::from_str_radix(out.trim().trim_start_matches("SigIgn:").trim(), 16).unwrap();
        assert_eq!(ignored & (1 << (libc::SIGPIPE - 1)), 0, "{out}");
    }

    #[test]
    fn refuses_what_cannot_be_executed() {
        let err = Command::new(Path::new("/etc/passwd"), &[], Duration::from_secs(1)).unwrap_err();
        assert_eq!(err.to_string(), "--command /etc/passwd: Permission denied");
        let err = Command::new(Path::new("/no/such"), &[], Duration::from_secs(1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--command /no/such: No such file or directory"
        );
        let err = Command::new(Path::new("/tmp"), &[], Duration::from_secs(1)).unwrap_err();
        assert_eq!(err.to_string(), "--command /tmp: Is a directory");
    }
}
