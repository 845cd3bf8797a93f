//! `--fold`: the outcome gathered as clubak and dshbak gather it: one line
//! `up` and the hosts that answered, folded as nodeset folds them
//! (`h[01-04,10-40]`), then one `down` line per reason with its hosts and
//! the reason, in the order the reasons first come.
//!
//! ```text
//! up h[01-04,10-40]
//! down h[05-09] (can't connect: Connection refused)
//! ```

use crate::escape::shown;
use crate::hosts::fold;
use crate::paint::Paint;
use crate::row::{Row, by_problem};

/// The folded outcome of `rows`; with `safe`, remote text is escaped for a
/// terminal.
pub(crate) fn render(rows: &[Row], safe: bool, paint: Paint) -> String {
    let up: Vec<&str> = rows
        .iter()
        .filter(|r| !r.is_down())
        .map(|r| r.host.as_str())
        .collect();
    let shown = |text: &str| shown(text.as_bytes(), safe);
    let mut out = String::new();
    if !up.is_empty() {
        out.push_str(&format!("{} {}\n", paint.up(), shown(&fold(&up))));
    }
    for (why, hosts) in by_problem(rows) {
        out.push_str(&format!(
            "{} {} ({})\n",
            paint.down(),
            shown(&fold(&hosts)),
            shown(why)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::State;

    fn row(host: &str, state: State) -> Row {
        Row::bare(host, state)
    }

    #[test]
    fn up_once_then_a_line_per_reason() {
        let refused = || State::Down("can't connect: Connection refused".into());
        let mut rows: Vec<Row> = (1..=9)
            .map(|i| row(&format!("h{i:02}"), State::Other))
            .collect();
        for i in 5..=9 {
            rows[i - 1] = row(&format!("h{i:02}"), refused());
        }
        rows.push(row("odd", State::Down("no reply within 5 s".into())));
        rows.push(row("h10", State::Other));
        assert_eq!(
            render(
                &rows,
                false,
                Paint::new(crate::paint::ColorWhen::Never, false, None)
            ),
            "up h[01-04,10]\ndown h[05-09] (can't connect: Connection refused)\ndown odd (no reply within 5 s)\n"
        );
        let painted = render(
            &rows,
            false,
            Paint::new(crate::paint::ColorWhen::Always, false, None),
        );
        assert!(
            painted.starts_with("\x1b[32mup\x1b[0m h[01-04,10]\n"),
            "{painted}"
        );
        assert!(painted.contains("\x1b[31mdown\x1b[0m odd"), "{painted}");
    }
}
