//! Skipping, visibly, a test that cannot run here: one that needs root
//! (namespaces, mounts, systemd), or a tool this machine lacks.
//!
//! A skip is told on the real standard error at once (the harness captures
//! only the print macros), and appended to `target/test-skips.txt`, which
//! `make test` prints at the end as a count and the reasons. Under
//! `CI=true` a skip is a failure: CI runs as root, after `make deps`
//! installed the tools, so it can never pass without running every test.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use nix::unistd::geteuid;

/// Where the skips of a test run are listed: `RUPTIME_SKIP_RECORD`, else
/// `target/test-skips.txt`.
pub fn record() -> PathBuf {
    std::env::var_os("RUPTIME_SKIP_RECORD").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-skips.txt"),
        PathBuf::from,
    )
}

/// Skips `what` because of `why`: told and listed, or a failure under CI.
fn skip(what: &str, why: &str) {
    let line = format!("skipped: {what}: {why}");
    if std::env::var_os("CI").is_some_and(|v| v == "true") {
        panic!("{line}; CI=true: every test must run");
    }
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(record()) {
        let _ = writeln!(file, "{line}");
    }
}

/// Whether a test that needs root and `tools` may run; otherwise skips `what`.
pub fn can_run(what: &str, tools: &[&str]) -> bool {
    if !geteuid().is_root() {
        skip(what, "needs root (CI runs as root)");
        return false;
    }
    have_tools(what, tools)
}

/// Whether `tools` are all on the PATH; otherwise skips `what`.
pub fn have_tools(what: &str, tools: &[&str]) -> bool {
    for tool in tools {
        let found = std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()));
        if !found {
            skip(what, &format!("needs {tool} (make deps installs it)"));
            return false;
        }
    }
    true
}
