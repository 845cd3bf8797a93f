//! Latency percentiles and medians.

use std::time::Duration;

/// Latencies, in microseconds.
#[derive(Debug, Default)]
pub struct Latencies {
    micros: Vec<u32>,
}

impl Latencies {
    /// Adds one.
    pub fn record(&mut self, latency: Duration) {
        self.micros
            .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
    }

    /// Adds all of `other`.
    pub fn merge(&mut self, other: Latencies) {
        self.micros.extend(other.micros);
    }

    /// The `p`-th percentile (0 to 100), or zero when there is none.
    pub fn percentile(&mut self, p: f64) -> Duration {
        if self.micros.is_empty() {
            return Duration::ZERO;
        }
        self.micros.sort_unstable();
        let rank = ((p / 100.0) * (self.micros.len() - 1) as f64).round() as usize;
        Duration::from_micros(u64::from(self.micros[rank.min(self.micros.len() - 1)]))
    }
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_medians() {
        let mut l = Latencies::default();
        for us in (1..=100).rev() {
            l.record(Duration::from_micros(us));
        }
        assert_eq!(l.percentile(50.0), Duration::from_micros(51));
        assert_eq!(l.percentile(99.0), Duration::from_micros(99));
        assert_eq!(l.percentile(100.0), Duration::from_micros(100));
        assert_eq!(Latencies::default().percentile(50.0), Duration::ZERO);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
