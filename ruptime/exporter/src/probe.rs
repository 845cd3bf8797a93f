//! Making a probe: asking one host, as `ruptime` asks it, in this process.
//!
//! The name is looked up on the suite's pool of lookup threads
//! ([`Names`]), then the client's query for one host runs on a blocking
//! thread (its SIGALRM timers are aimed at that thread), all by the one
//! deadline the request was given. Fork mode asks over TCP as stream mode
//! does: a fork-mode daemon speaks the same protocol, and the client's
//! child processes are only its way of asking many hosts at once. With
//! `debug=true` each step is written down ([`Log`]).

use std::fmt;
use std::time::Instant;

use ruptime::escape::escape;
use ruptime::query::{self, Options, QueryError, Trace, Untraced};
use ruptime::row::Row;
use ruptime::target::Family;

use crate::lookup::Names;
use crate::request::Probe;

/// The most steps a log keeps: a host that sends its reply a byte at a
/// time makes a step of each read.
const MAX_STEPS: usize = 256;

/// What a probe did, step by step, from when it began.
#[derive(Debug)]
pub(crate) struct Log {
    began: Instant,
    lines: Vec<String>,
}

impl Log {
    pub(crate) fn new(began: Instant) -> Log {
        Log {
            began,
            lines: Vec::new(),
        }
    }

    /// Writes a step down, however many came before (the outcome).
    fn write(&mut self, what: fmt::Arguments<'_>) {
        let at = self.began.elapsed().as_secs_f64();
        self.lines.push(format!("{at:8.6}s {what}"));
    }

    /// The steps, a line each with the time since the probe began.
    pub(crate) fn text(&self) -> String {
        self.lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

impl Trace for Log {
    fn note(&mut self, what: fmt::Arguments<'_>) {
        match self.lines.len() {
            n if n < MAX_STEPS => self.write(what),
            MAX_STEPS => self.write(format_args!("(more steps, not written down)")),
            _ => {}
        }
    }
}

/// Asks `probe`'s host of `family` by `deadline`, its name looked up on
/// `names`; its row, timed, and the log when one was asked for.
pub(crate) async fn run(
    probe: Probe,
    family: Family,
    names: &Names,
    deadline: Instant,
    mut log: Option<Log>,
) -> (Row, Option<Log>) {
    let started = Instant::now();
    let Probe {
        target,
        mode,
        budget,
        ..
    } = probe;
    let options = Options::new(family, budget);
    if let Some(log) = &mut log {
        log.note(format_args!(
            "probing {} in {mode} mode, for {} at most",
            target.name,
            ruptime_common::duration::show_seconds(budget)
        ));
    }
    let found = names
        .resolve(target.clone(), family, deadline, budget)
        .await;
    let (target, outcome, log) = match found {
        Ok(target) => {
            let name = target.name.clone();
            if let Some(log) = &mut log
                && let Ok(addrs) = target.addresses(family)
            {
                let shown: Vec<String> = addrs.iter().map(ToString::to_string).collect();
                log.note(format_args!("addresses: {}", shown.join(", ")));
            }
            let asked = tokio::task::spawn_blocking(move || {
                let outcome = match &mut log {
                    Some(log) => query::ask_one(mode.proto(), &target, &options, deadline, log),
                    None => {
                        query::ask_one(mode.proto(), &target, &options, deadline, &mut Untraced)
                    }
                };
                (target, outcome, log)
            })
            .await;
            match asked {
                Ok(asked) => asked,
                Err(e) => {
                    let failed = QueryError::Failed(format!("the probe failed: {e}"));
                    return (Row::new(name, mode, Err(failed)), None);
                }
            }
        }
        Err(e) => (target, Err(e), log),
    };
    let mut log = log;
    let mut row = Row::of(target, mode, outcome);
    row.took = Some(started.elapsed());
    if let Some(log) = &mut log {
        if let Some(reply) = &row.raw {
            log.write(format_args!("reply: {}", escape(reply, false)));
        }
        match row.problem() {
            None => log.write(format_args!("probe succeeded")),
            Some(why) => log.write(format_args!("probe failed: {why}")),
        }
    }
    (row, log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_keeps_its_first_steps_and_the_outcome() {
        let mut log = Log::new(Instant::now());
        for i in 0..100_000 {
            log.note(format_args!("received 1 byte ({i})"));
        }
        log.write(format_args!("probe failed: reply longer than 64 KiB"));
        let text = log.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), MAX_STEPS + 2);
        assert!(lines[MAX_STEPS].ends_with("(more steps, not written down)"));
        assert!(lines[MAX_STEPS + 1].ends_with("probe failed: reply longer than 64 KiB"));
    }
}
