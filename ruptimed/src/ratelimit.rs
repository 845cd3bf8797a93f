//! Rate limits on datagram replies, so that the daemon is no reflector.
//!
//! The original answers any 1-byte datagram, whatever its (spoofable) source,
//! with about 60 bytes: a 60x amplifier. Here every reply spends a token from
//! its source's bucket (an IPv4 address, or an IPv6 /64) and one from a global
//! bucket. A source's bucket holds `burst` tokens and refills at `rate` per
//! second; the global one holds and refills `global` per second. While the
//! global bucket is low, its last quarter is kept for sources that were quiet
//! (nothing from them for [`QUIET`]), so a flood from many addresses, which
//! keeps its sources busy, cannot starve a well-behaved client. The table of
//! sources is bounded; sources whose buckets have refilled are forgotten when
//! room is needed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The limits, as the command line sets them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Replies per second to one source.
    pub rate: f64,
    /// Replies one source may get at once.
    pub burst: f64,
    /// Replies per second in all.
    pub global: f64,
}

/// Why a request gets no reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It may be answered.
    Reply,
    /// Its source is over its limit.
    SourceLimit,
    /// The daemon is over its global limit.
    GlobalLimit,
}

/// The most sources remembered at once.
const SOURCES: usize = 16_384;

/// How often, at most, a full table is swept for quiet sources.
const SWEEP_EVERY: Duration = Duration::from_millis(100);

/// The share of the global bucket kept for quiet sources.
const RESERVE: f64 = 0.25;

/// How long a source must have sent nothing to count as quiet.
const QUIET: Duration = Duration::from_secs(1);

/// A source: an IPv4 address, or the /64 of an IPv6 one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Source {
    V4(u32),
    V6(u64),
}

impl Source {
    fn of(addr: IpAddr) -> Source {
        match addr {
            IpAddr::V4(v4) => Source::V4(v4.to_bits()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source::V4(v4.to_bits()),
                None => Source::V6((v6.to_bits() >> 64) as u64),
            },
        }
    }
}

/// Tokens, and when they were last counted.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A source's bucket, and when it last sent a request.
#[derive(Clone, Copy, Debug)]
struct Seen {
    bucket: Bucket,
    last: Option<Instant>,
}

impl Bucket {
    fn full(size: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: size,
            at: now,
        }
    }

    /// Adds what `rate` refilled since the last count, up to `size`.
    fn refill(&mut self, rate: f64, size: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(size);
        self.at = now;
    }
}

/// The buckets of every recent source, and the global one.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    sources: HashMap<Source, Seen>,
    global: Bucket,
    swept: Option<Instant>,
}

impl RateLimiter {
    /// Buckets for `limits`, all full.
    pub fn new(limits: Limits) -> RateLimiter {
        RateLimiter {
            limits,
            sources: HashMap::new(),
            global: Bucket::full(limits.global, Instant::now()),
            swept: None,
        }
    }

    /// Whether a request from `addr` may be answered at `now`; spends the
    /// tokens when it may.
    pub fn check(&mut self, addr: IpAddr, now: Instant) -> Verdict {
        let Limits {
            rate,
            burst,
            global,
        } = self.limits;
        let source = Source::of(addr);
        if self.sources.len() >= SOURCES && !self.sources.contains_key(&source) {
            self.sweep(now);
        }
        // A source the full table has no room for has no bucket of its own:
        // only the global limit, without the reserve, applies to it.
        let mut seen = if self.sources.len() < SOURCES {
            let fresh = Seen {
                bucket: Bucket::full(burst, now),
                last: None,
            };
            Some(self.sources.entry(source).or_insert(fresh))
        } else {
            self.sources.get_mut(&source)
        };
        let quiet = match seen.as_deref_mut() {
            Some(seen) => {
                seen.bucket.refill(rate, burst, now);
                let quiet = seen.last.is_none_or(|last| now >= last + QUIET);
                seen.last = Some(now);
                if seen.bucket.tokens < 1.0 {
                    return Verdict::SourceLimit;
                }
                quiet
            }
            None => false,
        };
        self.global.refill(global, global, now);
        let keep = if quiet { 0.0 } else { global * RESERVE };
        if self.global.tokens < 1.0 + keep {
            return Verdict::GlobalLimit;
        }
        self.global.tokens -= 1.0;
        if let Some(seen) = seen {
            seen.bucket.tokens -= 1.0;
        }
        Verdict::Reply
    }

    /// Forgets the sources whose buckets have refilled, at most every [`SWEEP_EVERY`].
    fn sweep(&mut self, now: Instant) {
        if self.swept.is_some_and(|at| now < at + SWEEP_EVERY) {
            return;
        }
        self.swept = Some(now);
        let Limits { rate, burst, .. } = self.limits;
        self.sources.retain(|_, seen| {
            seen.bucket.refill(rate, burst, now);
            seen.bucket.tokens < burst
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
    }

    fn replies(limiter: &mut RateLimiter, addr: IpAddr, n: usize, now: Instant) -> usize {
        (0..n)
            .filter(|_| limiter.check(addr, now) == Verdict::Reply)
            .count()
    }

    #[test]
    fn a_source_gets_its_burst_then_its_rate() {
        let mut limiter = RateLimiter::new(Limits {
            rate: 10.0,
            burst: 20.0,
            global: 1000.0,
        });
        let t0 = Instant::now();
        assert_eq!(replies(&mut limiter, v4(1), 100, t0), 20);
        assert_eq!(limiter.check(v4(1), t0), Verdict::SourceLimit);
        assert_eq!(
            replies(&mut limiter, v4(1), 100, t0 + Duration::from_millis(500)),
            5
        );
        assert_eq!(
            replies(&mut limiter, v4(2), 100, t0),
            20,
            "another source has its own bucket"
        );
    }

    #[test]
    fn an_ipv6_64_is_one_source_and_mapped_ipv4_is_ipv4() {
        let mut limiter = RateLimiter::new(Limits {
            rate: 1.0,
            burst: 2.0,
            global: 1000.0,
        });
        let now = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(
            replies(&mut limiter, a, 1, now) + replies(&mut limiter, b, 5, now),
            2
        );
        let mapped = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 7).to_ipv6_mapped());
        assert_eq!(
            replies(&mut limiter, v4(7), 2, now) + replies(&mut limiter, mapped, 5, now),
            2
        );
        assert_eq!(
            replies(&mut limiter, IpAddr::V6(Ipv6Addr::LOCALHOST), 5, now),
            2
        );
    }

    #[test]
    fn the_global_limit_keeps_a_reserve_for_quiet_sources() {
        let mut limiter = RateLimiter::new(Limits {
            rate: 10.0,
            burst: 20.0,
            global: 100.0,
        });
        let t0 = Instant::now();
        let flood: usize = (0..50).map(|n| replies(&mut limiter, v4(n), 20, t0)).sum();
        assert!(flood <= 100, "{flood} replies over a global limit of 100");
        // The flood goes on; its sources are busy, so they cannot take the reserve.
        let t1 = t0 + Duration::from_millis(300);
        let more: usize = (0..50).map(|n| replies(&mut limiter, v4(n), 20, t1)).sum();
        assert!(more <= 30, "{more} replies in 0.3 s at 100/s");
        assert_eq!(
            limiter.check(v4(1000), t1),
            Verdict::Reply,
            "a quiet source still gets its answer"
        );
    }

    #[test]
    fn the_table_stays_bounded_and_forgets_quiet_sources() {
        let mut limiter = RateLimiter::new(Limits {
            rate: 1.0,
            burst: 1.0,
            global: 1e9,
        });
        let now = Instant::now();
        for n in 0..(SOURCES as u32 + 100) {
            limiter.check(v4(n), now);
        }
        assert!(limiter.sources.len() <= SOURCES);
        let later = now + Duration::from_secs(2);
        assert_eq!(
            limiter.check(v4(SOURCES as u32 + 500), later),
            Verdict::Reply
        );
        assert!(
            limiter.sources.len() <= 2,
            "refilled buckets were forgotten: {}",
            limiter.sources.len()
        );
    }
}
