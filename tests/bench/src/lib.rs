//! The benchmark behind `make bench`, `bench-fleet` and `bench-exporter`
//! (binary `ruptime-bench`); its load generator and statistics are the
//! tests' helpers (`ruptime_tests::load`, `ruptime_tests::stats`), and so
//! are the daemons, namespaces and Prometheus servers it starts.
//!
//! - [`reference`]: the simplest server sending the same bytes.
//! - [`report_cost`]: one report, native or by running uptime.
//! - [`table`]: every mode beside the reference, rounds interleaved.
//! - [`fleets`]: whole fleets in a namespace (as root).
//! - [`exporter`]: the exporter's figures, by [`probes`], and Prometheus
//!   scraping a thousand hosts, then ten thousand over two shards (as root).
//! - [`markers`]: figures written between the markers of BENCHMARKS.md.

pub mod exporter;
pub mod fleets;
pub mod markers;
pub mod probes;
pub mod reference;
pub mod report_cost;
pub mod table;
