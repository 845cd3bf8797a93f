//! The hosts in flight of the loop: a table of slots reused as hosts end,
//! each known by its id and a generation (so that a late event or timer of
//! an ended host cannot reach the next one), and one timer per slot on a
//! heap whose stale entries are skipped.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// The generations kept: the bits of an epoll token they fill.
const GENERATION_MASK: u32 = 0xff_ffff;

/// A host in flight.
#[derive(Debug)]
pub(super) struct Slot<Q> {
    /// Where it is in the table.
    pub(super) id: u32,
    /// Which use of the slot this is.
    pub(super) generation: u32,
    /// The host's index in the run.
    pub(super) index: usize,
    /// How far its query has come.
    pub(super) query: Q,
    /// The group of destinations it belongs to (see `groups`).
    pub(super) group: u32,
    wake: Option<Instant>,
}

impl<Q> Slot<Q> {
    /// The epoll token of socket `socket` (below 256) of this host.
    pub(super) fn token(&self, socket: usize) -> u64 {
        (u64::from(self.id) << 32) | (u64::from(self.generation) << 8) | (socket as u64 & 0xff)
    }
}

/// The slot id, generation and socket of a token.
pub(super) fn untoken(token: u64) -> (u32, u32, usize) {
    let id = (token >> 32) as u32;
    let generation = ((token >> 8) as u32) & GENERATION_MASK;
    (id, generation, (token & 0xff) as usize)
}

/// The table and the timers.
#[derive(Debug)]
pub(super) struct Slots<Q> {
    slots: Vec<Option<Slot<Q>>>,
    free: Vec<u32>,
    generation: u32,
    timers: BinaryHeap<Reverse<(Instant, u32, u32)>>,
}

impl<Q> Slots<Q> {
    /// An empty table.
    pub(super) fn new() -> Slots<Q> {
        Slots {
            slots: Vec::new(),
            free: Vec::new(),
            generation: 0,
            timers: BinaryHeap::new(),
        }
    }

    /// A slot for host `index`, taken out of the table to be worked on.
    pub(super) fn allocate(&mut self, index: usize, query: Q) -> Slot<Q> {
        self.generation = self.generation.wrapping_add(1) & GENERATION_MASK;
        let id = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            (self.slots.len() - 1) as u32
        });
        Slot {
            id,
            generation: self.generation,
            index,
            query,
            group: 0,
            wake: None,
        }
    }

    /// Takes slot `id` out while it is worked on, if it holds `generation`.
    pub(super) fn take(&mut self, id: u32, generation: u32) -> Option<Slot<Q>> {
        let entry = self.slots.get_mut(id as usize)?;
        if entry.as_ref()?.generation != generation {
            return None;
        }
        entry.take()
    }

    /// Puts a slot back.
    pub(super) fn put(&mut self, slot: Slot<Q>) {
        let id = slot.id as usize;
        self.slots[id] = Some(slot);
    }

    /// Frees a slot whose host has ended.
    pub(super) fn free(&mut self, slot: Slot<Q>) {
        self.free.push(slot.id);
    }

    /// Wakes `slot` at `at` (in place of any earlier wake-up).
    pub(super) fn wake_at(&mut self, slot: &mut Slot<Q>, at: Instant) {
        if slot.wake != Some(at) {
            slot.wake = Some(at);
            self.timers.push(Reverse((at, slot.id, slot.generation)));
        }
    }

    /// When the next timer is due.
    pub(super) fn next_wake(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _, _))| *at)
    }

    /// A slot whose timer is due at `now`, taken out, its timer cleared.
    pub(super) fn due(&mut self, now: Instant) -> Option<Slot<Q>> {
        while let Some(&Reverse((at, id, generation))) = self.timers.peek() {
            if at > now {
                return None;
            }
            self.timers.pop();
            if let Some(mut slot) = self.take(id, generation) {
                if slot.wake == Some(at) {
                    slot.wake = None;
                    return Some(slot);
                }
                self.put(slot);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timers_fire_in_order_and_stale_ones_are_skipped() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut slots = Slots::new();
        let mut a = slots.allocate(0, "a");
        let mut b = slots.allocate(1, "b");
        slots.wake_at(&mut a, t0 + ms(30));
        slots.wake_at(&mut a, t0 + ms(10));
        slots.wake_at(&mut b, t0 + ms(20));
        slots.put(a);
        slots.put(b);
        assert_eq!(slots.next_wake(), Some(t0 + ms(10)));
        assert!(slots.due(t0).is_none());
        let due = slots.due(t0 + ms(50)).unwrap();
        assert_eq!(due.query, "a");
        slots.put(due);
        assert_eq!(slots.due(t0 + ms(50)).unwrap().query, "b");
        // a's first timer (30 ms) was replaced: it does not fire.
        assert!(slots.due(t0 + ms(50)).is_none());
    }

    #[test]
    fn an_ended_host_s_token_never_reaches_the_next_one() {
        let mut slots = Slots::new();
        let first = slots.allocate(0, 'x');
        let old = untoken(first.token(3));
        assert_eq!((old.0, old.2), (first.id, 3));
        slots.free(first);
        let second = slots.allocate(1, 'y');
        assert_eq!(second.id, old.0, "the slot is reused");
        slots.put(second);
        assert!(slots.take(old.0, old.1).is_none());
        let (id, generation, _) = untoken(slots.take(0, 2).unwrap().token(0));
        assert_eq!((id, generation), (0, 2));
    }
}
