//! The live progress line of a long run, on a terminal.
//!
//! When standard error is a terminal and a run is not over within
//! [`SHOW_AFTER`], one line (`asked 812 of 12500, 700 up, 90 down, 22
//! waiting, 4.2 s left`) is drawn by `indicatif` and redrawn as hosts end;
//! it is erased before the results print. Nothing is drawn otherwise.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::query::{Outcome, Watch};

/// How long a run goes before its progress shows.
pub(crate) const SHOW_AFTER: Duration = Duration::from_millis(300);

/// The progress of a run, shown or not.
pub(crate) struct Progress {
    shown: bool,
    bar: Option<ProgressBar>,
    started: Instant,
    total: usize,
    asked: usize,
    up: usize,
    down: usize,
    last_deadline: Option<Instant>,
}

impl Progress {
    /// The progress of a run of `total` hosts; drawn only when `shown`.
    pub(crate) fn new(shown: bool, total: usize) -> Progress {
        Progress {
            shown,
            bar: None,
            started: Instant::now(),
            total,
            asked: 0,
            up: 0,
            down: 0,
            last_deadline: None,
        }
    }

    /// The line as it reads now.
    pub(crate) fn line(&self, now: Instant) -> String {
        let waiting = self.asked.saturating_sub(self.up + self.down);
        let left = self
            .last_deadline
            .map_or(Duration::ZERO, |d| d.saturating_duration_since(now));
        format!(
            "asked {} of {}, {} up, {} down, {waiting} waiting, {:.1} s left",
            self.asked,
            self.total,
            self.up,
            self.down,
            left.as_secs_f64()
        )
    }

    /// Erases the line, if it was drawn.
    pub(crate) fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn redraw(&mut self) {
        let now = Instant::now();
        if self.bar.is_none() && self.shown && now.duration_since(self.started) >= SHOW_AFTER {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("ruptime: {msg}") {
                bar.set_style(style);
            }
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_message(self.line(now));
        }
    }
}

impl Watch for Progress {
    fn begun(&mut self, _: usize, deadline: Instant) {
        self.asked += 1;
        self.last_deadline = Some(self.last_deadline.map_or(deadline, |d| d.max(deadline)));
    }

    fn ended(&mut self, _: usize, outcome: &Outcome) {
        if outcome.as_ref().is_ok_and(|answer| answer.answered()) {
            self.up += 1;
        } else {
            self.down += 1;
        }
        if self.bar.is_some() {
            self.redraw();
        }
    }

    fn tick(&mut self) {
        self.redraw();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Answer, QueryError};

    #[test]
    fn counts_what_was_asked_and_how_it_ended() {
        let mut progress = Progress::new(false, 4);
        let now = Instant::now();
        for i in 0..3 {
            progress.begun(i, now + Duration::from_secs(5));
        }
        let line = b" 10:00:00 up 1 min,  0 users,  load average: 0.00, 0.00, 0.00\n";
        let answer = Answer::new(line.to_vec(), "127.0.0.1:4000".parse().unwrap());
        progress.ended(0, &Ok(answer));
        progress.ended(1, &Err(QueryError::Empty));
        assert_eq!(
            progress.line(now),
            "asked 3 of 4, 1 up, 1 down, 1 waiting, 5.0 s left"
        );
        progress.tick();
        assert!(progress.bar.is_none(), "never drawn when not shown");
    }
}
