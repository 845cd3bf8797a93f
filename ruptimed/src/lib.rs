//! `ruptimed`, the daemon of the ruptime suite: it answers every request with
//! this host's uptime line.
//!
//! - [`cli`]: the command line; [`allow`]: who may ask (`--allow`).
//! - [`listen`]: binding the sockets (all addresses by default), or taking
//!   those systemd passes.
//! - [`daemon`]: detaching, with the verdict reported to the terminal;
//!   [`descriptors`]: inherited descriptors kept from commands.
//! - [`pidfile`]: the locked pid file; [`privileges`]: dropping root.
//! - [`signals`]: signals as events for the serve loop; [`summary`]: what
//!   happens per request, logged once per interval.
//! - [`report`]: what a request is answered with; [`command`] runs it.
//! - [`serve`]: the serve loop, and one module per mode; [`udp`]: replies
//!   from the address asked; [`guard`] and [`ratelimit`]: which datagrams
//!   get one.
//! - [`children`]: the fork mode's children;
//!   [`throttle`]: rate-limited error lines.
//! - `fuzzing` (feature `fuzzing`): the guard driven by a fuzz target.
//!
//! [`run`] puts them together.

pub(crate) mod allow;
pub(crate) mod children;
pub mod cli;
pub(crate) mod command;
pub(crate) mod daemon;
pub(crate) mod descriptors;
pub mod fatal;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub(crate) mod guard;
pub(crate) mod listen;
pub(crate) mod pidfile;
pub(crate) mod privileges;
pub(crate) mod ratelimit;
pub(crate) mod report;
pub(crate) mod serve;
pub(crate) mod signals;
pub(crate) mod summary;
pub(crate) mod throttle;
pub(crate) mod udp;

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use ruptime_common::logging::{self, Destination, Fallback, Logger};
use ruptime_common::mode::Mode;
use ruptime_common::oserror::describe;
use ruptime_common::resolve;
use ruptime_common::systemd::Systemd;

use cli::Cli;
use command::Command;
use fatal::Fatal;
use listen::Listener;
use pidfile::PidFile;
use privileges::Account;
use ratelimit::Limits;
use report::{Native, ReplySource};
use serve::{Bounds, ServeState, Server};
use signals::Signals;

/// Binds (or takes systemd's sockets), detaches unless in the foreground,
/// and serves until SIGTERM or SIGINT; with `--inetd`, serves one request.
///
/// # Errors
/// Anything that stops the daemon from starting, or `poll` failing later.
pub fn run(cli: &Cli) -> Result<(), Fatal> {
    if let Some(what) = cli.generate {
        let command = <Cli as clap::CommandFactory>::command();
        return ruptime_common::manual::print(what, command, &cli::MANUAL).map_err(Fatal::new);
    }
    // Whatever a supervisor left: no signal ignored or blocked.
    ruptime_common::inherited::reset_signals()
        .map_err(|e| Fatal::new(format!("cannot reset the signal mask: {}", e.desc())))?;
    // SAFETY: the daemon starts no thread: nothing else reads the environment.
    #[allow(unsafe_code)]
    let systemd = unsafe { Systemd::take() }
        .map_err(|e| Fatal::new(format!("socket activation: {}", describe(&e))))?;
    let inherited = descriptors::close_on_exec_above_stderr();
    let account = cli.user.as_deref().map(privileges::lookup).transpose()?;
    let reporter = match &cli.command {
        Some(path) => {
            ReplySource::Command(Command::new(path, &cli.command_args, cli.request_timeout)?)
        }
        None => ReplySource::Native(Native::new()),
    };
    let bounds = Bounds {
        request_timeout: cli.request_timeout,
        send_timeout: cli.send_timeout,
        max_children: cli.max_children as usize,
        limits: Limits {
            rate: f64::from(cli.rate_limit),
            burst: f64::from(cli.rate_burst),
            legacy: f64::from(cli.legacy_limit),
            global: f64::from(cli.global_limit),
        },
        allow: allow::Allow::new(&cli.allow),
    };
    if cli.inetd {
        let stdin = serve::inetd::stdin_kind()?;
        let target = cli
            .syslog_socket
            .clone()
            .map_or(Destination::Syslog, Destination::SyslogAt);
        logging::init("ruptimed", target, Fallback::Nowhere)
            .map_err(|e| Fatal::new(e.to_string()))?;
        drop_privileges(account.as_ref())?;
        return serve::inetd::serve(stdin, ServeState::new(reporter, bounds));
    }
    let listeners = listeners(cli, &systemd.fds)?;
    let mut pid_file = cli.pid_file.as_deref().map(PidFile::lock).transpose()?;
    let target = match (&cli.syslog_socket, cli.foreground) {
        (Some(path), _) => Destination::SyslogAt(path.clone()),
        (None, true) => Destination::Stderr,
        (None, false) => Destination::Syslog,
    };
    if target == Destination::Syslog && !Path::new("/dev/log").exists() {
        ruptime_common::logging::stderr_line(format_args!(
            "ruptimed: warning: there is no /dev/log; the detached daemon's log is lost"
        ));
    }
    let readiness = if cli.foreground {
        None
    } else {
        Some(daemon::daemonize()?)
    };
    let sockets: Vec<Served> = listeners
        .iter()
        .map(|l| Served {
            addr: l.local,
            mode: l.mode,
            receive_buffer: l.receive_buffer,
        })
        .collect();
    let source = reporter.describe();
    let started =
        start(target, pid_file.as_mut(), account.as_ref()).and_then(|(logger, signals)| {
            Server::new(
                listeners,
                signals,
                logger,
                ServeState::new(reporter, bounds),
            )
        });
    let server = match (started, readiness) {
        (Ok(server), readiness) => {
            announce(cli, &sockets, &source);
            if let Some(readiness) = readiness {
                readiness.ready();
            }
            tell_systemd(&systemd, "READY=1");
            server
        }
        (Err(e), Some(readiness)) => {
            readiness.failed(&e);
            return Err(e);
        }
        (Err(e), None) => return Err(e),
    };
    if let Err(e) = inherited {
        log::warn!(
            "inherited descriptors may reach commands: close_range: {}",
            describe(&e)
        );
    }
    // STOPPING=1 as soon as SIGTERM comes, while children may still run.
    let served = server.run(|| tell_systemd(&systemd, "STOPPING=1"));
    log::info!("exiting");
    served
}

/// The sockets systemd passed, else the ones `--listen` and `--port` name.
fn listeners(cli: &Cli, passed: &[std::os::fd::RawFd]) -> Result<Vec<Listener>, Fatal> {
    let stream_mode = if cli.mode == Mode::Fork {
        Mode::Fork
    } else {
        Mode::Stream
    };
    if let Some(passed) = listen::from_systemd(passed, stream_mode)? {
        return Ok(passed);
    }
    let proto = cli.mode.proto();
    let port = match &cli.port {
        Some(spec) => {
            resolve::port(spec, proto).map_err(|e| Fatal::new(format!("--port {spec}: {e}")))?
        }
        None => resolve::default_port(proto),
    };
    listen::bind_all(&cli.listen, port, cli.mode)
}

/// Logging, the pid, the user, the signal handlers: what the daemon sets up
/// once detached.
fn start(
    target: Destination,
    pid_file: Option<&mut PidFile>,
    account: Option<&Account>,
) -> Result<(&'static Logger, Signals), Fatal> {
    let logger = logging::init("ruptimed", target, Fallback::Stderr)
        .map_err(|e| Fatal::new(e.to_string()))?;
    if let Some(pid_file) = pid_file {
        pid_file
            .write_pid()
            .map_err(|e| Fatal::new(format!("cannot write the pid file: {}", describe(&e))))?;
    }
    drop_privileges(account)?;
    let signals = Signals::install()
        .map_err(|e| Fatal::new(format!("cannot handle signals: {}", describe(&e))))?;
    Ok((logger, signals))
}

/// Becomes `--user`'s account, or warns when running as root.
fn drop_privileges(account: Option<&Account>) -> Result<(), Fatal> {
    match account {
        Some(account) => privileges::become_user(account),
        None => {
            privileges::warn_if_root();
            Ok(())
        }
    }
}

/// Tells systemd (when it started us, with `Type=notify`) how we are.
fn tell_systemd(systemd: &Systemd, state: &str) {
    if let Err(e) = systemd.notify(state) {
        log::warn!("cannot notify systemd: {}", describe(&e));
    }
}

/// A socket served, as the start tells it.
struct Served {
    addr: SocketAddr,
    mode: Mode,
    receive_buffer: Option<usize>,
}

/// Logs the start (and each datagram socket's receive buffer), and in the
/// foreground prints each address on stdout.
fn announce(cli: &Cli, sockets: &[Served], source: &str) {
    let shown: Vec<String> = sockets
        .iter()
        .map(|s| format!("{} ({})", s.addr, s.mode))
        .collect();
    log::info!(
        "serving {} with the {source} (ruptimed {})",
        shown.join(", "),
        env!("CARGO_PKG_VERSION")
    );
    for socket in sockets {
        if let Some(granted) = socket.receive_buffer {
            log::info!(
                "{} ({}): {}",
                socket.addr,
                socket.mode,
                udp::receive_buffer::told(granted)
            );
        }
    }
    if cli.foreground {
        let mut out = std::io::stdout().lock();
        for line in &shown {
            let _ = writeln!(out, "listening on {line}");
        }
        let _ = out.flush();
    }
}
