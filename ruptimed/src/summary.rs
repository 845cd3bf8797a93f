//! What can happen at every request (a refused client, a dropped datagram)
//! counted, and told as one log line per [`EVERY`] at most while it goes
//! on, never one line per request; no timer runs while nothing happens.

use std::time::{Duration, Instant};

/// How often, at most, a summary is logged.
pub(crate) const EVERY: Duration = Duration::from_secs(10);

/// When the next summary is due, if anything happened since the last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Due(Option<Instant>);

impl Due {
    /// Something happened at `now`: a summary is due [`EVERY`] after the
    /// first since the last summary.
    pub(crate) fn noted(&mut self, now: Instant) {
        self.0.get_or_insert(now + EVERY);
    }

    /// When the summary is due, if one is.
    pub(crate) fn at(&self) -> Option<Instant> {
        self.0
    }

    /// Whether the summary is to be logged now (it is due at `now`, or
    /// this is the end); if so, the next waits for something to happen.
    pub(crate) fn take(&mut self, now: Instant, at_end: bool) -> bool {
        let due = self.0.is_some_and(|at| at_end || now >= at);
        if due {
            self.0 = None;
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_summary_per_interval_and_none_when_nothing_happened() {
        let t0 = Instant::now();
        let mut due = Due::default();
        assert!(!due.take(t0, true), "nothing happened");
        due.noted(t0);
        due.noted(t0 + Duration::from_secs(5));
        assert_eq!(due.at(), Some(t0 + EVERY));
        assert!(!due.take(t0 + Duration::from_secs(9), false));
        assert!(due.take(t0 + EVERY, false));
        assert_eq!(due.at(), None);
        due.noted(t0 + EVERY);
        assert!(due.take(t0 + EVERY, true), "the end tells the rest");
    }
}
