//! Where the binaries under test are.
//!
//! `RUPTIME_TEST_BIN_DIR` names a directory holding them (e.g. an installed
//! or release build); otherwise they are built once per test process, with the
//! test's own profile, so a test never runs a stale binary.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use escargot::CargoBuild;
use escargot::format::Message;

/// The path of the binary `name` (`ruptime`, `ruptimed`, ...).
pub fn bin(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("RUPTIME_TEST_BIN_DIR") {
        return PathBuf::from(dir).join(name);
    }
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build).join(name)
}

/// Builds every binary of the workspace; the directory they are in.
fn build() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let messages = CargoBuild::new()
        .manifest_path(manifest)
        .arg("--workspace")
        // The programs as shipped: without the fuzz targets' hooks.
        .args(["--exclude", "ruptime-fuzz"])
        .bins()
        .current_release()
        .exec()
        .expect("cargo build runs");
    for message in messages {
        let message = message.expect("cargo build succeeds");
        if let Ok(Message::CompilerArtifact(artifact)) = message.decode()
            && artifact.target.name == "ruptimed"
            && let Some(exe) = artifact.executable
        {
            return exe
                .parent()
                .expect("a binary has a directory")
                .to_path_buf();
        }
    }
    panic!("cargo build produced no ruptimed binary");
}
