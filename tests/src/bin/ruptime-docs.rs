//! `ruptime-docs DIR`: writes the man pages and shell completions of
//! `ruptime` and `ruptimed` into DIR (see `make install`).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: ruptime-docs DIR");
        return ExitCode::from(2);
    };
    match ruptime_tests::docs::write_all(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ruptime-docs: {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
