//! Names looked up for probes, on the suite's pool of lookup threads: at
//! most [`LOOKUPS`] at once, stuck ones included.
//!
//! `getaddrinfo` cannot be interrupted: a lookup that hangs keeps its
//! thread after its probe gave up. Each probe looking up on a thread of its
//! own would then leave a thread behind per probe, and a resolver that
//! hangs under a scrape of a thousand names every few seconds would pile up
//! thousands. So lookups share the pool: a lookup slow for [`SLOW`] lets
//! another thread start for those queued behind it, up to [`LOOKUPS`]; a
//! probe whose lookup never started by its deadline fails saying so.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ruptime::query::QueryError;
use ruptime::target::{Family, Target};
use ruptime_common::lookups::{Limits, Lookups};
use ruptime_common::resolve::ResolveError;
use tokio::sync::oneshot;

use crate::request::not_unicast;

/// The most lookups at once, stuck ones included.
pub(crate) const LOOKUPS: usize = 64;

/// The lookups started at once, before any is slow.
const THREADS: usize = 16;

/// How long a lookup runs before another thread may start in its place.
const SLOW: Duration = Duration::from_millis(200);

/// The probes' lookups.
#[derive(Debug)]
pub(crate) struct Names {
    pool: Lookups,
}

impl Names {
    pub(crate) fn new() -> Names {
        Names {
            pool: Lookups::new(Limits {
                threads: THREADS,
                most: LOOKUPS,
            }),
        }
    }

    /// `target` with its addresses of `family`, looked up by `deadline`
    /// (`timeout` from when the probe began, for messages).
    pub(crate) async fn resolve(
        &self,
        target: Target,
        family: Family,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Target, QueryError> {
        if target.is_resolved() {
            return Ok(target);
        }
        let started = Arc::new(AtomicBool::new(false));
        let (answer, answered) = oneshot::channel();
        let job = {
            let started = Arc::clone(&started);
            move || {
                started.store(true, Ordering::SeqCst);
                let _ = answer.send(look_up(target, family));
            }
        };
        if let Err(e) = self.pool.submit(Some(deadline), job) {
            let why = format!("the lookup failed: {e}");
            return Err(QueryError::Resolve(ResolveError::Lookup(why)));
        }
        tokio::pin!(answered);
        let slow = (Instant::now() + SLOW).min(deadline);
        if let Ok(found) = tokio::time::timeout_at(slow.into(), &mut answered).await {
            return found.map_err(|_| gone(&started, timeout))?;
        }
        self.pool.slow();
        match tokio::time::timeout_at(deadline.into(), answered).await {
            Ok(Ok(found)) => found,
            Ok(Err(_)) | Err(_) => Err(gone(&started, timeout)),
        }
    }
}

/// `target`'s addresses of `family`: unicast ones only, as a probe asks one host.
fn look_up(target: Target, family: Family) -> Result<Target, QueryError> {
    let mut addrs = target.addresses(family)?;
    addrs.retain(|a| not_unicast(a.ip()).is_none());
    if addrs.is_empty() {
        return Err(QueryError::Resolve(ResolveError::Lookup(
            "no unicast address".to_owned(),
        )));
    }
    Ok(target.with_addresses(addrs))
}

/// Why a lookup gave nothing by its deadline: it never started (every
/// thread was stuck), or it did not end.
fn gone(started: &AtomicBool, timeout: Duration) -> QueryError {
    if started.load(Ordering::SeqCst) {
        QueryError::lookup_unanswered(timeout)
    } else {
        QueryError::lookup_stuck(timeout)
    }
}
