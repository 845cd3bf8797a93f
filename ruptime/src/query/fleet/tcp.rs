//! The loop's side of a stream host: connections opened and read as the
//! machine says, and what each tells the host's group.

use std::io::{self, Read};
use std::time::Instant;

use nix::sys::epoll::EpollFlags;
use ruptime_common::resolve::Proto;

use super::super::outcome::Outcome;
use super::super::rate::Sign;
use super::super::sockets::{is_out_of_buffers, retransmissions};
use super::super::stream::{self, MAX_CONNECTIONS};
use super::{Fleet, Query, Slot};

impl Fleet<'_> {
    /// A stream host's timer at `now`: its deadline, or another
    /// connection beside silent ones; the outcome once it is over. At the
    /// deadline a connection made but silent, which no event told, is seen
    /// first, and what came since the last wait is read.
    pub(super) fn stream_woke(&mut self, slot: &mut Slot, now: Instant) -> Option<Outcome> {
        let Query::Stream(machine, sockets) = &mut slot.query else {
            return None;
        };
        if now >= machine.deadline() {
            for (i, socket) in sockets.iter().enumerate() {
                if let Some(socket) = socket
                    && machine.is_connecting(i)
                    && socket.peer_addr().is_ok()
                {
                    machine.made(i);
                }
            }
            for i in 0..MAX_CONNECTIONS {
                if let Some(step) = self.read_connection(slot, i, false, None) {
                    return self.stream_step(slot, step, now);
                }
            }
        }
        let Query::Stream(machine, _) = &mut slot.query else {
            return None;
        };
        let beside = machine.beside();
        let step = machine.woke(now, self.hedge(slot.group));
        if beside == 0 && machine.beside() > 0 {
            // Silent past the round trip: a companion, the host's first.
            self.groups.sign(slot.group, Sign::Missing);
        }
        self.stream_step(slot, step, now)
    }

    /// Carries out a stream machine's step; the outcome once it is over.
    pub(super) fn stream_step(
        &mut self,
        slot: &mut Slot,
        mut step: stream::Step,
        now: Instant,
    ) -> Option<Outcome> {
        loop {
            step = match step {
                stream::Step::Connect(i, addr) => {
                    let token = slot.token(i);
                    let Query::Stream(machine, sockets) = &mut slot.query else {
                        return None;
                    };
                    self.close(&mut sockets[i]);
                    match self.open(&addr, Proto::Tcp, token) {
                        Ok(connecting) => {
                            sockets[i] = Some(connecting);
                            stream::Step::Wait(machine.next_wake())
                        }
                        Err(e) => {
                            if is_out_of_buffers(&e) {
                                self.groups.sign(slot.group, Sign::NoBuffers);
                            }
                            machine.connect_failed(i, now, e)
                        }
                    }
                }
                stream::Step::Wait(at) | stream::Step::Sleep(at) => {
                    self.slots.wake_at(slot, at);
                    return None;
                }
                stream::Step::Done(outcome) => {
                    if outcome.is_ok()
                        && let Query::Stream(machine, _) = &slot.query
                    {
                        let rtt = machine.round_trip(now);
                        self.answered(slot.group, rtt);
                    }
                    return Some(outcome);
                }
            }
        }
    }

    /// Connection `i` of a stream host is ready: made or failed, then
    /// everything there is to read; the machine's next step, unless it waits.
    pub(super) fn stream_ready(
        &mut self,
        slot: &mut Slot,
        i: usize,
        flags: EpollFlags,
        now: Instant,
    ) -> Option<stream::Step> {
        let Query::Stream(machine, sockets) = &mut slot.query else {
            return None;
        };
        let socket = sockets.get(i)?.as_ref()?;
        let mut reset = None;
        if machine.is_connecting(i) {
            // Only reading is watched: a connection's first event is its
            // reply, its end, or its failure.
            if flags.contains(EpollFlags::EPOLLERR)
                && let Ok(Some(e)) | Err(e) = socket.take_error()
            {
                if never_made(&e) {
                    if e.kind() == io::ErrorKind::ConnectionRefused {
                        self.groups.sign(slot.group, Sign::Refused);
                    }
                    let step = machine.connect_failed(i, now, e);
                    self.close(&mut sockets[i]);
                    return Some(step);
                }
                // Made, then reset: what came before the reset is read,
                // then the reset (its error taken now) ends it.
                reset = Some(e);
            }
            // Made; far later than the round trip, and the kernel sent its
            // SYN again: a backlog on the way overflowed.
            if machine
                .connect_time(i, now)
                .is_some_and(|took| took > self.syn_again(slot.group))
                && retransmissions(socket).is_some_and(|n| n > 0)
            {
                self.groups.sign(slot.group, Sign::SlowConnect);
            }
            machine.made(i);
        }
        let ending = flags.contains(EpollFlags::EPOLLRDHUP) || reset.is_some();
        self.read_connection(slot, i, ending, reset)
    }

    /// Reads connection `i` of a stream host, made, as far as it goes (with
    /// `ending`, the peer's end came with the event: once a read has taken
    /// all there was, the end follows, without another read; it is `reset`
    /// when that error was taken already); the machine's next step, unless
    /// it waits.
    fn read_connection(
        &mut self,
        slot: &mut Slot,
        i: usize,
        ending: bool,
        mut reset: Option<io::Error>,
    ) -> Option<stream::Step> {
        let Query::Stream(machine, sockets) = &mut slot.query else {
            return None;
        };
        let socket = sockets.get(i)?.as_ref()?;
        if machine.is_connecting(i) {
            return None;
        }
        loop {
            let n = match (&*socket).read(&mut self.buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let step = machine.receive_failed(i, e);
                    self.close(&mut sockets[i]);
                    return Some(step);
                }
            };
            let over = n == 0 || (ending && n < self.buf.len());
            let mut step = (n > 0).then(|| machine.received(i, &self.buf[..n]));
            if over && matches!(step, None | Some(stream::Step::Wait(_))) {
                step = Some(match reset.take() {
                    Some(e) => machine.receive_failed(i, e),
                    None => machine.received(i, &[]),
                });
            }
            match step {
                Some(stream::Step::Wait(_)) if !over => {}
                Some(stream::Step::Wait(_)) | None => {
                    // Over without an answer, others going on: this one is done.
                    self.close(&mut sockets[i]);
                    return None;
                }
                Some(step) => return Some(step),
            }
        }
    }
}

/// Whether `error`, on a connection being made, says it never was (rather
/// than that it was made, then reset).
fn never_made(error: &io::Error) -> bool {
    !matches!(
        error.raw_os_error(),
        Some(libc::ECONNRESET | libc::EPIPE | libc::ECONNABORTED)
    )
}
