//! The BSD-style status table, one aligned line per host:
//!
//! ```text
//! alpha        up  2+03:04,   3 users,  load 0.00, 0.01, 0.05
//! bravo        up     0:07,   1 user,   load 1.25, 0.80, 0.31
//! charlie      down         (can't connect: Connection refused)
//! ```

use ruptime_common::protocol::Sample;

use crate::escape::shown;
use crate::paint::Paint;
use crate::row::{Row, State};

/// The narrowest host column, as BSD's.
const MIN_HOST_WIDTH: usize = 12;

/// The table of `rows`; with `safe`, remote text is escaped for a
/// terminal; the state words painted by `paint`.
pub(crate) fn render(rows: &[Row], safe: bool, paint: Paint) -> String {
    let shown = |bytes: &[u8]| shown(bytes, safe);
    let reports: Vec<&Sample> = rows
        .iter()
        .filter_map(|r| {
            if let State::Up(report) = &r.state {
                Some(report)
            } else {
                None
            }
        })
        .collect();
    let host_width = rows
        .iter()
        .map(|r| shown(r.host.as_bytes()).chars().count())
        .max()
        .unwrap_or(0)
        .max(MIN_HOST_WIDTH);
    let uptime_width = reports
        .iter()
        .map(|r| uptime(r.uptime).len())
        .max()
        .unwrap_or(0)
        .max(8);
    let users_width = reports
        .iter()
        .map(|r| r.users.to_string().len())
        .max()
        .unwrap_or(0)
        .max(3);
    let load_width = reports
        .iter()
        .flat_map(|r| r.loads.map(load))
        .map(|l| l.len())
        .max()
        .unwrap_or(4);
    let status_width = "up".len() + 1 + uptime_width + 1;
    // The state word, painted, and the spaces that pad it to the status column.
    let state = |word: &'static str, painted: &'static str| {
        format!(
            "{painted}{:pad$}",
            "",
            pad = status_width.saturating_sub(word.len())
        )
    };
    let mut table = String::new();
    for row in rows {
        let host = shown(row.host.as_bytes());
        let line = match &row.state {
            State::Up(r) => {
                let [l1, l5, l15] = r.loads.map(load);
                format!(
                    "{host:<host_width$} {} {:>uptime_width$}, {:>users_width$} {:<6}  load {l1:>load_width$}, {l5:>load_width$}, {l15:>load_width$}",
                    paint.up(),
                    uptime(r.uptime),
                    r.users,
                    if r.users == 1 { "user," } else { "users," },
                )
            }
            State::Other => {
                let raw = row.raw.as_deref().unwrap_or_default();
                format!(
                    "{host:<host_width$} {} {}",
                    state("up", paint.up()),
                    shown(raw.strip_suffix(b"\n").unwrap_or(raw))
                )
            }
            State::Down(why) => format!(
                "{host:<host_width$} {} ({})",
                state("down", paint.down()),
                shown(why.as_bytes())
            ),
        };
        table.push_str(line.trim_end());
        table.push('\n');
    }
    table
}

/// Uptime as BSD shows it: `D+HH:MM`, or `H:MM` under a day.
fn uptime(seconds: u64) -> String {
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3_600 % 24, seconds / 60 % 60);
    if days > 0 {
        format!("{days}+{hours:02}:{minutes:02}")
    } else {
        format!("{hours}:{minutes:02}")
    }
}

fn load(value: f64) -> String {
    format!("{value:.2}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paint::ColorWhen;

    fn plain() -> Paint {
        Paint::new(ColorWhen::Never, false, None)
    }

    fn row(host: &str, state: State, raw: &[u8]) -> Row {
        Row {
            raw: Some(raw.to_vec()),
            ..Row::bare(host, state)
        }
    }

    fn up(uptime: u64, users: u64, loads: [f64; 3]) -> State {
        State::Up(Sample {
            clock: (0, 0, 0),
            uptime,
            users,
            loads,
        })
    }

    #[test]
    fn lines_align_in_the_bsd_manner() {
        let rows = [
            row(
                "alpha",
                up(2 * 86400 + 3 * 3600 + 4 * 60, 3, [0.0, 0.01, 0.05]),
                b"",
            ),
            row("bravo", up(7 * 60, 1, [1.25, 0.8, 0.31]), b""),
            row(
                "charlie",
                State::Down("can't connect: Connection refused".into()),
                b"",
            ),
            row("delta", State::Other, b"something else\n"),
        ];
        assert_eq!(
            render(&rows, true, plain()),
            "alpha        up  2+03:04,   3 users,  load 0.00, 0.01, 0.05\n\
             bravo        up     0:07,   1 user,   load 1.25, 0.80, 0.31\n\
             charlie      down         (can't connect: Connection refused)\n\
             delta        up           something else\n"
        );
    }

    #[test]
    fn wide_values_widen_their_columns() {
        let rows = [
            row(
                "a-very-long-host-name",
                up(1000 * 86400, 12345, [123.45, 0.0, 0.0]),
                b"",
            ),
            row("b", up(60, 0, [0.0, 0.0, 0.0]), b""),
        ];
        assert_eq!(
            render(&rows, true, plain()),
            "a-very-long-host-name up 1000+00:00, 12345 users,  load 123.45,   0.00,   0.00\n\
             b                     up       0:01,     0 users,  load   0.00,   0.00,   0.00\n"
        );
    }

    #[test]
    fn remote_text_is_escaped_on_a_terminal() {
        let rows = [row("evil", State::Other, b"\x1b[2Jgotcha\n")];
        assert_eq!(
            render(&rows, true, plain()),
            "evil         up           \\x1b[2Jgotcha\n"
        );
        assert_eq!(
            render(&rows, false, plain()),
            "evil         up           \x1b[2Jgotcha\n"
        );
    }
}
