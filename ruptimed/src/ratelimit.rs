//! Budgets for datagram replies, so that the daemon cannot amplify.
//!
//! The original answers any 1-byte datagram, whatever its (spoofable)
//! source, with about 70 bytes: a 70x amplifier. Here a reply never holds
//! more bytes than its request, except for a *legacy* request (shorter than
//! its reply, as the original client's single byte), and the two kinds are
//! paid from separate budgets:
//!
//! - **Padded** requests cannot amplify, so they get a generous budget:
//!   `global` replies a second in all (a bucket of one second's worth), and
//!   no limit per source, so that 200 clients behind one address, or a
//!   monitoring host asking a fleet, are never throttled.
//! - **Legacy** requests are paid in bytes from a small bucket that refills
//!   `legacy` bytes a second and holds one second's worth: a flood of them
//!   draws at most that, whatever its size, so any flood of at least
//!   `legacy` bytes a second, over a second or more, gets at most 2 bytes
//!   back for each byte it sends (and 1 per byte in the long run). Each
//!   source also has a bucket of `burst` replies refilling at `rate` a
//!   second.
//!
//! Sources are kept in two bounded tables with O(1) lookups (least recently
//! used first out): a source is *fresh* when first seen, and becomes *known*
//! when it asks again after a quiet second. The last quarter of the legacy
//! bucket is kept for known sources that were quiet, so a flood of fresh
//! (spoofed) sources, which fills only the fresh table, cannot spend the
//! budget of the sources already known. An IPv4 address is a source, as is an
//! IPv6 /64, but for link-local addresses (`fe80::/10`): each address with its
//! interface, since every link shares the one prefix.
//!
//! Time comes in as an argument, so the budgets are tested without sleeping.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use lru::LruCache;

/// The budgets, as the command line sets them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Limits {
    /// Legacy replies per second to one source.
    pub rate: f64,
    /// Legacy replies one source may get at once.
    pub burst: f64,
    /// Bytes per second of legacy replies in all.
    pub legacy: f64,
    /// Padded replies per second in all.
    pub global: f64,
}

/// What a request is, for the budgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// At least as long as its reply (or cut to its own length).
    Padded,
    /// Shorter than its reply, which has this many bytes at most (the
    /// longest line when not known yet; [`RateLimiter::refund_legacy`] gives
    /// back what the reply did not take).
    Legacy(usize),
}

/// Whether a request may be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// It may.
    Reply,
    /// A legacy request whose source is over its limit.
    SourceLimit,
    /// A legacy request, and the legacy budget is spent.
    LegacyLimit,
    /// A padded request, and the daemon is over its global limit.
    GlobalLimit,
}

/// The most sources in each table.
const SOURCES: usize = 8_192;

/// How many seconds' worth the legacy bucket holds.
const LEGACY_SECONDS: f64 = 1.0;

/// The share of the legacy bucket kept for known, quiet sources.
const RESERVE: f64 = 0.25;

/// How long a source must have sent nothing to count as quiet.
const QUIET: Duration = Duration::from_secs(1);

/// A source: an IPv4 address, an IPv6 /64, or a link-local address and its
/// interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Source {
    V4(u32),
    V6(u64),
    LinkLocal(u128, u32),
}

impl Source {
    fn of(addr: SocketAddr) -> Source {
        match addr {
            SocketAddr::V4(v4) => Source::V4(v4.ip().to_bits()),
            SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
                Some(v4) => Source::V4(v4.to_bits()),
                None if v6.ip().is_unicast_link_local() => {
                    Source::LinkLocal(v6.ip().to_bits(), v6.scope_id())
                }
                None => Source::V6((v6.ip().to_bits() >> 64) as u64),
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

/// A source's bucket, and when it last sent a request.
#[derive(Clone, Copy, Debug)]
struct Seen {
    bucket: Bucket,
    last: Instant,
}

/// The budgets and the tables of sources.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limits: Limits,
    known: LruCache<Source, Seen>,
    fresh: LruCache<Source, Seen>,
    legacy: Bucket,
    global: Bucket,
}

impl RateLimiter {
    /// Budgets for `limits`, all full at `now`.
    pub(crate) fn new(limits: Limits, now: Instant) -> RateLimiter {
        let size = NonZeroUsize::new(SOURCES).unwrap_or(NonZeroUsize::MIN);
        RateLimiter {
            limits,
            known: LruCache::new(size),
            fresh: LruCache::new(size),
            legacy: Bucket::full(limits.legacy * LEGACY_SECONDS, now),
            global: Bucket::full(limits.global, now),
        }
    }

    /// Whether a request of `class` from `sender` may be answered at `now`;
    /// spends the budget when it may.
    pub(crate) fn check(&mut self, sender: SocketAddr, class: Class, now: Instant) -> Decision {
        match class {
            Class::Padded => {
                let global = self.limits.global;
                self.global.refill(global, global, now);
                if self.global.tokens < 1.0 {
                    return Decision::GlobalLimit;
                }
                self.global.tokens -= 1.0;
                Decision::Reply
            }
            Class::Legacy(bytes) => self.check_legacy(Source::of(sender), bytes as f64, now),
        }
    }

    /// Gives back `bytes` of a legacy reply paid for at its longest and
    /// sent shorter, up to the bucket's size.
    pub(crate) fn refund_legacy(&mut self, bytes: usize) {
        let size = self.limits.legacy * LEGACY_SECONDS;
        self.legacy.tokens = (self.legacy.tokens + bytes as f64).min(size);
    }

    fn check_legacy(&mut self, source: Source, bytes: f64, now: Instant) -> Decision {
        let Limits {
            rate,
            burst,
            legacy,
            ..
        } = self.limits;
        let known = self.known.get(&source).copied();
        let fresh = known
            .is_none()
            .then(|| self.fresh.get(&source).copied())
            .flatten();
        let mut seen = known.or(fresh).unwrap_or(Seen {
            bucket: Bucket::full(burst, now),
            last: now,
        });
        let quiet = now >= seen.last + QUIET;
        // Asking again after a quiet second makes a fresh source known.
        let promoted = fresh.is_some() && quiet;
        let reserved = known.is_some() && quiet;
        seen.last = now;
        seen.bucket.refill(rate, burst, now);
        let verdict = if seen.bucket.tokens < 1.0 {
            Decision::SourceLimit
        } else {
            let size = legacy * LEGACY_SECONDS;
            self.legacy.refill(legacy, size, now);
            let keep = if reserved { 0.0 } else { size * RESERVE };
            if self.legacy.tokens < bytes.max(1.0) + keep {
                Decision::LegacyLimit
            } else {
                self.legacy.tokens -= bytes;
                seen.bucket.tokens -= 1.0;
                Decision::Reply
            }
        };
        if known.is_some() || promoted {
            if promoted {
                self.fresh.pop(&source);
            }
            self.known.put(source, seen);
        } else {
            self.fresh.put(source, seen);
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LIMITS: Limits = Limits {
        rate: 10.0,
        burst: 20.0,
        legacy: 2048.0,
        global: 1000.0,
    };

    fn v4(n: u32) -> SocketAddr {
        (Ipv4Addr::from(0x0a00_0000 + n), 4000).into()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn replies(
        limiter: &mut RateLimiter,
        from: SocketAddr,
        class: Class,
        n: usize,
        now: Instant,
    ) -> usize {
        (0..n)
            .filter(|_| limiter.check(from, class, now) == Decision::Reply)
            .count()
    }

    #[test]
    fn padded_requests_have_no_limit_per_source_only_the_global_one() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(LIMITS, t0);
        assert_eq!(replies(&mut limiter, v4(1), Class::Padded, 2000, t0), 1000);
        assert_eq!(
            limiter.check(v4(2), Class::Padded, t0),
            Decision::GlobalLimit
        );
        assert_eq!(
            replies(&mut limiter, v4(1), Class::Padded, 2000, t0 + ms(500)),
            500
        );
    }

    #[test]
    fn a_legacy_source_gets_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(
            Limits {
                legacy: 1e9,
                ..LIMITS
            },
            t0,
        );
        assert_eq!(replies(&mut limiter, v4(1), Class::Legacy(70), 100, t0), 20);
        assert_eq!(
            limiter.check(v4(1), Class::Legacy(70), t0),
            Decision::SourceLimit
        );
        assert_eq!(
            replies(&mut limiter, v4(1), Class::Legacy(70), 100, t0 + ms(500)),
            5
        );
        assert_eq!(replies(&mut limiter, v4(2), Class::Legacy(70), 100, t0), 20);
    }

    #[test]
    fn a_legacy_flood_gets_at_most_two_bytes_back_per_byte() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(LIMITS, t0);
        // 1-byte requests at the legacy budget's own rate (2 048 bytes a
        // second), the slowest flood the bound covers, from 1 000 sources.
        let (mut received, mut sent) = (0usize, 0usize);
        for i in 0..20_480u64 {
            let now = t0 + Duration::from_micros(i * 1_000_000 / 2048);
            received += 1;
            if limiter.check(v4((i % 1000) as u32), Class::Legacy(70), now) == Decision::Reply {
                sent += 70;
            }
            if received % 2048 == 0 {
                assert!(sent <= 2 * received, "{sent} bytes out for {received} in");
            }
        }
        assert!(
            sent <= received + 2048,
            "{sent} bytes out for {received} in"
        );
        assert!(sent > 0, "some legacy requests are answered");
    }

    #[test]
    fn fresh_sources_cannot_spend_the_reserve_of_known_ones() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(LIMITS, t0);
        let monitor = v4(1_000_000);
        // Known: asked, then asked again after a quiet second.
        assert_eq!(
            limiter.check(monitor, Class::Legacy(70), t0),
            Decision::Reply
        );
        let t1 = t0 + ms(1500);
        assert_eq!(
            limiter.check(monitor, Class::Legacy(70), t1),
            Decision::Reply
        );
        // A flood from fresh sources, a new one every 0.1 ms for 1.1 s,
        // spends all but the reserve...
        let t2 = t1 + ms(100);
        let mut flood = 0;
        for n in 0..11_000u32 {
            let now = t2 + Duration::from_micros(u64::from(n) * 100);
            flood += replies(&mut limiter, v4(n), Class::Legacy(70), 1, now);
        }
        let t3 = t2 + ms(1100);
        assert!(flood * 70 <= 2048 + 2048 * 2, "{flood} replies");
        assert_eq!(
            limiter.check(v4(99_999), Class::Legacy(70), t3),
            Decision::LegacyLimit
        );
        // ...and the known source, quiet since, still gets its answer.
        assert_eq!(
            limiter.check(monitor, Class::Legacy(70), t3),
            Decision::Reply
        );
    }

    #[test]
    fn a_legacy_reply_of_unknown_length_is_paid_at_its_longest_then_refunded() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(LIMITS, t0);
        // 2 048 bytes, a quarter kept: one 1 024-byte line may go to a fresh source.
        assert_eq!(
            limiter.check(v4(1), Class::Legacy(1024), t0),
            Decision::Reply
        );
        assert_eq!(
            limiter.check(v4(2), Class::Legacy(1024), t0),
            Decision::LegacyLimit
        );
        limiter.refund_legacy(1024 - 40);
        assert_eq!(
            limiter.check(v4(2), Class::Legacy(1024), t0),
            Decision::Reply
        );
    }

    #[test]
    fn link_local_sources_are_keyed_by_address_and_interface() {
        let source = |text: &str| Source::of(text.parse().unwrap());
        assert_ne!(source("[fe80::1%1]:1"), source("[fe80::1%2]:1"));
        assert_ne!(source("[fe80::1%1]:1"), source("[fe80::2%1]:1"));
        assert_eq!(
            source("[2001:db8:1:2::1]:1"),
            source("[2001:db8:1:2:ffff::9]:2")
        );
        assert_eq!(source("[::ffff:10.0.0.7]:1"), source("10.0.0.7:9"));
    }

    #[test]
    fn the_tables_stay_bounded() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(LIMITS, t0);
        for n in 0..(3 * SOURCES as u32) {
            limiter.check(v4(n), Class::Legacy(1), t0);
            limiter.check(v4(n), Class::Legacy(1), t0 + ms(1500));
        }
        assert!(limiter.known.len() <= SOURCES && limiter.fresh.len() <= SOURCES);
    }
}
