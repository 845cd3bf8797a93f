//! Names looked up for probes, on at most [`LOOKUPS`] threads at once.
//!
//! `getaddrinfo` cannot be interrupted: a lookup that hangs keeps its
//! thread after its probe gave up. Each probe looking up in its own run
//! would then leave a thread behind per probe, and a resolver that hangs
//! under a scrape of a thousand names every few seconds would pile up
//! thousands. So lookups share this bound: a lookup holds its slot until
//! `getaddrinfo` returns, and a probe that finds every slot taken until its
//! deadline fails saying so.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ruptime_common::resolve::ResolveError;
use tokio::sync::Semaphore;

use crate::request::not_unicast;
use ruptime::query::QueryError;
use ruptime::target::{Family, Target};

/// The most lookups at once, stuck ones included.
pub(crate) const LOOKUPS: usize = 64;

/// The lookup slots.
#[derive(Debug)]
pub(crate) struct Lookups {
    slots: Arc<Semaphore>,
}

impl Lookups {
    pub(crate) fn new() -> Lookups {
        Lookups {
            slots: Arc::new(Semaphore::new(LOOKUPS)),
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
        let slot = Arc::clone(&self.slots).acquire_owned();
        let Ok(Ok(slot)) = tokio::time::timeout_at(deadline.into(), slot).await else {
            return Err(QueryError::lookup_stuck(timeout));
        };
        let lookup = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            // A name, too, must name hosts: no multicast group, no broadcast.
            let mut addrs = target.addresses(family)?;
            addrs.retain(|a| not_unicast(a.ip()).is_none());
            if addrs.is_empty() {
                return Err(ResolveError::Lookup("no unicast address".to_owned()));
            }
            Ok(target.with_addresses(addrs))
        });
        match tokio::time::timeout_at(deadline.into(), lookup).await {
            Ok(Ok(found)) => found.map_err(QueryError::Resolve),
            Ok(Err(e)) => {
                let why = format!("the lookup failed: {e}");
                Err(QueryError::Resolve(ResolveError::Lookup(why)))
            }
            Err(_) => Err(QueryError::lookup_unanswered(timeout)),
        }
    }
}
