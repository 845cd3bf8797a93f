//! The whole benchmark: every server mode against the reference responder,
//! rounds interleaved (A B B A A B ...) so that the machine's drift hits both
//! sides alike, and the figures written as Markdown.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::markers::Markers;
use super::report_cost::{self, Cost};
use ruptime_tests::load::{self, Load, Transport};
use ruptime_tests::procfs::{TICK_MICROS, cpu_ticks, cpu_ticks_with_children, status_field};
use ruptime_tests::stats::{Latencies, median};

/// How the benchmark is run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Where `ruptimed`, `ruptime` and `ruptime-bench` are.
    pub bin_dir: PathBuf,
    /// Rounds per row, each side.
    pub rounds: usize,
    /// Length of one round.
    pub round: Duration,
}

/// A server process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts `program ARGS`, which prints `listening on ADDR ...` first.
    fn start(program: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("a listening line");
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{} printed {line:?}", program.display()));
        Server { child, addr }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One row: our server beside the reference at one concurrency.
struct Row {
    config: Config,
    concurrency: usize,
    reference: f64,
    ours: f64,
    ratio: f64,
    p50: Duration,
    p99: Duration,
    errors: u64,
    timeouts: u64,
    /// Server CPU time per answered request, children included, in microseconds.
    reference_cpu: f64,
    our_cpu: f64,
}

/// How the daemon makes its reports.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The native line.
    Native,
    /// `--command /usr/bin/uptime`: fork and exec.
    Exec,
    /// `--command /bin/sh -c /usr/bin/uptime`: what the original's `popen` runs.
    Popen,
}

/// A configuration of the daemon.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Config {
    mode: &'static str,
    source: Source,
}

impl Config {
    const fn new(mode: &'static str, source: Source) -> Config {
        Config { mode, source }
    }

    fn transport(self) -> Transport {
        if self.mode == "dgram" {
            Transport::Udp
        } else {
            Transport::Tcp
        }
    }

    fn name(self) -> String {
        let source = match self.source {
            Source::Native => "native",
            Source::Exec => "--command /usr/bin/uptime",
            Source::Popen => "--command sh -c /usr/bin/uptime, as popen",
        };
        format!("{} ({source})", self.mode)
    }

    fn start(self, plan: &Plan) -> Server {
        self.start_on(plan, "127.0.0.1")
    }

    /// Starts the daemon on `listen`, port 0.
    fn start_on(self, plan: &Plan, listen: &str) -> Server {
        let mut args = vec![
            "--foreground",
            "--mode",
            self.mode,
            "--listen",
            listen,
            "--port",
            "0",
        ];
        args.extend_from_slice(&["--max-children", "64"]);
        match self.source {
            Source::Native => {}
            Source::Exec => args.extend_from_slice(&["--command", "/usr/bin/uptime"]),
            Source::Popen => args.extend_from_slice(&[
                "--command",
                "/bin/sh",
                "--command-arg",
                "-c",
                "--command-arg",
                "/usr/bin/uptime",
            ]),
        }
        Server::start(&plan.bin_dir.join("ruptimed"), &args)
    }
}

const CONFIGS: [(Config, &[usize]); 7] = [
    (Config::new("stream", Source::Native), &[1, 32]),
    (Config::new("stream", Source::Exec), &[1, 8, 32]),
    (Config::new("stream", Source::Popen), &[8]),
    (Config::new("fork", Source::Native), &[1, 8]),
    (Config::new("fork", Source::Exec), &[1, 8]),
    (Config::new("dgram", Source::Native), &[1, 32]),
    (Config::new("dgram", Source::Exec), &[1, 32]),
];

/// Runs the benchmark; the Markdown of its figures.
pub fn run(plan: &Plan) -> String {
    let line = reference_line();
    let mut rows = Vec::new();
    for (config, concurrencies) in CONFIGS {
        let reference_args = [
            "reference",
            if config.transport() == Transport::Udp {
                "--udp"
            } else {
                "--tcp"
            },
            "--line",
            &line,
        ];
        let reference = Server::start(&plan.bin_dir.join("ruptime-bench"), &reference_args);
        let ours = config.start(plan);
        for &concurrency in concurrencies {
            rows.push(side_by_side(plan, config, concurrency, &reference, &ours));
        }
    }
    let cost = report_cost::measure(2_000, 200);
    let floods: Vec<_> = [Source::Native, Source::Exec]
        .into_iter()
        .flat_map(|source| {
            ["stream", "fork", "dgram"].map(|mode| flood(plan, Config::new(mode, source)))
        })
        .collect();
    let client = client_start_up(plan);
    let fleets: Vec<_> = ["stream", "fork", "dgram"]
        .into_iter()
        .map(|mode| fleet(plan, mode))
        .collect();
    render(plan, &rows, &cost, &floods, &client, &fleets)
}

/// The daemon's current line, so that the reference sends as many bytes.
fn reference_line() -> String {
    let mut line = Vec::new();
    let reporter = ruptime_common::uptime::LineBuilder::from_environment();
    reporter
        .write_line(ruptime_common::uptime::now(), &mut line)
        .expect("this host's uptime line");
    String::from_utf8(line).expect("an ASCII line")
}

fn side_by_side(
    plan: &Plan,
    config: Config,
    concurrency: usize,
    reference: &Server,
    ours: &Server,
) -> Row {
    let load = |addr| Load {
        addr,
        transport: config.transport(),
        concurrency,
        count: u64::MAX,
        duration: plan.round,
        timeout: Duration::from_secs(2),
    };
    let (mut ref_rates, mut our_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut latencies = Latencies::default();
    let (mut errors, mut timeouts) = (0, 0);
    let (mut cpu, mut answered) = ([0u64; 2], [0u64; 2]);
    for round in 0..plan.rounds {
        let mut run = |side: usize, server: &Server| {
            let before = cpu_ticks_with_children(server.pid());
            let outcome = load::run(&load(server.addr)).expect("the load runs");
            cpu[side] += cpu_ticks_with_children(server.pid()) - before;
            answered[side] += outcome.ok;
            outcome
        };
        let (theirs, mine) = if round % 2 == 0 {
            let theirs = run(0, reference);
            (theirs, run(1, ours))
        } else {
            let mine = run(1, ours);
            (run(0, reference), mine)
        };
        ref_rates.push(theirs.rate());
        our_rates.push(mine.rate());
        ratios.push(mine.rate() / theirs.rate().max(1e-9));
        latencies.merge(mine.latencies);
        errors += mine.errors;
        timeouts += mine.timeouts;
    }
    Row {
        config,
        concurrency,
        reference: median(&ref_rates),
        ours: median(&our_rates),
        ratio: median(&ratios),
        p50: latencies.percentile(50.0),
        p99: latencies.percentile(99.0),
        errors,
        timeouts,
        reference_cpu: per_request(cpu[0], answered[0]),
        our_cpu: per_request(cpu[1], answered[1]),
    }
}

/// Microseconds of CPU per request, from clock ticks.
fn per_request(ticks: u64, requests: u64) -> f64 {
    (ticks * TICK_MICROS) as f64 / requests.max(1) as f64
}

/// The requests of a flood (the tables' headings say "20 000").
const FLOOD: u64 = 20_000;

/// [`FLOOD`] requests at concurrency 64, and what the daemon used meanwhile.
struct Flood {
    what: String,
    outcome: load::Outcome,
    peak_rss_kib: u64,
    idle_cpu_ticks: u64,
}

fn flood(plan: &Plan, config: Config) -> Flood {
    let server = config.start(plan);
    let outcome = load::run(&Load {
        addr: server.addr,
        transport: config.transport(),
        concurrency: 64,
        count: FLOOD,
        duration: Duration::from_secs(120),
        timeout: Duration::from_secs(10),
    })
    .expect("the load runs");
    let peak_rss_kib = status_field(server.pid(), "VmHWM:");
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(server.pid());
    std::thread::sleep(Duration::from_secs(3));
    let idle_cpu_ticks = cpu_ticks(server.pid()) - before;
    Flood {
        what: config.name(),
        outcome,
        peak_rss_kib,
        idle_cpu_ticks,
    }
}

/// Median wall times of `/bin/true`, `ruptime --version` and one `ruptime`
/// query, each as a whole process, interleaved.
struct ClientStartUp {
    truth: Duration,
    version: Duration,
    query: Duration,
}

fn client_start_up(plan: &Plan) -> ClientStartUp {
    let server = Config::new("stream", Source::Native).start(plan);
    let port = server.addr.port().to_string();
    let ruptime = plan.bin_dir.join("ruptime");
    let time = |program: &Path, args: &[&str]| {
        let start = Instant::now();
        let status = Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .expect("it runs");
        assert!(status.success(), "{} failed", program.display());
        start.elapsed().as_secs_f64()
    };
    let (mut truth, mut version, mut query) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..300 {
        truth.push(time(Path::new("/bin/true"), &[]));
        version.push(time(&ruptime, &["--version"]));
        query.push(time(&ruptime, &["-p", &port, "127.0.0.1"]));
    }
    let median_of = |samples: &[f64]| Duration::from_secs_f64(median(samples));
    ClientStartUp {
        truth: median_of(&truth),
        version: median_of(&version),
        query: median_of(&query),
    }
}

/// One `ruptime` run over 500 live loopback hosts and 50 dead ones.
struct Fleet {
    mode: &'static str,
    up: usize,
    down: usize,
    wall: Duration,
}

/// The hosts live (500 distinct loopback addresses) and dead (50, where nothing listens).
const FLEET: (usize, usize) = (500, 50);

/// The fleet timeout, in seconds.
const FLEET_TIMEOUT: &str = "5";

fn fleet(plan: &Plan, mode: &'static str) -> Fleet {
    let server_mode = if mode == "dgram" { "dgram" } else { "stream" };
    let server = Config::new(server_mode, Source::Native).start_on(plan, "0.0.0.0");
    let nobody = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(1, |a| a.port());
    let address = |i: usize, third: usize| format!("127.0.{}.{}", third + i / 250, 1 + i % 250);
    let mut list: String = (0..FLEET.0).map(|i| address(i, 1) + "\n").collect();
    list.extend((0..FLEET.1).map(|i| format!("{}:{nobody}\n", address(i, 3))));
    let port = server.addr.port().to_string();
    let start = Instant::now();
    let mut child = Command::new(plan.bin_dir.join("ruptime"))
        .args(["-m", mode, "-p", &port, "-w", FLEET_TIMEOUT, "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ruptime runs");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = std::io::Write::write_all(&mut stdin, list.as_bytes());
    }
    let out = child.wait_with_output().expect("ruptime ends");
    let wall = start.elapsed();
    let table = String::from_utf8_lossy(&out.stdout);
    let count = |state: &str| {
        table
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(state))
            .count()
    };
    Fleet {
        mode,
        up: count("up"),
        down: count("down"),
        wall,
    }
}

/// The cores this machine runs on.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, usize::from)
}

fn machine() -> String {
    let cores = cores();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cores} cores ({cpu}), Linux {}", kernel.trim())
}

fn us(d: Duration) -> String {
    format!("{:.0} us", d.as_secs_f64() * 1e6)
}

fn render(
    plan: &Plan,
    rows: &[Row],
    cost: &Cost,
    floods: &[Flood],
    client: &ClientStartUp,
    fleets: &[Fleet],
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "Machine: {}.  ", machine());
    let _ = writeln!(
        md,
        "Command: `make bench` ({} rounds of {} s per side and row, interleaved; figures are medians).\n",
        plan.rounds,
        plan.round.as_secs_f64()
    );
    let row = |mode: &'static str, source: Source, c: usize| {
        let config = Config::new(mode, source);
        rows.iter()
            .find(|r| r.config == config && r.concurrency == c)
    };
    let ratio = |mode, source, c| row(mode, source, c).map_or(0.0, |r| r.ratio);
    let ours = |mode, source, c| row(mode, source, c).map_or(0.0, |r| r.ours);
    let fork_command = ours("fork", Source::Exec, 8);
    let fork_gain = ours("fork", Source::Native, 8) / fork_command.max(1e-9);
    let spawn_gain = fork_command / ours("stream", Source::Exec, 8).max(1e-9);
    let popen_gain = fork_command / ours("stream", Source::Popen, 8).max(1e-9);
    let (stream_1, stream_32, dgram_32) = (
        ratio("stream", Source::Native, 1),
        ratio("stream", Source::Native, 32),
        ratio("dgram", Source::Native, 32),
    );
    let peak = floods.iter().map(|f| f.peak_rss_kib).max().unwrap_or(0);
    let intact = floods
        .iter()
        .all(|f| f.outcome.ok == FLOOD && f.outcome.errors == 0 && f.outcome.timeouts == 0);
    let idle = floods.iter().map(|f| f.idle_cpu_ticks).sum::<u64>();
    let verdict = |met: bool| if met { "met" } else { "**missed**" };
    let _ = writeln!(md, "### Targets\n\n| target | measured | |\n|---|---|---|");
    for (target, measured, met) in [
        (
            "stream >= 0.9x the TCP reference, concurrency 1",
            format!("{stream_1:.2}x"),
            stream_1 >= 0.9,
        ),
        (
            "stream >= 0.9x the TCP reference, concurrency 32",
            format!("{stream_32:.2}x"),
            stream_32 >= 0.9,
        ),
        (
            "dgram >= 0.8x the UDP reference, concurrency 32",
            format!("{dgram_32:.2}x"),
            dgram_32 >= 0.8,
        ),
        (
            "fork native >= 5x fork --command, concurrency 8",
            format!("{fork_gain:.1}x"),
            fork_gain >= 5.0,
        ),
        (
            "fork --command >= 2x one command at a time as the original runs it (`popen`: sh -c), concurrency 8",
            format!("{popen_gain:.2}x"),
            popen_gain >= 2.0,
        ),
        (
            "20 000 requests at concurrency 64, every mode: none lost, none hung",
            (if intact { "all answered" } else { "some lost" }).to_owned(),
            intact,
        ),
        (
            "daemon resident memory under load < 8 MiB",
            format!("{:.1} MiB", peak as f64 / 1024.0),
            peak < 8 * 1024,
        ),
        ("idle, no CPU", format!("{idle} ticks in 3 s"), idle == 0),
    ] {
        let _ = writeln!(md, "| {target} | {measured} | {} |", verdict(met));
    }
    let _ = writeln!(
        md,
        "\nBeside our own one-at-a-time server, which runs the command by fork + exec without a \
         shell (`stream --command`), fork `--command` is {spawn_gain:.2}x: that server keeps one \
         core busy, so on {} cores the ratio cannot pass about {}x.",
        cores(),
        cores()
    );
    let _ = writeln!(
        md,
        "\n### One report\n\n| how | cost per report |\n|---|---|"
    );
    for (how, took) in [
        ("native (`/proc` + utmp + format)", cost.native),
        ("fork + exec `/usr/bin/uptime`", cost.exec),
        ("`popen(\"/usr/bin/uptime\")` (`sh -c`)", cost.popen),
    ] {
        let _ = writeln!(md, "| {how} | {:.1} us |", took.as_secs_f64() * 1e6);
    }
    let _ = writeln!(
        md,
        "\n### Requests per second, beside the reference responder\n\n\
         The reference writes the same number of bytes and closes (TCP), or answers each datagram (UDP). \
         CPU is the server's CPU time per answered request, its children's included.\n\n\
         | server | concurrency | reference req/s | ours req/s | ratio | p50 | p99 | errors | timeouts | reference CPU | our CPU |\n\
         |---|---|---|---|---|---|---|---|---|---|---|"
    );
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {:.0} | {:.0} | {:.2} | {} | {} | {} | {} | {:.1} us | {:.1} us |",
            r.config.name(),
            r.concurrency,
            r.reference,
            r.ours,
            r.ratio,
            us(r.p50),
            us(r.p99),
            r.errors,
            r.timeouts,
            r.reference_cpu,
            r.our_cpu
        );
    }
    let _ = writeln!(
        md,
        "\n### 20 000 requests at concurrency 64\n\n\
         | server | answered | errors | timeouts | wall time | req/s | daemon peak RSS | daemon CPU over 3 s idle |\n\
         |---|---|---|---|---|---|---|---|"
    );
    for f in floods {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.2} s | {:.0} | {:.1} MiB | {} ticks |",
            f.what,
            f.outcome.ok,
            f.outcome.errors,
            f.outcome.timeouts,
            f.outcome.elapsed.as_secs_f64(),
            f.outcome.rate(),
            f.peak_rss_kib as f64 / 1024.0,
            f.idle_cpu_ticks
        );
    }
    let _ = writeln!(
        md,
        "\n### The client, as a whole process\n\n| process | median wall time |\n|---|---|\n\
         | `/bin/true` | {} |\n| `ruptime --version` | {} |\n| `ruptime -p PORT 127.0.0.1` (one query, stream) | {} |",
        us(client.truth),
        us(client.version),
        us(client.query)
    );
    let _ = writeln!(
        md,
        "\n### A fleet: {} live loopback hosts and {} dead ones, `-w {FLEET_TIMEOUT}`\n\n\
         | client mode | up | down | wall time |\n|---|---|---|---|",
        FLEET.0, FLEET.1
    );
    for f in fleets {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.2} s |",
            f.mode,
            f.up,
            f.down,
            f.wall.as_secs_f64()
        );
    }
    md
}

/// Where `make bench` writes in BENCHMARKS.md.
pub const MARKERS: Markers = Markers {
    begin: "<!-- figures: written by `make bench` -->",
    end: "<!-- end of figures -->",
};
