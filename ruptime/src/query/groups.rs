//! Hosts grouped by the path to them, each group with its own adaptive
//! pace ([`Rate`] driving a [`Pace`]), its own round trip, and its queue of
//! hosts waiting to begin; one slow daemon slows its group, not the run.
//!
//! A group is a port on a network: an IPv4 /24, an IPv6 /64, or this host
//! itself (all of 127.0.0.0/8 and `::1`, which one daemon may answer).
//! Groups take turns: a heap orders them by when their next token comes.
//! `--pace` bounds the run as a whole, its own bucket over every group.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::options::Bounds;
use super::pace::Pace;
use super::rate::{Rate, Sign};
use super::round_trip::RoundTrip;

/// Where hosts of a group go: a port on a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// This host itself.
    Here(u16),
    /// An IPv4 /24.
    V4(u32, u16),
    /// An IPv6 /64.
    V6(u64, u16),
}

impl Key {
    fn of(addr: SocketAddr) -> Key {
        let ip = match addr.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        match ip {
            ip if ip.is_loopback() => Key::Here(addr.port()),
            IpAddr::V4(v4) => Key::V4(u32::from(v4) >> 8, addr.port()),
            IpAddr::V6(v6) => Key::V6((u128::from(v6) >> 64) as u64, addr.port()),
        }
    }
}

/// A host waiting to begin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Waiting {
    /// A target given as an address: its index.
    Target(u32),
    /// A host whose name was looked up: its slot's id and generation.
    Slot(u32, u32),
}

/// A group's pace, round trip and queue.
#[derive(Debug)]
struct Group {
    rate: Rate,
    pace: Pace,
    round_trip: RoundTrip,
    waiting: VecDeque<Waiting>,
    /// Whether it is on the heap.
    scheduled: bool,
}

/// Every group of a run.
#[derive(Debug)]
pub(super) struct Groups {
    bounds: Bounds,
    ids: HashMap<Key, u32>,
    groups: Vec<Group>,
    /// Groups with hosts waiting, by when their next token comes, then
    /// by when they were put there (so that groups take turns).
    turns: BinaryHeap<Reverse<(Instant, u64, u32)>>,
    /// How many times a group was put on `turns`.
    pushed: u64,
    /// The run's bucket: `--pace`.
    run: Pace,
}

impl Groups {
    /// No group yet; every one paced within `bounds`.
    pub(super) fn new(bounds: Bounds, now: Instant) -> Groups {
        Groups {
            bounds,
            ids: HashMap::new(),
            groups: Vec::new(),
            turns: BinaryHeap::new(),
            pushed: 0,
            run: Pace::new(bounds.ceiling, now),
        }
    }

    /// The group of hosts at `addr`, made if new.
    pub(super) fn of(&mut self, addr: SocketAddr, now: Instant) -> u32 {
        let next = u32::try_from(self.groups.len()).unwrap_or(u32::MAX);
        let bounds = self.bounds;
        *self.ids.entry(Key::of(addr)).or_insert_with(|| {
            self.groups.push(Group {
                rate: Rate::new(bounds, now),
                pace: Pace::new(bounds.start(), now),
                round_trip: RoundTrip::default(),
                waiting: VecDeque::new(),
                scheduled: false,
            });
            next
        })
    }

    /// `host` waits its turn in `group`.
    pub(super) fn wait(&mut self, group: u32, host: Waiting, now: Instant) {
        let Some(g) = self.groups.get_mut(group as usize) else {
            return;
        };
        g.waiting.push_back(host);
        if !g.scheduled {
            g.scheduled = true;
            self.turn_at(now, group);
        }
    }

    /// Puts `group` on the heap for a turn at `at`.
    fn turn_at(&mut self, at: Instant, group: u32) {
        self.pushed += 1;
        self.turns.push(Reverse((at, self.pushed, group)));
    }

    /// The next host to begin at `now`, and its group, if a group has one
    /// and a token for it.
    pub(super) fn next(&mut self, now: Instant) -> Option<(u32, Waiting)> {
        if self.run.next_token(now) > now {
            // The run's bucket is empty: every group waits for it.
            return None;
        }
        while let Some(&Reverse((at, _, id))) = self.turns.peek() {
            if at > now {
                return None;
            }
            self.turns.pop();
            let group = &mut self.groups[id as usize];
            if group.waiting.is_empty() {
                group.scheduled = false;
                continue;
            }
            if group.rate.tick(now, group.round_trip.smoothed()) {
                group.pace.set_rate(group.rate.per_second(), now);
            }
            if !group.pace.take(now) {
                let at = group.pace.next_token(now);
                self.turn_at(at, id);
                continue;
            }
            self.run.take(now);
            group.rate.begun();
            let host = group.waiting.pop_front();
            // Its turn over: the next group's, if one is due.
            self.turn_at(now, id);
            if let Some(host) = host {
                return Some((id, host));
            }
        }
        None
    }

    /// When a host may begin next, if one waits: its group's token and
    /// the run's.
    pub(super) fn next_turn(&self, now: Instant) -> Option<Instant> {
        let Reverse((at, _, _)) = self.turns.peek()?;
        Some((*at).max(self.run.next_token(now)))
    }

    /// A host of `group` answered, `round_trip` after it was asked if it
    /// was asked once only, of which up to `lag` may be the loop's own.
    pub(super) fn answered(&mut self, group: u32, round_trip: Option<Duration>, lag: Duration) {
        if let Some(g) = self.groups.get_mut(group as usize) {
            g.rate.answered(round_trip, lag);
            if let Some(rtt) = round_trip {
                g.round_trip.sample(rtt);
            }
        }
    }

    /// A sign of overload from `group`.
    pub(super) fn sign(&mut self, group: u32, sign: Sign) {
        if let Some(g) = self.groups.get_mut(group as usize) {
            g.rate.sign(sign);
        }
    }

    /// The round trip of `group`, as its answers measure it.
    pub(super) fn round_trip(&self, group: u32) -> Option<&RoundTrip> {
        self.groups.get(group as usize).map(|g| &g.round_trip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::options::START;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_group_is_a_port_on_a_network_or_on_this_host() {
        let t0 = Instant::now();
        let mut groups = Groups::new(Bounds::default(), t0);
        let here = groups.of(addr("127.0.0.1:4000"), t0);
        for same in ["127.9.9.9:4000", "[::1]:4000", "[::ffff:127.0.0.2]:4000"] {
            assert_eq!(groups.of(addr(same), t0), here, "{same}");
        }
        assert_ne!(groups.of(addr("127.0.0.1:4001"), t0), here);
        let lan = groups.of(addr("10.0.0.1:4000"), t0);
        assert_eq!(groups.of(addr("10.0.0.254:4000"), t0), lan);
        assert_ne!(groups.of(addr("10.0.1.1:4000"), t0), lan);
        let v6 = groups.of(addr("[2001:db8::1]:4000"), t0);
        assert_eq!(groups.of(addr("[2001:db8::ffff:1]:4000"), t0), v6);
        assert_ne!(groups.of(addr("[2001:db8:0:1::1]:4000"), t0), v6);
    }

    /// The hosts that begin at `now`, by group.
    fn drain(groups: &mut Groups, now: Instant) -> Vec<u32> {
        std::iter::from_fn(|| groups.next(now).map(|(group, _)| group)).collect()
    }

    #[test]
    fn groups_take_turns_and_one_held_back_does_not_hold_the_others() {
        let t0 = Instant::now();
        let mut groups = Groups::new(Bounds::default(), t0);
        let (a, b) = (
            groups.of(addr("10.0.0.1:1"), t0),
            groups.of(addr("10.0.9.1:1"), t0),
        );
        for i in 0..1000 {
            groups.wait(a, Waiting::Target(i), t0);
        }
        for i in 0..10 {
            groups.wait(b, Waiting::Target(1000 + i), t0);
        }
        let begun = drain(&mut groups, t0);
        // 25 ms of the first rate from each, a's first, then by turns.
        let burst = (START / 40.0) as usize;
        assert_eq!(begun.iter().filter(|&&g| g == b).count(), 10);
        assert_eq!(begun.iter().filter(|&&g| g == a).count(), burst);
        assert_eq!(&begun[..4], [a, b, a, b]);
        assert!(
            groups.next_turn(t0).is_some_and(|at| at > t0),
            "a waits for a token"
        );
        assert_eq!(
            drain(&mut groups, t0 + ms(1)).len(),
            (START / 1000.0) as usize
        );
    }

    #[test]
    fn the_ceiling_bounds_the_whole_run() {
        let t0 = Instant::now();
        let mut groups = Groups::new(Bounds::new(40, None), t0);
        for (i, host) in ["10.0.0.1:1", "10.0.1.1:1", "10.0.2.1:1"]
            .iter()
            .enumerate()
        {
            let group = groups.of(addr(host), t0);
            groups.wait(group, Waiting::Target(i as u32), t0);
            groups.wait(group, Waiting::Target(10 + i as u32), t0);
        }
        assert_eq!(drain(&mut groups, t0).len(), 1, "40 a second: one at once");
        assert_eq!(groups.next_turn(t0), Some(t0 + ms(25)));
        assert_eq!(drain(&mut groups, t0 + ms(25)).len(), 1);
    }

    #[test]
    fn answers_raise_a_group_s_rate_and_missing_replies_lower_it() {
        let t0 = Instant::now();
        let mut groups = Groups::new(Bounds::default(), t0);
        let g = groups.of(addr("10.0.0.1:1"), t0);
        for i in 0..100_000 {
            groups.wait(g, Waiting::Target(i), t0);
        }
        let rate = |groups: &Groups| groups.groups[g as usize].rate.per_second();
        let mut now = t0;
        for _ in 0..3 {
            let begun = drain(&mut groups, now);
            for _ in &begun {
                groups.answered(g, Some(ms(1)), Duration::ZERO);
            }
            now += ms(10);
        }
        drain(&mut groups, now);
        assert_eq!(rate(&groups), 8.0 * START, "doubled each round");
        for _ in 0..100 {
            groups.sign(g, Sign::Missing);
        }
        drain(&mut groups, now + ms(10));
        assert_eq!(rate(&groups), 4.0 * START);
        assert_eq!(
            groups.round_trip(g).and_then(RoundTrip::smoothed),
            Some(ms(1))
        );
    }
}
