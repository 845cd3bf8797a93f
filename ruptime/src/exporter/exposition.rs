//! A host's result as Prometheus metrics, in the OpenMetrics text format.
//!
//! One table, [`METRICS`], names them; [`probe`] writes one host's (what
//! `/probe` answers), [`fleet`] a whole run's with a `host` label (what
//! `--prometheus` prints). `ruptime_up` is 1 when the host answered, as `up`
//! in `--json`; the uptime, users and loads come only with an uptime line.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::row::{Row, State};

/// The content type of the text written here.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One metric of a host.
struct Metric {
    /// The name, less the unit's suffix.
    name: &'static str,
    help: &'static str,
    unit: Option<Unit>,
    kind: Kind,
}

/// How a metric's value is written.
#[derive(Clone, Copy)]
enum Kind {
    /// A whole number.
    Count,
    /// A real number.
    Real,
}

/// A metric's value.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Value {
    Count(i64),
    Real(f64),
}

/// The metrics of a host, in the order [`values`] gives them.
const METRICS: [Metric; 7] = [
    Metric {
        name: "ruptime_up",
        help: "Whether the host answered (1) or not (0)",
        unit: None,
        kind: Kind::Count,
    },
    Metric {
        name: "ruptime_uptime",
        help: "How long the host has been up",
        unit: Some(Unit::Seconds),
        kind: Kind::Count,
    },
    Metric {
        name: "ruptime_users",
        help: "Users logged in on the host",
        unit: None,
        kind: Kind::Count,
    },
    Metric {
        name: "ruptime_load1",
        help: "The host's load average over 1 minute",
        unit: None,
        kind: Kind::Real,
    },
    Metric {
        name: "ruptime_load5",
        help: "The host's load average over 5 minutes",
        unit: None,
        kind: Kind::Real,
    },
    Metric {
        name: "ruptime_load15",
        help: "The host's load average over 15 minutes",
        unit: None,
        kind: Kind::Real,
    },
    Metric {
        name: "ruptime_probe_duration",
        help: "How long asking the host took",
        unit: Some(Unit::Seconds),
        kind: Kind::Real,
    },
];

/// The values of `row`'s metrics, in [`METRICS`]' order; `None` for those
/// its reply does not give.
fn values(row: &Row) -> [Option<Value>; 7] {
    let count = |n: u64| Some(Value::Count(i64::try_from(n).unwrap_or(i64::MAX)));
    let up = Some(Value::Count(i64::from(!row.is_down())));
    let took = row.took.map(|d| Value::Real(d.as_secs_f64()));
    match &row.state {
        State::Up(sample) => [
            up,
            count(sample.uptime),
            count(sample.users),
            Some(Value::Real(sample.loads[0])),
            Some(Value::Real(sample.loads[1])),
            Some(Value::Real(sample.loads[2])),
            took,
        ],
        State::Odd | State::Down(_) => [up, None, None, None, None, None, took],
    }
}

fn register(
    registry: &mut Registry,
    metric: &Metric,
    gauge: impl prometheus_client::registry::Metric,
) {
    match &metric.unit {
        Some(unit) => registry.register_with_unit(metric.name, metric.help, unit.clone(), gauge),
        None => registry.register(metric.name, metric.help, gauge),
    }
}

/// What `registry` holds, as text.
pub(super) fn text(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = encode(&mut out, registry);
    out
}

/// One host's metrics, without labels.
pub fn probe(row: &Row) -> String {
    let mut registry = Registry::default();
    for (metric, value) in METRICS.iter().zip(values(row)) {
        match value {
            Some(Value::Count(n)) => {
                let gauge = Gauge::<i64>::default();
                gauge.set(n);
                register(&mut registry, metric, gauge);
            }
            Some(Value::Real(x)) => {
                let gauge = Gauge::<f64, AtomicU64>::default();
                gauge.set(x);
                register(&mut registry, metric, gauge);
            }
            None => {}
        }
    }
    text(&registry)
}

/// A `host` label.
type Host = [(&'static str, String); 1];

/// Every row's metrics, each with its host's name as the `host` label; a
/// host named twice is written once, with its last row.
pub fn fleet(rows: &[Row]) -> String {
    let counts: Vec<Family<Host, Gauge<i64>>> = METRICS.iter().map(|_| Family::default()).collect();
    let reals: Vec<Family<Host, Gauge<f64, AtomicU64>>> =
        METRICS.iter().map(|_| Family::default()).collect();
    // The last row of each host, so that two rows never mix in one series set.
    let mut last: HashMap<&str, &Row> = HashMap::new();
    for row in rows {
        last.insert(&row.host, row);
    }
    for row in last.into_values() {
        let host = [("host", row.host.clone())];
        for (i, value) in values(row).into_iter().enumerate() {
            match value {
                Some(Value::Count(n)) => {
                    counts[i].get_or_create(&host).set(n);
                }
                Some(Value::Real(x)) => {
                    reals[i].get_or_create(&host).set(x);
                }
                None => {}
            }
        }
    }
    let mut registry = Registry::default();
    for (i, metric) in METRICS.iter().enumerate() {
        match metric.kind {
            Kind::Count => register(&mut registry, metric, counts[i].clone()),
            Kind::Real => register(&mut registry, metric, reals[i].clone()),
        }
    }
    text(&registry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruptime_common::mode::Mode;
    use ruptime_common::uptime::Sample;
    use std::time::Duration;

    fn row(host: &str, state: State) -> Row {
        Row {
            host: host.into(),
            mode: Mode::Stream,
            address: None,
            raw: None,
            state,
            took: Some(Duration::from_millis(1500)),
        }
    }

    fn up() -> State {
        State::Up(Sample {
            clock: (10, 0, 0),
            uptime: 86_400,
            users: 2,
            loads: [0.5, 1.25, 2.0],
        })
    }

    #[test]
    fn an_uptime_line_gives_every_metric() {
        let text = probe(&row("alpha", up()));
        for line in [
            "# HELP ruptime_up Whether the host answered (1) or not (0).",
            "# TYPE ruptime_up gauge",
            "ruptime_up 1",
            "# TYPE ruptime_uptime_seconds gauge",
            "# UNIT ruptime_uptime_seconds seconds",
            "ruptime_uptime_seconds 86400",
            "ruptime_users 2",
            "ruptime_load1 0.5",
            "ruptime_load5 1.25",
            "ruptime_load15 2.0",
            "ruptime_probe_duration_seconds 1.5",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    }

    #[test]
    fn a_host_down_gives_up_0_and_the_duration_only() {
        let text = probe(&row("alpha", State::Down("refused".into())));
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            samples,
            ["ruptime_up 0", "ruptime_probe_duration_seconds 1.5"]
        );
    }

    #[test]
    fn an_odd_reply_is_up_without_figures() {
        let text = probe(&row("alpha", State::Odd));
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            samples,
            ["ruptime_up 1", "ruptime_probe_duration_seconds 1.5"]
        );
    }

    #[test]
    fn a_fleet_labels_each_host_once() {
        let rows = [
            row("alpha", up()),
            row("bravo", State::Down("refused".into())),
            row("a\"b\\c", State::Down("refused".into())),
            row("charlie", up()),
            row("charlie", State::Down("refused".into())),
            row("alpha", up()),
        ];
        let text = fleet(&rows);
        assert!(text.contains("ruptime_up{host=\"charlie\"} 0\n"), "{text}");
        assert!(!text.contains("ruptime_load1{host=\"charlie\"}"), "{text}");
        let ups: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("ruptime_up{"))
            .collect();
        assert_eq!(ups.len(), 4, "{text}");
        assert!(ups.contains(&"ruptime_up{host=\"alpha\"} 1"), "{text}");
        assert!(ups.contains(&"ruptime_up{host=\"bravo\"} 0"), "{text}");
        assert!(
            ups.contains(&"ruptime_up{host=\"a\\\"b\\\\c\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("ruptime_load1{host=\"alpha\"} 0.5\n"),
            "{text}"
        );
        assert!(!text.contains("ruptime_load1{host=\"bravo\"}"), "{text}");
    }
}
