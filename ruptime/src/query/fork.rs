//! Fork mode: the hosts shared among child processes, the client-side twin
//! of the forking server.
//!
//! Host `i` goes to child `i % k`, so hosts that never answer, listed
//! together, are spread over the children. Each child asks its share over
//! TCP with the event loop (one host given as an address: the blocking
//! query), all at once, and writes to a pipe a record as each host's query
//! begins and ends. The parent reads the pipes with `poll` and kills a child
//! that has said nothing for longer than a host may take.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, pipe2};
use ruptime_common::child::fork_child;
use ruptime_common::oserror::describe;
use ruptime_common::resolve::Proto;

use super::options::{Bounds, Options};
use super::outcome::{Answer, Outcome, QueryError};
use super::watch::{TICK, Watch};
use crate::target::Target;

/// The most children asking at once.
const MAX_CHILDREN: usize = 64;

/// Hosts per child below [`MAX_CHILDREN`] children.
const HOSTS_PER_CHILD: usize = 256;

/// How long past a host's timeout a child may stay silent before it is killed.
const GRACE: Duration = Duration::from_secs(2);

/// How long a thread that has ended may still be counted before the forks.
const SETTLE: Duration = Duration::from_millis(100);

/// A record's tag: a query began; it ended with a reply (the answering
/// address, a newline, the reply); it ended with an error's text.
const BEGUN: u8 = b'B';
const REPLY: u8 = b'R';
const ERROR: u8 = b'E';

/// A record's header: the tag, the host's index in the child's share and the
/// payload's length, both little-endian `u32`.
const HEADER: usize = 9;

/// A child at work.
struct Child {
    /// Which share it asks: hosts `nth`, `nth + k`, ...
    nth: usize,
    pid: Pid,
    pipe: File,
    unread: Vec<u8>,
    heard: Instant,
}

/// Asks every target from child processes; the outcomes in the targets' order.
pub(super) fn ask_all(
    targets: &[Target],
    options: &Options,
    watch: &mut dyn Watch,
) -> Vec<Outcome> {
    let k = targets
        .len()
        .div_ceil(HOSTS_PER_CHILD)
        .clamp(1, MAX_CHILDREN);
    let mut results: Vec<Option<Outcome>> = targets.iter().map(|_| None).collect();
    let mut children: Vec<Child> = Vec::new();
    // The thread that read ClusterShell's groups, joined, may still be
    // counted for a moment; if another runs, the first fork says so.
    let _ = ruptime_common::threads::settle(SETTLE);
    for nth in 0..k.min(targets.len()) {
        let share: Vec<Target> = targets.iter().skip(nth).step_by(k).cloned().collect();
        let mut share_options = options.clone();
        share_options.pace = options.pace.shared(k);
        match spawn(nth, &share, &share_options, &mut children) {
            Ok(child) => children.push(child),
            Err(e) => {
                let reason = format!("cannot fork: {}", describe(&e));
                for index in (nth..targets.len()).step_by(k) {
                    let outcome = Err(QueryError::Failed(reason.clone()));
                    watch.ended(index, &outcome);
                    results[index] = Some(outcome);
                }
            }
        }
    }
    let silence = (options.timeout + GRACE).saturating_add(between_hosts(&options.pace, k));
    while !children.is_empty() {
        for i in readable(&children).into_iter().rev() {
            let mut buf = [0u8; 16 * 1024];
            let child = &mut children[i];
            match child.pipe.read(&mut buf) {
                Ok(n) if n > 0 => {
                    child.unread.extend_from_slice(&buf[..n]);
                    child.heard = Instant::now();
                    let records = take_records(&mut child.unread);
                    let nth = child.nth;
                    for (tag, at, payload) in records {
                        let index = nth + at * k;
                        if index >= targets.len() {
                            continue;
                        }
                        match tag {
                            BEGUN => watch.begun(index, Instant::now() + options.timeout),
                            _ => {
                                let outcome = outcome(tag, &payload);
                                watch.ended(index, &outcome);
                                results[index] = Some(outcome);
                            }
                        }
                    }
                }
                _ => {
                    let child = children.swap_remove(i);
                    let why = finish(&child);
                    owe(&child, k, &why, &mut results, watch);
                }
            }
        }
        let now = Instant::now();
        for i in (0..children.len()).rev() {
            if now.duration_since(children[i].heard) > silence {
                let child = children.swap_remove(i);
                let _ = kill(child.pid, Signal::SIGKILL);
                let _ = finish(&child);
                let why = format!(
                    "query process said nothing for {} s; killed",
                    silence.as_secs()
                );
                owe(&child, k, &why, &mut results, watch);
            }
        }
        watch.tick();
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(QueryError::Failed("not asked".to_owned()))))
        .collect()
}

/// The longest a child may go between two hosts it begins: at its share of
/// the floor, which is never above the ceiling (`--pace 20` and 64
/// children: a host every 3.2 s).
fn between_hosts(pace: &Bounds, k: usize) -> Duration {
    Duration::try_from_secs_f64(1.0 / pace.shared(k).floor).unwrap_or(Duration::MAX)
}

/// Fails, with `why`, every host of `child`'s share that has no outcome yet.
fn owe(child: &Child, k: usize, why: &str, results: &mut [Option<Outcome>], watch: &mut dyn Watch) {
    for index in (child.nth..results.len()).step_by(k) {
        if results[index].is_none() {
            let outcome = Err(QueryError::Failed(why.to_owned()));
            watch.ended(index, &outcome);
            results[index] = Some(outcome);
        }
    }
}

/// Indexes of the children whose pipes are readable within [`TICK`].
fn readable(children: &[Child]) -> Vec<usize> {
    let mut fds: Vec<PollFd<'_>> = children
        .iter()
        .map(|c| PollFd::new(c.pipe.as_fd(), PollFlags::POLLIN))
        .collect();
    let timeout = PollTimeout::try_from(TICK).unwrap_or(PollTimeout::MAX);
    if poll(&mut fds, timeout).is_err() {
        return Vec::new();
    }
    fds.iter()
        .enumerate()
        .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
        .map(|(i, _)| i)
        .collect()
}

/// Forks a child that asks `share` and writes records to a pipe.
fn spawn(
    nth: usize,
    share: &[Target],
    options: &Options,
    siblings: &mut Vec<Child>,
) -> std::io::Result<Child> {
    // Fork mode starts no thread before its children are forked (the
    // resolver's threads start in the children): checked at every fork.
    ruptime_common::threads::ensure_single()?;
    let (read, write) = pipe2(OFlag::O_CLOEXEC)?;
    let mut write = Some(write);
    let child = || {
        siblings.clear();
        let Some(write) = write.take() else { return 1 };
        let mut recorder = Recorder {
            pipe: File::from(write),
        };
        super::here::ask_all(Proto::Tcp, share, options, &mut recorder);
        0
    };
    // SAFETY: the process runs one thread (checked just above), so the
    // child may run ordinary code.
    #[allow(unsafe_code)]
    let pid = unsafe { fork_child(child) }?;
    drop(write);
    Ok(Child {
        nth,
        pid,
        pipe: File::from(read),
        unread: Vec::new(),
        heard: Instant::now(),
    })
}

/// A child's watch: every begun and ended query written to the pipe.
struct Recorder {
    pipe: File,
}

impl Recorder {
    fn write(&mut self, tag: u8, index: usize, payload: &[u8]) {
        let mut record = Vec::with_capacity(HEADER + payload.len());
        record.push(tag);
        record.extend_from_slice(&u32::try_from(index).unwrap_or(u32::MAX).to_le_bytes());
        record.extend_from_slice(
            &u32::try_from(payload.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        record.extend_from_slice(payload);
        let _ = self.pipe.write_all(&record);
    }
}

impl Watch for Recorder {
    fn begun(&mut self, index: usize, _: Instant) {
        self.write(BEGUN, index, &[]);
    }

    fn ended(&mut self, index: usize, outcome: &Outcome) {
        match outcome {
            Ok(answer) => {
                let mut payload = format!("{}\n", answer.from).into_bytes();
                payload.extend_from_slice(&answer.reply);
                self.write(REPLY, index, &payload);
            }
            Err(e) => self.write(ERROR, index, e.to_string().as_bytes()),
        }
    }
}

/// The complete records at the front of `unread`, taken out of it.
fn take_records(unread: &mut Vec<u8>) -> Vec<(u8, usize, Vec<u8>)> {
    let mut records = Vec::new();
    let mut at = 0;
    while let Some(header) = unread.get(at..at + HEADER) {
        let index = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let len = u32::from_le_bytes([header[5], header[6], header[7], header[8]]) as usize;
        let Some(payload) = unread.get(at + HEADER..at + HEADER + len) else {
            break;
        };
        records.push((header[0], index, payload.to_vec()));
        at += HEADER + len;
    }
    unread.drain(..at);
    records
}

/// The outcome a record of `tag` tells.
fn outcome(tag: u8, payload: &[u8]) -> Outcome {
    match tag {
        REPLY => {
            let end = payload
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or(payload.len());
            let from = std::str::from_utf8(&payload[..end])
                .ok()
                .and_then(|a| a.parse().ok());
            match (from, payload.get(end + 1..)) {
                (Some(from), Some(reply)) => Ok(Answer::new(reply.to_vec(), from)),
                _ => Err(QueryError::Failed(
                    "query process wrote a garbled answer".to_owned(),
                )),
            }
        }
        ERROR => Err(QueryError::Failed(
            String::from_utf8_lossy(payload).into_owned(),
        )),
        _ => Err(QueryError::Failed(
            "query process wrote a garbled record".to_owned(),
        )),
    }
}

/// Reaps a child whose pipe is closed (or that was killed): what its end
/// means for the hosts it did not report.
fn finish(child: &Child) -> String {
    let status = loop {
        match waitpid(child.pid, None) {
            Err(nix::errno::Errno::EINTR) => {}
            other => break other,
        }
    };
    match status {
        Ok(WaitStatus::Signaled(_, signal, _)) => format!("query process killed by {signal}"),
        Ok(other) => format!("query process ended without an answer ({other:?})"),
        Err(e) => format!("query process lost: {}", describe(&std::io::Error::from(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_may_be_as_slow_as_its_share_of_the_pace() {
        let ms = Duration::from_millis;
        assert_eq!(between_hosts(&Bounds::new(20, None), 64), ms(3_200));
        assert_eq!(between_hosts(&Bounds::default(), 64), ms(128));
        assert_eq!(between_hosts(&Bounds::new(0, Some(1_000)), 1), ms(1));
    }

    #[test]
    fn records_survive_any_split() {
        let mut recorder_bytes = Vec::new();
        for (tag, index, payload) in [
            (BEGUN, 0usize, &b""[..]),
            (REPLY, 7, b"127.0.0.1:4000\n up 1 min\n"),
            (ERROR, 300, b"can't connect: Connection refused"),
        ] {
            recorder_bytes.push(tag);
            recorder_bytes.extend_from_slice(&(index as u32).to_le_bytes());
            recorder_bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            recorder_bytes.extend_from_slice(payload);
        }
        for cut in 0..recorder_bytes.len() {
            let mut unread = recorder_bytes[..cut].to_vec();
            let mut got = take_records(&mut unread);
            unread.extend_from_slice(&recorder_bytes[cut..]);
            got.extend(take_records(&mut unread));
            assert!(unread.is_empty());
            assert_eq!(got.len(), 3, "cut at {cut}");
            assert_eq!((got[1].0, got[1].1), (REPLY, 7));
            let answer = outcome(got[1].0, &got[1].2).unwrap();
            assert_eq!(answer.reply, b" up 1 min\n");
            assert_eq!(
                outcome(got[2].0, &got[2].2).unwrap_err().to_string(),
                "can't connect: Connection refused"
            );
        }
    }
}
