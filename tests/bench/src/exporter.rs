//! The exporter's figures (`make bench-exporter`): probes per second at
//! concurrency 32 against one daemon beside blackbox_exporter's TCP prober;
//! and, as root, in a test-made network namespace, one Prometheus scraping
//! 1 000 distinct hosts every 5 s through the exporter, and two shard
//! Prometheus servers sharing 10 000 hosts by hashmod every 15 s, federated
//! by a global one.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use super::markers::Markers;
use super::probes::{Sustained, load};
use ruptime_tests::daemon::Daemon;
use ruptime_tests::fleetnet::FleetNet;
use ruptime_tests::process::Background;
use ruptime_tests::procfs::{TICK_MICROS, cpu_ticks, cpu_ticks_with_children, status_field};
use ruptime_tests::prometheus::{
    Prometheus, agent, free_port, get, global_config, probe_job, shard_config, wait_ready,
};
use ruptime_tests::stats::{Latencies, median};

/// Where `make bench-exporter` writes in BENCHMARKS.md.
pub const MARKERS: Markers = Markers {
    begin: "<!-- exporter figures: written by `make bench-exporter` -->",
    end: "<!-- end of exporter figures -->",
};

/// How the figures are taken.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Where ruptime and ruptimed are.
    pub bin_dir: std::path::PathBuf,
    /// Probes at once.
    pub clients: usize,
    /// Rounds per side.
    pub rounds: usize,
    /// How long a round lasts.
    pub round: Duration,
    /// How many hosts Prometheus scrapes (0: not that part).
    pub targets: usize,
    /// How long Prometheus scrapes them before the figures are read.
    pub window: Duration,
    /// How many hosts the shard Prometheus servers share (0: not that part).
    pub sharded: usize,
    /// How long the shards scrape them before the figures are read.
    pub sharded_window: Duration,
}

/// How many shard Prometheus servers share the hosts.
const SHARDS: u64 = 2;

/// How often the shards scrape each host, and the global one each shard.
const SHARD_INTERVAL: Duration = Duration::from_secs(15);

/// The scrape timeout of the shards and of the global Prometheus.
const SHARD_TIMEOUT: Duration = Duration::from_secs(10);

/// blackbox_exporter's module: connect, read the line, expect a load average.
const BLACKBOX: &str = "modules:
  ruptime:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - expect: 'load average'
";

/// One side of the probe table, its rounds.
struct Side {
    name: &'static str,
    rounds: Vec<Sustained>,
    cpu_ticks: u64,
}

/// Every figure, as Markdown.
pub fn run(plan: &Plan) -> String {
    let mut out = probes(plan);
    if plan.targets > 0 {
        out.push('\n');
        out.push_str(&scrapes(plan));
    }
    if plan.sharded > 0 {
        out.push('\n');
        out.push_str(&sharded(plan));
    }
    out
}

/// The probe table: our exporter in each mode, and blackbox_exporter.
fn probes(plan: &Plan) -> String {
    let daemon = |mode| {
        let command = Command::new(plan.bin_dir.join("ruptimed"));
        Daemon::start_command(command, &["-l", "127.0.0.1", "-m", mode])
    };
    let (stream, dgram) = (daemon("stream"), daemon("dgram"));
    let mut command = Command::new(plan.bin_dir.join("ruptime-exporter"));
    command.args(["--web.listen-address", "127.0.0.1:0"]);
    let exporter = Daemon::spawn(command, 1);
    let dir = tempfile::tempdir().expect("a directory");
    let config = dir.path().join("blackbox.yml");
    std::fs::write(&config, BLACKBOX).expect("blackbox.yml");
    let blackbox_addr = format!("127.0.0.1:{}", free_port());
    let blackbox = Background::start(
        Path::new("prometheus-blackbox-exporter"),
        &[
            &format!("--config.file={}", config.display()),
            &format!("--web.listen-address={blackbox_addr}"),
        ],
    );
    wait_ready(&format!("http://{blackbox_addr}/metrics"));
    let ours = exporter.addrs[0];
    let urls = [
        (
            "ruptime-exporter, stream",
            format!("http://{ours}/probe?target=127.0.0.1:{}", stream.port()),
            "probe_success 1",
            exporter.pid().as_raw(),
        ),
        (
            "blackbox_exporter, tcp + query_response",
            format!(
                "http://{blackbox_addr}/probe?module=ruptime&target=127.0.0.1:{}",
                stream.port()
            ),
            "probe_success 1",
            blackbox.pid().as_raw(),
        ),
        (
            "ruptime-exporter, dgram",
            format!(
                "http://{ours}/probe?target=127.0.0.1:{}&mode=dgram",
                dgram.port()
            ),
            "probe_success 1",
            exporter.pid().as_raw(),
        ),
        (
            "ruptime-exporter, fork",
            format!(
                "http://{ours}/probe?target=127.0.0.1:{}&mode=fork",
                stream.port()
            ),
            "probe_success 1",
            exporter.pid().as_raw(),
        ),
    ];
    let mut sides: Vec<Side> = urls
        .iter()
        .map(|(name, ..)| Side {
            name,
            rounds: Vec::new(),
            cpu_ticks: 0,
        })
        .collect();
    for _ in 0..plan.rounds {
        for (side, (_, url, up, pid)) in sides.iter_mut().zip(&urls) {
            let pid = u32::try_from(*pid).unwrap_or_default();
            let before = cpu_ticks_with_children(pid);
            side.rounds.push(load(url, up, plan.clients, plan.round));
            side.cpu_ticks += cpu_ticks_with_children(pid) - before;
        }
    }
    render_probes(plan, &mut sides)
}

fn render_probes(plan: &Plan, sides: &mut [Side]) -> String {
    let rates: Vec<f64> = sides
        .iter()
        .map(|s| median(&s.rounds.iter().map(Sustained::rate).collect::<Vec<_>>()))
        .collect();
    let reference = rates.get(1).copied().unwrap_or(f64::NAN);
    let mut out = format!(
        "Probes of one daemon on loopback, {} clients each with a kept-alive \
         connection, {} rounds of {:.0} s per side, interleaved; the median \
         round. CPU is the exporter's own (and its children's), per probe.\n\n\
         | exporter | probes/s | vs blackbox_exporter | p50 | p99 | failed | CPU per probe |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
        plan.clients,
        plan.rounds,
        plan.round.as_secs_f64()
    );
    for (side, rate) in sides.iter_mut().zip(&rates) {
        let mut latencies = ruptime_tests::stats::Latencies::default();
        let (mut up, mut failed) = (0, 0);
        for round in side.rounds.drain(..) {
            up += round.up;
            failed += round.failed;
            latencies.merge(round.latencies);
        }
        let _ = writeln!(
            out,
            "| {} | {rate:.0} | {:.2}x | {:.2} ms | {:.2} ms | {failed} | {:.0} us |",
            side.name,
            rate / reference,
            latencies.percentile(50.0).as_secs_f64() * 1e3,
            latencies.percentile(99.0).as_secs_f64() * 1e3,
            (side.cpu_ticks * TICK_MICROS) as f64 / up.max(1) as f64,
        );
    }
    out
}

/// A stream daemon answering the live hosts of `net`, the exporter there,
/// and the first `hosts` of them as its targets.
fn daemon_and_exporter(net: &FleetNet, plan: &Plan, hosts: usize) -> (Daemon, Daemon, Vec<String>) {
    let daemon = Daemon::start_command(
        net.command(&plan.bin_dir.join("ruptimed"), &[]),
        &["-m", "stream", "-l", "0.0.0.0"],
    );
    let exporter = Daemon::spawn(
        net.command(
            &plan.bin_dir.join("ruptime-exporter"),
            &["--web.listen-address", "127.0.0.1:0"],
        ),
        1,
    );
    let targets = (0..hosts)
        .map(|i| format!("{}:{}", FleetNet::live(i), daemon.port()))
        .collect();
    (daemon, exporter, targets)
}

/// One Prometheus scraping `plan.targets` hosts every 5 s through the exporter.
fn scrapes(plan: &Plan) -> String {
    let net = FleetNet::new(plan.targets);
    let (_daemon, exporter, targets) = daemon_and_exporter(&net, plan, plan.targets);
    let config = format!(
        "global:\n  scrape_interval: 5s\n  scrape_timeout: 5s\nscrape_configs:\n{}",
        probe_job(exporter.addrs[0], &[(&targets, None)])
    );
    let dir = tempfile::tempdir().expect("a directory");
    let prometheus = net.inside(|| Prometheus::start(dir.path(), &config));
    let window = format!("{}s", plan.window.as_secs());
    let (figures, ticks) = net.inside(|| {
        // Every target scraped once, then the window measured.
        let every = |s: &[(serde_json::Value, f64)]| s.first().is_some_and(|(_, n)| *n == plan.targets as f64);
        prometheus.wait_for("count(up{job='ruptime'})", Duration::from_secs(60), every);
        let exporter_pid = u32::try_from(exporter.pid().as_raw()).unwrap_or_default();
        let before = cpu_ticks(exporter_pid);
        thread::sleep(plan.window);
        let ticks = cpu_ticks(exporter_pid) - before;
        let one = |query: &str| prometheus.query(query).first().map_or(f64::NAN, |(_, v)| *v);
        let figures = [
            format!("count(min_over_time(probe_success[{window}]) == 1)"),
            format!("count(min_over_time(up{{job='ruptime'}}[{window}]) == 1)"),
            format!("sum(count_over_time(up{{job='ruptime'}}[{window}]))"),
            format!("quantile(0.5, quantile_over_time(0.5, scrape_duration_seconds{{job='ruptime'}}[{window}]))"),
            format!("quantile(0.99, quantile_over_time(0.99, scrape_duration_seconds{{job='ruptime'}}[{window}]))"),
            format!("max(max_over_time(scrape_duration_seconds{{job='ruptime'}}[{window}]))"),
        ]
        .map(|q| one(&q));
        (figures, ticks)
    });
    drop(prometheus);
    let [always_up, never_failed, scrapes, p50, p99, max] = figures;
    let cpu = (ticks * TICK_MICROS) as f64 / 1e6 / plan.window.as_secs_f64();
    format!(
        "One Prometheus (Debian's 2.42) scraping {} distinct hosts (127.10.0.0 + i \
         in a namespace, one stream daemon) through one exporter, every 5 s, \
         timeout 5 s; read over a window of {} s after every target was \
         scraped once.\n\n\
         | targets | up in every scrape | scrapes never failed | scrapes | scrape p50 | scrape p99 | scrape max | exporter CPU |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|\n\
         | {} | {always_up} | {never_failed} | {scrapes} | {:.2} ms | {:.2} ms | {:.2} ms | {:.1}% of a core |\n",
        plan.targets,
        plan.window.as_secs(),
        plan.targets,
        p50 * 1e3,
        p99 * 1e3,
        max * 1e3,
        cpu * 100.0
    )
}

/// What one Prometheus server did over the window.
struct Server {
    name: String,
    /// Its targets (hosts for a shard, shards for the global one).
    targets: usize,
    /// Hosts at `probe_success` 1 in every sample of the window.
    always_up: f64,
    /// Scrapes in the window.
    scrapes: usize,
    /// Their durations.
    durations: Latencies,
    /// Its resident memory at the window's end, and at most, in KiB.
    rss_kib: (u64, u64),
}

/// The exporter's probes (every mode and outcome) so far, from its `/metrics`.
fn probes_made(metrics: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("ruptime_exporter_probes_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Two shard Prometheus servers sharing `plan.sharded` hosts by hashmod,
/// every 15 s through one exporter, and a global one federating both.
fn sharded(plan: &Plan) -> String {
    let hosts = plan.sharded;
    let net = FleetNet::new(hosts);
    let (_daemon, exporter, targets) = daemon_and_exporter(&net, plan, hosts);
    let dirs: Vec<_> = (0..=SHARDS)
        .map(|_| tempfile::tempdir().expect("a directory"))
        .collect();
    let shards: Vec<Prometheus> = (0..SHARDS)
        .map(|n| {
            let config = shard_config(
                exporter.addrs[0],
                &targets,
                (n, SHARDS),
                SHARD_INTERVAL,
                SHARD_TIMEOUT,
            );
            let dir = dirs[usize::try_from(n).unwrap_or_default()].path();
            net.inside(|| Prometheus::start(dir, &config))
        })
        .collect();
    let addrs: Vec<_> = shards.iter().map(|s| s.addr).collect();
    let config = global_config(&addrs, SHARD_INTERVAL, SHARD_TIMEOUT);
    let global = net.inside(|| Prometheus::start(dirs[dirs.len() - 1].path(), &config));
    let window = format!("{}s", plan.sharded_window.as_secs());
    let exporter_pid = u32::try_from(exporter.pid().as_raw()).unwrap_or_default();
    let metrics = format!("http://{}/metrics", exporter.addrs[0]);
    let (servers, ticks, probes, seen_after, global_up) = net.inside(|| {
        // Every host seen in the global view, then the window measured.
        let start = Instant::now();
        let every =
            |s: &[(serde_json::Value, f64)]| s.first().is_some_and(|(_, n)| *n == hosts as f64);
        let limit = SHARD_INTERVAL * 8;
        global.wait_for("count(probe_success{job='ruptime'})", limit, every);
        let seen_after = start.elapsed();
        let http = agent(Duration::from_secs(30));
        let (ticks_before, probes_before) = (
            cpu_ticks(exporter_pid),
            probes_made(&get(&http, &metrics, &[]).body),
        );
        thread::sleep(plan.sharded_window);
        let ticks = cpu_ticks(exporter_pid) - ticks_before;
        let probes = probes_made(&get(&http, &metrics, &[]).body) - probes_before;
        let one =
            |p: &Prometheus, query: &str| p.query(query).first().map_or(f64::NAN, |(_, v)| *v);
        let always_up =
            format!("count(min_over_time(probe_success{{job='ruptime'}}[{window}]) == 1)");
        let server = |name: String, p: &Prometheus, job: &str| {
            let scraped = format!("scrape_duration_seconds{{job='{job}'}}[{window}]");
            let durations = p.samples(&scraped);
            let mut latencies = Latencies::default();
            for d in &durations {
                latencies.record(Duration::from_secs_f64(d.max(0.0)));
            }
            let pid = u32::try_from(p.pid().as_raw()).unwrap_or_default();
            Server {
                name,
                targets: p.query(&format!("up{{job='{job}'}}")).len(),
                always_up: one(p, &always_up),
                scrapes: durations.len(),
                durations: latencies,
                rss_kib: (status_field(pid, "VmRSS:"), status_field(pid, "VmHWM:")),
            }
        };
        let mut servers: Vec<Server> = shards
            .iter()
            .enumerate()
            .map(|(n, p)| server(format!("shard {n}"), p, "ruptime"))
            .collect();
        servers.push(server(
            "global (federation)".to_owned(),
            &global,
            "federate",
        ));
        let global_up = one(&global, "count(probe_success{job='ruptime'} == 1)");
        (servers, ticks, probes, seen_after, global_up)
    });
    let exporter_rss = status_field(exporter_pid, "VmHWM:");
    drop(global);
    drop(shards);
    render_sharded(
        plan,
        servers,
        (ticks, probes, exporter_rss),
        seen_after,
        global_up,
    )
}

fn render_sharded(
    plan: &Plan,
    mut servers: Vec<Server>,
    (ticks, probes, exporter_rss): (u64, f64, u64),
    seen_after: Duration,
    global_up: f64,
) -> String {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let mut out = format!(
        "{SHARDS} shard Prometheus servers (Debian's 2.42) sharing {} distinct hosts \
         (hashmod of the target, modulus {SHARDS}; one stream daemon, one exporter) \
         and a global one federating `probe_success` and `ruptime_*` from both, \
         every {} s, timeout {} s; every host was in the global view {:.0} s after \
         the start, then read over a window of {} s ({} rounds). Up in every \
         scrape: hosts at `probe_success` 1 in every sample of the window (in the \
         global view: as federated).\n\n\
         | Prometheus | targets | up in every scrape | scrapes | scrape p50 | scrape p99 | scrape max | resident memory (peak) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
        plan.sharded,
        SHARD_INTERVAL.as_secs(),
        SHARD_TIMEOUT.as_secs(),
        seen_after.as_secs_f64(),
        plan.sharded_window.as_secs(),
        plan.sharded_window.as_secs() / SHARD_INTERVAL.as_secs().max(1),
    );
    for s in &mut servers {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} MiB ({:.0} MiB) |",
            s.name,
            s.targets,
            s.always_up,
            s.scrapes,
            s.durations.percentile(50.0).as_secs_f64() * 1e3,
            s.durations.percentile(99.0).as_secs_f64() * 1e3,
            s.durations.percentile(100.0).as_secs_f64() * 1e3,
            mib(s.rss_kib.0),
            mib(s.rss_kib.1),
        );
    }
    let window = plan.sharded_window.as_secs_f64();
    let _ = write!(
        out,
        "\nHosts up in the global view at the end: {global_up}. The exporter over the \
         window:\n\n\
         | probes | probes/s | CPU per probe | CPU | resident memory (peak) |\n\
         |---:|---:|---:|---:|---:|\n\
         | {probes:.0} | {:.0} | {:.0} us | {:.1}% of a core | {:.0} MiB |\n",
        probes / window,
        (ticks * TICK_MICROS) as f64 / probes.max(1.0),
        (ticks * TICK_MICROS) as f64 / 1e6 / window * 100.0,
        mib(exporter_rss),
    );
    out
}
