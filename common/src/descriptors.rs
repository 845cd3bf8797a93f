//! The descriptor limit, raised for programs that hold many sockets at once.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Raises the soft limit on open descriptors to the hard one: a fleet of
/// thousands of hosts is asked at once, an exporter serves a thousand
/// connections. Nothing changes when that fails (a sandbox may forbid it).
pub fn raise_limit() {
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
    {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}
