//! Name lookups on a bounded pool of threads, for every part of the suite
//! that looks names up many at a time: the client's fleet loop, its reverse
//! lookups of discovered hosts, and the exporter's probes.
//!
//! `getaddrinfo` and `getnameinfo` block, and nothing interrupts them, so
//! lookups run on threads that report however their caller likes (each job
//! is a closure). A pool starts up to [`Limits::threads`] threads as work
//! comes. A lookup that its caller finds slow may be stuck in a resolver
//! that hangs: [`Lookups::slow`] then lets one more thread start, up to
//! [`Limits::most`] in all, stuck ones included, so the names queued behind
//! it go on and a hung resolver cannot pile threads up. A job whose
//! deadline passed while it was queued is dropped, never run. Idle threads
//! end when the pool is dropped; a stuck one when its lookup returns.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Instant;

/// A lookup thread's stack: the resolver is its deepest user.
const STACK_SIZE: usize = 256 * 1024;

/// How many threads a pool runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Started as work comes.
    pub threads: usize,
    /// At most, with those started in place of slow lookups (stuck ones
    /// included).
    pub most: usize,
}

/// A job, and until when it may start.
struct Job {
    deadline: Option<Instant>,
    work: Box<dyn FnOnce() + Send>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    closing: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    work_came: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The pool.
pub struct Lookups {
    shared: Arc<Shared>,
    limits: Limits,
}

impl std::fmt::Debug for Lookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Lookups")
            .field("limits", &self.limits)
            .field("threads", &state.threads)
            .field("queued", &state.queue.len())
            .finish()
    }
}

impl Lookups {
    /// A pool with no thread yet.
    pub fn new(limits: Limits) -> Lookups {
        Lookups {
            shared: Arc::new(Shared::default()),
            limits,
        }
    }

    /// Runs `work` on a lookup thread once one is free, unless `deadline`
    /// passes first (it is then dropped, never run).
    ///
    /// # Errors
    /// No thread can be started and none runs: the job would never run.
    pub fn submit(
        &self,
        deadline: Option<Instant>,
        work: impl FnOnce() + Send + 'static,
    ) -> io::Result<()> {
        let mut state = self.shared.lock();
        state.queue.push_back(Job {
            deadline,
            work: Box::new(work),
        });
        if state.idle == 0 && state.threads < self.limits.threads && !self.grow(&mut state) {
            if state.threads == 0 {
                state.queue.pop_back();
                return Err(io::Error::other("cannot start a lookup thread"));
            }
        } else {
            self.shared.work_came.notify_one();
        }
        Ok(())
    }

    /// A lookup has run longer than its caller thought it would: one more
    /// thread starts, for the lookups queued behind it, unless the pool
    /// runs [`Limits::most`] threads already.
    pub fn slow(&self) {
        let mut state = self.shared.lock();
        if state.threads < self.limits.most && !state.queue.is_empty() {
            self.grow(&mut state);
        }
    }

    /// How many threads run now (busy, idle or stuck).
    pub fn threads(&self) -> usize {
        self.shared.lock().threads
    }

    /// Starts one more thread; whether it started.
    fn grow(&self, state: &mut State) -> bool {
        let shared = Arc::clone(&self.shared);
        let started = thread::Builder::new()
            .name("lookup".into())
            .stack_size(STACK_SIZE)
            .spawn(move || work(&shared))
            .is_ok();
        state.threads += usize::from(started);
        started
    }
}

impl Drop for Lookups {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.work_came.notify_all();
    }
}

/// A lookup thread: jobs until the pool closes and none is left.
fn work(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        let Some(job) = state.queue.pop_front() else {
            if state.closing {
                state.threads -= 1;
                return;
            }
            state.idle += 1;
            state = shared
                .work_came
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.idle -= 1;
            continue;
        };
        drop(state);
        if job
            .deadline
            .is_none_or(|deadline| Instant::now() < deadline)
        {
            (job.work)();
        }
        state = shared.lock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn jobs_run_on_at_most_the_threads_asked() {
        let pool = Lookups::new(Limits {
            threads: 3,
            most: 3,
        });
        let (done, finished) = mpsc::channel();
        for i in 0..20 {
            let done = done.clone();
            pool.submit(None, move || {
                thread::sleep(Duration::from_millis(5));
                done.send(i).unwrap();
            })
            .unwrap();
        }
        let mut got: Vec<i32> = (0..20)
            .map(|_| finished.recv_timeout(Duration::from_secs(10)).unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, (0..20).collect::<Vec<_>>());
        assert!(pool.threads() <= 3, "{pool:?}");
    }

    #[test]
    fn a_stuck_lookup_lets_another_thread_start_up_to_the_most() {
        let pool = Lookups::new(Limits {
            threads: 1,
            most: 2,
        });
        let (release, stuck) = mpsc::channel::<()>();
        pool.submit(None, move || {
            let _ = stuck.recv_timeout(Duration::from_secs(10));
        })
        .unwrap();
        let (done, finished) = mpsc::channel();
        for i in 0..3 {
            let done = done.clone();
            pool.submit(None, move || done.send(i).unwrap()).unwrap();
        }
        thread::sleep(Duration::from_millis(50));
        assert!(finished.try_recv().is_err(), "queued behind the stuck one");
        pool.slow();
        pool.slow();
        for _ in 0..3 {
            finished.recv_timeout(Duration::from_secs(10)).unwrap();
        }
        assert_eq!(pool.threads(), 2, "never more than the most");
        release.send(()).unwrap();
    }

    #[test]
    fn a_job_past_its_deadline_never_runs() {
        let pool = Lookups::new(Limits {
            threads: 1,
            most: 1,
        });
        let (release, stuck) = mpsc::channel::<()>();
        pool.submit(None, move || {
            let _ = stuck.recv_timeout(Duration::from_secs(10));
        })
        .unwrap();
        let (done, finished) = mpsc::channel();
        let soon = Instant::now() + Duration::from_millis(20);
        let late = done.clone();
        pool.submit(Some(soon), move || late.send("late").unwrap())
            .unwrap();
        pool.submit(None, move || done.send("on time").unwrap())
            .unwrap();
        thread::sleep(Duration::from_millis(50));
        release.send(()).unwrap();
        assert_eq!(
            finished.recv_timeout(Duration::from_secs(10)).unwrap(),
            "on time"
        );
        assert!(finished.recv_timeout(Duration::from_millis(100)).is_err());
    }
}
