//! The command line of `ruptime-exporter`, with the flags of Prometheus's
//! own exporters (node_exporter, blackbox_exporter) where they have one.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use ruptime_common::duration::parse_seconds;
use ruptime_common::manual::{Generate, Manual};
use ruptime_common::mode::Mode;

use crate::listen::{self, ListenAddress};

/// Serve Prometheus the uptime of any host asked, as ruptime asks it.
///
/// Prometheus asks /probe?target=HOST[:PORT][&mode=stream|fork|dgram]; the
/// exporter asks that host's ruptimed and answers with its metrics
/// (probe_success, probe_duration_seconds, ruptime_uptime_seconds,
/// ruptime_boot_time_seconds, ruptime_users, ruptime_load1/5/15). A probe
/// takes Prometheus's scrape timeout less --timeout-offset, at most
/// --probe.timeout. /metrics tells of the exporter itself.
#[derive(Debug, Parser)]
#[command(name = "ruptime-exporter", version, after_long_help = ruptime_common::manual::plain(MANUAL.sections))]
pub struct Cli {
    /// Where to listen: ADDR:PORT, [V6ADDR]:PORT, HOST:PORT (each of its
    /// addresses) or :PORT (every address); port 0 picks a free port;
    /// repeatable [default: 127.0.0.1:10090]
    #[arg(long = "web.listen-address", value_name = "ADDR:PORT", value_parser = listen::parse)]
    pub listen: Vec<ListenAddress>,

    /// Serve the sockets systemd passes (ruptime-exporter.socket) instead of
    /// binding --web.listen-address
    #[arg(long = "web.systemd-socket", conflicts_with = "listen")]
    pub systemd_socket: bool,

    /// TLS, client certificates and basic authentication, from a file in the
    /// format of Prometheus's exporter-toolkit (tls_server_config,
    /// http_server_config, basic_auth_users); read again when it changes
    #[arg(long = "web.config.file", value_name = "FILE")]
    pub web_config: Option<PathBuf>,

    /// The most probes at once; more wait for one to end, until their
    /// deadline (then 503)
    #[arg(long = "web.max-requests", value_name = "N", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_requests: u32,

    /// What a probe leaves of Prometheus's scrape timeout for its answer to
    /// reach Prometheus (half of the timeout when the timeout is shorter than
    /// twice this), in seconds
    #[arg(long = "timeout-offset", value_name = "SECS", default_value = "0.5", value_parser = parse_seconds)]
    pub timeout_offset: Duration,

    /// How to ask when a probe does not say (mode=): stream (TCP), fork
    /// (TCP, as a fork-mode daemon is asked) or dgram (UDP)
    #[arg(long = "probe.mode", value_name = "MODE", value_enum, default_value_t = Mode::Stream,
          hide_possible_values = true)]
    pub mode: Mode,

    /// The port of a target that names none: a number or a service name
    /// [default: the ruptime service in /etc/services, else 4000]
    #[arg(long = "probe.port", value_name = "PORT|SERVICE")]
    pub port: Option<String>,

    /// The longest a probe may take, in seconds (fractions allowed), and what
    /// it takes when Prometheus does not say
    #[arg(long = "probe.timeout", value_name = "SECS", default_value = "5", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// Which addresses of a target to ask: ip4, ip6, or any (in the
    /// resolver's order)
    #[arg(long = "probe.ip-protocol", value_name = "PROTOCOL", value_enum, default_value_t = IpProtocol::Any,
          hide_possible_values = true)]
    pub ip_protocol: IpProtocol,

    /// The least severe messages logged on stderr: debug, info, warn or error
    #[arg(long = "log.level", value_name = "LEVEL", value_enum, default_value_t = LogLevel::Info,
          hide_possible_values = true)]
    pub log_level: LogLevel,

    /// Print the man page or a completion script, and exit
    #[arg(long, value_enum, value_name = "WHAT", hide = true)]
    pub generate: Option<Generate>,
}

/// Which addresses of a target to ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IpProtocol {
    /// IPv4 only.
    Ip4,
    /// IPv6 only.
    Ip6,
    /// Both, in the resolver's order.
    Any,
}

/// How much is logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    /// Every connection's trouble.
    Debug,
    /// The start and the web configuration read.
    Info,
    /// What went wrong but was survived.
    Warn,
    /// Only what stops the exporter.
    Error,
}

impl LogLevel {
    /// The `log` crate's filter.
    pub fn filter(self) -> log::LevelFilter {
        match self {
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Error => log::LevelFilter::Error,
        }
    }
}

/// The manual: the synopsis, and the sections beyond the options.
pub const MANUAL: Manual = Manual {
    section: "1",
    summary: "serve Prometheus the uptime of any host asked",
    synopsis: "\
ruptime-exporter [--web.listen-address ADDR:PORT]...
                 [--web.systemd-socket] [--web.config.file FILE]
                 [--web.max-requests N] [--timeout-offset SECS]
                 [--probe.mode MODE] [--probe.port PORT|SERVICE]
                 [--probe.timeout SECS] [--probe.ip-protocol ip4|ip6|any]
                 [--log.level LEVEL]",
    sections: SECTIONS,
};

/// The sections after the options, for `--help` and the man page.
const SECTIONS: &[(&str, &str)] = &[
    (
        "ENDPOINTS",
        "\
/probe?target=HOST[:PORT]  ask that host; mode=stream|fork|dgram asks
                           another way (module= is its other name, as
                           blackbox_exporter writes it), debug=true
                           answers the probe's log as text
/metrics                   the exporter's own metrics
/                          a page linking both",
    ),
    (
        "EXAMPLES",
        "\
ruptime-exporter                            on 127.0.0.1:10090
ruptime-exporter --web.listen-address :10090 --web.config.file web.yml
                                            every address, TLS and
                                            passwords from web.yml
curl 'localhost:10090/probe?target=alpha&debug=true'
                                            how asking alpha went",
    ),
    (
        "EXIT STATUS",
        "\
0  SIGTERM or SIGINT ended it
1  it could not listen (an address in use, no socket from systemd)
2  a usage error, or a web configuration file that cannot be read
   or is wrong",
    ),
    (
        "FILES",
        "\
/etc/services  the port of the ruptime service (tcp or udp, as the
               mode needs), else 4000",
    ),
    ("SEE ALSO", "ruptime(1), ruptimed(8), prometheus(1)"),
];
