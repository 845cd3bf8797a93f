//! Asking many hosts at once from worker threads.
//!
//! Each worker takes the next host until none is left. The caller stops
//! waiting at the deadline (plus [`GRACE`]); a worker still stuck in name
//! resolution, which nothing can interrupt, is left behind and ends with the
//! process. A single host given as an address needs no resolver, so it is
//! asked on the calling thread (a lean start for the common case).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use super::{Options, Outcome, QueryError};
use crate::target::Target;

/// The most worker threads: beyond this many unresponsive hosts in one run,
/// the others wait for a worker (within the same deadline).
const MAX_WORKERS: usize = 1024;

/// A worker's stack: the queries are shallow; the resolver is the deepest user.
const STACK_SIZE: usize = 256 * 1024;

/// How long past the deadline the caller waits for the last outcomes.
const GRACE: Duration = Duration::from_millis(250);

/// A query of one host.
pub(super) type Ask = fn(&Target, &Options) -> Outcome;

struct Shared {
    targets: Vec<Target>,
    options: Options,
    next: AtomicUsize,
}

/// Asks every target with `ask`; the outcomes in the targets' order.
pub(super) fn ask_all(targets: &[Target], options: &Options, ask: Ask) -> Vec<Outcome> {
    if let [target] = targets
        && target.is_literal()
    {
        // No resolver to wait for: every wait of the query has a deadline,
        // so one host is asked on this thread, without starting another.
        return vec![ask(target, options)];
    }
    let shared = Arc::new(Shared {
        targets: targets.to_vec(),
        options: options.clone(),
        next: AtomicUsize::new(0),
    });
    let (sender, outcomes) = mpsc::channel();
    let mut started = 0;
    for _ in 0..targets.len().min(MAX_WORKERS) {
        let shared = Arc::clone(&shared);
        let sender = sender.clone();
        let worker = thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn(move || {
                loop {
                    let i = shared.next.fetch_add(1, Ordering::Relaxed);
                    let Some(target) = shared.targets.get(i) else {
                        return;
                    };
                    if sender.send((i, ask(target, &shared.options))).is_err() {
                        return;
                    }
                }
            });
        started += usize::from(worker.is_ok());
    }
    drop(sender);
    let mut results: Vec<Option<Outcome>> = targets.iter().map(|_| None).collect();
    if started == 0 {
        for (i, target) in targets.iter().enumerate() {
            results[i] = Some(ask(target, options));
        }
    }
    let give_up = options.deadline + GRACE;
    let mut missing = results.iter().filter(|r| r.is_none()).count();
    while missing > 0 {
        match outcomes.recv_timeout(give_up.saturating_duration_since(Instant::now())) {
            Ok((i, outcome)) => {
                results[i] = Some(outcome);
                missing -= 1;
            }
            Err(_) => break,
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or(Err(QueryError::NoReply(options.timeout))))
        .collect()
}
