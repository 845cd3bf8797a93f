//! Probes per second through an exporter: C clients, each with a kept-alive
//! HTTP connection, asking `/probe` again and again for one daemon; the
//! reference is blackbox_exporter's TCP prober reading the same line, in
//! rounds interleaved with ours.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use ruptime_tests::prometheus::agent;
use ruptime_tests::stats::Latencies;

/// What a run of probes sustained.
#[derive(Debug, Default)]
pub struct Sustained {
    /// Probes that found the host up.
    pub up: u64,
    /// Other answers, and failed requests.
    pub failed: u64,
    /// How long the run lasted.
    pub elapsed: Duration,
    /// Each probe's latency.
    pub latencies: Latencies,
}

impl Sustained {
    /// Probes that found the host up, per second.
    pub fn rate(&self) -> f64 {
        self.up as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// Asks `url` from `clients` clients at once for `time`; an answer counts as
/// up when its body has the line `up_line`.
pub fn load(url: &str, up_line: &str, clients: usize, time: Duration) -> Sustained {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (url, up_line, stop) = (url.to_owned(), up_line.to_owned(), Arc::clone(&stop));
            thread::spawn(move || {
                let http = agent(Duration::from_secs(10));
                let mut done = Sustained::default();
                while !stop.load(Ordering::Relaxed) {
                    let began = Instant::now();
                    let body = http
                        .get(&url)
                        .call()
                        .ok()
                        .filter(|r| r.status() == 200)
                        .and_then(|mut r| r.body_mut().read_to_string().ok());
                    if body.is_some_and(|b| b.lines().any(|l| l == up_line)) {
                        done.up += 1;
                        done.latencies.record(began.elapsed());
                    } else {
                        done.failed += 1;
                    }
                }
                done
            })
        })
        .collect();
    thread::sleep(time);
    stop.store(true, Ordering::Relaxed);
    let mut all = Sustained::default();
    for worker in workers {
        let done = worker.join().unwrap_or_default();
        all.up += done.up;
        all.failed += done.failed;
        all.latencies.merge(done.latencies);
    }
    all.elapsed = start.elapsed();
    all
}
