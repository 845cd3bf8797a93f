//! The command line of `ruptime`.

use std::time::Duration;

use clap::Parser;
use ruptime_common::duration::parse_seconds;
use ruptime_common::mode::Mode;

/// Ask hosts for their uptime, from the `ruptimed` running on each.
///
/// One HOST: its reply is printed exactly as received. Several: each reply
/// line is prefixed with `HOST: `. Failures print `ruptime: HOST: REASON` on
/// stderr. Exit status: 0 when every host answered, 1 when any failed, 2 for
/// usage errors.
#[derive(Debug, Parser)]
#[command(name = "ruptime", version)]
pub struct Cli {
    /// How to ask
    #[arg(short, long, value_enum, default_value_t = Mode::Stream)]
    pub mode: Mode,

    /// Port number or service name
    /// [default: the ruptime service in /etc/services, else 4000]
    #[arg(short, long, value_name = "PORT|SERVICE")]
    pub port: Option<String>,

    /// Give up on a host after this many seconds (fractions allowed)
    #[arg(short = 'w', long, value_name = "SECS", default_value = "5", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// Use IPv4 addresses only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 addresses only
    #[arg(short = '6')]
    pub ipv6: bool,

    /// A host to ask: a name, an IPv4 or IPv6 address, HOST:PORT or [V6ADDR]:PORT
    #[arg(value_name = "HOST", required = true)]
    pub hosts: Vec<String>,
}
