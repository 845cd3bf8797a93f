//! Rate-limited logging for errors that can repeat many times a second.

use std::time::{Duration, Instant};

/// Lets one log line through per interval and counts the ones held back.
#[derive(Debug)]
pub(crate) struct Throttle {
    interval: Duration,
    last: Option<Instant>,
    held: u64,
}

impl Throttle {
    /// At most one line per `interval`.
    pub(crate) fn new(interval: Duration) -> Throttle {
        Throttle {
            interval,
            last: None,
            held: 0,
        }
    }

    /// `Some(n)` when a line may be logged now, `n` being how many were held
    /// back since the last one; `None` (and one more held back) otherwise.
    pub(crate) fn check(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now < last + self.interval => {
                self.held += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.held))
            }
        }
    }
}

/// The note appended to a line after others were held back: ` (and 12 more)`.
pub(crate) fn held_note(held: u64) -> String {
    if held == 0 {
        String::new()
    } else {
        format!(" (and {held} more)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_with_the_count_held_back() {
        let mut throttle = Throttle::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(throttle.check(t0), Some(0));
        assert_eq!(throttle.check(t0 + Duration::from_millis(10)), None);
        assert_eq!(throttle.check(t0 + Duration::from_millis(900)), None);
        assert_eq!(throttle.check(t0 + Duration::from_millis(1000)), Some(2));
        assert_eq!(held_note(2), " (and 2 more)");
        assert_eq!(held_note(0), "");
    }
}
