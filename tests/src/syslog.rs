//! A syslog socket the test owns: the daemon's `--syslog-socket` target.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A bound Unix datagram socket in a directory of its own.
#[derive(Debug)]
pub struct SyslogReceiver {
    _dir: TempDir,
    path: PathBuf,
    socket: UnixDatagram,
}

impl SyslogReceiver {
    /// Binds a fresh socket.
    pub fn new() -> SyslogReceiver {
        let dir = tempfile::Builder::new()
            .prefix("ruptime-syslog")
            .tempdir()
            .expect("a temp dir");
        let path = dir.path().join("log.sock");
        let socket = UnixDatagram::bind(&path).expect("bind the syslog socket");
        SyslogReceiver {
            _dir: dir,
            path,
            socket,
        }
    }

    /// A new socket at the same path, as a restarted syslogd makes: a
    /// client's old connection to the last one no longer reaches it.
    pub fn restart(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        self.socket = UnixDatagram::bind(&self.path).expect("bind the syslog socket");
    }

    /// The socket's path, for `--syslog-socket`.
    pub fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The first line received that contains `wanted`; panics, showing the
    /// lines that came instead, when none does within `timeout`.
    pub fn line_with(&self, wanted: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut lines = Vec::new();
        let mut buf = vec![0u8; 8192];
        while let Some(left) = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
        {
            self.socket
                .set_read_timeout(Some(left))
                .expect("set a read timeout");
            let Ok(n) = self.socket.recv(&mut buf) else {
                break;
            };
            let line = String::from_utf8_lossy(&buf[..n]).into_owned();
            if line.contains(wanted) {
                return line;
            }
            lines.push(line);
        }
        panic!("no syslog line with {wanted:?} within {timeout:?}; came: {lines:?}");
    }
}

impl Default for SyslogReceiver {
    fn default() -> SyslogReceiver {
        SyslogReceiver::new()
    }
}
