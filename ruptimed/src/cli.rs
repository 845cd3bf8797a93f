//! The command line of `ruptimed`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use ruptime_common::duration::parse_seconds;
use ruptime_common::manual::{Generate, Manual};
use ruptime_common::mode::Mode;

/// Serve this host's uptime to ruptime clients.
///
/// Without --foreground it detaches (fork, setsid, chdir /) and logs to
/// syslog; it binds first, so an address in use is reported on the terminal.
#[derive(Debug, Parser)]
#[command(name = "ruptimed", version, after_long_help = ruptime_common::manual::plain(MANUAL.sections))]
pub struct Cli {
    /// How requests are served: stream (TCP, one connection after another),
    /// fork (TCP, a child process per connection) or dgram (UDP, a reply per
    /// datagram)
    #[arg(short, long, value_enum, default_value_t = Mode::Stream, hide_possible_values = true)]
    pub mode: Mode,

    /// Address to listen on: an IP address or a host name, optionally with :PORT;
    /// repeat for several [default: every IPv4 and IPv6 address]
    #[arg(short, long = "listen", value_name = "ADDR")]
    pub listen: Vec<String>,

    /// Port number or service name; 0 picks a free port
    /// [default: the ruptime service in /etc/services, else 4000]
    #[arg(short, long, value_name = "PORT|SERVICE")]
    pub port: Option<String>,

    /// Stay in the foreground, log to stderr, and print each address once listening
    #[arg(short, long)]
    pub foreground: bool,

    /// Serve the one connection on standard input and exit, as inetd, xinetd
    /// and systemd's Accept=yes sockets start a server (a datagram socket:
    /// until idle for 3 s); logs go to syslog only
    #[arg(long, conflicts_with_all = ["listen", "port", "foreground", "pid_file"])]
    pub inetd: bool,

    /// Once the sockets are bound, switch from root to this user, its group
    /// and its supplementary groups
    #[arg(short, long, value_name = "NAME")]
    pub user: Option<String>,

    /// Write the daemon's pid to this file (locked while it runs; removed at exit)
    #[arg(long, value_name = "PATH")]
    pub pid_file: Option<PathBuf>,

    /// Send syslog datagrams to this Unix socket instead of /dev/log, also in the foreground
    #[arg(long, value_name = "PATH")]
    pub syslog_socket: Option<PathBuf>,

    /// In fork mode, the most children serving at once; further connections
    /// wait in the listen backlog
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub max_children: u32,

    /// Run this command per request and send its output, as the original
    /// servers run /usr/bin/uptime [default: build the uptime line natively]
    #[arg(long, value_name = "PATH")]
    pub command: Option<PathBuf>,

    /// An argument for --command; repeat for several
    #[arg(
        long = "command-arg",
        value_name = "ARG",
        requires = "command",
        allow_hyphen_values = true
    )]
    pub command_args: Vec<OsString>,

    /// Longest time one request may take, in seconds: a child or a command is
    /// killed after it
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_seconds)]
    pub request_timeout: Duration,

    /// In stream mode, how long a reply may wait for a client that does not
    /// read, in seconds, before it is abandoned (the next client waits meanwhile)
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_seconds)]
    pub send_timeout: Duration,

    /// Answer only clients in this network (ADDR/PREFIX, IPv4 or IPv6, or
    /// one address); repeatable; 'any' answers everyone. Others get one line
    /// saying so and the close, or nothing for a datagram [default:
    /// loopback, the private and shared ranges (10/8, 172.16/12, 192.168/16,
    /// 100.64/10), link-local and unique local addresses, and the networks
    /// of this host's interfaces]
    #[arg(long, value_name = "CIDR|any", value_parser = crate::allow::parse)]
    pub(crate) allow: Vec<crate::allow::Allowed>,

    /// In dgram mode, the most replies per second to legacy requests (shorter
    /// than the line, as the original client's 1 byte) from one source (an
    /// IPv4 address, an IPv6 /64, or a link-local address)
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: u32,

    /// In dgram mode, the most replies to legacy requests one source gets at once
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_burst: u32,

    /// In dgram mode, the most bytes per second of replies to legacy
    /// requests in all (one second's worth at once): a flood of them gets at
    /// most this, so a flood of as many bytes a second or more gets at most 2
    /// bytes back per byte
    #[arg(long, value_name = "BYTES", default_value_t = 2048, value_parser = clap::value_parser!(u32).range(1..))]
    pub legacy_limit: u32,

    /// In dgram mode, the most replies per second in all to padded requests
    /// (as long as the reply, or 256 bytes: they cannot amplify)
    #[arg(long, value_name = "N", default_value_t = 1_000_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub global_limit: u32,

    /// Print the man page or a completion script, and exit
    #[arg(long, value_enum, value_name = "WHAT", hide = true)]
    pub generate: Option<Generate>,
}

/// The manual: the synopsis, and the sections beyond the options.
pub const MANUAL: Manual = Manual {
    section: "8",
    summary: "serve this host's uptime to ruptime clients",
    synopsis: "\
ruptimed [-m|--mode stream|fork|dgram] [-l|--listen ADDR]...
         [-p|--port PORT|SERVICE] [-f|--foreground] [--pid-file PATH]
         [--syslog-socket PATH] [-u|--user NAME] [--allow CIDR|any]...
         [--max-children N] [--request-timeout SECS]
         [--send-timeout SECS] [--rate-limit N] [--rate-burst N]
         [--legacy-limit BYTES] [--global-limit N]
         [--command PATH [--command-arg ARG]...]
ruptimed --inetd [...]",
    sections: SECTIONS,
};

/// The sections after the options, for `--help` and the man page.
const SECTIONS: &[(&str, &str)] = &[
    (
        "EXAMPLES",
        "\
ruptimed                           detach; serve stream mode, port 4000
ruptimed -f -m dgram -l 127.0.0.1  in the foreground, UDP, on loopback
ruptimed -m fork -u nobody         a child per connection, as nobody
ruptimed --inetd                   one request on standard input",
    ),
    (
        "EXIT STATUS",
        "\
0  stopped by SIGTERM or SIGINT, or --inetd answered
1  could not start (the reason on the terminal, or in the log
   once detached)
2  a usage error",
    ),
    (
        "SIGNALS",
        "\
SIGTERM, SIGINT  stop accepting, let running children finish, exit 0
SIGHUP           reconnect to syslog",
    ),
    (
        "FILES",
        "\
/proc/uptime, /proc/loadavg  the uptime and the loads of the report
/run/utmp                    the logged-in users (missing: 0)
/etc/services                the ruptime service's port, else 4000
/dev/log                     syslog, when detached",
    ),
    (
        "WHO MAY ASK",
        "\
By default only sources a LAN has: loopback, 10/8, 172.16/12,
192.168/16, 100.64/10, link-local (169.254/16, fe80::/10), unique
local (fc00::/7), and the networks of this host's interfaces (read
again as they change), IPv4-mapped forms included. --allow CIDR
names others instead; --allow any answers everyone. A refused
connection gets one line, \"ruptimed: not allowed from ADDR (see
--allow)\", and the close; a refused datagram gets nothing.
Refusals are logged as one line per 10 s, never per request",
    ),
    (
        "PROTOCOL",
        "\
stream, fork  a client connects over TCP; the daemon writes the
              uptime line and closes
dgram         a client sends a datagram over UDP; the daemon
              answers with one datagram holding the line, from the
              address the client asked. ruptime pads its request to
              256 bytes: a NUL, \"ruptime/1\", zeros. The daemon
              takes requests of 1 to 1024 bytes, whatever they hold,
              and never answers with more bytes than the request
              had: a longer --command line is cut to the request's
              length. A shorter request (the original client's 1
              byte) is legacy: it gets the whole line from a budget
              of --legacy-limit bytes a second (--rate-limit per
              source), so a spoofed flood gets back at most 2 bytes
              per byte",
    ),
    (
        "SEE ALSO",
        "ruptime(1), uptime(1), systemd.socket(5), inetd(8)",
    ),
];
