//! `ruptime-exporter`: a Prometheus multi-target exporter of the ruptime
//! suite, in the manner of blackbox_exporter.
//!
//! - [`cli`]: the command line; [`listen`]: where it listens (or the
//!   sockets systemd passes).
//! - [`web`]: TLS, client certificates and basic authentication, from the
//!   exporter-toolkit's configuration file.
//! - `request`: reading a probe request; `probe`: making it, with the
//!   client's own query (`lookup`: names looked up on bounded threads).
//! - `routes`: the answers; `server` and `connections`: the HTTP side.
//! - `self_metrics` and `process`: the exporter's own metrics.
//!
//! [`run`] puts them together.

pub mod cli;
pub mod listen;
pub(crate) mod web;

mod connections;
mod lookup;
mod probe;
mod process;
mod request;
mod routes;
mod self_metrics;
mod server;

use std::io::{self, Write};
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use ruptime::target::Family;
use ruptime_common::logging::{self, Destination, Fallback};
use ruptime_common::oserror::describe;
use ruptime_common::resolve::{self, Proto};
use ruptime_common::systemd::Systemd;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Semaphore;

use cli::{Cli, IpProtocol};
use lookup::Names;
use request::Defaults;
use self_metrics::SelfMetrics;
use web::Followed;
use web::auth::Auth;

/// Exit status when it cannot listen.
const FAILED: u8 = 1;
/// Exit status for usage errors and a broken web configuration.
const USAGE: u8 = 2;

/// What every request shares.
#[derive(Debug)]
struct State {
    defaults: Defaults,
    probes: Arc<Semaphore>,
    max_probes: usize,
    names: Names,
    metrics: SelfMetrics,
    web: Followed,
    auth: Auth,
}

/// Serves until SIGTERM or SIGINT; the exit status.
///
/// Call it while the process has one thread: it takes systemd's variables
/// out of the environment before the runtime starts its threads.
pub fn run(cli: &Cli) -> ExitCode {
    if let Some(what) = cli.generate {
        let command = <Cli as clap::CommandFactory>::command();
        return match ruptime_common::manual::print(what, command, &cli::MANUAL) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(FAILED, &e),
        };
    }
    let _ = ruptime_common::inherited::reset_signals();
    ruptime_common::descriptors::raise_limit();
    // SAFETY: no thread runs yet (the caller's promise; the runtime starts
    // below), so nothing else reads the environment.
    #[allow(unsafe_code)]
    let systemd = match unsafe { Systemd::take() } {
        Ok(systemd) => systemd,
        Err(e) => return fail(FAILED, &format!("socket activation: {}", describe(&e))),
    };
    if logging::init("ruptime-exporter", Destination::Stderr, Fallback::Stderr).is_ok() {
        log::set_max_level(cli.log_level.filter());
    }
    let web = match Followed::start(cli.web_config.clone()) {
        Ok(web) => web,
        Err(why) => return fail(USAGE, &format!("--web.config.file {why}")),
    };
    let defaults = match defaults(cli) {
        Ok(defaults) => defaults,
        Err(why) => return fail(USAGE, &why),
    };
    let listeners = if cli.systemd_socket {
        listen::from_systemd(&systemd.fds)
    } else if cli.listen.is_empty() {
        listen::bind(&[listen::DEFAULT])
    } else {
        listen::bind(&cli.listen)
    };
    let listeners = match listeners {
        Ok(listeners) => listeners,
        Err(why) => return fail(FAILED, &why),
    };
    let max_probes = cli.max_requests as usize;
    let state = Arc::new(State {
        defaults,
        probes: Arc::new(Semaphore::new(max_probes)),
        max_probes,
        names: Names::new(),
        metrics: SelfMetrics::new(),
        web,
        auth: Auth::new(),
    });
    match serve(listeners, state, &systemd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => fail(FAILED, &why),
    }
}

/// What probe requests leave to the flags.
fn defaults(cli: &Cli) -> Result<Defaults, String> {
    let port = |proto| match &cli.port {
        Some(spec) => {
            resolve::remote_port(spec, proto).map_err(|e| format!("--probe.port {spec}: {e}"))
        }
        None => Ok(resolve::default_port(proto)),
    };
    Ok(Defaults {
        mode: cli.mode,
        tcp_port: port(Proto::Tcp)?,
        udp_port: port(Proto::Udp)?,
        family: match cli.ip_protocol {
            IpProtocol::Ip4 => Family::V4,
            IpProtocol::Ip6 => Family::V6,
            IpProtocol::Any => Family::Any,
        },
        timeout: cli.timeout,
        offset: cli.timeout_offset,
    })
}

/// Serves `listeners` until SIGTERM or SIGINT, having printed `listening
/// on ADDR:PORT` for each and told systemd it is ready.
fn serve(listeners: Vec<TcpListener>, state: Arc<State>, systemd: &Systemd) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // A thread per probe (the query blocks), and a few for the rest.
        .max_blocking_threads(state.max_probes + 16)
        .build()
        .map_err(|e| format!("cannot start: {}", describe(&e)))?;
    let served = runtime.block_on(async {
        let mut bound = Vec::new();
        let mut ours = Vec::new();
        for listener in listeners {
            let cannot = |e: io::Error| format!("cannot listen: {}", describe(&e));
            listener.set_nonblocking(true).map_err(cannot)?;
            bound.push(listener.local_addr().map_err(cannot)?);
            ours.push(tokio::net::TcpListener::from_std(listener).map_err(cannot)?);
        }
        let signals =
            |kind| signal(kind).map_err(|e| format!("cannot take signals: {}", describe(&e)));
        let mut terminate = signals(SignalKind::terminate())?;
        let mut interrupt = signals(SignalKind::interrupt())?;
        let shutdown = async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        };
        let mut out = io::stdout().lock();
        for addr in &bound {
            let _ = writeln!(out, "listening on {addr}");
        }
        let _ = out.flush();
        drop(out);
        let shown: Vec<String> = bound.iter().map(ToString::to_string).collect();
        log::info!(
            "serving on {}{} (ruptime-exporter {})",
            shown.join(", "),
            if state.web.current().is_ok_and(|w| w.tls.is_some()) {
                " over TLS"
            } else {
                ""
            },
            env!("CARGO_PKG_VERSION")
        );
        let _ = systemd.notify("READY=1");
        server::serve(ours, state, shutdown).await;
        let _ = systemd.notify("STOPPING=1");
        Ok(())
    });
    // Probes left behind end at their deadlines; nothing waits for them.
    runtime.shutdown_background();
    served
}

fn fail(status: u8, message: &str) -> ExitCode {
    ruptime_common::logging::stderr_line(format_args!("ruptime-exporter: {message}"));
    ExitCode::from(status)
}
