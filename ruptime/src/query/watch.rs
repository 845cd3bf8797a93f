//! What a run tells as it goes, host by host: the progress line listens,
//! fork mode's children report through it.

use std::time::{Duration, Instant};

use super::outcome::Outcome;

/// What a run tells as it goes, host by host (by index in the run's order).
pub trait Watch {
    /// The query of host `index` began; it ends by `deadline`.
    fn begun(&mut self, index: usize, deadline: Instant);
    /// The query of host `index` ended.
    fn ended(&mut self, index: usize, outcome: &Outcome);
    /// Time passed: called at least every [`TICK`] while a run goes on.
    fn tick(&mut self) {}
}

/// How often a run calls [`Watch::tick`] at the least.
pub const TICK: Duration = Duration::from_millis(200);

/// A watch that wants to hear nothing.
pub struct Unwatched;

impl Watch for Unwatched {
    fn begun(&mut self, _: usize, _: Instant) {}
    fn ended(&mut self, _: usize, _: &Outcome) {}
}

/// A watch that times each host's query, and tells another watch.
pub struct Stopwatch<'a> {
    inner: &'a mut dyn Watch,
    began: Vec<Option<Instant>>,
    took: Vec<Option<Duration>>,
}

impl<'a> Stopwatch<'a> {
    /// Times a run of `total` hosts, telling `inner`.
    pub fn new(inner: &'a mut dyn Watch, total: usize) -> Stopwatch<'a> {
        Stopwatch {
            inner,
            began: vec![None; total],
            took: vec![None; total],
        }
    }

    /// How long each host's query took, in the run's order.
    pub fn took(self) -> Vec<Option<Duration>> {
        self.took
    }
}

impl Watch for Stopwatch<'_> {
    fn begun(&mut self, index: usize, deadline: Instant) {
        if let Some(began) = self.began.get_mut(index) {
            *began = Some(Instant::now());
        }
        self.inner.begun(index, deadline);
    }

    fn ended(&mut self, index: usize, outcome: &Outcome) {
        if let (Some(Some(began)), Some(took)) = (self.began.get(index), self.took.get_mut(index)) {
            *took = Some(began.elapsed());
        }
        self.inner.ended(index, outcome);
    }

    fn tick(&mut self) {
        self.inner.tick();
    }
}
