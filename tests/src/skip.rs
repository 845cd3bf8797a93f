//! Skipping, with a printed reason, a test that cannot run here: one that
//! needs root (namespaces, mounts, systemd), or a tool this machine lacks.
//! CI runs as root, after `make deps` installed the tools.

use nix::unistd::geteuid;

/// Whether a test that needs root and `tools` may run; otherwise prints why
/// `what` is skipped.
pub fn can_run(what: &str, tools: &[&str]) -> bool {
    if !geteuid().is_root() {
        eprintln!("skipped: {what} needs root (CI runs as root)");
        return false;
    }
    have_tools(what, tools)
}

/// Whether `tools` are all on the PATH; otherwise prints why `what` is skipped.
pub fn have_tools(what: &str, tools: &[&str]) -> bool {
    for tool in tools {
        let found = std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()));
        if !found {
            eprintln!("skipped: {what} needs {tool} (make deps installs it)");
            return false;
        }
    }
    true
}
