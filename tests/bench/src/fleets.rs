//! Fleets in a test-made namespace (`make bench-fleet`, as root): the mixed
//! fleet of 12 500 hosts per mode, 100 000 live hosts at the default pace
//! and unpaced, 2 000 hosts through a link that loses 10% and 30% of the
//! packets each way, and what pacing costs or saves 10 000 live hosts
//! behind one daemon: a fast one (stream, dgram) and a slow one (fork).
//! Every row is one run; the client's peak RSS comes from `/usr/bin/time`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::markers::Markers;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::fleetnet::{FleetNet, Host, Mix};
use ruptime_tests::process::run_command_with_input;

/// Where `make bench-fleet` writes in BENCHMARKS.md.
pub const MARKERS: Markers = Markers {
    begin: "<!-- fleet figures: written by `make bench-fleet` -->",
    end: "<!-- end of fleet figures -->",
};

/// The mixed fleet, as the test `ten_thousand` asks it.
const MIXED: Mix = Mix {
    silent: 1_000,
    hung: 1_000,
    refused: 500,
    live: 10_000,
    named: 1_000,
};

/// The largest fleet: live hosts only.
const LARGEST: usize = 100_000;

/// The fleet of the pace rows.
const PACED: usize = 10_000;

/// The lossy fleet: live hosts, and the share of packets lost each way.
const LOSSY: usize = 2_000;
const LOSSES: [u32; 2] = [10, 30];

/// The paces tried, hosts a second (0: none).
const PACES: [u32; 6] = [0, 2_000, 5_000, 20_000, 50_000, 100_000];

/// One run of `ruptime`.
struct Run {
    fleet: String,
    mode: &'static str,
    server: &'static str,
    pace: String,
    hosts: usize,
    up: usize,
    right: bool,
    wall: Duration,
    rss_kib: u64,
}

struct Bench {
    net: FleetNet,
    bin_dir: PathBuf,
    /// A daemon of each mode, on 0.0.0.0 in the namespace.
    daemons: Vec<(&'static str, Daemon)>,
}

impl Bench {
    fn port_of(&self, server: &str) -> u16 {
        self.daemons
            .iter()
            .find(|(mode, _)| *mode == server)
            .map_or(0, |(_, daemon)| daemon.port())
    }

    /// `ruptime -m mode` over `hosts` (the live ones served by the
    /// `server` daemon, whose port they name).
    fn ask(
        &self,
        fleet: &str,
        (mode, server): (&'static str, &'static str),
        pace: Option<u32>,
        hosts: &[Host],
    ) -> Run {
        let port = self.port_of(server);
        let ruptime = self.bin_dir.join("ruptime").display().to_string();
        let pace_arg = pace.map(|p| p.to_string());
        let mut args = vec!["-f", "peak-rss-kib %M", &ruptime, "-m", mode, "-p"];
        let port = port.to_string();
        args.push(&port);
        args.extend(["-w", "5", "--json", "-f", "-"]);
        if let Some(pace) = &pace_arg {
            args.extend(["--pace", pace]);
        }
        let list: String = hosts.iter().map(|h| format!("{}\n", h.spec)).collect();
        let command = self.net.command(Path::new("/usr/bin/time"), &args);
        let out = run_command_with_input(command, list.as_bytes(), Duration::from_secs(120));
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let right = rows.len() == hosts.len()
            && rows.iter().zip(hosts).all(|(row, host)| match host.reason {
                None => row["up"] == true,
                Some(reason) => row["error"] == reason,
            });
        let rss_kib = out
            .stderr
            .lines()
            .find_map(|l| l.strip_prefix("peak-rss-kib "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        Run {
            fleet: fleet.to_owned(),
            mode,
            server,
            pace: pace_arg.unwrap_or_else(|| "default".to_owned()),
            hosts: hosts.len(),
            up: rows.iter().filter(|r| r["up"] == true).count(),
            right,
            wall: out.elapsed,
            rss_kib,
        }
    }
}

/// Runs every row; the Markdown for BENCHMARKS.md.
pub fn run(bin_dir: &Path) -> String {
    let net = FleetNet::new(LARGEST);
    net.name_live(MIXED.named);
    let _hung = net.hung();
    let daemons = ["stream", "fork", "dgram"]
        .map(|mode| {
            let command = net.command(&bin_dir.join("ruptimed"), &[]);
            let args = ["-m", mode, "-l", "0.0.0.0"];
            (mode, Daemon::start_command(command, &args))
        })
        .into();
    let bench = Bench {
        daemons,
        bin_dir: bin_dir.to_owned(),
        net,
    };
    let server_of = |mode| if mode == "dgram" { "dgram" } else { "stream" };
    let mut runs = Vec::new();
    for mode in ["stream", "fork", "dgram"] {
        let hosts = MIXED.hosts(bench.port_of(server_of(mode)), mode == "dgram");
        runs.push(bench.ask("mixed 12 500", (mode, server_of(mode)), None, &hosts));
    }
    for mode in ["stream", "dgram"] {
        let hosts = live(LARGEST, bench.port_of(mode));
        runs.push(bench.ask("100 000 live", (mode, mode), None, &hosts));
        runs.push(bench.ask("100 000 live", (mode, mode), Some(0), &hosts));
    }
    for percent in LOSSES {
        bench.net.lose(percent);
        for mode in ["stream", "dgram"] {
            let hosts = live(LOSSY, bench.port_of(mode));
            let fleet = format!("2 000 live, {percent}% lost each way");
            runs.push(bench.ask(&fleet, (mode, mode), None, &hosts));
        }
        bench.net.lose(0);
    }
    for pair in [("stream", "stream"), ("dgram", "dgram"), ("stream", "fork")] {
        let hosts = live(PACED, bench.port_of(pair.1));
        for pace in PACES {
            runs.push(bench.ask("10 000 live", pair, Some(pace), &hosts));
        }
    }
    render(&runs)
}

/// `n` live hosts on `port`, by address.
fn live(n: usize, port: u16) -> Vec<Host> {
    Mix {
        silent: 0,
        hung: 0,
        refused: 0,
        live: n,
        named: 0,
    }
    .hosts(port, false)
}

fn render(runs: &[Run]) -> String {
    let mut md = String::from(
        "\n| fleet | client | daemon | --pace | hosts | up | every row right | wall | peak RSS | hosts/s |\n\
         |---|---|---|---|---:|---:|---|---:|---:|---:|\n",
    );
    for r in runs {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} s | {:.1} MiB | {:.0} |",
            r.fleet,
            r.mode,
            r.server,
            r.pace,
            r.hosts,
            r.up,
            if r.right { "yes" } else { "no" },
            r.wall.as_secs_f64(),
            r.rss_kib as f64 / 1024.0,
            r.hosts as f64 / r.wall.as_secs_f64()
        );
    }
    md.push('\n');
    md
}
