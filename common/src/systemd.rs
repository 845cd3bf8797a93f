//! What systemd hands a service through its environment, taken once.
//!
//! `LISTEN_FDS`/`LISTEN_PID` (socket activation) and `NOTIFY_SOCKET`
//! (`Type=notify`) are read at start and removed, so that they reach no
//! command the service runs (`ruptimed --command /usr/bin/env` would show
//! them, and a child could notify systemd in the daemon's name).
//! Notifications then go to the socket remembered here.

use std::ffi::OsString;
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::RawFd;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The variables systemd sets for a service.
const VARIABLES: [&str; 4] = [
    "LISTEN_FDS",
    "LISTEN_PID",
    "LISTEN_FDNAMES",
    "NOTIFY_SOCKET",
];

/// What systemd passed.
#[derive(Debug, Default)]
pub struct Systemd {
    /// The descriptors of socket activation, for this process.
    pub fds: Vec<RawFd>,
    notify_socket: Option<OsString>,
}

impl Systemd {
    /// Takes the variables out of the environment.
    ///
    /// # Safety
    /// No other thread may read or write the environment meanwhile: call it
    /// while the process is single-threaded (before any thread starts).
    ///
    /// # Errors
    /// `LISTEN_FDS` or `LISTEN_PID` is malformed.
    #[allow(unsafe_code)]
    pub unsafe fn take() -> io::Result<Systemd> {
        let fds = sd_notify::listen_fds()?.collect();
        let notify_socket = std::env::var_os("NOTIFY_SOCKET");
        for name in VARIABLES {
            // SAFETY: single-threaded, as the caller promises.
            unsafe { std::env::remove_var(name) };
        }
        Ok(Systemd { fds, notify_socket })
    }

    /// Sends `state` (`READY=1`, `STOPPING=1` ...) to systemd, if it asked.
    ///
    /// # Errors
    /// The socket cannot be reached.
    pub fn notify(&self, state: &str) -> io::Result<()> {
        let Some(path) = &self.notify_socket else {
            return Ok(());
        };
        let addr = match path.as_bytes().strip_prefix(b"@") {
            Some(name) => SocketAddr::from_abstract_name(name)?,
            None => SocketAddr::from_pathname(path)?,
        };
        UnixDatagram::unbound()?.send_to_addr(format!("{state}\n").as_bytes(), &addr)?;
        Ok(())
    }
}
