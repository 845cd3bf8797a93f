//! The fuzz targets: each takes arbitrary bytes and must neither panic nor
//! break its invariant. `make fuzz` runs them under AFL++ (the binary of
//! this package, with feature `afl`); the test `regressions` runs them on
//! every input kept in `seeds` and `regressions`, so a crash once found
//! stays fixed. The daemon's guard and the client's host lists are reached
//! through their crates' `fuzzing` feature.

use ruptime::target::Target;
use ruptime_common::protocol::line::{Sample, read_line, write_line};
use ruptime_common::protocol::verdict::Verdict;
use ruptime_common::resolve::{Proto, split_host_port};
use ruptime_common::uptime::{proc, utmp};

/// A fuzz target: its name, and what it does with an input.
pub type FuzzTarget = (&'static str, fn(&[u8]));

/// Every target, by name.
pub const TARGETS: [FuzzTarget; 6] = [
    ("reply", reply),
    ("host_port", host_port),
    ("host_list", ruptime::fuzzing::host_list),
    ("proc", proc_files),
    ("utmp", utmp_records),
    ("guard", ruptimed::fuzzing::guard),
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

/// The target named `name`.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}
