//! Names looked up concurrently, on a bounded pool of threads.
//!
//! `getaddrinfo` blocks and nothing interrupts it, so lookups run on threads
//! that report to the loop through a channel and wake it with an eventfd.
//! A host's query begins when a thread starts its lookup, and the loop gives
//! up on the lookup at the host's deadline. A lookup that runs longer than
//! [`SLOW`] may be stuck: the pool may then start another thread in its
//! place (up to [`MAX_SLOW`] of them), so a resolver that hangs costs its
//! hosts, not the names queued behind them. Threads left behind end with the
//! process; idle ones when the pool is dropped.

use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::eventfd::{EfdFlags, EventFd};
use ruptime_common::resolve::ResolveError;

use crate::target::{Family, Target};

/// The most lookups at once.
const THREADS: usize = 16;

/// How long a lookup runs before another thread may start in its place.
pub(super) const SLOW: Duration = Duration::from_millis(200);

/// The most threads started in place of slow lookups.
const MAX_SLOW: usize = 256;

/// A thread's stack: the resolver is its deepest user.
const STACK_SIZE: usize = 256 * 1024;

/// What a lookup thread reports, for the host the loop knows by `token`.
#[derive(Debug)]
pub(super) enum Report {
    /// The lookup began at this instant.
    Started(u64, Instant),
    /// The lookup ended.
    Resolved(u64, Result<Vec<SocketAddr>, ResolveError>),
}

struct Job {
    token: u64,
    target: Target,
    family: Family,
}

/// The pool.
pub(super) struct Resolver {
    jobs: Sender<Job>,
    queue: Arc<Mutex<Receiver<Job>>>,
    reports: Receiver<Report>,
    reporter: Sender<Report>,
    wake: Arc<EventFd>,
    threads: usize,
    slow: usize,
}

impl Resolver {
    /// A pool with no thread yet.
    ///
    /// # Errors
    /// The eventfd cannot be made.
    pub(super) fn new() -> nix::Result<Resolver> {
        let wake = EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)?;
        let (jobs, queue) = mpsc::channel();
        let (reporter, reports) = mpsc::channel();
        Ok(Resolver {
            jobs,
            queue: Arc::new(Mutex::new(queue)),
            reports,
            reporter,
            wake: Arc::new(wake),
            threads: 0,
            slow: 0,
        })
    }

    /// What the loop polls to hear of reports.
    pub(super) fn wake(&self) -> &EventFd {
        &self.wake
    }

    /// Looks `target` up for the host known by `token`.
    ///
    /// # Errors
    /// No thread can be started and none runs: the lookup will not happen.
    pub(super) fn submit(
        &mut self,
        token: u64,
        target: &Target,
        family: Family,
    ) -> std::io::Result<()> {
        if self.threads < THREADS && !self.grow() && self.threads == 0 {
            return Err(std::io::Error::other("cannot start a thread"));
        }
        let job = Job {
            token,
            target: target.clone(),
            family,
        };
        self.jobs
            .send(job)
            .map_err(|_| std::io::Error::other("the resolver pool is gone"))
    }

    /// A lookup has run longer than [`SLOW`]: another thread starts, for
    /// the lookups queued behind it.
    pub(super) fn slow(&mut self) {
        if self.slow < MAX_SLOW {
            self.slow += 1;
            self.grow();
        }
    }

    /// Starts one more thread; whether it started.
    fn grow(&mut self) -> bool {
        let started = self.spawn().is_ok();
        self.threads += usize::from(started);
        started
    }

    /// The reports that came since the last call.
    pub(super) fn reports(&self) -> Vec<Report> {
        let _ = self.wake.read();
        self.reports.try_iter().collect()
    }

    fn spawn(&self) -> std::io::Result<()> {
        let queue = Arc::clone(&self.queue);
        let reporter = self.reporter.clone();
        let wake = Arc::clone(&self.wake);
        thread::Builder::new()
            .name("resolver".into())
            .stack_size(STACK_SIZE)
            .spawn(move || {
                loop {
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    let report = |r: Report| reporter.send(r).is_ok() && wake.write(1).is_ok();
                    if !report(Report::Started(job.token, Instant::now())) {
                        return;
                    }
                    let result = job.target.addresses(job.family);
                    if !report(Report::Resolved(job.token, result)) {
                        return;
                    }
                }
            })
            .map(|_| ())
    }
}
