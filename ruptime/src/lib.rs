//! `ruptime`, the client of the ruptime suite: it asks hosts for their uptime.
//!
//! - [`cli`]: the command line; [`hosts`]: the host sets from arguments
//!   and files (or the fleet file), expanded; [`clustershell`]: the groups
//!   they name.
//! - [`target`]: a host as named, and its addresses.
//! - [`query`]: asking: each mode's state machine, the loop that asks many
//!   hosts at once, fork mode, and discovery; [`progress`]: its live line.
//! - [`row`]: one host's result, as its reply's verdict says, and sorting.
//! - [`output`]: printing, as the original, a [`table`] (with its
//!   [`summary`] line), hosts folded by outcome ([`fold`]) or [`json`];
//!   [`paint`]: the state words' colours; [`escape`]: remote bytes made safe
//!   for a terminal.
//! - [`names`]: reverse lookups for discovered hosts.
//! - [`metrics`]: a host's result as Prometheus metrics, for `--prometheus`
//!   and `ruptime-exporter`.
//! - `fuzzing` (feature `fuzzing`): host lists driven by a fuzz target.
//!
//! [`run`] puts them together.

pub mod cli;
pub(crate) mod clustershell;
pub mod escape;
pub(crate) mod fold;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub(crate) mod hosts;
pub(crate) mod json;
pub mod metrics;
pub(crate) mod names;
pub(crate) mod output;
pub mod paint;
pub(crate) mod progress;
pub mod query;
pub mod row;
pub(crate) mod summary;
pub(crate) mod table;
pub mod target;

use std::io::{self, IsTerminal};
use std::process::ExitCode;
use std::time::Duration;

use ruptime_common::duration::show_seconds;
use ruptime_common::logging::stderr_line;
use ruptime_common::mode::Mode;
use ruptime_common::oserror::describe;
use ruptime_common::resolve::{self, Proto};

use cli::Cli;
use output::{Format, Presentation};
use paint::Paint;
use progress::Progress;
use query::{Bounds, Options, Stopwatch};
use row::{Order, Row};
use target::{Family, Target};

/// Exit status when a host failed.
const FAILED: u8 = 1;
/// Exit status for usage errors, as clap uses.
const USAGE: u8 = 2;

/// How long reverse lookups of discovered hosts may take after the replies.
const NAMING: Duration = Duration::from_secs(1);

/// Asks every host (or discovers them) and prints the results; the exit status.
pub fn run(cli: &Cli) -> ExitCode {
    if let Some(what) = cli.generate {
        let command = <Cli as clap::CommandFactory>::command();
        return match ruptime_common::manual::print(what, command, &cli::MANUAL) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(FAILED, &e),
        };
    }
    // Fork mode waits for its children: SIGCHLD must not be ignored.
    let _ = ruptime_common::inherited::reset_signals();
    ruptime_common::descriptors::raise_limit();
    let family = match (cli.ipv4, cli.ipv6) {
        (true, _) => Family::V4,
        (_, true) => Family::V6,
        _ => Family::Any,
    };
    let proto = if cli.discover {
        Proto::Udp
    } else {
        cli.mode.proto()
    };
    let port = match port(cli, proto) {
        Ok(port) => port,
        Err(status) => return status,
    };
    let mut options = Options::new(family, cli.timeout);
    options.pace = Bounds::new(cli.pace, cli.min_pace);
    let mut single = false;
    let mut rows = if cli.discover {
        match discover(cli, port, &options) {
            Ok(rows) => rows,
            Err(e) => return fail(FAILED, &e),
        }
    } else {
        let sources = hosts::Sources {
            args: &cli.hosts,
            files: &cli.files,
            excluded: &cli.excluded,
        };
        let hosts = match hosts::gather(sources) {
            Ok(hosts) => hosts,
            Err(e) => return fail(USAGE, &e),
        };
        single = cli.hosts.len() == 1 && cli.files.is_empty() && hosts.len() == 1;
        let targets: Vec<Target> = hosts
            .into_iter()
            .map(|h| Target::new(&h, port, proto))
            .collect();
        let shown = !cli.json && io::stderr().is_terminal();
        let mut progress = Progress::new(shown, targets.len());
        let mut stopwatch = Stopwatch::new(&mut progress, targets.len());
        let outcomes = query::ask_all(cli.mode, &targets, &options, &mut stopwatch);
        let took = stopwatch.took();
        progress.clear();
        row::rows(targets, outcomes, took, cli.mode)
    };
    let order = match (cli.by_load, cli.by_uptime, cli.by_users) {
        (true, _, _) => Order::Load,
        (_, true, _) => Order::Uptime,
        (_, _, true) => Order::Users,
        _ => Order::Given,
    };
    row::sort(&mut rows, order, cli.reverse);
    let format = match (cli.json, cli.prometheus, cli.fold) {
        (true, _, _) => Format::Json,
        (_, true, _) => Format::Prometheus,
        (_, _, true) => Format::Fold,
        _ if single => Format::Single,
        _ => Format::Table,
    };
    let no_color = std::env::var("NO_COLOR").ok();
    let how = Presentation {
        format,
        raw: cli.raw,
        paint: Paint::new(cli.color, io::stdout().is_terminal(), no_color.as_deref()),
    };
    if let Err(e) = output::print(&rows, how) {
        // A reader gone (`| head`) needs no message; anything else does,
        // and no run is a success whose results were lost.
        if e.kind() == io::ErrorKind::BrokenPipe {
            return ExitCode::from(FAILED);
        }
        return fail(
            FAILED,
            &format!("cannot write the results: {}", describe(&e)),
        );
    }
    if format == Format::Table && rows.len() > 1 {
        stderr_line(format_args!("{}", summary::line(&rows)));
    }
    let succeeded = if cli.prometheus {
        true
    } else if cli.discover {
        rows.iter().any(|r| !r.is_down())
    } else {
        rows.iter().all(|r| !r.is_down())
    };
    if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    }
}

/// The rows of every host that answers a discovery request.
fn discover(cli: &Cli, port: u16, options: &Options) -> Result<Vec<Row>, String> {
    // IPv4 broadcast unless -6 asks for the IPv6 all-nodes group: one
    // family, so that a host answers once.
    let family = if options.family == Family::Any {
        Family::V4
    } else {
        options.family
    };
    let destinations = query::discover::destinations(port, family, &cli.interfaces)
        .map_err(|e| format!("--discover: cannot list the interfaces: {e}"))?;
    if destinations.is_empty() {
        return Err("--discover: no interface to send the request on".to_owned());
    }
    let found = query::discover::discover(&destinations, options)
        .map_err(|e| format!("--discover: {e}"))?;
    if found.hosts.is_empty() {
        stderr_line(format_args!(
            "ruptime: --discover: no host answered within {}",
            show_seconds(options.timeout)
        ));
    }
    if found.beyond > 0 {
        stderr_line(format_args!(
            "ruptime: --discover: {} more hosts answered; only the first {} are listed",
            found.beyond,
            query::discover::MAX_HOSTS
        ));
    }
    let addrs: Vec<_> = found.hosts.iter().map(|(from, _)| *from).collect();
    let names = names::names(&addrs, cli.numeric, std::time::Instant::now() + NAMING);
    Ok(names
        .into_iter()
        .zip(found.hosts)
        .map(|(name, (_, outcome))| Row::new(name, Mode::Dgram, outcome))
        .collect())
}

/// The port to ask over `proto` when a host names none: `--port`, else the
/// ruptime service's.
fn port(cli: &Cli, proto: Proto) -> Result<u16, ExitCode> {
    match &cli.port {
        Some(spec) => resolve::remote_port(spec, proto)
            .map_err(|e| fail(USAGE, &format!("--port {spec}: {e}"))),
        None => Ok(resolve::default_port(proto)),
    }
}

fn fail(status: u8, message: &str) -> ExitCode {
    stderr_line(format_args!("ruptime: {message}"));
    ExitCode::from(status)
}
