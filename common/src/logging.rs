//! The `log` backend: syslog for a daemon, stderr in the foreground.
//!
//! The originals call `openlog` in `daemonize` and `syslog(LOG_ERR, ...)`
//! everywhere. Here the `log` macros are used everywhere and the backend is
//! chosen once at start: syslog (facility daemon, the program's name as ident,
//! with the pid) to `/dev/log` or to a socket the caller names, else stderr.
//! [`Logger::reopen`] reconnects to syslog, e.g. after syslogd restarted,
//! keeping the old connection when the socket cannot be reached (syslogd
//! may be restarting: `/dev/log` briefly missing), and a line that cannot be
//! sent is sent again once on a fresh connection.

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::oserror::describe;
use log::{Level, LevelFilter, Log, Metadata, Record};
use syslog::{Facility, Formatter3164, LoggerBackend};

/// Writes `line` and a newline to stderr in one `write` (below the pipe's
/// atomic size): lines of processes that share stderr never interleave, and
/// a signal that ends the process cannot cut one short.
pub fn stderr_line(line: fmt::Arguments) {
    let mut text = line.to_string();
    text.push('\n');
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// Where log lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Standard error, one line per message: `ident: message`.
    Stderr,
    /// The system's syslog socket (`/dev/log`); the fallback when there is none.
    Syslog,
    /// A syslog datagram socket at this path (tests read real syslog lines from it).
    SyslogAt(PathBuf),
}

/// Where lines go when syslog is missing or a line cannot be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// Standard error.
    Stderr,
    /// Nowhere: standard error may be a client's socket, as under inetd.
    Nowhere,
}

/// Why logging could not be set up.
#[derive(Debug)]
pub enum LoggingError {
    /// The syslog socket the caller named cannot be reached.
    Syslog(PathBuf, String),
    /// A logger was already installed in this process.
    AlreadySet,
}

impl fmt::Display for LoggingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoggingError::Syslog(path, reason) => {
                write!(f, "cannot log to {}: {reason}", path.display())
            }
            LoggingError::AlreadySet => f.write_str("a logger is already installed"),
        }
    }
}

impl std::error::Error for LoggingError {}

type Syslog = syslog::Logger<LoggerBackend, Formatter3164>;

enum Backend {
    Fallback,
    Syslog(Syslog),
}

/// The installed logger.
pub struct Logger {
    ident: &'static str,
    target: Destination,
    fallback: Fallback,
    backend: Mutex<Backend>,
}

/// Installs the logger for `target` at level info, and returns it.
///
/// Call it after daemonizing: syslog lines carry the pid read here.
/// [`Destination::Syslog`] without a `/dev/log` uses `fallback`.
///
/// # Errors
/// [`LoggingError::Syslog`] when [`Destination::SyslogAt`] cannot be reached;
/// [`LoggingError::AlreadySet`] on a second call.
pub fn init(
    ident: &'static str,
    target: Destination,
    fallback: Fallback,
) -> Result<&'static Logger, LoggingError> {
    let backend = open(ident, &target)?;
    let logger: &'static Logger = Box::leak(Box::new(Logger {
        ident,
        target,
        fallback,
        backend: Mutex::new(backend),
    }));
    log::set_logger(logger).map_err(|_| LoggingError::AlreadySet)?;
    log::set_max_level(LevelFilter::Info);
    Ok(logger)
}

/// The system's syslog socket.
const DEV_LOG: &str = "/dev/log";

/// Sends one line through `backend`; whether it went.
fn send(backend: &mut Backend, level: Level, message: &fmt::Arguments<'_>) -> bool {
    match backend {
        Backend::Syslog(syslog) => match level {
            Level::Error => syslog.err(message),
            Level::Warn => syslog.warning(message),
            Level::Info => syslog.info(message),
            Level::Debug | Level::Trace => syslog.debug(message),
        }
        .is_ok(),
        Backend::Fallback => false,
    }
}

fn open(ident: &'static str, target: &Destination) -> Result<Backend, LoggingError> {
    let formatter = Formatter3164 {
        facility: Facility::LOG_DAEMON,
        hostname: None,
        process: ident.to_owned(),
        pid: std::process::id(),
    };
    match target {
        Destination::Stderr => Ok(Backend::Fallback),
        Destination::Syslog => {
            Ok(syslog::unix(formatter).map_or(Backend::Fallback, Backend::Syslog))
        }
        Destination::SyslogAt(path) => syslog::unix_custom(formatter, path)
            .map(Backend::Syslog)
            .map_err(|e| LoggingError::Syslog(path.clone(), reason(&e))),
    }
}

/// The innermost reason of a syslog error, e.g. "No such file or directory".
fn reason(error: &syslog::Error) -> String {
    match error {
        syslog::Error::Initialization(inner) => match inner.downcast_ref::<syslog::Error>() {
            Some(error) => reason(error),
            None => inner.to_string(),
        },
        syslog::Error::Write(e) | syslog::Error::Io(e) => describe(e),
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("ident", &self.ident)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Logger {
    /// Reconnects to the syslog socket, keeping the old connection if that fails.
    ///
    /// # Errors
    /// The reason the socket cannot be reached.
    pub fn reopen(&self) -> Result<(), LoggingError> {
        match open(self.ident, &self.target)? {
            // `/dev/log` missing: a working connection is kept, not swapped
            // for stderr (which is /dev/null once detached).
            Backend::Fallback if self.target == Destination::Syslog => Err(LoggingError::Syslog(
                PathBuf::from(DEV_LOG),
                "cannot connect".to_owned(),
            )),
            fresh => {
                *self.lock() = fresh;
                Ok(())
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Backend> {
        self.backend.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record.args();
        let mut backend = self.lock();
        let mut sent = send(&mut backend, record.level(), message);
        if !sent && matches!(*backend, Backend::Syslog(_)) {
            // The connection broke (syslogd restarted): once more, afresh.
            if let Ok(fresh @ Backend::Syslog(_)) = open(self.ident, &self.target) {
                *backend = fresh;
                sent = send(&mut backend, record.level(), message);
            }
        }
        drop(backend);
        if !sent && (self.fallback == Fallback::Stderr || self.target == Destination::Stderr) {
            let label = match record.level() {
                Level::Error => "error: ",
                Level::Warn => "warning: ",
                Level::Info | Level::Debug | Level::Trace => "",
            };
            stderr_line(format_args!("{}: {label}{message}", self.ident));
        }
    }

    fn flush(&self) {}
}
