//! `ruptime-bench`: the load generator, the reference responder and the
//! benchmark table of the ruptime suite (`make bench`). Loopback only.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ruptime_bench::markers::{self, Markers};
use ruptime_bench::{exporter, fleets, reference, report_cost, table};
use ruptime_common::duration::parse_seconds;
use ruptime_tests::load::{self, Load, Transport};

#[derive(Parser)]
#[command(
    name = "ruptime-bench",
    version,
    about = "Measure ruptimed beside a reference responder, on loopback"
)]
struct Cli {
    #[command(subcommand)]
    job: Job,
}

#[derive(Subcommand)]
enum Job {
    /// Keep requests in flight against a server and print what it sustained
    Load {
        /// The server (a loopback address)
        #[arg(long)]
        addr: SocketAddr,
        /// UDP instead of TCP
        #[arg(long)]
        udp: bool,
        /// Requests in flight at once
        #[arg(short, long, default_value_t = 1)]
        concurrency: usize,
        /// Requests to make at most
        #[arg(short = 'n', long, default_value_t = 10_000)]
        count: u64,
        /// Seconds to keep starting requests
        #[arg(short = 't', long, default_value = "10", value_parser = parse_seconds)]
        time: Duration,
    },
    /// Serve a fixed line: the reference responder
    Reference {
        /// UDP instead of TCP
        #[arg(long, conflicts_with = "tcp")]
        udp: bool,
        /// TCP (the default)
        #[arg(long)]
        tcp: bool,
        /// The line to send
        #[arg(
            long,
            default_value = " 00:00:00 up 1 min,  0 user,  load average: 0.00, 0.00, 0.00\n"
        )]
        line: String,
        /// Where to listen
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
    /// The cost of one report, native and by running uptime
    Report,
    /// The whole table (what `make bench` writes to BENCHMARKS.md)
    Table {
        /// Rounds per row and side
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Seconds per round
        #[arg(long, default_value = "1", value_parser = parse_seconds)]
        round: Duration,
        /// Replace the figures between the markers of this file; else print them
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The exporter: probes per second beside blackbox_exporter, and (as
    /// root) Prometheus scraping a thousand hosts in a namespace, and two
    /// shards of ten thousand federated by a global Prometheus
    Exporter {
        /// Probes at once
        #[arg(short, long, default_value_t = 32)]
        clients: usize,
        /// Rounds per side
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Seconds per round
        #[arg(long, default_value = "2", value_parser = parse_seconds)]
        round: Duration,
        /// Hosts Prometheus scrapes (0: skip that part, as it needs root)
        #[arg(long, default_value_t = 1000)]
        targets: usize,
        /// Seconds Prometheus scrapes before the figures are read
        #[arg(long, default_value = "40", value_parser = parse_seconds)]
        window: Duration,
        /// Hosts two shard Prometheus servers share, every 15 s (0: skip
        /// that part, as it needs root)
        #[arg(long, default_value_t = 10_000)]
        sharded_targets: usize,
        /// Seconds the shards scrape before the figures are read (four
        /// rounds by default)
        #[arg(long, default_value = "60", value_parser = parse_seconds)]
        sharded_window: Duration,
        /// Replace the figures between the markers of this file; else print them
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Whole fleets in a test-made network namespace (needs root)
    Fleets {
        /// Replace the figures between the markers of this file; else print them
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only the fleets whose name or modes hold this text
        /// ("behind one daemon", "fork", "lost")
        #[arg(long)]
        only: Option<String>,
    },
}

/// The directory of this binary, where the others were built too.
fn bin_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(PathBuf::from))
        .unwrap_or_default()
}

/// Writes `figures` between `markers` of `out`, or prints them.
fn publish(figures: &str, markers: Markers, out: Option<PathBuf>) -> ExitCode {
    match out {
        Some(path) => match markers::write_between(&path, markers, figures) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ruptime-bench: {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
        None => {
            print!("{figures}");
            ExitCode::SUCCESS
        }
    }
}

fn main() -> ExitCode {
    match Cli::parse().job {
        Job::Load {
            addr,
            udp,
            concurrency,
            count,
            time,
        } => {
            if !addr.ip().is_loopback() {
                eprintln!("ruptime-bench: {addr} is not a loopback address");
                return ExitCode::from(2);
            }
            let transport = if udp { Transport::Udp } else { Transport::Tcp };
            let load = Load {
                addr,
                transport,
                concurrency,
                count,
                duration: time,
                timeout: Duration::from_secs(2),
            };
            match load::run(&load) {
                Ok(mut o) => {
                    println!(
                        "{:.0} req/s, p50 {:?}, p99 {:?}, {} answered, {} errors, {} timeouts in {:.2} s",
                        o.rate(),
                        o.latencies.percentile(50.0),
                        o.latencies.percentile(99.0),
                        o.ok,
                        o.errors,
                        o.timeouts,
                        o.elapsed.as_secs_f64()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("ruptime-bench: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Job::Reference {
            udp, line, listen, ..
        } => {
            let transport = if udp { Transport::Udp } else { Transport::Tcp };
            let served = reference::serve(transport, listen, line.as_bytes(), |addr| {
                println!("listening on {addr} (reference)");
                let _ = std::io::stdout().flush();
            });
            if let Err(e) = served {
                eprintln!("ruptime-bench: {e}");
            }
            ExitCode::FAILURE
        }
        Job::Report => {
            let cost = report_cost::measure(20_000, 300);
            println!(
                "native {:?}, fork+exec uptime {:?}, popen uptime {:?}",
                cost.native, cost.exec, cost.popen
            );
            ExitCode::SUCCESS
        }
        Job::Table { rounds, round, out } => {
            let figures = table::run(&table::Plan {
                bin_dir: bin_dir(),
                rounds,
                round,
            });
            publish(&figures, table::MARKERS, out)
        }
        Job::Exporter {
            clients,
            rounds,
            round,
            targets,
            window,
            sharded_targets,
            sharded_window,
            out,
        } => {
            let hosts = targets.max(sharded_targets);
            if hosts > 0 && !nix::unistd::geteuid().is_root() {
                eprintln!(
                    "ruptime-bench: exporter: scraping {hosts} hosts needs root (a network namespace); --targets 0 --sharded-targets 0 skip it"
                );
                return ExitCode::from(2);
            }
            let plan = exporter::Plan {
                bin_dir: bin_dir(),
                clients,
                rounds,
                round,
                targets,
                window,
                sharded: sharded_targets,
                sharded_window,
            };
            publish(&exporter::run(&plan), exporter::MARKERS, out)
        }
        Job::Fleets { out, only } => {
            if !nix::unistd::geteuid().is_root() {
                eprintln!("ruptime-bench: fleets: needs root (network namespaces)");
                return ExitCode::from(2);
            }
            publish(
                &fleets::run(&bin_dir(), only.as_deref()),
                fleets::MARKERS,
                out,
            )
        }
    }
}
