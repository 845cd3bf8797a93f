//! The benchmark behind `make bench`: a load generator, a reference
//! responder, the cost of one report, and the side-by-side table.
//!
//! - [`load`]: C requests in flight from one process, TCP or UDP.
//! - [`reference`]: the simplest server sending the same bytes.
//! - [`report_cost`]: one report, native or by running uptime.
//! - [`table`]: every mode beside the reference, rounds interleaved.
//! - [`fleets`]: whole fleets in a namespace (as root).
//! - [`exporter`]: the exporter's figures, by [`probes`], and Prometheus
//!   scraping a thousand hosts (as root).
//! - [`markers`]: figures written between the markers of BENCHMARKS.md.
//! - [`stats`]: percentiles and medians.

pub mod exporter;
pub mod fleets;
pub mod load;
pub mod markers;
pub mod probes;
pub mod reference;
pub mod report_cost;
pub mod stats;
pub mod table;
