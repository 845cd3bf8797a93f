//! Private mount namespaces: fake files mounted for one command only.

use std::path::Path;
use std::process::Command;

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
