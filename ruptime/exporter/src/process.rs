//! The standard process metrics (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, ...), read from `/proc/self` by `procfs`
//! at each scrape. prometheus-client has none, and the collector built on
//! it, `kubert-prometheus-process`, needs prometheus-client 0.23, which does
//! not escape label values.

use procfs::process::{LimitValue, Process as Proc};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// The collector of this process's metrics.
#[derive(Debug)]
pub(crate) struct Process;

/// A gauge's name, help, unit and value.
type Reading = (&'static str, &'static str, Option<Unit>, f64);

impl Process {
    /// What `/proc/self` says now; `None` when it cannot be read.
    fn read() -> Option<(f64, Vec<Reading>)> {
        let me = Proc::myself().ok()?;
        let stat = me.stat().ok()?;
        let ticks = procfs::ticks_per_second() as f64;
        let cpu = (stat.utime + stat.stime) as f64 / ticks;
        let mut gauges = vec![
            (
                "process_resident_memory",
                "Resident memory size in bytes.",
                Some(Unit::Bytes),
                (stat.rss * procfs::page_size()) as f64,
            ),
            (
                "process_virtual_memory",
                "Virtual memory size in bytes.",
                Some(Unit::Bytes),
                stat.vsize as f64,
            ),
            (
                "process_threads",
                "Number of OS threads in the process.",
                None,
                stat.num_threads as f64,
            ),
        ];
        if let Ok(boot) = procfs::boot_time_secs() {
            let start = boot as f64 + stat.starttime as f64 / ticks;
            gauges.push((
                "process_start_time",
                "Start time of the process since unix epoch in seconds.",
                Some(Unit::Seconds),
                start,
            ));
        }
        if let Ok(open) = me.fd_count() {
            gauges.push((
                "process_open_fds",
                "Number of open file descriptors.",
                None,
                open as f64,
            ));
        }
        if let Ok(LimitValue::Value(max)) = me.limits().map(|l| l.max_open_files.soft_limit) {
            gauges.push((
                "process_max_fds",
                "Maximum number of open file descriptors.",
                None,
                max as f64,
            ));
        }
        Some((cpu, gauges))
    }
}

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some((cpu, gauges)) = Process::read() else {
            return Ok(());
        };
        let counter = ConstCounter::new(cpu);
        counter.encode(encoder.encode_descriptor(
            "process_cpu",
            "Total user and system CPU time spent in seconds.",
            Some(&Unit::Seconds),
            MetricType::Counter,
        )?)?;
        for (name, help, unit, value) in &gauges {
            let gauge = ConstGauge::new(*value);
            gauge.encode(encoder.encode_descriptor(
                name,
                help,
                unit.as_ref(),
                MetricType::Gauge,
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;
    use prometheus_client::registry::Registry;

    #[test]
    fn this_process_is_described() {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Process));
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        for name in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_virtual_memory_bytes ",
            "process_threads ",
            "process_start_time_seconds ",
            "process_open_fds ",
            "process_max_fds ",
        ] {
            let value = text
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.parse::<f64>().ok());
            assert!(
                value.is_some_and(|v| v > 0.0 || name.starts_with("process_cpu")),
                "{name}: {text}"
            );
        }
    }
}
