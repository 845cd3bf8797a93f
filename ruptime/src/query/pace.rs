//! A token bucket on an injected clock, at a rate that may change: how
//! fast new hosts begin, in one group of destinations or in the whole run.

use std::time::{Duration, Instant};

/// The most hosts begun at once, however high the rate: half the listen
/// backlog Linux allows by default (`net.core.somaxconn`, 4096).
pub(super) const MOST_AT_ONCE: f64 = 2048.0;

/// How much of a second's hosts may begin at once: a turn of a busy loop
/// (tens of milliseconds) must not cap the rate.
const BURST_SHARE: Duration = Duration::from_millis(25);

/// A token bucket.
#[derive(Clone, Debug)]
pub(super) struct Pace {
    /// Tokens a second; infinite: no limit.
    per_second: f64,
    burst: f64,
    tokens: f64,
    refilled: Instant,
}

impl Pace {
    /// At most `per_second` a second (infinite: no limit), full at `now`.
    pub(super) fn new(per_second: f64, now: Instant) -> Pace {
        let burst = burst(per_second);
        Pace {
            per_second,
            burst,
            tokens: burst,
            refilled: now,
        }
    }

    /// The rate from `now` on.
    pub(super) fn set_rate(&mut self, per_second: f64, now: Instant) {
        self.refill(now);
        self.per_second = per_second;
        self.burst = burst(per_second);
        self.tokens = self.tokens.min(self.burst);
    }

    /// Takes a token at `now`: whether a host may begin.
    pub(super) fn take(&mut self, now: Instant) -> bool {
        if self.per_second.is_infinite() {
            return true;
        }
        self.refill(now);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }

    /// When the next token comes (`now` if one is there).
    pub(super) fn next_token(&self, now: Instant) -> Instant {
        if self.per_second.is_infinite() {
            return now;
        }
        let short = 1.0 - self.tokens_at(now);
        if short <= 0.0 {
            return now;
        }
        now + Duration::from_secs_f64(short / self.per_second).max(Duration::from_micros(1))
    }

    fn refill(&mut self, now: Instant) {
        if self.per_second.is_finite() {
            self.tokens = self.tokens_at(now);
        }
        self.refilled = self.refilled.max(now);
    }

    /// The tokens the bucket holds at `now`, a finite rate refilling it.
    fn tokens_at(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        (self.tokens + elapsed * self.per_second).min(self.burst)
    }
}

/// The tokens a bucket at `per_second` holds at most: [`BURST_SHARE`] of
/// them, from 1 to [`MOST_AT_ONCE`].
fn burst(per_second: f64) -> f64 {
    (per_second * BURST_SHARE.as_secs_f64()).clamp(1.0, MOST_AT_ONCE)
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
        let mut pace = Pace::new(40.0, t0);
        assert!(pace.take(t0), "25 ms of a 40/s bucket: one at once");
        assert!(!pace.take(t0));
        assert_eq!(pace.next_token(t0), t0 + ms(25));
        assert!(pace.take(t0 + ms(25)));
        assert!(!pace.take(t0 + ms(25)));
        let mut fast = Pace::new(20_000.0, t0);
        assert_eq!((0..10_000).filter(|_| fast.take(t0)).count(), 500);
        // After a pause the bucket is full again, never fuller.
        let later = t0 + Duration::from_secs(10);
        assert_eq!((0..10_000).filter(|_| fast.take(later)).count(), 500);
        let mut huge = Pace::new(1e9, t0);
        assert_eq!((0..10_000).filter(|_| huge.take(t0)).count(), 2048);
    }

    #[test]
    fn holds_its_rate_over_time() {
        let t0 = Instant::now();
        let mut pace = Pace::new(1000.0, t0);
        let begun = (0..100_000)
            .map(|i| t0 + Duration::from_micros(i * 10))
            .filter(|&t| pace.take(t))
            .count();
        // One second: 1000, and the first burst of 25.
        assert!((1000..=1025).contains(&begun), "{begun}");
    }

    #[test]
    fn a_new_rate_counts_from_now() {
        let t0 = Instant::now();
        let mut pace = Pace::new(40.0, t0);
        assert!(pace.take(t0));
        pace.set_rate(1000.0, t0 + ms(5));
        assert!(
            !pace.take(t0 + ms(5)),
            "a fifth of a token came at the old rate"
        );
        assert!(pace.take(t0 + ms(6)), "and the rest at the new one");
    }

    #[test]
    fn no_limit_means_none() {
        let t0 = Instant::now();
        let mut pace = Pace::new(f64::INFINITY, t0);
        assert!((0..100_000).all(|_| pace.take(t0)));
        assert_eq!(pace.next_token(t0), t0);
    }
}
