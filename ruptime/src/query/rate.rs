//! The adaptive pace of one group of destinations: how many new hosts a
//! second it begins, found as TCP finds a path's capacity, but from signs
//! that come before anything is lost.
//!
//! Time runs in rounds of two round trips (at least [`ROUND`]). A round
//! that used at least half the rate (the rate held the group back, not a
//! lack of hosts nor this host's own loop) and had answers, with none of
//! the signs below, raises the rate: doubling at first (as TCP's slow
//! start), then by a quarter. A sign of overload halves it, once per round and not
//! below the floor ([`Bounds`]), and ends the doubling:
//!
//! - a standing queue: even the quickest answer of the round (less the
//!   time this host's own loop was busy before it saw it) came later than
//!   the quickest ever by more than [`QUEUE`] (a daemon's accept queue or
//!   receive buffer filling, long before it overflows); while the queue a
//!   halving drains, it only holds the rate;
//! - a connection whose SYN was sent again (a backlog overflowed), as
//!   `TCP_INFO` tells of one that took far longer than the round trip;
//! - replies missing past the round trip (a datagram's first resend, a
//!   silent connection's first companion), in a group that answers, for
//!   more than a quarter of the hosts heard of in the round;
//! - `EAGAIN` or `ENOBUFS` on a send or a connect: this host's own buffers
//!   are full;
//! - refusals in a burst from a group that answers otherwise (a daemon or a
//!   firewall shedding load): a share of the round well above the group's
//!   usual one. Hosts where nothing listens refuse every round: nothing to
//!   slow down for.
//!
//! A group that never answers (a silent subnet, hung daemons) keeps its
//! first rate: nothing says it can take more, nor that it is overloaded.

use std::time::{Duration, Instant};

use super::options::Bounds;

/// The shortest round.
pub(super) const ROUND: Duration = Duration::from_millis(10);

/// How much later than the quickest answer ever the quickest of a round
/// may come before it says a queue stands.
pub(super) const QUEUE: Duration = Duration::from_millis(5);

/// The share of the rate a round must use for the rate to rise.
const USED: f64 = 0.5;

/// The refusals in one round, from a group that answers, that may make a
/// burst.
const REFUSAL_BURST: u32 = 8;

/// How far above the group's usual share of refusals a round's must be.
const REFUSAL_RISE: f64 = 0.25;

/// A sign of overload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sign {
    /// A connection took far longer than the round trip.
    SlowConnect,
    /// A reply was missing past the round trip.
    Missing,
    /// A connection was refused.
    Refused,
    /// A send or a connect found this host's buffers full.
    NoBuffers,
}

/// What one round saw.
#[derive(Clone, Copy, Debug, Default)]
struct Round {
    answers: u32,
    quickest: Option<Duration>,
    missing: u32,
    refused: u32,
    slow_connects: u32,
    no_buffers: u32,
    /// Hosts begun.
    begun: u32,
}

impl Round {
    /// The hosts heard of: answered, missing or refused.
    fn heard(&self) -> u32 {
        self.answers + self.missing + self.refused
    }
}

/// The adaptive rate of a group.
#[derive(Clone, Debug)]
pub(super) struct Rate {
    per_second: f64,
    bounds: Bounds,
    doubling: bool,
    quickest: Option<Duration>,
    answered: bool,
    began: Instant,
    round: Round,
    /// Until then, a queue seen is the one the last backing off drains.
    draining: Option<Instant>,
    /// The share of the hosts heard of that refuse, smoothed over rounds.
    refusals: f64,
}

impl Rate {
    /// A group's rate from `now`, within `bounds`.
    pub(super) fn new(bounds: Bounds, now: Instant) -> Rate {
        Rate {
            per_second: bounds.start(),
            bounds,
            doubling: true,
            quickest: None,
            answered: false,
            began: now,
            round: Round::default(),
            draining: None,
            refusals: 0.0,
        }
    }

    /// Hosts a second now.
    pub(super) fn per_second(&self) -> f64 {
        self.per_second
    }

    /// A host answered, `latency` after it was asked (if it was asked once
    /// only, which makes the time a clean sample), of which up to `lag` may
    /// be this host's own loop, busy before it saw the answer.
    pub(super) fn answered(&mut self, latency: Option<Duration>, lag: Duration) {
        self.answered = true;
        self.round.answers += 1;
        if let Some(latency) = latency {
            // The quickest ever as measured; the round's with the lag
            // taken off: a busy loop is never taken for a queue.
            let least = latency.saturating_sub(lag);
            self.round.quickest = Some(self.round.quickest.map_or(least, |q| q.min(least)));
            self.quickest = Some(self.quickest.map_or(latency, |q| q.min(latency)));
        }
    }

    /// A sign of overload.
    pub(super) fn sign(&mut self, sign: Sign) {
        let round = &mut self.round;
        match sign {
            Sign::SlowConnect => round.slow_connects += 1,
            // Missing past a round trip only a group that answers has.
            Sign::Missing if self.answered => round.missing += 1,
            Sign::Missing => {}
            Sign::Refused => round.refused += 1,
            Sign::NoBuffers => round.no_buffers += 1,
        }
    }

    /// A host of the group begins.
    pub(super) fn begun(&mut self) {
        self.round.begun += 1;
    }

    /// Ends the round if it has lasted long enough at `now` (a round trip
    /// of the group being `round_trip`); whether the rate changed.
    pub(super) fn tick(&mut self, now: Instant, round_trip: Option<Duration>) -> bool {
        let length = round_trip.map_or(ROUND, |rtt| (rtt * 2).max(ROUND));
        let lasted = now.saturating_duration_since(self.began);
        if lasted < length {
            return false;
        }
        let round = std::mem::take(&mut self.round);
        self.began = now;
        let before = self.per_second;
        let queue = self.queue_stands(&round);
        let draining = self.draining.is_some_and(|until| now < until);
        let refusals = self.refusal_burst(&round);
        if (queue && !draining) || self.overloaded(&round) || refusals {
            self.per_second = (self.per_second / 2.0).max(self.bounds.floor);
            self.doubling = false;
            self.draining = Some(now + length * 2);
        } else if !queue && round.answers > 0 && self.used(&round, lasted) {
            let factor = if self.doubling { 2.0 } else { 1.25 };
            self.per_second = (self.per_second * factor).min(self.bounds.ceiling);
        }
        self.per_second != before
    }

    /// Whether the hosts begun in `round`, which `lasted`, used at least
    /// half the rate: the rate, not the hosts or this host's own loop, held
    /// the group back.
    fn used(&self, round: &Round, lasted: Duration) -> bool {
        f64::from(round.begun) >= self.per_second * lasted.as_secs_f64() * USED
    }

    /// Whether even the quickest answer of `round` came [`QUEUE`] later
    /// than the quickest ever.
    fn queue_stands(&self, round: &Round) -> bool {
        match (round.quickest, self.quickest) {
            (Some(round), Some(ever)) => round > ever + QUEUE,
            _ => false,
        }
    }

    /// Whether `round` showed a sign of overload other than a queue.
    fn overloaded(&self, round: &Round) -> bool {
        round.slow_connects > 0
            || round.no_buffers > 0
            || (round.missing > 1 && round.missing * 4 > round.heard())
    }

    /// Whether `round`'s refusals came in a burst: many, from a group that
    /// answers, and a share of the hosts heard of well above the group's
    /// usual one (hosts where nothing listens refuse in every round); the
    /// usual share follows.
    fn refusal_burst(&mut self, round: &Round) -> bool {
        let heard = round.heard();
        if heard == 0 {
            return false;
        }
        let share = f64::from(round.refused) / f64::from(heard);
        let usual = self.refusals;
        self.refusals = usual + (share - usual) / 4.0;
        self.answered && round.refused >= REFUSAL_BURST && share > usual + REFUSAL_RISE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::options::{FLOOR, START};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A round ending at `at` that used the whole rate, in which `n`
    /// answered after `latency`.
    fn busy_round(rate: &mut Rate, at: Instant, n: u32, latency: Duration) -> bool {
        let used = (rate.per_second() * ROUND.as_secs_f64()) as u32;
        for _ in 0..used {
            rate.begun();
        }
        for _ in 0..n {
            rate.answered(Some(latency), Duration::ZERO);
        }
        rate.tick(at, None)
    }

    #[test]
    fn doubles_while_answers_come_then_halves_on_a_standing_queue() {
        let t0 = Instant::now();
        let mut rate = Rate::new(Bounds::default(), t0);
        assert_eq!(rate.per_second(), START);
        assert!(
            !busy_round(&mut rate, t0 + ms(5), 10, ms(1)),
            "a round lasts 10 ms"
        );
        assert!(busy_round(&mut rate, t0 + ms(10), 10, ms(1)));
        assert_eq!(rate.per_second(), 2.0 * START);
        assert!(busy_round(&mut rate, t0 + ms(20), 10, ms(1)));
        assert_eq!(rate.per_second(), 4.0 * START);
        // Even the quickest answer waits 6 ms more: a queue stands.
        assert!(busy_round(&mut rate, t0 + ms(30), 10, ms(7)));
        assert_eq!(rate.per_second(), 2.0 * START);
        // While it drains, the same queue only holds the rate...
        assert!(!busy_round(&mut rate, t0 + ms(40), 10, ms(7)));
        assert_eq!(rate.per_second(), 2.0 * START);
        // ... gone, the rate rises by a quarter, no more doubling...
        assert!(busy_round(&mut rate, t0 + ms(50), 10, ms(1)));
        assert_eq!(rate.per_second(), 2.5 * START);
        // ... and past the draining a queue halves it again.
        assert!(busy_round(&mut rate, t0 + ms(80), 10, ms(9)));
        assert_eq!(rate.per_second(), 1.25 * START);
    }

    #[test]
    fn a_busy_loop_is_not_taken_for_a_queue() {
        let t0 = Instant::now();
        let mut rate = Rate::new(Bounds::default(), t0);
        busy_round(&mut rate, t0 + ms(10), 10, ms(1));
        assert_eq!(rate.per_second(), 2.0 * START);
        // Answers seen 30 ms late, the loop busy 30 ms before it saw them.
        for _ in 0..100 {
            rate.begun();
        }
        rate.answered(Some(ms(31)), ms(30));
        assert!(rate.tick(t0 + ms(20), None));
        assert_eq!(rate.per_second(), 4.0 * START, "no queue: still doubling");
        // The quickest ever stays what was measured, never the lag taken off.
        assert_eq!(rate.quickest, Some(ms(1)));
    }

    #[test]
    fn holds_when_the_rate_was_not_used_or_nobody_answered() {
        let t0 = Instant::now();
        let mut rate = Rate::new(Bounds::default(), t0);
        rate.answered(Some(ms(1)), Duration::ZERO);
        for _ in 0..24 {
            rate.begun();
        }
        assert!(!rate.tick(t0 + ms(10), None), "24 of 50 begun: no rise");
        for _ in 0..50 {
            rate.begun();
        }
        assert!(!rate.tick(t0 + ms(20), None), "no answer: no rise");
        assert_eq!(rate.per_second(), START);
    }

    #[test]
    fn each_sign_halves_it_down_to_the_floor() {
        let t0 = Instant::now();
        for sign in [Sign::SlowConnect, Sign::NoBuffers] {
            let mut rate = Rate::new(Bounds::default(), t0);
            rate.sign(sign);
            assert!(rate.tick(t0 + ms(10), None), "{sign:?}");
            assert_eq!(rate.per_second(), START / 2.0, "{sign:?}");
            for i in 2..20 {
                rate.sign(sign);
                rate.tick(t0 + ms(10 * i), None);
            }
            assert_eq!(rate.per_second(), FLOOR, "{sign:?}");
        }
    }

    #[test]
    fn missing_replies_count_past_a_quarter_of_the_hosts() {
        let t0 = Instant::now();
        let mut rate = Rate::new(Bounds::default(), t0);
        for _ in 0..2 {
            rate.sign(Sign::Missing);
        }
        busy_round(&mut rate, t0 + ms(10), 10, ms(1));
        assert_eq!(
            rate.per_second(),
            2.0 * START,
            "2 of 12: loss, not overload"
        );
        for _ in 0..5 {
            rate.sign(Sign::Missing);
        }
        busy_round(&mut rate, t0 + ms(20), 10, ms(1));
        assert_eq!(rate.per_second(), START);
    }

    #[test]
    fn refusals_in_a_burst_only_from_a_group_that_answers() {
        let t0 = Instant::now();
        let mut nothing_listens = Rate::new(Bounds::default(), t0);
        for _ in 0..100 {
            nothing_listens.sign(Sign::Refused);
        }
        assert!(!nothing_listens.tick(t0 + ms(10), None));
        let mut shedding = Rate::new(Bounds::default(), t0);
        shedding.answered(Some(ms(1)), Duration::ZERO);
        for _ in 0..REFUSAL_BURST {
            shedding.sign(Sign::Refused);
        }
        assert!(shedding.tick(t0 + ms(10), None));
        assert_eq!(shedding.per_second(), START / 2.0);
        // Half the group has nothing listening: refusals every round, as
        // usual, are no burst once the usual share has caught up.
        let mut half = Rate::new(Bounds::default(), t0);
        let mut halved = 0;
        for i in 1..=40 {
            half.answered(Some(ms(1)), Duration::ZERO);
            for _ in 0..REFUSAL_BURST {
                half.answered(Some(ms(1)), Duration::ZERO);
                half.sign(Sign::Refused);
            }
            let before = half.per_second();
            half.tick(t0 + ms(10 * i), None);
            halved += usize::from(half.per_second() < before);
        }
        assert!(halved <= 3, "halved {halved} times");
    }

    #[test]
    fn a_ceiling_bounds_it_and_rounds_follow_the_round_trip() {
        let t0 = Instant::now();
        let mut rate = Rate::new(Bounds::new(1_000, None), t0);
        assert_eq!(rate.per_second(), 1_000.0);
        busy_round(&mut rate, t0 + ms(10), 10, ms(1));
        assert_eq!(rate.per_second(), 1_000.0);
        let mut far = Rate::new(Bounds::default(), t0);
        for _ in 0..1000 {
            far.begun();
        }
        far.answered(Some(ms(100)), Duration::ZERO);
        assert!(
            !far.tick(t0 + ms(100), Some(ms(100))),
            "a round is two round trips"
        );
        assert!(far.tick(t0 + ms(200), Some(ms(100))));
    }
}
