//! Root-only test setups: private mount namespaces, and skipping with a
//! printed reason where they cannot run.

use std::path::Path;
use std::process::Command;

use nix::unistd::geteuid;

/// Whether the test may run: true as root with `tools` on the PATH;
/// otherwise prints why `what` is skipped and returns false.
pub fn can_run(what: &str, tools: &[&str]) -> bool {
    if !geteuid().is_root() {
        eprintln!("skipped: {what} needs root (CI runs as root)");
        return false;
    }
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

/// `program ARGS` run in a private mount namespace after the shell commands
/// `setup` ran there; mounts made by `setup` vanish with the namespace.
pub fn with_private_mounts(setup: &str, program: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!("set -e; {setup}; exec \"$@\""))
        .arg("sh")
        .arg(program)
        .args(args);
    command
}
