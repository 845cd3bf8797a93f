//! The project's own `make` targets, run against the binaries under test.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::bins::bin;
use crate::process::{Finished, run_command};

/// `make TARGET DESTDIR=destdir BINARIES=...` with `vars` added, in the
/// workspace root; it must succeed.
pub fn make(target: &str, destdir: &Path, vars: &[&str]) -> Finished {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let binaries = bin("ruptimed").parent().unwrap().to_path_buf();
    let mut command = Command::new("make");
    command.arg("-s").arg("-C").arg(root).arg(target);
    command
        .arg(format!("DESTDIR={}", destdir.display()))
        .arg(format!("BINARIES={}", binaries.display()));
    command.args(vars);
    let out = run_command(command, Duration::from_secs(120));
    assert!(out.status.success(), "make {target}: {out:?}");
    out
}
