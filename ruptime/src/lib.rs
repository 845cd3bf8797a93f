//! `ruptime`, the client of the ruptime suite: it asks hosts for their uptime.
//!
//! - [`cli`]: the command line.
//! - [`target`]: a host as named on the command line, and its addresses.
//! - [`query`]: asking, one module per mode.
//! - [`output`]: printing the replies and the failures.
//!
//! [`run`] puts them together.

pub mod cli;
pub mod output;
pub mod query;
pub mod target;

use std::process::ExitCode;

use ruptime_common::resolve;

use cli::Cli;
use query::Options;
use target::{Family, Target};

/// Exit status when a host failed.
const FAILED: u8 = 1;
/// Exit status for usage errors, as clap uses.
const USAGE: u8 = 2;

/// Asks every host and prints the outcome; the exit status.
pub fn run(cli: &Cli) -> ExitCode {
    let proto = cli.mode.proto();
    let port = match &cli.port {
        Some(spec) => match resolve::port(spec, proto) {
            Ok(port) => port,
            Err(e) => {
                eprintln!("ruptime: --port {spec}: {e}");
                return ExitCode::from(USAGE);
            }
        },
        None => resolve::default_port(proto),
    };
    let family = match (cli.ipv4, cli.ipv6) {
        (true, _) => Family::V4,
        (_, true) => Family::V6,
        _ => Family::Any,
    };
    let targets: Vec<Target> = cli
        .hosts
        .iter()
        .map(|h| Target::new(h, port, proto))
        .collect();
    let outcomes = query::ask_all(cli.mode, &targets, &Options::new(family, cli.timeout));
    if output::print(&targets, &outcomes) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    }
}
