//! The exporter's own metrics, served at `/metrics`: probes by mode and
//! outcome, their durations, probes in flight and requests turned away, and
//! the process metrics.

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use ruptime_common::mode::Mode;

/// Why a request got no probe.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rejection {
    /// A bad target, mode or timeout: 400.
    BadRequest,
    /// Every probe slot stayed taken until the deadline: 503.
    Busy,
    /// No credentials, or wrong ones: 401.
    Unauthorized,
}

/// The exporter's metrics.
#[derive(Debug)]
pub(crate) struct SelfMetrics {
    registry: Registry,
    probes: Family<[(&'static str, &'static str); 2], Counter>,
    durations: Histogram,
    in_flight: Gauge,
    rejected: Family<[(&'static str, &'static str); 1], Counter>,
}

impl SelfMetrics {
    /// The metrics, all zero.
    pub(crate) fn new() -> SelfMetrics {
        let probes = Family::default();
        // 1 ms to about 33 s.
        let durations = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let in_flight = Gauge::default();
        let rejected = Family::default();
        let mut registry = Registry::default();
        registry.register_collector(Box::new(crate::process::Process));
        let ours = registry.sub_registry_with_prefix("ruptime_exporter");
        ours.register("probes", "Probes made, by mode and outcome", probes.clone());
        ours.register_with_unit(
            "probe_duration",
            "How long probes took",
            Unit::Seconds,
            durations.clone(),
        );
        ours.register("probes_in_flight", "Probes going on now", in_flight.clone());
        ours.register(
            "rejected_requests",
            "Probe requests answered without a probe, by reason",
            rejected.clone(),
        );
        SelfMetrics {
            registry,
            probes,
            durations,
            in_flight,
            rejected,
        }
    }

    /// A probe began; it is in flight until the guard drops.
    pub(crate) fn begun(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    /// A probe in `mode` ended, the host up or not, after `took`.
    pub(crate) fn ended(&self, mode: Mode, up: bool, took: Duration) {
        let outcome = if up { "up" } else { "down" };
        self.probes
            .get_or_create(&[("mode", mode.name()), ("outcome", outcome)])
            .inc();
        self.durations.observe(took.as_secs_f64());
    }

    /// A request was turned away.
    pub(crate) fn rejected(&self, why: Rejection) {
        let reason = match why {
            Rejection::BadRequest => "bad_request",
            Rejection::Busy => "busy",
            Rejection::Unauthorized => "unauthorized",
        };
        self.rejected.get_or_create(&[("reason", reason)]).inc();
    }

    /// The metrics as text.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// A probe in flight, counted until dropped (even when its request is).
#[derive(Debug)]
pub(crate) struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Default for SelfMetrics {
    fn default() -> SelfMetrics {
        SelfMetrics::new()
    }
}
