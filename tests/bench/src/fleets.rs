//! Fleets in a test-made namespace (`make bench-fleet`, as root), every
//! daemon on its default flags: each fleet asked at the adaptive pace (no
//! `--pace`), beside a sweep of fixed paces (`--pace N --min-pace N`) in
//! the same run, so that the ratio to the best of them shows what adapting
//! costs; and 2 000 hosts through a link that loses 10% and 30% of the
//! packets each way. The client's peak RSS comes from `/usr/bin/time`.

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

/// Each host's timeout, seconds.
const TIMEOUT: f64 = 5.0;

/// The largest fleet: live hosts only.
const LARGEST: usize = 100_000;

/// The fleet behind one daemon.
const BEHIND_ONE: usize = 10_000;

/// The lossy fleet: live hosts, and the share of packets lost each way.
const LOSSY: usize = 2_000;
const LOSSES: [u32; 2] = [10, 30];

/// The fixed paces of the sweep, hosts a second; `None`: unpaced.
const SWEEP: [Option<u32>; 6] = [
    Some(2_000),
    Some(5_000),
    Some(20_000),
    Some(50_000),
    Some(100_000),
    None,
];

/// A fleet to ask: its name, the client's and the daemon's mode, the
/// goals (wall seconds, peak RSS MiB) and its hosts.
struct Fleet {
    name: String,
    mode: &'static str,
    server: &'static str,
    wall_goal: f64,
    rss_goal: Option<f64>,
    hosts: Vec<Host>,
    /// Hung daemons of its own for each run (see `FleetNet::hung`).
    hung: bool,
}

/// One run of `ruptime`.
struct Run {
    up: usize,
    right: bool,
    wall: Duration,
    rss_kib: u64,
}

impl Run {
    fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }
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

    /// `ruptime -m MODE -w 5 --json` over the fleet's hosts, with `pace`
    /// fixed (`Some(None)`: unpaced) or adaptive (`None`).
    fn ask(&self, fleet: &Fleet, pace: Option<Option<u32>>) -> Run {
        let _hung = fleet.hung.then(|| self.net.hung());
        let ruptime = self.bin_dir.join("ruptime").display().to_string();
        let mut args: Vec<String> = ["-f", "peak-rss-kib %M", &ruptime, "-m", fleet.mode]
            .map(String::from)
            .into();
        args.extend(["-w", &TIMEOUT.to_string(), "--json", "-f", "-"].map(String::from));
        match pace {
            None => {}
            Some(Some(n)) => {
                args.extend(["--pace".into(), n.to_string()]);
                args.extend(["--min-pace".into(), n.to_string()]);
            }
            Some(None) => args.extend(["--min-pace".into(), "10000000".into()]),
        }
        let list: String = fleet
            .hosts
            .iter()
            .map(|h| format!("{}\n", h.spec))
            .collect();
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let command = self.net.command(Path::new("/usr/bin/time"), &arg_refs);
        let out = run_command_with_input(command, list.as_bytes(), Duration::from_secs(120));
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let right = rows.len() == fleet.hosts.len()
            && rows
                .iter()
                .zip(&fleet.hosts)
                .all(|(row, host)| match host.reason {
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
            up: rows.iter().filter(|r| r["up"] == true).count(),
            right,
            wall: out.elapsed,
            rss_kib,
        }
    }

    /// The fleets of the pace rows.
    fn fleets(&self) -> Vec<Fleet> {
        let server_of = |mode| if mode == "dgram" { "dgram" } else { "stream" };
        let mut fleets = Vec::new();
        for mode in ["stream", "fork", "dgram"] {
            let server = server_of(mode);
            fleets.push(Fleet {
                name: "mixed 12 500".into(),
                mode,
                server,
                wall_goal: TIMEOUT + 0.5,
                rss_goal: None,
                hosts: MIXED.hosts(self.port_of(server), mode == "dgram"),
                hung: true,
            });
        }
        for (mode, goal) in [("stream", 3.0), ("dgram", 2.0)] {
            fleets.push(Fleet {
                name: "100 000 live".into(),
                mode,
                server: mode,
                wall_goal: goal,
                rss_goal: Some(64.0),
                hosts: live(LARGEST, self.port_of(mode)),
                hung: false,
            });
        }
        for (mode, server, goal) in [("stream", "fork", 3.0), ("dgram", "dgram", 1.0)] {
            fleets.push(Fleet {
                name: "10 000 behind one daemon".into(),
                mode,
                server,
                wall_goal: goal,
                rss_goal: None,
                hosts: live(BEHIND_ONE, self.port_of(server)),
                hung: false,
            });
        }
        fleets
    }
}

/// What one fleet came to: the adaptive run, and the sweep's.
struct Row {
    fleet: Fleet,
    adaptive: Run,
    sweep: Vec<(Option<u32>, Run)>,
}

impl Row {
    /// The fastest fixed pace at which every row was right.
    fn best(&self) -> Option<&(Option<u32>, Run)> {
        self.sweep
            .iter()
            .filter(|(_, run)| run.right)
            .min_by(|a, b| a.1.wall.cmp(&b.1.wall))
    }
}

/// Runs every row; the Markdown for BENCHMARKS.md. With `only`, the fleets
/// whose name or mode holds it.
pub fn run(bin_dir: &Path, only: Option<&str>) -> String {
    let net = FleetNet::new(LARGEST);
    net.name_live(MIXED.named);
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
    let wanted = |text: &str| only.is_none_or(|only| text.contains(only));
    let mut rows = Vec::new();
    for fleet in bench.fleets() {
        if !wanted(&format!("{} {} {}", fleet.name, fleet.mode, fleet.server)) {
            continue;
        }
        let adaptive = bench.ask(&fleet, None);
        let sweep = SWEEP
            .iter()
            .map(|&pace| (pace, bench.ask(&fleet, Some(pace))))
            .collect();
        rows.push(Row {
            fleet,
            adaptive,
            sweep,
        });
    }
    let mut lossy = Vec::new();
    if wanted("lost") {
        for percent in LOSSES {
            bench.net.lose(percent);
            for mode in ["stream", "dgram"] {
                let fleet = Fleet {
                    name: format!("2 000 live, {percent}% lost each way"),
                    mode,
                    server: mode,
                    wall_goal: TIMEOUT,
                    rss_goal: None,
                    hosts: live(LOSSY, bench.port_of(mode)),
                    hung: false,
                };
                let run = bench.ask(&fleet, None);
                lossy.push((fleet, run));
            }
            bench.net.lose(0);
        }
    }
    render(&rows, &lossy)
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

fn pace_name(pace: Option<u32>) -> String {
    pace.map_or_else(|| "unpaced".to_owned(), |n| n.to_string())
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

fn render(rows: &[Row], lossy: &[(Fleet, Run)]) -> String {
    let mut md = String::from(
        "\n| fleet | client | daemon | up | every row right | wall | peak RSS | best fixed pace | its wall | adaptive / best | goal | met |\n\
         |---|---|---|---:|---|---:|---:|---:|---:|---:|---|---|\n",
    );
    for row in rows {
        let (f, a) = (&row.fleet, &row.adaptive);
        let (best, best_wall, ratio) = match row.best() {
            Some((pace, run)) => (
                pace_name(*pace),
                format!("{:.2} s", run.wall.as_secs_f64()),
                format!("{:.2}", a.wall.as_secs_f64() / run.wall.as_secs_f64()),
            ),
            None => ("none right".into(), "-".into(), "-".into()),
        };
        let mut goal = format!("all right in {:.1} s", f.wall_goal);
        let mut met = a.right && a.wall.as_secs_f64() <= f.wall_goal;
        if let Some(rss) = f.rss_goal {
            let _ = write!(goal, ", RSS {rss:.0} MiB");
            met &= a.rss_mib() <= rss;
        }
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {:.2} s | {:.1} MiB | {best} | {best_wall} | {ratio} | {goal} | {} |",
            f.name,
            f.mode,
            f.server,
            a.up,
            yes(a.right),
            a.wall.as_secs_f64(),
            a.rss_mib(),
            yes(met),
        );
    }
    md.push_str(
        "\nThe sweep (`--pace N --min-pace N`; unpaced: `--min-pace 10000000`):\n\n\
         | fleet | client | daemon | pace | up | every row right | wall | peak RSS |\n\
         |---|---|---|---:|---:|---|---:|---:|\n",
    );
    for row in rows {
        for (pace, run) in &row.sweep {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {:.2} s | {:.1} MiB |",
                row.fleet.name,
                row.fleet.mode,
                row.fleet.server,
                pace_name(*pace),
                run.up,
                yes(run.right),
                run.wall.as_secs_f64(),
                run.rss_mib(),
            );
        }
    }
    if !lossy.is_empty() {
        md.push_str(
            "\nThrough a lossy link (nftables drops in the namespace), adaptive pace:\n\n\
             | fleet | client | daemon | hosts | up | wall | peak RSS |\n\
             |---|---|---|---:|---:|---:|---:|\n",
        );
        for (f, run) in lossy {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {:.2} s | {:.1} MiB |",
                f.name,
                f.mode,
                f.server,
                f.hosts.len(),
                run.up,
                run.wall.as_secs_f64(),
                run.rss_mib(),
            );
        }
    }
    md.push('\n');
    md
}
