//! What every query of a run shares.

use std::time::Duration;

use ruptime_common::connect::Backoff;

use crate::target::Family;

/// How many new hosts a run begins per second by default: in the sweep of
/// BENCHMARKS.md the one pace at which 10 000 hosts behind one daemon of any
/// mode all answer (unpaced, a fork-mode daemon's backlog overflows and a
/// fifth of them do not); it begins 100 000 hosts in 5 s.
pub const DEFAULT_PACE: u32 = 20_000;

/// The most hosts begun at once: half the listen backlog of `ruptimed`
/// (`initserver`'s 1024), so that a burst alone cannot overflow it.
pub const BURST: u32 = 512;

/// What every query of a run shares.
#[derive(Clone, Debug)]
pub struct Options {
    /// Which address families to use.
    pub family: Family,
    /// How long each host is given, from when its query begins.
    pub timeout: Duration,
    /// The delays between connection attempts.
    pub backoff: Backoff,
    /// New hosts asked per second at most; 0 for no limit.
    pub pace: u32,
    /// New hosts asked at once at most.
    pub burst: u32,
}

impl Options {
    /// Options giving each host `timeout`.
    pub fn new(family: Family, timeout: Duration) -> Options {
        Options {
            family,
            timeout,
            backoff: Backoff::MAXSLEEP,
            pace: DEFAULT_PACE,
            burst: BURST,
        }
    }
}
