//! One child process per host, the client-side twin of the forking server.
//!
//! Each child asks its host over TCP, with its own SIGALRM deadline, and
//! writes the outcome to a pipe; the parent collects the pipes with `poll`,
//! at most [`MAX_CHILDREN`] children at a time, and prints in argument order.
//! A child still running at the deadline (stuck in name resolution, which no
//! alarm interrupts) is killed.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, pipe2};
use ruptime_common::oserror::describe;

use super::{Answer, Options, Outcome, QueryError, stream};
use crate::target::Target;

/// The most children asking at once.
const MAX_CHILDREN: usize = 64;

/// How long past the deadline the parent waits before killing a child.
const GRACE: Duration = Duration::from_millis(250);

/// The outcome's tag on the pipe: the answering address, a newline and the
/// reply follow; or an error's text.
const REPLY: u8 = b'R';
const ERROR: u8 = b'E';

/// A child at work for the target at `index`.
struct Child {
    index: usize,
    pid: Pid,
    pipe: File,
    written: Vec<u8>,
}

/// Asks every target from a child of its own; the outcomes in the targets' order.
pub(super) fn ask_all(targets: &[Target], options: &Options) -> Vec<Outcome> {
    let mut results: Vec<Option<Outcome>> = targets.iter().map(|_| None).collect();
    let mut running: Vec<Child> = Vec::new();
    let mut next = 0;
    let give_up = options.deadline + GRACE;
    loop {
        while running.len() < MAX_CHILDREN && next < targets.len() {
            match spawn(next, &targets[next], options) {
                Ok(child) => running.push(child),
                Err(e) => {
                    results[next] = Some(Err(QueryError::Failed(format!(
                        "cannot fork: {}",
                        describe(&e)
                    ))))
                }
            }
            next += 1;
        }
        if running.is_empty() {
            break;
        }
        let now = Instant::now();
        if now >= give_up {
            for child in running.drain(..) {
                let _ = kill(child.pid, Signal::SIGKILL);
                let _ = waitpid(child.pid, None);
                results[child.index] = Some(Err(QueryError::NoReply(options.timeout)));
            }
            break;
        }
        for i in readable(&running, give_up - now).into_iter().rev() {
            let mut buf = [0u8; 8192];
            match running[i].pipe.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let child = running.swap_remove(i);
                    let index = child.index;
                    results[index] = Some(finish(child));
                }
                Ok(n) => running[i].written.extend_from_slice(&buf[..n]),
            }
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or(Err(QueryError::NoReply(options.timeout))))
        .collect()
}

/// Indexes of the children whose pipes are readable within `timeout`.
fn readable(running: &[Child], timeout: Duration) -> Vec<usize> {
    let mut fds: Vec<PollFd<'_>> = running
        .iter()
        .map(|c| PollFd::new(c.pipe.as_fd(), PollFlags::POLLIN))
        .collect();
    let ms = timeout.as_micros().div_ceil(1000);
    if poll(
        &mut fds,
        PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
    )
    .is_err()
    {
        return Vec::new();
    }
    fds.iter()
        .enumerate()
        .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
        .map(|(i, _)| i)
        .collect()
}

/// Forks a child that asks `target` and writes the outcome to a pipe.
#[allow(unsafe_code)]
fn spawn(index: usize, target: &Target, options: &Options) -> std::io::Result<Child> {
    let (read, write) = pipe2(OFlag::O_CLOEXEC)?;
    // SAFETY: in fork mode ruptime starts no thread, so this forks a
    // single-threaded process and the child may run ordinary code. It never
    // returns into the parent's loop: it ends with `_exit`, flushing nothing
    // the parent has buffered.
    match unsafe { fork() }? {
        ForkResult::Parent { child } => Ok(Child {
            index,
            pid: child,
            pipe: File::from(read),
            written: Vec::new(),
        }),
        ForkResult::Child => {
            drop(read);
            let mut pipe = File::from(write);
            let _ = match stream::ask(target, options) {
                Ok(answer) => pipe
                    .write_all(&[REPLY])
                    .and_then(|()| writeln!(pipe, "{}", answer.from))
                    .and_then(|()| pipe.write_all(&answer.reply)),
                Err(e) => pipe
                    .write_all(&[ERROR])
                    .and_then(|()| pipe.write_all(e.to_string().as_bytes())),
            };
            // SAFETY: `_exit` ends the child without running the parent's
            // exit handlers or flushing its buffers.
            unsafe { libc::_exit(0) }
        }
    }
}

/// Reaps a child whose pipe is closed and reads its outcome.
fn finish(child: Child) -> Outcome {
    let status = loop {
        match waitpid(child.pid, None) {
            Err(nix::errno::Errno::EINTR) => {}
            other => break other,
        }
    };
    match child.written.split_first() {
        Some((&REPLY, rest)) => {
            let (from, reply) =
                rest.split_at(rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len()));
            let from = std::str::from_utf8(from).ok().and_then(|a| a.parse().ok());
            match (from, reply.split_first()) {
                (Some(from), Some((_, reply))) => Ok(Answer {
                    reply: reply.to_vec(),
                    from,
                }),
                _ => Err(QueryError::Failed(
                    "query process wrote a garbled answer".to_owned(),
                )),
            }
        }
        Some((&ERROR, text)) => Err(QueryError::Failed(
            String::from_utf8_lossy(text).into_owned(),
        )),
        _ => Err(QueryError::Failed(match status {
            Ok(WaitStatus::Signaled(_, signal, _)) => format!("query process killed by {signal}"),
            Ok(other) => format!("query process ended without an answer ({other:?})"),
            Err(e) => format!("query process lost: {}", describe(&std::io::Error::from(e))),
        })),
    }
}
