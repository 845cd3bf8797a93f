//! The fleet loop's lookups, on the suite's pool of lookup threads
//! ([`Lookups`]), reported to the loop through a channel and an eventfd.
//!
//! A host's query begins when a thread starts its lookup, and the loop
//! gives up on the lookup at the host's deadline. A lookup that runs longer
//! than [`SLOW`] may be stuck: the loop then lets another thread start in
//! its place (up to [`MAX_SLOW`] of them), so a resolver that hangs costs
//! its hosts, not the names queued behind them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use nix::sys::eventfd::{EfdFlags, EventFd};
use ruptime_common::lookups::{Limits, Lookups};
use ruptime_common::resolve::ResolveError;

use crate::target::{Family, Target};

/// The most lookups at once, but for those in place of slow ones.
const THREADS: usize = 16;

/// How long a lookup runs before another thread may start in its place.
pub(super) const SLOW: Duration = Duration::from_millis(200);

/// The most threads started in place of slow lookups.
const MAX_SLOW: usize = 256;

/// What a lookup thread reports, for the host the loop knows by `token`.
#[derive(Debug)]
pub(super) enum Report {
    /// The lookup began at this instant.
    Started(u64, Instant),
    /// The lookup ended.
    Resolved(u64, Result<Vec<SocketAddr>, ResolveError>),
}

/// The loop's lookups.
pub(super) struct Resolver {
    pool: Lookups,
    reports: Receiver<Report>,
    reporter: Sender<Report>,
    wake: Arc<EventFd>,
}

impl Resolver {
    /// A resolver with no thread yet.
    ///
    /// # Errors
    /// The eventfd cannot be made.
    pub(super) fn new() -> nix::Result<Resolver> {
        let wake = EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)?;
        let (reporter, reports) = mpsc::channel();
        Ok(Resolver {
            pool: Lookups::new(Limits {
                threads: THREADS,
                most: THREADS + MAX_SLOW,
            }),
            reports,
            reporter,
            wake: Arc::new(wake),
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
        let target = target.clone();
        let reporter = self.reporter.clone();
        let wake = Arc::clone(&self.wake);
        self.pool.submit(None, move || {
            let report = |r: Report| reporter.send(r).is_ok() && wake.write(1).is_ok();
            if report(Report::Started(token, Instant::now())) {
                report(Report::Resolved(token, target.addresses(family)));
            }
        })
    }

    /// A lookup has run longer than [`SLOW`]: another thread starts, for
    /// the lookups queued behind it.
    pub(super) fn slow(&mut self) {
        self.pool.slow();
    }

    /// The reports that came since the last call.
    pub(super) fn reports(&self) -> Vec<Report> {
        let _ = self.wake.read();
        self.reports.try_iter().collect()
    }
}
