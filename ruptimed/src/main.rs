//! `ruptimed`: parse the command line, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;
use ruptimed::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match ruptimed::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if log::max_level() == log::LevelFilter::Off {
                eprintln!("ruptimed: {e}");
            } else {
                log::error!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}
