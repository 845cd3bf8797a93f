//! How many threads this process runs, for the checks before a raw `fork`.
//!
//! A child forked from a multi-threaded process may only do async-signal-safe
//! work (another thread may have held the allocator's lock). Both programs
//! fork raw children that run ordinary code, so they fork only while they
//! have one thread, and check it at every fork, in every build.

use std::io;
use std::thread;
use std::time::{Duration, Instant};

/// The number of threads of this process, from `/proc/self/stat`.
pub fn count() -> Option<usize> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(17)?
        .parse()
        .ok()
}

/// Fails unless this process runs exactly one thread.
///
/// # Errors
/// `Other`, saying how many threads run (or that /proc could not tell).
pub fn ensure_single() -> io::Result<()> {
    match count() {
        Some(1) => Ok(()),
        Some(n) => Err(io::Error::other(format!(
            "refusing to fork with {n} threads running"
        ))),
        None => Err(io::Error::other(
            "refusing to fork: /proc/self/stat does not tell the threads",
        )),
    }
}

/// Waits, at most `limit`, until this process runs one thread: a thread
/// that was just joined is counted out by the kernel a moment after
/// `join` returns. Then as [`ensure_single`].
///
/// # Errors
/// As [`ensure_single`], once `limit` has passed.
pub fn settle(limit: Duration) -> io::Result<()> {
    let start = Instant::now();
    loop {
        match ensure_single() {
            Err(_) if start.elapsed() < limit => thread::sleep(Duration::from_millis(1)),
            done => return done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_runs_beside_the_harness_s_main_thread() {
        // The harness's main thread waits while this one runs the test.
        assert!(count().unwrap() >= 2);
        let err = ensure_single().unwrap_err().to_string();
        assert!(err.starts_with("refusing to fork with "), "{err}");
    }

    #[test]
    fn settling_waits_only_as_long_as_it_is_told() {
        let start = Instant::now();
        assert!(settle(Duration::from_millis(30)).is_err());
        assert!(start.elapsed() >= Duration::from_millis(30));
    }
}
