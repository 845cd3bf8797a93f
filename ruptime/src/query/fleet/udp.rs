//! The loop's side of a datagram host: requests sent and resent as the
//! machine says, replies read, and what each tells the host's group.

use std::io::{self, Read};
use std::time::Instant;

use ruptime_common::protocol::MAX_DATAGRAM;

use super::super::dgram;
use super::super::outcome::Outcome;
use super::super::rate::Sign;
use super::super::trace::Untraced;
use super::{Fleet, Query, Slot};

impl Fleet<'_> {
    /// A datagram host's timer at `now`: a resend, or its deadline (what
    /// came since the last wait read first); the outcome once it is over.
    pub(super) fn dgram_woke(&mut self, slot: &mut Slot, now: Instant) -> Option<Outcome> {
        let Query::Dgram(machine, sockets) = &mut slot.query else {
            return None;
        };
        if now >= machine.deadline() {
            let open: Vec<usize> = sockets.open_ones().map(|(i, _)| i).collect();
            for i in open {
                if let Some(outcome) = self.read_replies(slot, i) {
                    return self.dgram_step(slot, dgram::Step::Done(outcome), now);
                }
            }
        }
        let Query::Dgram(machine, _) = &mut slot.query else {
            return None;
        };
        let step = machine.due(now, self.resend(slot.group));
        self.dgram_step(slot, step, now)
    }

    /// Carries out a datagram machine's step; the outcome once it is over.
    pub(super) fn dgram_step(
        &mut self,
        slot: &mut Slot,
        step: dgram::Step,
        now: Instant,
    ) -> Option<Outcome> {
        let group = slot.group;
        let Query::Dgram(machine, sockets) = &mut slot.query else {
            return None;
        };
        let at = match step {
            dgram::Step::Send(at) => {
                if machine.sends() == 2 {
                    // No reply past the round trip: sent again, a first time.
                    self.groups.sign(group, Sign::Missing);
                }
                if sockets.send(machine, &mut Untraced) {
                    self.groups.sign(group, Sign::NoBuffers);
                }
                self.sockets -= sockets.close_unused(machine);
                if let dgram::Step::Done(outcome) = machine.due(now, self.resend(group)) {
                    return Some(outcome);
                }
                at
            }
            dgram::Step::Wait(at) => at,
            dgram::Step::Done(outcome) => {
                if outcome.is_ok() {
                    let rtt = machine.round_trip(now);
                    self.answered(group, rtt);
                }
                return Some(outcome);
            }
        };
        self.slots.wake_at(slot, at);
        None
    }

    /// Socket `i` of a datagram host is ready: the answer, or the machine's next step.
    pub(super) fn dgram_ready(
        &mut self,
        slot: &mut Slot,
        i: usize,
        now: Instant,
    ) -> Option<dgram::Step> {
        if let Some(outcome) = self.read_replies(slot, i) {
            return Some(dgram::Step::Done(outcome));
        }
        let Query::Dgram(machine, sockets) = &mut slot.query else {
            return None;
        };
        self.sockets -= sockets.close_unused(machine);
        Some(machine.due(now, self.resend(slot.group)))
    }

    /// Reads what socket `i` of a datagram host holds: the outcome, if an
    /// answer (or a reply too long or empty) is there.
    fn read_replies(&mut self, slot: &mut Slot, i: usize) -> Option<Outcome> {
        let Query::Dgram(machine, sockets) = &mut slot.query else {
            return None;
        };
        let socket = sockets.get(i)?;
        // One byte more than allowed, so that a longer datagram shows.
        let buf = &mut self.buf[..=MAX_DATAGRAM];
        loop {
            let got = match (&*socket).read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                got => got.map(|n| &buf[..n]),
            };
            let failed = got.is_err();
            if got
                .as_ref()
                .is_err_and(|e| e.kind() == io::ErrorKind::ConnectionRefused)
            {
                self.groups.sign(slot.group, Sign::Refused);
            }
            if let Some(outcome) = machine.received(i, got) {
                return Some(outcome);
            }
            if failed && !machine.is_open(i) {
                return None;
            }
        }
        None
    }
}
