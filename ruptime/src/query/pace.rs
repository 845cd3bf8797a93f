//! Pacing: how fast a run begins new hosts, a token bucket on an injected clock.
//!
//! A burst of connections to one address (a daemon serving many of the
//! hosts, or one host listed many times) overflows its listen backlog, and the
//! kernel then drops SYNs that are only sent again a second later. A run
//! begins at most `per_second` hosts a second, `burst` at once.

use std::time::{Duration, Instant};

/// A token bucket.
#[derive(Debug)]
pub(super) struct Pace {
    interval: Option<Duration>,
    burst: u32,
    tokens: u32,
    refilled: Instant,
}

impl Pace {
    /// At most `per_second` a second (0: no limit), `burst` at once (at least 1).
    pub(super) fn new(per_second: u32, burst: u32, now: Instant) -> Pace {
        let burst = burst.max(1);
        Pace {
            interval: Some(Duration::from_secs(1))
                .filter(|_| per_second > 0)
                .map(|second| second / per_second)
                .filter(|interval| !interval.is_zero()),
            burst,
            tokens: burst,
            refilled: now,
        }
    }

    /// Takes a token at `now`: whether a host may begin.
    pub(super) fn take(&mut self, now: Instant) -> bool {
        let Some(interval) = self.interval else {
            return true;
        };
        if self.tokens < self.burst {
            let gained =
                now.saturating_duration_since(self.refilled).as_nanos() / interval.as_nanos();
            let gained = u32::try_from(gained).unwrap_or(u32::MAX);
            if gained > 0 {
                self.tokens = self.tokens.saturating_add(gained).min(self.burst);
                self.refilled += interval * gained.min(self.burst);
                if self.tokens == self.burst {
                    self.refilled = now;
                }
            }
        } else {
            self.refilled = now;
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }

    /// When the next token comes, if none is left at `now`.
    pub(super) fn next_token(&self, now: Instant) -> Instant {
        match self.interval {
            Some(interval) if self.tokens == 0 => (self.refilled + interval).max(now),
            _ => now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_burst_then_one_per_interval() {
        let t0 = Instant::now();
        let mut pace = Pace::new(1000, 3, t0);
        assert!((0..3).all(|_| pace.take(t0)));
        assert!(!pace.take(t0));
        assert_eq!(pace.next_token(t0), t0 + ms(1));
        assert!(pace.take(t0 + ms(1)));
        assert!(!pace.take(t0 + ms(1)));
        // After a pause the bucket is full again, never fuller.
        let later = t0 + Duration::from_secs(10);
        assert!((0..3).all(|_| pace.take(later)));
        assert!(!pace.take(later));
    }

    #[test]
    fn a_thousand_a_second_over_a_second() {
        let t0 = Instant::now();
        let mut pace = Pace::new(1000, 1, t0);
        let taken = (0..=10_000)
            .map(|us| t0 + Duration::from_micros(us * 100))
            .filter(|&t| pace.take(t))
            .count();
        assert_eq!(taken, 1001);
    }

    #[test]
    fn no_limit_always_gives() {
        let t0 = Instant::now();
        let mut pace = Pace::new(0, 1, t0);
        assert!((0..100_000).all(|_| pace.take(t0)));
        assert_eq!(pace.next_token(t0), t0);
    }
}
