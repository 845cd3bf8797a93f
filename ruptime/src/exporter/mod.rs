//! `ruptime --exporter`: a Prometheus multi-target exporter.
//!
//! Prometheus asks `/probe?target=HOST[:PORT][&mode=...]` ([`request`]); the
//! exporter asks that host as `ruptime` does ([`probe`], names looked up on
//! bounded threads by [`lookup`]) and answers with its metrics
//! ([`exposition`], which `--prometheus` prints too). `/metrics` has the
//! exporter's own ([`own`], with [`process`]'s). The HTTP side is hyper on
//! tokio ([`server`], [`routes`]): connections and probes are bounded,
//! request headers have a deadline, SIGTERM and SIGINT end it.

mod children;
mod connections;
pub mod exposition;
mod lookup;
mod own;
mod probe;
mod process;
pub mod request;
mod routes;
mod server;

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use ruptime_common::oserror::describe;
use ruptime_common::server::{BACKLOG, SocketKind, initserver};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Semaphore;

use crate::query::Options;
use children::Children;
use lookup::Lookups;
use own::Own;
use request::Defaults;

/// The exporter's port when `--exporter` names none: the first free one
/// above the allocations on Prometheus's list of default exporter ports that
/// we know of (see the README), and in no entry of `/etc/services`.
pub const DEFAULT_PORT: u16 = 10090;

/// The address `--exporter` listens on when given none.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT);

/// The most probes at once unless `--max-probes` says otherwise.
pub const MAX_PROBES: usize = 256;

/// How the exporter runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// What probe requests leave to the flags.
    pub defaults: Defaults,
    /// The options of every probe (its timeout is the probe's own).
    pub options: Options,
    /// The most probes at once.
    pub max_probes: usize,
}

/// What every request shares.
#[derive(Debug)]
struct State {
    defaults: Defaults,
    options: Options,
    probes: Arc<Semaphore>,
    max_probes: usize,
    lookups: Lookups,
    children: Children,
    own: Own,
}

/// Serves until SIGTERM or SIGINT, having printed `listening on ADDR:PORT`.
///
/// # Errors
/// A one-line reason: the runtime, the socket or the signals could not be set up.
pub fn serve(config: Config) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(config.max_probes + lookup::LOOKUPS + 16)
        .build()
        .map_err(|e| format!("cannot start: {}", describe(&e)))?;
    let served = runtime.block_on(run(config));
    // Probes left behind end at their deadlines; nothing waits for them.
    runtime.shutdown_background();
    served
}

async fn run(config: Config) -> Result<(), String> {
    let listen = config.listen;
    let cannot = |e: io::Error| format!("cannot listen on {listen}: {}", describe(&e));
    let socket = initserver(SocketKind::Stream, &listen, BACKLOG).map_err(cannot)?;
    socket.set_nonblocking(true).map_err(cannot)?;
    let listener = TcpListener::from_std(socket.into()).map_err(cannot)?;
    let bound = listener.local_addr().map_err(cannot)?;
    let signals = |kind| signal(kind).map_err(|e| format!("cannot take signals: {}", describe(&e)));
    let mut terminate = signals(SignalKind::terminate())?;
    let mut interrupt = signals(SignalKind::interrupt())?;
    let shutdown = async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    };
    let state = Arc::new(State {
        defaults: config.defaults,
        options: config.options,
        probes: Arc::new(Semaphore::new(config.max_probes)),
        max_probes: config.max_probes,
        lookups: Lookups::new(),
        children: Children::default(),
        own: Own::new(),
    });
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "listening on {bound}").and_then(|()| out.flush());
    drop(out);
    server::serve(listener, Arc::clone(&state), shutdown).await;
    state.children.kill_all();
    Ok(())
}

/// Reads `--exporter`'s address: `ADDR:PORT`, `[V6ADDR]:PORT`, `:PORT`,
/// `PORT` (on loopback) or `ADDR` (on [`DEFAULT_PORT`]); port 0 takes any.
///
/// # Errors
/// A one-line reason, for clap to show.
pub fn listen_address(spec: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = spec.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let unbracketed = spec
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(spec);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, DEFAULT_PORT));
    }
    let port = spec.strip_prefix(':').unwrap_or(spec);
    if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
        return port
            .parse()
            .map(|port| SocketAddr::new(DEFAULT_LISTEN.ip(), port))
            .map_err(|_| format!("port {port} is out of range: 0 to 65535"));
    }
    Err(format!(
        "'{spec}' is not ADDR:PORT, :PORT, PORT or ADDR (an IP address)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        for (spec, addr) in [
            ("0.0.0.0:9999", "0.0.0.0:9999"),
            ("[::1]:8080", "[::1]:8080"),
            (":8080", "127.0.0.1:8080"),
            ("8080", "127.0.0.1:8080"),
            ("0", "127.0.0.1:0"),
            ("10.1.2.3", "10.1.2.3:10090"),
            ("::", "[::]:10090"),
            ("[::1]", "[::1]:10090"),
        ] {
            assert_eq!(listen_address(spec), Ok(addr.parse().unwrap()), "{spec}");
        }
        assert_eq!(
            listen_address(":70000").unwrap_err(),
            "port 70000 is out of range: 0 to 65535"
        );
        for bad in ["", ":", "localhost:80", "1.2.3.4:", "[::1", "1e19"] {
            assert!(listen_address(bad).is_err(), "{bad}");
        }
    }
}
