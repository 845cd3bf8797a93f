//! What every query of a run shares.

use std::time::Duration;

use ruptime_common::connect::Backoff;

use crate::target::Family;

/// The rate at which a group of destinations begins, hosts a second,
/// before its answers say more: high enough that hosts which never answer
/// (a silent subnet, a thousand hung daemons) all begin within a fraction
/// of the timeout, low enough for a daemon that forks per connection.
pub const START: f64 = 5_000.0;

/// The slowest rate signs of overload bring a group to, hosts a second.
pub const FLOOR: f64 = 500.0;

/// The bounds of the adaptive pace ([`START`], [`FLOOR`], `--pace`,
/// `--min-pace`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    /// Each group's first rate, before `floor` and `ceiling`.
    pub start: f64,
    /// No group slower.
    pub floor: f64,
    /// The whole run no faster (infinite: no ceiling).
    pub ceiling: f64,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            start: START,
            floor: FLOOR,
            ceiling: f64::INFINITY,
        }
    }
}

impl Bounds {
    /// With `--pace` (0: none) and `--min-pace`, as given; a floor above the
    /// ceiling is the ceiling (`--pace N --min-pace N`: a fixed pace).
    pub fn new(ceiling: u32, floor: Option<u32>) -> Bounds {
        let ceiling = match ceiling {
            0 => f64::INFINITY,
            n => f64::from(n),
        };
        Bounds {
            start: START,
            floor: floor.map_or(FLOOR, f64::from).min(ceiling),
            ceiling,
        }
    }

    /// A group's first rate.
    pub fn start(&self) -> f64 {
        self.start.max(self.floor).min(self.ceiling)
    }

    /// One `k`th of each bound: the share of one of `k` processes.
    pub fn shared(&self, k: usize) -> Bounds {
        let k = k.max(1) as f64;
        Bounds {
            start: self.start / k,
            floor: self.floor / k,
            ceiling: self.ceiling / k,
        }
    }
}

/// What every query of a run shares.
#[derive(Clone, Debug)]
pub struct Options {
    /// Which address families to use.
    pub family: Family,
    /// How long each host is given, from when its query begins.
    pub timeout: Duration,
    /// The delays between connection attempts.
    pub backoff: Backoff,
    /// The bounds of the pace at which new hosts begin.
    pub pace: Bounds,
}

impl Options {
    /// Options giving each host `timeout`.
    pub fn new(family: Family, timeout: Duration) -> Options {
        Options {
            family,
            timeout,
            backoff: Backoff::MAXSLEEP,
            pace: Bounds::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_as_the_flags_give_them() {
        let none = Bounds::new(0, None);
        assert_eq!(none, Bounds::default());
        assert_eq!(none.start(), START);
        let low = Bounds::new(1_000, None);
        assert_eq!(
            (low.start(), low.floor, low.ceiling),
            (1_000.0, FLOOR, 1_000.0)
        );
        let fixed = Bounds::new(20_000, Some(20_000));
        assert_eq!(
            (fixed.start(), fixed.floor, fixed.ceiling),
            (20_000.0, 20_000.0, 20_000.0)
        );
        let above = Bounds::new(100, Some(5_000));
        assert_eq!(above.floor, 100.0, "never above the ceiling");
        let share = Bounds::new(20_000, None).shared(4);
        assert_eq!(
            (share.start, share.floor, share.ceiling),
            (1_250.0, 125.0, 5_000.0)
        );
        assert!(Bounds::default().shared(64).ceiling.is_infinite());
    }
}
