//! A host's result as Prometheus metrics, in the OpenMetrics text format:
//! what `--prometheus` prints for a run (each host with a `host` label), and
//! what `ruptime-exporter` answers a probe with (no label).
//!
//! The names follow the probing exporters': `probe_success` (1 when the host
//! answered, as `up` in `--json`) and `probe_duration_seconds` for every
//! host, then the host's own figures, only with an uptime line:
//! `ruptime_uptime_seconds`, `ruptime_boot_time_seconds` (as node_exporter's
//! `node_boot_time_seconds`), `ruptime_users`, `ruptime_load1`, `5` and `15`.
//! Every metric is a gauge; the text is written here (a few lines a host
//! need no metrics library).

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use crate::row::{Row, State};

/// The content type of the text written here.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One metric of a host.
struct Metric {
    /// The whole name, with its unit's suffix when it has one.
    name: &'static str,
    help: &'static str,
    /// The unit, when the name ends with it.
    unit: Option<&'static str>,
}

/// The metrics of a host, in the order [`values`] gives them.
const METRICS: [Metric; 8] = [
    Metric {
        name: "probe_success",
        help: "Whether the host answered (1) or not (0)",
        unit: None,
    },
    Metric {
        name: "probe_duration_seconds",
        help: "How long asking the host took",
        unit: Some("seconds"),
    },
    Metric {
        name: "ruptime_uptime_seconds",
        help: "How long the host has been up, to the minute (the uptime line's resolution)",
        unit: Some("seconds"),
    },
    Metric {
        name: "ruptime_boot_time_seconds",
        help: "When the host booted, in seconds since the Unix epoch: the probe's time less \
               the uptime, which the uptime line gives to the minute, so it may read up to \
               60 s late and move by as much between probes",
        unit: Some("seconds"),
    },
    Metric {
        name: "ruptime_users",
        help: "Users logged in on the host",
        unit: None,
    },
    Metric {
        name: "ruptime_load1",
        help: "The host's load average over 1 minute",
        unit: None,
    },
    Metric {
        name: "ruptime_load5",
        help: "The host's load average over 5 minutes",
        unit: None,
    },
    Metric {
        name: "ruptime_load15",
        help: "The host's load average over 15 minutes",
        unit: None,
    },
];

/// A metric's value.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Value {
    Whole(u64),
    Real(f64),
}

/// The values of `row`'s metrics at `now`, in [`METRICS`]' order; `None`
/// for those it does not give.
fn values(row: &Row, now: SystemTime) -> [Option<Value>; 8] {
    let success = Some(Value::Whole(u64::from(!row.is_down())));
    let took = row.took.map(|d| Value::Real(d.as_secs_f64()));
    match &row.state {
        State::Up(sample) => {
            let since_epoch = now
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or(Duration::ZERO);
            let boot = since_epoch
                .as_secs()
                .checked_sub(sample.uptime)
                .map(Value::Whole);
            [
                success,
                took,
                Some(Value::Whole(sample.uptime)),
                boot,
                Some(Value::Whole(sample.users)),
                Some(Value::Real(sample.loads[0])),
                Some(Value::Real(sample.loads[1])),
                Some(Value::Real(sample.loads[2])),
            ]
        }
        State::Other | State::Down(_) => [success, took, None, None, None, None, None, None],
    }
}

/// One host's metrics at `now`, without labels: what a probe answers.
pub fn probe(row: &Row, now: SystemTime) -> String {
    write(&[(None, values(row, now))])
}

/// Every row's metrics at `now`, each with its host's name as the `host`
/// label, in the rows' order; a host named twice is written once, with its
/// last row.
pub fn fleet(rows: &[Row], now: SystemTime) -> String {
    let mut hosts: Vec<(Option<&str>, [Option<Value>; 8])> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for row in rows {
        let entry = (Some(row.host.as_str()), values(row, now));
        match seen.get(row.host.as_str()) {
            Some(&at) => hosts[at] = entry,
            None => {
                seen.insert(row.host.as_str(), hosts.len());
                hosts.push(entry);
            }
        }
    }
    write(&hosts)
}

/// The text of `hosts`' values, metric by metric, each sample labelled with
/// its host when it has one.
fn write(hosts: &[(Option<&str>, [Option<Value>; 8])]) -> String {
    let mut out = String::new();
    for (i, metric) in METRICS.iter().enumerate() {
        let samples: Vec<(Option<&str>, Value)> = hosts
            .iter()
            .filter_map(|(host, values)| Some((*host, values[i]?)))
            .collect();
        if samples.is_empty() {
            continue;
        }
        // Writing to a String cannot fail.
        let _ = writeln!(out, "# HELP {} {}.", metric.name, metric.help);
        let _ = writeln!(out, "# TYPE {} gauge", metric.name);
        if let Some(unit) = metric.unit {
            let _ = writeln!(out, "# UNIT {} {unit}", metric.name);
        }
        for (host, value) in samples {
            out.push_str(metric.name);
            if let Some(host) = host {
                let _ = write!(out, "{{host=\"{}\"}}", label(host));
            }
            let _ = writeln!(out, " {}", number(value));
        }
    }
    out.push_str("# EOF\n");
    out
}

/// A label value with `\`, `"` and newlines escaped.
fn label(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A value as the text format spells it: whole numbers without a point,
/// reals with one, and `NaN`, `+Inf`, `-Inf`.
fn number(value: Value) -> String {
    match value {
        Value::Whole(n) => n.to_string(),
        Value::Real(x) if x.is_nan() => "NaN".to_owned(),
        Value::Real(x) if x.is_infinite() => if x > 0.0 { "+Inf" } else { "-Inf" }.to_owned(),
        // `{:?}` is the shortest text that reads back as the same double.
        Value::Real(x) => format!("{x:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruptime_common::protocol::Sample;

    fn row(host: &str, state: State) -> Row {
        Row {
            took: Some(Duration::from_millis(1500)),
            ..Row::bare(host, state)
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

    /// 2026-12-05 10:00:00 UTC.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_464_800)
    }

    fn samples(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with('#')).collect()
    }

    #[test]
    fn an_uptime_line_gives_every_metric() {
        let text = probe(&row("alpha", up()), now());
        for line in [
            "# HELP probe_success Whether the host answered (1) or not (0).",
            "# TYPE probe_success gauge",
            "# TYPE ruptime_uptime_seconds gauge",
            "# UNIT ruptime_uptime_seconds seconds",
            "# UNIT ruptime_boot_time_seconds seconds",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        assert_eq!(
            samples(&text),
            [
                "probe_success 1",
                "probe_duration_seconds 1.5",
                "ruptime_uptime_seconds 86400",
                "ruptime_boot_time_seconds 1796378400",
                "ruptime_users 2",
                "ruptime_load1 0.5",
                "ruptime_load5 1.25",
                "ruptime_load15 2.0",
            ]
        );
        assert!(text.ends_with("\n# EOF\n"), "{text}");
    }

    #[test]
    fn a_host_down_gives_success_0_and_the_duration_only() {
        let text = probe(&row("alpha", State::Down("refused".into())), now());
        assert_eq!(
            samples(&text),
            ["probe_success 0", "probe_duration_seconds 1.5"]
        );
        let text = probe(&row("alpha", State::Other), now());
        assert_eq!(
            samples(&text),
            ["probe_success 1", "probe_duration_seconds 1.5"]
        );
    }

    #[test]
    fn odd_figures_are_spelled_as_the_format_wants() {
        assert_eq!(number(Value::Real(f64::NAN)), "NaN");
        assert_eq!(number(Value::Real(f64::INFINITY)), "+Inf");
        assert_eq!(number(Value::Real(f64::NEG_INFINITY)), "-Inf");
        assert_eq!(number(Value::Real(1.89)), "1.89");
        assert_eq!(number(Value::Whole(u64::MAX)), "18446744073709551615");
        let mut ancient = row("alpha", up());
        if let State::Up(sample) = &mut ancient.state {
            sample.uptime = u64::MAX;
        }
        let text = probe(&ancient, now());
        assert!(!text.contains("ruptime_boot_time_seconds "), "{text}");
    }

    #[test]
    fn a_fleet_labels_each_host_once_in_order() {
        let rows = [
            row("alpha", up()),
            row("bravo", State::Down("refused".into())),
            row("a\"b\\c\nd", State::Down("refused".into())),
            row("charlie", up()),
            row("charlie", State::Down("refused".into())),
            row("alpha", up()),
        ];
        let text = fleet(&rows, now());
        let successes: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("probe_success{"))
            .collect();
        assert_eq!(
            successes,
            [
                "probe_success{host=\"alpha\"} 1",
                "probe_success{host=\"bravo\"} 0",
                "probe_success{host=\"a\\\"b\\\\c\\nd\"} 0",
                "probe_success{host=\"charlie\"} 0",
            ]
        );
        assert!(
            text.contains("ruptime_load1{host=\"alpha\"} 0.5\n"),
            "{text}"
        );
        assert!(!text.contains("ruptime_load1{host=\"charlie\"}"), "{text}");
        assert_eq!(text.matches("# TYPE ruptime_load1 gauge").count(), 1);
    }
}
