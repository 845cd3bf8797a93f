//! The three ways client and daemon speak the protocol, one per original program pair.

use std::fmt;

use crate::resolve::Proto;

/// How a request is carried and served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Mode {
    /// TCP; the daemon serves one connection after another (the iterative server).
    Stream,
    /// TCP; one child process per connection (daemon) or per host (client).
    Fork,
    /// UDP; one datagram each way.
    Dgram,
}

impl Mode {
    /// The transport protocol this mode uses.
    pub fn proto(self) -> Proto {
        match self {
            Mode::Stream | Mode::Fork => Proto::Tcp,
            Mode::Dgram => Proto::Udp,
        }
    }

    /// The name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Stream => "stream",
            Mode::Fork => "fork",
            Mode::Dgram => "dgram",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
