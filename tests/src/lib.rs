//! The test harness of the ruptime suite: the real `ruptime`, `ruptimed`
//! and `ruptime-exporter` binaries, run with deadlines and cleaned up on
//! every path, and the real components around them. The integration tests
//! are in `tests/`; the benchmark (`tests/bench`) uses these helpers too.
//!
//! - [`bins`]: where the binaries are (built once per test process).
//! - [`network`]: test hosts in network namespaces on one bridge.
//! - [`fleetnet`]: thousands of hosts, silent ones too, in one namespace.
//! - [`routed`]: hosts on networks of their own, behind a router.
//! - [`fake`]: scripted servers, well-behaved or hostile.
//! - [`namespace`]: private mount namespaces.
//! - [`slowdns`]: a DNS server that is slow but answers.
//! - [`skip`]: skipping, with a reason, what needs root or a missing tool.
//! - [`procfs`]: what /proc says about a process.
//! - [`process`]: running a command to its end, with a hard limit.
//! - [`load`]: C requests in flight from one process, TCP or UDP (the
//!   floods of the tests, and the benchmark's load); [`stats`]: percentiles
//!   and medians.
//! - [`container`]: a real systemd in a container, from this machine's root.
//! - [`daemon`]: a `ruptimed` in the foreground, killed when dropped.
//! - [`syslog`]: a syslog socket the test owns.
//! - [`uptime`]: the grammar of the uptime line; [`utmp`]: made-up utmp files.
//! - [`install`]: the project's `make` targets.
//! - [`prometheus`]: the exporter, HTTP requests, and a real Prometheus
//!   (sharded and federated too).
//! - [`alertmanager`]: a real Alertmanager, and a webhook receiving its
//!   notifications.
//! - [`pki`]: certificates for TLS; [`curl`]: HTTPS requests by curl.

pub mod alertmanager;
pub mod bins;
pub mod container;
pub mod curl;
pub mod daemon;
pub mod fake;
pub mod fleetnet;
pub mod install;
pub mod load;
pub mod namespace;
pub mod network;
pub mod pki;
pub mod process;
pub mod procfs;
pub mod prometheus;
pub mod routed;
pub mod skip;
pub mod slowdns;
pub mod stats;
pub mod syslog;
pub mod uptime;
pub mod utmp;
