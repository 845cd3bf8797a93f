//! The HTTP server: connections accepted on every listener while the
//! [`Table`] has room, each over TLS when the web configuration asks (the
//! handshake within [`HEADER_TIMEOUT`]), served by hyper over HTTP/1.1 with
//! a deadline for its request headers ([`HEADER_TIMEOUT`]) and for each
//! write of its answers ([`WRITE_TIMEOUT`]), until a shutdown is asked.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use ruptime_common::oserror::describe;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_io_timeout::TimeoutStream;
use tokio_rustls::TlsAcceptor;

use crate::State;
use crate::connections::{Entry, Table};
use crate::routes;

/// How long a client may take to send a request's headers, the first or
/// the next on a kept-alive connection (and to make its TLS handshake);
/// then the connection is closed.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a response may wait for a client that does not read it; then
/// the connection is closed.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most a request's headers may hold.
const MAX_HEADERS: usize = 16 * 1024;

/// How long a connection told to go (at shutdown, or to make room) may
/// take to finish the answer it is writing.
const GRACE: Duration = Duration::from_secs(1);

/// How long to wait before accepting again when accepting fails
/// (descriptors or memory run out).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A connection's byte stream, under its write deadline.
type Timed = Pin<Box<TimeoutStream<TcpStream>>>;

/// Serves `listeners` until `shutdown` completes, then lets the answers
/// going on end for [`GRACE`].
pub(crate) async fn serve(
    listeners: Vec<TcpListener>,
    state: Arc<State>,
    shutdown: impl Future<Output = ()>,
) {
    let table = Arc::new(Table::default());
    let (stopping, stop) = watch::channel(false);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEADERS);
    let accepting: Vec<_> = listeners
        .into_iter()
        .map(|listener| {
            let (table, state, stop, http) = (
                Arc::clone(&table),
                Arc::clone(&state),
                stop.clone(),
                http.clone(),
            );
            tokio::spawn(accept_all(listener, table, state, stop, http))
        })
        .collect();
    shutdown.await;
    let _ = stopping.send(true);
    for task in accepting {
        let _ = task.await;
    }
    let _ = tokio::time::timeout(GRACE, async {
        while table.len() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// Accepts connections on `listener` and serves each on a task of its own,
/// until told to stop.
async fn accept_all(
    listener: TcpListener,
    table: Arc<Table>,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
    http: http1::Builder,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|stopping| *stopping) => return,
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
            Err(e) if ruptime_common::oserror::out_of_resources(&e) => {
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
            Err(_) => {}
        }
    }
}

/// The next connection, once the table has room for it (an idle one told
/// to go if need be: the new one is not in the table yet, and cannot be).
async fn accept(listener: &TcpListener, table: &Arc<Table>) -> io::Result<(TcpStream, Entry)> {
    let (stream, _) = listener.accept().await?;
    table.room().await;
    Ok((stream, table.enter()))
}

/// Serves one connection, over TLS when the web configuration asks, until
/// it ends or is told to go.
async fn serve_one(
    http: http1::Builder,
    stream: TcpStream,
    entry: Entry,
    state: Arc<State>,
    stop: watch::Receiver<bool>,
) {
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let web = state.web.transport();
    let mut timed = TimeoutStream::new(stream);
    timed.set_write_timeout(Some(WRITE_TIMEOUT));
    let timed: Timed = Box::pin(timed);
    match &web.tls {
        None => serve_http(http, timed, entry, state, stop).await,
        Some(tls) => {
            let handshake = TlsAcceptor::from(Arc::clone(tls)).accept(timed);
            let handshake = tokio::time::timeout(HEADER_TIMEOUT, handshake);
            let mut stopping = stop.clone();
            // Told to go (to make room, or at shutdown) before it is over:
            // the connection goes at once, its socket with it.
            let shaken = tokio::select! {
                shaken = handshake => Some(shaken),
                () = entry.connection.told_to_go() => None,
                _ = stopping.wait_for(|stopping| *stopping) => None,
            };
            match shaken {
                Some(Ok(Ok(tls))) => serve_http(http, tls, entry, state, stop).await,
                Some(Ok(Err(e))) => log::debug!("TLS handshake with {peer}: {}", describe(&e)),
                Some(Err(_)) => {
                    log::debug!("TLS handshake with {peer}: none within {HEADER_TIMEOUT:?}");
                }
                None => log::debug!("TLS handshake with {peer}: cut, told to go"),
            }
        }
    }
}

/// Serves HTTP on `io` until the connection ends, or until it is told to go
/// (to make room, or at shutdown); then its answer going on may end for
/// [`GRACE`].
async fn serve_http<IO>(
    http: http1::Builder,
    io: IO,
    entry: Entry,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = Arc::clone(&entry.connection);
    let service = service_fn(move |request| {
        routes::respond(request, Arc::clone(&state), Arc::clone(&connection))
    });
    let served = http.serve_connection(TokioIo::new(io), service);
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
