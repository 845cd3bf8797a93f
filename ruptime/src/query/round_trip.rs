//! The round trip of a fleet's hosts, as their answers measure it: the
//! smoothed time and its variation, RFC 6298's estimator, and the timeout
//! that follows, after which a datagram is sent again or a silent
//! connection gets another beside it (as RFC 8085 §3.1.1 asks of
//! applications over UDP: retransmit on the measured round trip, with
//! exponential backoff, from samples that are not ambiguous, the answers
//! of hosts asked once only).

use std::time::Duration;

/// The shortest timeout: a round trip measured on loopback is tens of
/// microseconds, and a daemon busy for a moment must not be asked again
/// and again.
pub(super) const SHORTEST: Duration = Duration::from_millis(20);

/// The longest timeout: past it, answers are too slow to measure anything
/// but a path in trouble, and the host's own deadline rules.
pub(super) const LONGEST: Duration = Duration::from_secs(1);

/// The estimator.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct RoundTrip {
    /// The smoothed round trip and its variation, once there is a sample.
    smoothed: Option<(Duration, Duration)>,
}

impl RoundTrip {
    /// One more round trip measured.
    pub(super) fn sample(&mut self, rtt: Duration) {
        self.smoothed = Some(match self.smoothed {
            None => (rtt, rtt / 2),
            Some((srtt, rttvar)) => {
                let gap = srtt.abs_diff(rtt);
                (srtt * 7 / 8 + rtt / 8, rttvar * 3 / 4 + gap / 4)
            }
        });
    }

    /// The smoothed round trip, once there is a sample.
    pub(super) fn smoothed(&self) -> Option<Duration> {
        self.smoothed.map(|(srtt, _)| srtt)
    }

    /// The timeout: the smoothed round trip and four times its variation,
    /// from [`SHORTEST`] to [`LONGEST`]; `None` before any sample.
    pub(super) fn timeout(&self) -> Option<Duration> {
        self.smoothed
            .map(|(srtt, rttvar)| (srtt + rttvar * 4).clamp(SHORTEST, LONGEST))
    }
}

/// `wait` doubled `times` times (the backoff of RFC 6298), at most 2^16.
pub(super) fn backed_off(wait: Duration, times: u32) -> Duration {
    wait.saturating_mul(1 << times.min(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_estimator_of_rfc_6298() {
        let mut rtt = RoundTrip::default();
        assert_eq!(rtt.timeout(), None);
        rtt.sample(ms(100));
        // 100 + 4 * 50.
        assert_eq!(rtt.timeout(), Some(ms(300)));
        rtt.sample(ms(100));
        // srtt 100, rttvar 37.5: 250.
        assert_eq!(rtt.timeout(), Some(ms(250)));
        let mut fast = RoundTrip::default();
        for _ in 0..10 {
            fast.sample(Duration::from_micros(50));
        }
        assert_eq!(fast.timeout(), Some(SHORTEST));
        let mut slow = RoundTrip::default();
        slow.sample(Duration::from_secs(3));
        assert_eq!(slow.timeout(), Some(LONGEST));
    }
}
