//! Printing the results.
//!
//! One host (named on the command line): its reply exactly as received, as
//! the original prints it, and a failure (the daemon's error line too) as
//! one line on stderr, `ruptime: HOST: REASON`. Several hosts, or
//! discovery: the table, or with `--fold` the hosts folded by outcome.
//! `--json`: the JSON array; `--prometheus`: metrics. On a terminal remote
//! text is escaped unless `--raw`.

use std::io::{self, IsTerminal, Write};

use crate::escape::escape;
use crate::paint::Paint;
use crate::row::Row;
use crate::{fold, json, metrics, table};

/// What to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// The original's output for a single host.
    Single,
    /// The table.
    Table,
    /// The hosts folded by outcome (`--fold`).
    Fold,
    /// The JSON array.
    Json,
    /// Prometheus metrics with a `host` label.
    Prometheus,
}

/// How to print.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Presentation {
    /// What to print.
    pub format: Format,
    /// Remote bytes as received, even on a terminal.
    pub raw: bool,
    /// The state words' colours.
    pub paint: Paint,
}

/// Prints `rows`.
///
/// # Errors
/// Standard output cannot be written (a full disk, a closed pipe).
pub(crate) fn print(rows: &[Row], how: Presentation) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let safe = !how.raw && out.is_terminal();
    match how.format {
        Format::Json => {
            let mut buffered = io::BufWriter::new(&mut out);
            json::write(rows, &mut buffered).and_then(|()| buffered.flush())?;
        }
        Format::Prometheus => {
            let text = metrics::fleet(rows, std::time::SystemTime::now());
            out.write_all(text.as_bytes())?;
        }
        Format::Single => single(rows, safe, &mut out)?,
        Format::Table => out.write_all(table::render(rows, safe, how.paint).as_bytes())?,
        Format::Fold => out.write_all(fold::render(rows, safe, how.paint).as_bytes())?,
    }
    out.flush()
}

/// The reply as received; a failure, the daemon's own error line
/// included, as one line on stderr (and nothing on stdout).
fn single(rows: &[Row], safe: bool, out: &mut impl Write) -> io::Result<()> {
    for row in rows {
        if let Some(problem) = row.problem() {
            out.flush()?;
            let mut err = io::stderr().lock();
            let problem = if err.is_terminal() {
                escape(problem.as_bytes(), false)
            } else {
                problem.to_owned()
            };
            // One write: the line stays whole beside other processes'.
            err.write_all(format!("ruptime: {}: {problem}\n", row.host).as_bytes())?;
        } else if let Some(reply) = &row.raw {
            if safe {
                out.write_all(escape(reply, true).as_bytes())?;
            } else {
                out.write_all(reply)?;
            }
        }
    }
    Ok(())
}
