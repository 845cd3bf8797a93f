//! `ruptime-exporter`: parse the command line and serve.

use std::process::ExitCode;

use clap::Parser;
use ruptime_exporter::cli::Cli;

fn main() -> ExitCode {
    ruptime_exporter::run(&Cli::parse())
}
