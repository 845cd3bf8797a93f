//! The HTTP server: connections accepted up to [`MAX_CONNECTIONS`], each
//! served by hyper over HTTP/1.1 with a deadline for its request headers
//! ([`HEADER_TIMEOUT`]) and for each write of its answers
//! ([`WRITE_TIMEOUT`]), until a shutdown is asked.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_io_timeout::TimeoutStream;

use super::State;
use super::routes;

/// The most connections served at once; more wait in the listen backlog.
pub(super) const MAX_CONNECTIONS: usize = 1024;

/// How long a client may take to send a request's headers, the first or
/// the next on a kept-alive connection; then the connection is closed.
pub(super) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a response may wait for a client that does not read it; then
/// the connection is closed.
pub(super) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most a request's headers may hold.
const MAX_HEADERS: usize = 16 * 1024;

/// How long requests going on at shutdown may take to end.
const GRACE: Duration = Duration::from_secs(1);

/// How long to wait before accepting again when accepting fails
/// (descriptors or memory run out).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `listener` until `shutdown` completes, then lets the requests
/// going on end for [`GRACE`].
pub(super) async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    shutdown: impl Future<Output = ()>,
) {
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEADERS);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &connections) => accepted,
        };
        let (stream, permit) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                if runs_out(&e) {
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
                continue;
            }
        };
        let state = Arc::clone(&state);
        let service = service_fn(move |request| routes::respond(request, Arc::clone(&state)));
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(WRITE_TIMEOUT));
        let io = TokioIo::new(Box::pin(stream));
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
}

/// The next connection, once there is room for it.
async fn accept(
    listener: &TcpListener,
    connections: &Arc<Semaphore>,
) -> io::Result<(TcpStream, OwnedSemaphorePermit)> {
    let permit = Arc::clone(connections)
        .acquire_owned()
        .await
        .map_err(io::Error::other)?;
    let (stream, _) = listener.accept().await?;
    Ok((stream, permit))
}

/// Whether accepting failed for want of descriptors or memory, which the
/// next call would meet too.
fn runs_out(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
