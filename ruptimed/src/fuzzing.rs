//! The datagram guard driven by bytes, for the fuzz target `guard`
//! (feature `fuzzing`): its checks stay inside the daemon's crate.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ruptime_common::protocol::request::MAX_REQUEST;

use crate::guard::classify;
use crate::ratelimit::{Class, Decision, Limits, RateLimiter};

/// The datagram guard: requests of every length from a few sources, time
/// passing by the input's steps. A padded request's reply never outgrows
/// it, and padded requests are never limited per source.
pub fn guard(data: &[u8]) {
    let limits = Limits {
        rate: 10.0,
        burst: 20.0,
        legacy: 2048.0,
        global: 1000.0,
    };
    let mut now = Instant::now();
    let mut limiter = RateLimiter::new(limits, now);
    for op in data.chunks(4) {
        let [source, len_hi, len_lo, step] = [0, 1, 2, 3].map(|i| op.get(i).copied().unwrap_or(0));
        let len = usize::from(u16::from_be_bytes([len_hi, len_lo]) % 1100);
        now += Duration::from_millis(u64::from(step) * 4);
        let line = (source % 3 > 0).then_some(usize::from(step % 120));
        let (kind, class) = classify(len, line);
        if class == Class::Padded {
            let longest = vec![0; 2 * MAX_REQUEST];
            let cut = kind.cut(&longest).len();
            assert!(cut <= len, "a {len}-byte request may get {cut} bytes");
        }
        let ip = [10, 0, source & 0x0f, source >> 4];
        let sender = SocketAddr::from((ip, 4000));
        let decision = limiter.check(sender, class, now);
        if class == Class::Padded {
            assert_ne!(decision, Decision::SourceLimit);
        }
    }
}
