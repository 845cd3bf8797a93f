//! The command line of `ruptime`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Parser};
use ruptime_common::duration::parse_seconds;
use ruptime_common::manual::{Generate, Manual};
use ruptime_common::mode::Mode;

use crate::paint::ColorWhen;

/// Ask hosts for their uptime, from the ruptimed running on each.
///
/// Hosts are sets as pdsh and ClusterShell write them (node[01-64],
/// @group): from the arguments, then from each -f FILE, or with neither from
/// the fleet file; less those of each -x SET. One HOST: its reply is printed
/// exactly as received, and a failure as one line on stderr. Several hosts:
/// a table, one line per host, in the order given unless -l, -t or -u sorts
/// it, and a summary on stderr. All hosts are asked at once, each given the
/// whole timeout from when its own query begins, so a run takes about one
/// timeout however many hosts are down.
#[derive(Debug, Parser)]
#[command(name = "ruptime", version, after_long_help = ruptime_common::manual::plain(MANUAL.sections))]
#[command(group(ArgGroup::new("order").args(["by_load", "by_uptime", "by_users"])))]
pub struct Cli {
    /// How to ask: stream (TCP), fork (TCP, from child processes) or dgram
    /// (UDP, the request sent again within the timeout)
    #[arg(short, long, value_enum, default_value_t = Mode::Stream, hide_possible_values = true)]
    pub mode: Mode,

    /// Port number or service name
    /// [default: the ruptime service in /etc/services, else 4000]
    #[arg(short, long, value_name = "PORT|SERVICE")]
    pub port: Option<String>,

    /// Give up on a host after this many seconds (fractions allowed)
    #[arg(short = 'w', long, value_name = "SECS", default_value = "5", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// Begin at most N new hosts a second in all (0: no ceiling), for a
    /// firewall or NAT with a connection-rate limit on the way; below it,
    /// the pace adapts to what the hosts answer [default: no ceiling]
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true,
          value_parser = clap::value_parser!(u32).range(0..=10_000_000))]
    pub pace: u32,

    /// Begin at least N new hosts a second in each group of destinations,
    /// whatever the signs of overload (as nmap's --min-rate); with --pace N
    /// as well, a fixed pace
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub min_pace: Option<u32>,

    /// Use IPv4 addresses only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 addresses only
    #[arg(short = '6')]
    pub ipv6: bool,

    /// Also ask the hosts listed in FILE, sets as the arguments are, one or
    /// more per line ('#' starts a comment); '-' reads standard input;
    /// repeatable [default, with no HOST either: the fleet file]
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Leave out the hosts of SET (as pdsh's -x); repeatable
    #[arg(short = 'x', long = "exclude", value_name = "SET")]
    pub excluded: Vec<String>,

    /// Sort by load average, highest first
    #[arg(short = 'l')]
    pub by_load: bool,

    /// Sort by uptime, longest first
    #[arg(short = 't')]
    pub by_uptime: bool,

    /// Sort by users, most first
    #[arg(short = 'u')]
    pub by_users: bool,

    /// Reverse the order (after a sort, hosts without an uptime still go last)
    #[arg(short = 'r')]
    pub reverse: bool,

    /// Print one JSON array, an object per host
    #[arg(long)]
    pub json: bool,

    /// Print Prometheus metrics (the OpenMetrics text format), each with a
    /// host label: for node_exporter's textfile collector or the
    /// Pushgateway. Hosts that are down are in the metrics (probe_success
    /// 0), so the exit status is 0 once they are written
    #[arg(long, conflicts_with_all = ["json", "raw"])]
    pub prometheus: bool,

    /// Print what daemons send as received, control characters and all, even on a terminal
    #[arg(long)]
    pub raw: bool,

    /// Gather the hosts by outcome, as clubak and dshbak do: one line "up"
    /// and the hosts that answered, folded (h[01-04,10-40]), then one line
    /// "down" per reason with its hosts
    #[arg(long, conflicts_with_all = ["json", "prometheus", "order", "reverse"])]
    pub fold: bool,

    /// Colour the state words (green up, red down): auto (on a terminal,
    /// unless NO_COLOR is set), always or never
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorWhen::Auto,
          hide_possible_values = true)]
    pub color: ColorWhen,

    /// Find the hosts on the local networks: send the datagram request to the
    /// broadcast address of every IPv4 interface (with -6: to the IPv6
    /// all-nodes group of every interface), and list every host that answers
    /// within the timeout
    #[arg(long, conflicts_with_all = ["hosts", "files", "mode"])]
    pub discover: bool,

    /// With --discover, only this interface; repeatable
    #[arg(
        short = 'I',
        long = "interface",
        value_name = "NAME",
        requires = "discover"
    )]
    pub interfaces: Vec<String>,

    /// With --discover, show addresses instead of looking their names up
    #[arg(short = 'n', long, requires = "discover")]
    pub numeric: bool,

    /// A host to ask: a name, an IPv4 or IPv6 address, HOST:PORT or
    /// [V6ADDR]:PORT; or a set of them (node[01-64], @group, @source:group)
    #[arg(value_name = "HOST")]
    pub hosts: Vec<String>,

    /// Print the man page or a completion script, and exit
    #[arg(long, value_enum, value_name = "WHAT", hide = true)]
    pub generate: Option<Generate>,
}

/// The manual: the synopsis, and the sections beyond the options.
pub const MANUAL: Manual = Manual {
    section: "1",
    summary: "ask hosts for their uptime",
    synopsis: "\
ruptime [-m|--mode stream|fork|dgram] [-p|--port PORT|SERVICE]
        [-w|--timeout SECS] [-4|-6] [-f|--file FILE]... [-x SET]...
        [-l|-t|-u] [-r] [--json|--prometheus|--fold] [--raw]
        [--color WHEN] [--pace N] [HOST|SET]...
ruptime --discover [-6] [-I|--interface NAME]... [-n] [-p|--port PORT]
        [-w|--timeout SECS] [--json|--prometheus|--fold] [--raw]",
    sections: SECTIONS,
};

/// The sections after the options, for `--help` and the man page.
const SECTIONS: &[(&str, &str)] = &[
    (
        "EXAMPLES",
        "\
ruptime alpha                      alpha's uptime line, as it sends it
ruptime -m dgram alpha [::1]:4001  two hosts, over UDP: a table
ruptime 'node[01-64]' -x node13    64 hosts but one
ruptime @web --fold                the group web, folded by outcome
ruptime                            the hosts of the fleet file
ruptime -f fleet.txt -l            a fleet from a file, busiest first
ruptime --pace 500 -f fleet.txt    through a firewall that limits new
                                   connections to 500 a second
ruptime -f fleet.txt --json | jq -r '.[] | select(.up | not) | .host'
                                   the hosts that are down
ruptime --discover                 every host on the local networks
ruptime --prometheus -f fleet.txt  the fleet as Prometheus metrics",
    ),
    (
        "EXIT STATUS",
        "\
0  every host answered (--discover: a host answered); a reply that
   is not an uptime line is an answer, printed as received;
   --prometheus: the metrics were written
1  a host did not answer, or its daemon sent its error line; the
   results could not be written
2  a usage error: a bad option or port, a host set that is not well
   formed or names no host, no host and no fleet file",
    ),
    (
        "FILES",
        "\
$XDG_CONFIG_HOME/ruptime/hosts  (~/.config/ruptime/hosts) the fleet:
               the hosts asked when none is named
/etc/ruptime/hosts  the fleet, when the user has none
/etc/clustershell/groups.conf, groups.d/*.yaml, groups.conf.d
               the groups of @group (and ~/.local/etc/clustershell,
               $XDG_CONFIG_HOME/clustershell), as nodeset(1) reads them
/etc/services  the port of the ruptime service (tcp or udp, as the
               mode needs), else 4000",
    ),
    (
        "PROTOCOL",
        "\
The original APUE programs' protocol; they answer ruptime too.
stream, fork  connect over TCP; the daemon writes the uptime line
              and closes; the client reads to the end (64 KiB at
              most)
dgram         send a datagram over UDP; the daemon answers with one
              datagram holding the line; the request is sent again
              within the timeout, and only a reply from the address
              asked counts. The request is padded to 256 bytes (a
              NUL, \"ruptime/1\", zeros), so that the daemon can
              answer it without amplifying; the original daemon
              ignores what it holds",
    ),
    ("SEE ALSO", "ruptimed(8), ruptime-exporter(1), uptime(1)"),
];
