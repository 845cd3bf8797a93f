//! The event loop that asks many hosts at once, in stream and dgram modes.
//!
//! One thread and one epoll set: every host is in flight at once, up to the
//! descriptors the process may hold; beyond that a window that refills as
//! hosts finish. New hosts begin at the adaptive pace of their group of
//! destinations ([`Groups`]), told what each answer, resend, slow connect
//! and refusal says of the path. Each host's query is
//! a state machine ([`Stream`], [`Datagram`]); the loop owns their sockets
//! (non-blocking, edge-triggered), their timers and their deadlines (in
//! [`Slots`]), and tells the machines what happened. Names are looked up by the
//! [`Resolver`]. Each wait in `epoll_wait` also has a SIGALRM backstop.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::resource::{Resource, getrlimit};
use ruptime_common::duration::millis_until;
use ruptime_common::oserror::describe;
use ruptime_common::protocol::MAX_REPLY;
use ruptime_common::resolve::Proto;
use ruptime_common::timeout::with_deadline;
use socket2::Socket;

use super::dgram::Datagram;
use super::groups::{Groups, Waiting};
use super::options::Options;
use super::outcome::{Outcome, QueryError};
use super::resolver::{Report, Resolver, SLOW};
use super::round_trip::RoundTrip;
use super::slots::{Slots, untoken};
use super::sockets::{Sockets, connecting};
use super::stream::{MAX_CONNECTIONS, Stream};
use super::trace::Untraced;
use super::watch::{TICK, Watch};
use crate::target::Target;

mod tcp;
mod timing;
mod udp;

/// Events taken from the kernel per wait.
const EVENTS: usize = 1024;

/// Descriptors left free for everything but the hosts' sockets: standard
/// streams, the epoll set, the resolver's eventfd, fork mode's pipe.
const SPARE_DESCRIPTORS: usize = 32;

/// How long past its own timeout a wait may last before SIGALRM ends it.
const BACKSTOP: Duration = Duration::from_secs(1);

/// The most addresses of one host asked over UDP (a socket each).
const MAX_DGRAM_ADDRS: usize = 16;

/// The epoll token of the resolver's eventfd.
const RESOLVER: u64 = u64::MAX;

/// How long a silent connection waits before another is opened beside it
/// while no round trip is measured: the kernel sends its first SYN again
/// after as long.
const FIRST_HEDGE: Duration = Duration::from_secs(1);

/// How much longer than its group's round trip a connection takes when its
/// SYN was sent again (the kernel's first retransmission comes after 1 s).
const SYN_AGAIN: Duration = Duration::from_millis(900);

/// The connections of a stream host, by slot.
type Connections = [Option<Socket>; MAX_CONNECTIONS];

/// A host's query, as far as it has come.
enum Query {
    /// Its name is being looked up; the deadline once the lookup began.
    Resolving(Option<Instant>),
    /// Looked up, waiting for its group's turn: the addresses, the
    /// deadline, and since when it waits (time it does not lose).
    Queued(Vec<SocketAddr>, Instant, Instant),
    /// Over TCP, with its connections.
    Stream(Stream, Connections),
    /// Over UDP, a socket per address.
    Dgram(Datagram, Sockets),
}

/// A host in flight.
type Slot = super::slots::Slot<Query>;

/// Asks every target over `proto`; the outcomes in the targets' order.
pub(super) fn ask_all(
    proto: Proto,
    targets: &[Target],
    options: &Options,
    watch: &mut dyn Watch,
) -> Vec<Outcome> {
    let epoll = match Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC) {
        Ok(epoll) => epoll,
        Err(e) => {
            let reason = format!("cannot start asking: {}", describe(&io::Error::from(e)));
            return targets
                .iter()
                .map(|_| Err(QueryError::Failed(reason.clone())))
                .collect();
        }
    };
    let mut fleet = Fleet {
        proto,
        targets,
        options,
        watch,
        epoll,
        slots: Slots::new(),
        groups: Groups::new(options.pace, Instant::now()),
        resolver: None,
        next: 0,
        sockets: 0,
        resolving: 0,
        room: socket_room(),
        heard: Instant::now(),
        round_trip: RoundTrip::default(),
        busy: Duration::ZERO,
        results: targets.iter().map(|_| None).collect(),
        left: targets.len(),
        buf: vec![0; MAX_REPLY + 1],
    };
    fleet.run();
    fleet
        .results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(QueryError::Failed("not asked".to_owned()))))
        .collect()
}

/// How many sockets the loop may hold: the soft descriptor limit, less the
/// descriptors open now and a spare few.
fn socket_room() -> usize {
    let limit = getrlimit(Resource::RLIMIT_NOFILE).map_or(1024, |(soft, _)| soft);
    let open = std::fs::read_dir("/proc/self/fd").map_or(SPARE_DESCRIPTORS, Iterator::count);
    usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_sub(open + SPARE_DESCRIPTORS)
        .max(1)
}

struct Fleet<'a> {
    proto: Proto,
    targets: &'a [Target],
    options: &'a Options,
    watch: &'a mut dyn Watch,
    epoll: Epoll,
    slots: Slots<Query>,
    groups: Groups,
    resolver: Option<Resolver>,
    /// The next target to begin.
    next: usize,
    /// Sockets open.
    sockets: usize,
    /// Hosts being looked up, each soon wanting a socket.
    resolving: usize,
    /// How many sockets the loop may hold.
    room: usize,
    /// When the resolver last reported.
    heard: Instant,
    /// The hosts' round trip, as their answers measure it (each group's
    /// own first).
    round_trip: RoundTrip,
    /// How long the loop worked before its last wait: events that came
    /// meanwhile were seen up to that late.
    busy: Duration,
    results: Vec<Option<Outcome>>,
    left: usize,
    buf: Vec<u8>,
}

impl Fleet<'_> {
    fn run(&mut self) {
        let mut events = vec![EpollEvent::empty(); EVENTS];
        let mut woke = Instant::now();
        while self.left > 0 {
            let now = Instant::now();
            self.begin(now);
            if self.left == 0 {
                break;
            }
            let now = Instant::now();
            self.busy = now.saturating_duration_since(woke);
            let mut n = self.wait(&mut events, now);
            woke = Instant::now();
            loop {
                let now = Instant::now();
                for event in &events[..n] {
                    self.dispatch(event.data(), event.events(), now);
                }
                // A full batch: more may be ready. Every answer that came
                // is taken before a host is called silent.
                if n < EVENTS {
                    break;
                }
                n = self
                    .epoll
                    .wait(&mut events, EpollTimeout::ZERO)
                    .unwrap_or(0);
            }
            self.fire(Instant::now());
            self.watch.tick();
        }
    }

    fn has_room(&self) -> bool {
        self.sockets + self.resolving < self.room
    }

    /// Hands the new hosts on: one given as an address waits in its group
    /// at once, a name goes to the resolver as the window allows; then the
    /// hosts whose group's turn it is begin.
    fn begin(&mut self, now: Instant) {
        while self.next < self.targets.len() {
            let index = self.next;
            let target = &self.targets[index];
            if target.is_resolved() {
                self.next += 1;
                match target.first_address(self.options.family) {
                    Ok(addr) => {
                        let group = self.groups.of(addr, now);
                        let waiting = Waiting::Target(u32::try_from(index).unwrap_or(u32::MAX));
                        self.groups.wait(group, waiting, now);
                    }
                    Err(e) => {
                        self.watch.begun(index, now + self.options.timeout);
                        self.record(index, Err(e.into()));
                    }
                }
            } else if self.has_room() {
                self.next += 1;
                self.look_up(index, now);
            } else {
                break;
            }
        }
        self.release();
    }

    /// Begins the hosts whose group's turn it is, as the window allows,
    /// each counting its time from when it begins.
    fn release(&mut self) {
        while self.has_room() {
            let now = Instant::now();
            let Some((group, host)) = self.groups.next(now) else {
                return;
            };
            match host {
                Waiting::Target(index) => {
                    let index = index as usize;
                    let deadline = now + self.options.timeout;
                    self.watch.begun(index, deadline);
                    match self.targets[index].addresses(self.options.family) {
                        Ok(addrs) => {
                            let mut slot = self.slots.allocate(index, Query::Resolving(None));
                            slot.group = group;
                            self.start(slot, addrs, deadline, now);
                        }
                        Err(e) => self.record(index, Err(e.into())),
                    }
                }
                Waiting::Slot(id, generation) => {
                    let Some(mut slot) = self.slots.take(id, generation) else {
                        continue;
                    };
                    match std::mem::replace(&mut slot.query, Query::Resolving(None)) {
                        Query::Queued(addrs, deadline, since) => {
                            let deadline = deadline + now.saturating_duration_since(since);
                            self.start(slot, addrs, deadline, now);
                        }
                        _ => {
                            // Only a host looked up waits by its slot.
                            slot.query = Query::Queued(Vec::new(), now, now);
                            let lost = QueryError::Failed("lost its turn".to_owned());
                            self.settle(slot, Some(Err(lost)));
                        }
                    }
                }
            }
        }
    }

    /// Waits for events until the next timer, token or tick; how many came.
    fn wait(&mut self, events: &mut [EpollEvent], now: Instant) -> usize {
        let mut wake = now + TICK;
        if let Some(at) = self.slots.next_wake() {
            wake = wake.min(at);
        }
        if self.has_room()
            && let Some(turn) = self.groups.next_turn(now)
        {
            wake = wake.min(turn.max(now));
        }
        let timeout = EpollTimeout::try_from(millis_until(wake, now)).unwrap_or(EpollTimeout::MAX);
        let epoll = &self.epoll;
        match with_deadline(wake + BACKSTOP, || {
            epoll.wait(events, timeout).map_err(io::Error::from)
        }) {
            Ok(n) => n,
            // No timer for the backstop: wait without it rather than spin.
            Err(e) if e.kind() != io::ErrorKind::TimedOut => {
                epoll.wait(events, timeout).unwrap_or(0)
            }
            Err(_) => 0,
        }
    }

    /// Puts a slot back, or ends its host with `outcome`.
    fn settle(&mut self, mut slot: Slot, outcome: Option<Outcome>) {
        let Some(outcome) = outcome else {
            return self.slots.put(slot);
        };
        match &mut slot.query {
            Query::Resolving(_) => self.resolving -= 1,
            Query::Queued(..) => {}
            Query::Stream(_, sockets) => sockets.iter_mut().for_each(|s| self.close(s)),
            Query::Dgram(_, sockets) => self.sockets -= sockets.close_all(),
        }
        let index = slot.index;
        self.slots.free(slot);
        self.record(index, outcome);
    }

    fn record(&mut self, index: usize, outcome: Outcome) {
        self.watch.ended(index, &outcome);
        self.results[index] = Some(outcome);
        self.left -= 1;
    }

    fn close(&mut self, socket: &mut Option<Socket>) {
        if socket.take().is_some() {
            self.sockets -= 1;
        }
    }

    /// Hands a name to the resolver.
    fn look_up(&mut self, index: usize, now: Instant) {
        if self.resolver.is_none() {
            let made = Resolver::new().map_err(io::Error::from).and_then(|r| {
                let event = EpollEvent::new(EpollFlags::EPOLLIN, RESOLVER);
                self.epoll.add(r.wake(), event)?;
                Ok(r)
            });
            match made {
                Ok(resolver) => self.resolver = Some(resolver),
                Err(e) => {
                    let reason = format!("cannot look names up: {}", describe(&e));
                    return self.record(index, Err(QueryError::Failed(reason)));
                }
            }
        }
        let mut slot = self.slots.allocate(index, Query::Resolving(None));
        self.resolving += 1;
        // Queued: woken to see whether the pool still makes progress.
        self.slots.wake_at(&mut slot, now + self.options.timeout);
        let submitted = match &mut self.resolver {
            Some(resolver) => {
                resolver.submit(slot.token(0), &self.targets[index], self.options.family)
            }
            None => Err(io::Error::other("no resolver")),
        };
        let outcome = submitted.err().map(|e| {
            let reason = format!("cannot look the name up: {}", describe(&e));
            Err(QueryError::Failed(reason))
        });
        self.settle(slot, outcome);
    }

    /// What the resolver reported.
    fn hear_resolver(&mut self, now: Instant) {
        let reports = self
            .resolver
            .as_ref()
            .map(Resolver::reports)
            .unwrap_or_default();
        if !reports.is_empty() {
            self.heard = now;
        }
        for report in reports {
            match report {
                Report::Started(token, at) => {
                    let (id, generation, _) = untoken(token);
                    let Some(mut slot) = self.slots.take(id, generation) else {
                        continue;
                    };
                    let deadline = at + self.options.timeout;
                    slot.query = Query::Resolving(Some(deadline));
                    self.watch.begun(slot.index, deadline);
                    // Woken first when the lookup turns slow, then at the deadline.
                    self.slots.wake_at(&mut slot, (at + SLOW).min(deadline));
                    self.slots.put(slot);
                }
                Report::Resolved(token, result) => {
                    let (id, generation, _) = untoken(token);
                    let Some(slot) = self.slots.take(id, generation) else {
                        continue;
                    };
                    let deadline = match slot.query {
                        Query::Resolving(Some(deadline)) => deadline,
                        _ => now + self.options.timeout,
                    };
                    match result {
                        Ok(addrs) => self.queue(slot, addrs, deadline, now),
                        Err(e) => self.settle(slot, Some(Err(e.into()))),
                    }
                }
            }
        }
    }

    /// The host in `slot` has its addresses, looked up: it waits for its
    /// group's turn.
    fn queue(&mut self, mut slot: Slot, addrs: Vec<SocketAddr>, deadline: Instant, now: Instant) {
        self.resolving -= 1;
        // No longer looked up: counted as such no more, even if it ends here.
        slot.query = Query::Queued(Vec::new(), deadline, now);
        let Some(&first) = addrs.first() else {
            return self.settle(slot, Some(Err(QueryError::Failed("no address".to_owned()))));
        };
        if now >= deadline {
            // Looked up as its time ran out: nothing was asked.
            let late = QueryError::lookup_unanswered(self.options.timeout);
            return self.settle(slot, Some(Err(late)));
        }
        slot.group = self.groups.of(first, now);
        self.groups
            .wait(slot.group, Waiting::Slot(slot.id, slot.generation), now);
        slot.query = Query::Queued(addrs, deadline, now);
        self.slots.put(slot);
    }

    /// The host in `slot`, its turn come, begins its query proper.
    fn start(&mut self, mut slot: Slot, addrs: Vec<SocketAddr>, deadline: Instant, now: Instant) {
        let hedge = self.hedge(slot.group);
        let outcome = match self.proto {
            Proto::Tcp => match Stream::start(addrs, deadline, now, self.options, hedge) {
                Ok((machine, step)) => {
                    slot.query = Query::Stream(machine, Connections::default());
                    self.stream_step(&mut slot, step, now)
                }
                Err(e) => {
                    // No socket was opened: nothing to close.
                    let index = slot.index;
                    self.slots.free(slot);
                    return self.record(index, Err(e));
                }
            },
            Proto::Udp => {
                let mut addrs = addrs;
                // A socket per address, within the room the other hosts
                // leave (its own one at least: the window had room).
                let room = self
                    .room
                    .saturating_sub(self.sockets + self.resolving)
                    .max(1);
                addrs.truncate(MAX_DGRAM_ADDRS.min(room));
                let mut machine = Datagram::new(addrs, deadline, now, self.options);
                let open = |i, addr: &SocketAddr| self.open(addr, Proto::Udp, slot.token(i));
                let sockets = Sockets::open(&mut machine, open, &mut Untraced);
                let step = machine.due(now, self.resend(slot.group));
                slot.query = Query::Dgram(machine, sockets);
                self.dgram_step(&mut slot, step, now)
            }
        };
        self.settle(slot, outcome);
    }

    /// Fires the timers due at `now`.
    fn fire(&mut self, now: Instant) {
        while let Some(mut slot) = self.slots.due(now) {
            let outcome = match &mut slot.query {
                Query::Resolving(Some(deadline)) if now >= *deadline => {
                    Some(Err(QueryError::lookup_unanswered(self.options.timeout)))
                }
                Query::Resolving(Some(deadline)) => {
                    let deadline = *deadline;
                    if let Some(resolver) = &mut self.resolver {
                        resolver.slow();
                    }
                    self.slots.wake_at(&mut slot, deadline);
                    None
                }
                Query::Resolving(None) => {
                    if now.duration_since(self.heard) < self.options.timeout {
                        // Lookups go on: this one is still queued.
                        self.slots.wake_at(&mut slot, now + self.options.timeout);
                        None
                    } else {
                        Some(Err(QueryError::lookup_stuck(self.options.timeout)))
                    }
                }
                // Its group's turn will come (its deadline waits with it).
                Query::Queued(..) => None,
                Query::Stream(..) => self.stream_woke(&mut slot, now),
                Query::Dgram(..) => self.dgram_woke(&mut slot, now),
            };
            self.settle(slot, outcome);
        }
    }

    /// A socket is ready, or the resolver has news.
    fn dispatch(&mut self, data: u64, flags: EpollFlags, now: Instant) {
        if data == RESOLVER {
            return self.hear_resolver(now);
        }
        let (id, generation, socket) = untoken(data);
        let Some(mut slot) = self.slots.take(id, generation) else {
            return;
        };
        let outcome = match &slot.query {
            Query::Stream(..) => match self.stream_ready(&mut slot, socket, flags, now) {
                Some(step) => self.stream_step(&mut slot, step, now),
                None => None,
            },
            Query::Dgram(..) => match self.dgram_ready(&mut slot, socket, now) {
                Some(step) => self.dgram_step(&mut slot, step, now),
                None => None,
            },
            Query::Resolving(_) | Query::Queued(..) => None,
        };
        self.settle(slot, outcome);
    }

    /// A non-blocking socket connected to `addr` (for TCP: the connection
    /// begun), in the epoll set, edge-triggered.
    fn open(&mut self, addr: &SocketAddr, proto: Proto, token: u64) -> io::Result<Socket> {
        let socket = connecting(addr, proto)?;
        let interest = match proto {
            Proto::Tcp => EpollFlags::EPOLLIN | EpollFlags::EPOLLRDHUP,
            Proto::Udp => EpollFlags::EPOLLIN,
        };
        let event = EpollEvent::new(interest | EpollFlags::EPOLLET, token);
        self.epoll.add(&socket, event)?;
        self.sockets += 1;
        Ok(socket)
    }
}
