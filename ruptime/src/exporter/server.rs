//! The HTTP server: connections accepted while the [`Table`] has room,
//! each served by hyper over HTTP/1.1 with a deadline for its request
//! headers ([`HEADER_TIMEOUT`]) and for each write of its answers
//! ([`WRITE_TIMEOUT`]), until a shutdown is asked.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_io_timeout::TimeoutStream;

use super::State;
use super::connections::{Busy, Entry, Table};
use super::routes;

/// How long a client may take to send a request's headers, the first or
/// the next on a kept-alive connection; then the connection is closed.
pub(super) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a response may wait for a client that does not read it; then
/// the connection is closed.
pub(super) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most a request's headers may hold.
const MAX_HEADERS: usize = 16 * 1024;

/// How long a connection told to go (at shutdown, or to make room) may
/// take to finish the answer it is writing.
const GRACE: Duration = Duration::from_secs(1);

/// How long to wait before accepting again when accepting fails
/// (descriptors or memory run out).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `listener` until `shutdown` completes, then lets the answers
/// going on end for [`GRACE`].
pub(super) async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    shutdown: impl Future<Output = ()>,
) {
    let table = Arc::new(Table::default());
    let (stopping, stop) = watch::channel(false);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEADERS);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &table) => accepted,
        };
        match accepted {
            Ok((stream, entry)) => {
                let served = serve_one(
                    http.clone(),
                    stream,
                    entry,
                    Arc::clone(&state),
                    stop.clone(),
                );
                tokio::spawn(served);
            }
            Err(e) if runs_out(&e) => tokio::time::sleep(ACCEPT_BACKOFF).await,
            Err(_) => {}
        }
    }
    drop(listener);
    let _ = stopping.send(true);
    let _ = tokio::time::timeout(GRACE, async {
        while table.len() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// The next connection, once the table has room for it (an idle one told
/// to go if need be: the new one is not in the table yet, and cannot be).
async fn accept(listener: &TcpListener, table: &Arc<Table>) -> io::Result<(TcpStream, Entry)> {
    let (stream, _) = listener.accept().await?;
    table.room().await;
    Ok((stream, table.enter()))
}

/// Serves one connection until it ends, or until it is told to go (to make
/// room, or at shutdown); then its answer going on may end for [`GRACE`].
async fn serve_one(
    http: http1::Builder,
    stream: TcpStream,
    entry: Entry,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
) {
    let mut stream = TimeoutStream::new(stream);
    stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let connection = Arc::clone(&entry.connection);
    let service = service_fn(move |request| {
        let busy = Busy::new(&connection);
        let state = Arc::clone(&state);
        async move {
            let _busy = busy;
            routes::respond(request, state).await
        }
    });
    let served = http.serve_connection(TokioIo::new(Box::pin(stream)), service);
    tokio::pin!(served);
    loop {
        tokio::select! {
            _ = served.as_mut() => return,
            () = entry.connection.told_to_go() => {
                // A request begun since it was chosen is answered.
                if !entry.connection.stays() {
                    break;
                }
            }
            _ = stop.wait_for(|stopping| *stopping) => break,
        }
    }
    served.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(GRACE, served).await;
}

/// Whether accepting failed for want of descriptors or memory, which the
/// next call would meet too.
fn runs_out(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
