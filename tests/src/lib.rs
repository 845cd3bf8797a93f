//! The test harness of the ruptime suite: the real `ruptime` and `ruptimed`
//! binaries, run with deadlines and cleaned up on every path.
//!
//! - [`bench`]: the benchmark behind `make bench` (binary `ruptime-bench`).
//! - [`bins`]: where the binaries are (built once per test process).
//! - [`namespace`]: private mount namespaces, and skipping without root.
//! - [`process`]: running a command to its end, with a hard limit.
//! - [`daemon`]: a `ruptimed` in the foreground, killed when dropped.
//! - [`syslog`]: a syslog socket the test owns.
//! - [`uptime`]: the grammar of the uptime line.

pub mod bench;
pub mod bins;
pub mod daemon;
pub mod namespace;
pub mod process;
pub mod syslog;
pub mod uptime;
