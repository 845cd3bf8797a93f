//! `ruptime`: parse the command line and run.

use std::process::ExitCode;

use clap::Parser;
use ruptime::cli::Cli;

fn main() -> ExitCode {
    ruptime::run(&Cli::parse())
}
