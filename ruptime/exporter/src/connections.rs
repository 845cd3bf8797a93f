//! The connections being served, at most [`MAX_CONNECTIONS`].
//!
//! At the limit, a new connection is not left waiting in the backlog while
//! idle ones hold every place (a client can open a thousand and send
//! nothing): the connection idle the longest (for [`MIN_IDLE`] at least,
//! between requests or before its first) is told to go, and the new one is
//! served at once. Only when none is idle does the new one wait, until one
//! is. A connection told to go that has begun a request meanwhile stays.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The most connections served at once (besides those told to go).
pub(crate) const MAX_CONNECTIONS: usize = 1024;

/// How long a connection must have been idle to be told to go.
pub(crate) const MIN_IDLE: Duration = Duration::from_secs(1);

/// How often a new connection waiting for room looks again, when no
/// connection went idle or away meanwhile (one may pass [`MIN_IDLE`]).
const LOOK_AGAIN: Duration = Duration::from_millis(100);

/// One connection's state, shared with its task.
#[derive(Debug)]
pub(crate) struct Connection {
    /// Since when it has been idle; `None` while it answers a request.
    idle_since: Mutex<Option<Instant>>,
    /// Whether it was told to go.
    evicted: AtomicBool,
    /// Tells it to go.
    go: Notify,
    /// The table's: told when this connection goes idle.
    freed: Arc<Notify>,
}

impl Connection {
    /// Waits until the connection is told to go.
    pub(crate) async fn told_to_go(&self) {
        self.go.notified().await;
    }

    /// Told to go while answering a request: it stays, and another
    /// connection may be told instead. Whether it stays.
    pub(crate) fn stays(&self) -> bool {
        let busy = self.idle().is_none();
        if busy {
            self.evicted.store(false, Ordering::SeqCst);
            self.freed.notify_waiters();
        }
        busy
    }

    fn idle(&self) -> Option<Instant> {
        *self
            .idle_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn set_idle(&self, since: Option<Instant>) {
        *self
            .idle_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = since;
    }
}

/// A request being answered on a connection, until dropped.
#[derive(Debug)]
pub(crate) struct Busy(Arc<Connection>);

impl Busy {
    pub(crate) fn new(connection: &Arc<Connection>) -> Busy {
        connection.set_idle(None);
        Busy(Arc::clone(connection))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.set_idle(Some(Instant::now()));
        self.0.freed.notify_waiters();
    }
}

/// Every connection being served.
#[derive(Debug, Default)]
pub(crate) struct Table {
    open: Mutex<(u64, BTreeMap<u64, Arc<Connection>>)>,
    /// Told when a connection goes away or goes idle.
    freed: Arc<Notify>,
}

impl Table {
    /// Waits for room for one more connection: under the limit, or once the
    /// connection idle the longest has been told to go.
    pub(crate) async fn room(&self) {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if self.make_room() {
                return;
            }
            let _ = tokio::time::timeout(LOOK_AGAIN, freed).await;
        }
    }

    /// Whether there is room, telling an idle connection to go if need be.
    fn make_room(&self) -> bool {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        // Below the limit however many were told to go: no need to count them.
        if open.1.len() < MAX_CONNECTIONS {
            return true;
        }
        let staying = open
            .1
            .values()
            .filter(|c| !c.evicted.load(Ordering::SeqCst))
            .count();
        if staying < MAX_CONNECTIONS {
            return true;
        }
        let now = Instant::now();
        let longest = open
            .1
            .values()
            .filter(|c| !c.evicted.load(Ordering::SeqCst))
            .filter_map(|c| Some((c.idle()?, c)))
            .filter(|(since, _)| now.duration_since(*since) >= MIN_IDLE)
            .min_by_key(|(since, _)| *since);
        match longest {
            Some((_, idle)) => {
                idle.evicted.store(true, Ordering::SeqCst);
                idle.go.notify_one();
                true
            }
            None => false,
        }
    }

    /// Lists a new connection, idle until its first request; it is served
    /// until the entry drops.
    pub(crate) fn enter(self: &Arc<Table>) -> Entry {
        let connection = Arc::new(Connection {
            idle_since: Mutex::new(Some(Instant::now())),
            evicted: AtomicBool::new(false),
            go: Notify::new(),
            freed: Arc::clone(&self.freed),
        });
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let id = open.0;
        open.0 += 1;
        open.1.insert(id, Arc::clone(&connection));
        Entry {
            table: Arc::clone(self),
            id,
            connection,
        }
    }

    /// How many connections are served now.
    pub(crate) fn len(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .len()
    }
}

/// A connection listed in the [`Table`], until dropped.
#[derive(Debug)]
pub(crate) struct Entry {
    table: Arc<Table>,
    id: u64,
    /// Its state.
    pub(crate) connection: Arc<Connection>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.table
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .remove(&self.id);
        self.table.freed.notify_waiters();
    }
}
