//! `ruptimed`: parse the command line, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;
use ruptime_common::logging::stderr_line;
use ruptimed::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match ruptimed::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if log::max_level() == log::LevelFilter::Off {
                stderr_line(format_args!("ruptimed: {e}"));
            } else {
                log::error!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}
