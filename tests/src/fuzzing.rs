//! The fuzz targets' bodies: each takes arbitrary bytes and must neither
//! panic nor break its invariant. `make fuzz` runs them under AFL++ (the
//! crate in `tests/fuzz`); the test `fuzz_regressions` runs them on every
//! input kept in `tests/fuzz/seeds` and `tests/fuzz/regressions`, so a crash
//! once found stays fixed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ruptime::target::Target;
use ruptime_common::protocol::line::{Sample, read_line, write_line};
use ruptime_common::protocol::request::MAX_REQUEST;
use ruptime_common::protocol::verdict::Verdict;
use ruptime_common::resolve::{Proto, split_host_port};
use ruptime_common::uptime::{proc, utmp};
use ruptimed::guard::classify;
use ruptimed::ratelimit::{Class, Decision, Limits, RateLimiter};

/// A fuzz target: its name, and what it does with an input.
pub type FuzzTarget = (&'static str, fn(&[u8]));

/// Every target, by name.
pub const TARGETS: [FuzzTarget; 6] = [
    ("reply", reply),
    ("host_port", host_port),
    ("host_list", host_list),
    ("proc", proc_files),
    ("utmp", utmp_records),
    ("guard", guard),
];

/// A daemon's reply, as the client judges it: an uptime line read from it
/// writes a line that reads back as the same figures, and writing those
/// gives the same bytes again (with either decimal separator).
pub fn reply(data: &[u8]) {
    let Verdict::Uptime(sample) = Verdict::of(data) else {
        return;
    };
    for radix in [".", ","] {
        let mut written = Vec::new();
        write_line(&sample, radix, &mut written);
        let again = read_line(&written).unwrap_or_else(|| panic!("{written:?} does not read back"));
        assert!(same(&again, &sample), "{again:?} read back from {sample:?}");
        let mut twice = Vec::new();
        write_line(&again, radix, &mut twice);
        assert_eq!(twice, written);
    }
}

/// Whether two samples hold the same figures (a NaN load equal to a NaN).
fn same(a: &Sample, b: &Sample) -> bool {
    let loads = a
        .loads
        .iter()
        .zip(b.loads)
        .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()));
    (a.clock, a.uptime, a.users) == (b.clock, b.uptime, b.users) && loads
}

/// `HOST`, `HOST:PORT`, `[V6ADDR]:PORT` as given on the command line.
pub fn host_port(data: &[u8]) {
    let Ok(spec) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((host, port)) = split_host_port(spec) {
        assert!(
            !host.is_empty() && port.is_none_or(|p| !p.is_empty()),
            "{spec:?}"
        );
    }
    let target = Target::new(spec, 4000, Proto::Tcp);
    if let Some(addr) = target.literal_address() {
        assert!(
            target.is_resolved(),
            "{spec:?} has {addr} but is no literal"
        );
    }
}

/// A host list (`-f FILE`): words, never empty, never holding a comment.
pub fn host_list(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for host in ruptime::hosts::listed(text) {
        assert!(!host.is_empty() && !host.contains('#'), "{host:?}");
        assert!(!host.contains(char::is_whitespace), "{host:?}");
    }
}

/// `/proc/uptime` and `/proc/loadavg` as the daemon reads them.
pub fn proc_files(data: &[u8]) {
    let _ = proc::parse_uptime(data);
    let _ = proc::parse_loads(data);
}

/// The size of a utmp record on Linux.
const UTMP_RECORD: usize = 384;

/// A utmp file: never more users than whole records.
pub fn utmp_records(data: &[u8]) {
    let users = utmp::count_in(data).unwrap_or(0);
    assert!(users as usize <= data.len() / UTMP_RECORD, "{users} users");
}

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
        let verdict = limiter.check(sender, class, now);
        if class == Class::Padded {
            assert_ne!(verdict, Decision::SourceLimit);
        }
    }
}

/// The target named `name`.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}
