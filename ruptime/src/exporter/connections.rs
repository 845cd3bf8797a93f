//! The connections being served, at most [`MAX_CONNECTIONS`].
//!
//! At the limit, a new connection is not left waiting in the backlog while
//! idle ones hold every place (a client can open a thousand and send
//! nothing): the oldest connection with no request being answered is told
//! to go, and the new one takes its place once it has. Only when every
//! connection is answering a request does a new one wait.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

/// The most connections served at once.
pub(super) const MAX_CONNECTIONS: usize = 1024;

/// One connection's state, shared with its task.
#[derive(Debug, Default)]
pub(super) struct Connection {
    /// Requests being answered on it.
    busy: AtomicUsize,
    /// Whether it was told to go.
    evicted: AtomicBool,
    /// Tells it to go.
    go: Notify,
}

impl Connection {
    /// Waits until the connection is told to go.
    pub(super) async fn told_to_go(&self) {
        self.go.notified().await;
    }
}

/// A request being answered on a connection, until dropped.
#[derive(Debug)]
pub(super) struct Busy(Arc<Connection>);

impl Busy {
    pub(super) fn new(connection: &Arc<Connection>) -> Busy {
        connection.busy.fetch_add(1, Ordering::SeqCst);
        Busy(Arc::clone(connection))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Every connection being served.
#[derive(Debug, Default)]
pub(super) struct Table {
    open: Mutex<(u64, BTreeMap<u64, Arc<Connection>>)>,
    freed: Notify,
}

impl Table {
    /// Waits for room for one more connection, telling the oldest idle one
    /// to go when there is none.
    pub(super) async fn room(&self) {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
                if open.1.len() < MAX_CONNECTIONS {
                    return;
                }
                let idle = open.1.values().find(|c| {
                    c.busy.load(Ordering::SeqCst) == 0 && !c.evicted.swap(true, Ordering::SeqCst)
                });
                if let Some(idle) = idle {
                    idle.go.notify_one();
                }
            }
            freed.await;
        }
    }

    /// Lists a new connection; it is served until the entry drops.
    pub(super) fn enter(self: &Arc<Table>) -> Entry {
        let connection = Arc::new(Connection::default());
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
    pub(super) fn len(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .len()
    }
}

/// A connection listed in the [`Table`], until dropped.
#[derive(Debug)]
pub(super) struct Entry {
    table: Arc<Table>,
    id: u64,
    /// Its state.
    pub(super) connection: Arc<Connection>,
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
