//! `--json`: one array, an object per host, in the table's order:
//! `host`, `address`, `mode`, `up`, `uptime_seconds`, `users`, `load`,
//! `raw`, `error`; what the reply does not give is null. `up` says the host
//! answered (with anything but the daemon's error line); `error` says why
//! not, and is null when it did. A reply that is not
//! UTF-8 shows U+FFFD where its bytes were not.

use std::io::{self, Write};

use serde::Serializer as _;
use serde_json::ser::PrettyFormatter;
use serde_json::{Serializer, Value, json};

use crate::row::{Row, State};

/// Writes the JSON document for `rows`, with a final newline, to `out`.
///
/// # Errors
/// Writing to `out` failed.
pub(crate) fn write(rows: &[Row], out: &mut impl Write) -> io::Result<()> {
    // Each object is built as it is written, so a run of 100 000 hosts
    // never holds the whole document.
    let mut serializer = Serializer::with_formatter(&mut *out, PrettyFormatter::new());
    serializer.collect_seq(rows.iter().map(object))?;
    out.write_all(b"\n")
}

/// The object of one row.
fn object(row: &Row) -> Value {
    let report = match &row.state {
        State::Up(report) => Some(report),
        State::Other | State::Down(_) => None,
    };
    json!({
        "host": row.host,
        "address": row.address.map(|a| a.to_string()),
        "mode": row.mode.name(),
        "up": !row.is_down(),
        "uptime_seconds": report.map(|r| r.uptime),
        "users": report.map(|r| r.users),
        "load": report.map(|r| r.loads.to_vec()),
        "raw": row.raw.as_deref().map(String::from_utf8_lossy),
        "error": row.problem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruptime_common::mode::Mode;
    use ruptime_common::protocol::Sample;

    #[test]
    fn every_field_and_nulls_for_what_is_unknown() {
        let line = b" 10:00:00 up 1 day, 0 min,  2 users,  load average: 0.50, 1.00, 2.25\n";
        let rows = [
            Row {
                host: "alpha".into(),
                mode: Mode::Dgram,
                address: Some("10.0.0.1:4000".parse().unwrap()),
                raw: Some(line.to_vec()),
                state: State::Up(Sample {
                    clock: (10, 0, 0),
                    uptime: 86400,
                    users: 2,
                    loads: [0.5, 1.0, f64::NAN],
                }),
                took: None,
            },
            Row {
                host: "bravo".into(),
                mode: Mode::Stream,
                address: None,
                raw: None,
                state: State::Down("no reply within 5 s".into()),
                took: None,
            },
            Row {
                host: "c".into(),
                mode: Mode::Fork,
                address: None,
                raw: Some(b"\xff\x1b\n".to_vec()),
                state: State::Other,
                took: None,
            },
        ];
        let mut text = Vec::new();
        write(&rows, &mut text).unwrap();
        let parsed: Value = serde_json::from_slice(&text).unwrap();
        let expected = serde_json::to_string_pretty(&parsed).unwrap() + "\n";
        assert_eq!(String::from_utf8(text).unwrap(), expected, "pretty-printed");
        assert_eq!(
            parsed,
            json!([
                {"host": "alpha", "address": "10.0.0.1:4000", "mode": "dgram", "up": true, "uptime_seconds": 86400,
                 "users": 2, "load": [0.5, 1.0, null], "raw": String::from_utf8_lossy(line), "error": null},
                {"host": "bravo", "address": null, "mode": "stream", "up": false, "uptime_seconds": null,
                 "users": null, "load": null, "raw": null, "error": "no reply within 5 s"},
                {"host": "c", "address": null, "mode": "fork", "up": true, "uptime_seconds": null,
                 "users": null, "load": null, "raw": "\u{fffd}\u{1b}\n", "error": null},
            ])
        );
        let keys: Vec<String> = parsed[0].as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "host",
                "address",
                "mode",
                "up",
                "uptime_seconds",
                "users",
                "load",
                "raw",
                "error"
            ]
        );
    }
}
