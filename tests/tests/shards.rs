//! Past one Prometheus: a thousand distinct hosts in a namespace of the
//! test, shared by hashmod between two shard Prometheus servers scraping
//! them through one exporter, and a global Prometheus federating both, as
//! the README's "Past one Prometheus" sets it up. Needs root.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::fleetnet::FleetNet;
use ruptime_tests::prometheus::{Prometheus, global_config, shard_config};
use ruptime_tests::skip::can_run;
use serde_json::Value;

/// How many hosts the shards share.
const HOSTS: usize = 1000;

/// How many shards.
const SHARDS: u64 = 2;

/// Every scrape's interval, the shards' and the global one's.
const INTERVAL: Duration = Duration::from_secs(2);

/// How long a state may take to show in the global view.
const SEEN: Duration = Duration::from_secs(90);

/// The instance label of each series, and its value.
fn by_instance(series: &[(Value, f64)]) -> BTreeMap<String, f64> {
    series
        .iter()
        .map(|(labels, value)| {
            let instance = labels["instance"].as_str().unwrap_or_default().to_owned();
            (instance, *value)
        })
        .collect()
}

/// Whether the one value of a `count(...)` query is `n`.
fn counted(n: usize) -> impl Fn(&[(Value, f64)]) -> bool {
    move |s| s.len() == 1 && s[0].1 == n as f64
}

#[test]
fn two_shards_share_a_thousand_hosts_and_a_global_prometheus_sees_them_all() {
    if !can_run(
        "sharded Prometheus servers federated (a namespace of 1 000 hosts)",
        &["ip", "prometheus", "promtool"],
    ) {
        return;
    }
    let began = Instant::now();
    let net = FleetNet::new(HOSTS);
    let daemon = Daemon::start_command(net.command(&bin("ruptimed"), &[]), &["-l", "0.0.0.0"]);
    let exporter = Daemon::spawn(
        net.command(
            &bin("ruptime-exporter"),
            &[
                "--web.listen-address",
                "127.0.0.1:0",
                "--probe.timeout",
                "1",
            ],
        ),
        1,
    );
    let hosts: Vec<String> = (0..HOSTS)
        .map(|i| format!("{}:{}", FleetNet::live(i), daemon.port()))
        .collect();
    let all: BTreeSet<String> = hosts.iter().cloned().collect();
    let dirs: Vec<_> = (0..=SHARDS)
        .map(|_| tempfile::tempdir().expect("a directory"))
        .collect();
    let shards: Vec<Prometheus> = (0..SHARDS)
        .map(|n| {
            let config = shard_config(exporter.addrs[0], &hosts, (n, SHARDS), INTERVAL, INTERVAL);
            let dir = dirs[n as usize].path();
            net.inside(|| Prometheus::start(dir, &config))
        })
        .collect();
    let addrs: Vec<_> = shards.iter().map(|s| s.addr).collect();
    let config = global_config(&addrs, INTERVAL, INTERVAL);
    let global = net.inside(|| Prometheus::start(dirs[SHARDS as usize].path(), &config));
    eprintln!(
        "{HOSTS} hosts, 3 Prometheus servers up in {:?}",
        began.elapsed()
    );

    // Each host in exactly one shard.
    let query = "probe_success{job='ruptime'}";
    let split: Vec<BTreeMap<String, f64>> = net.inside(|| {
        let deadline = Instant::now() + SEEN;
        loop {
            let split: Vec<_> = shards
                .iter()
                .map(|s| by_instance(&s.query(query)))
                .collect();
            let seen: usize = split.iter().map(BTreeMap::len).sum();
            if seen >= HOSTS {
                return split;
            }
            assert!(
                Instant::now() < deadline,
                "the shards scraped {seen} hosts of {HOSTS} in {SEEN:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let sets: Vec<BTreeSet<String>> = split.iter().map(|s| s.keys().cloned().collect()).collect();
    let both: Vec<_> = sets[0].intersection(&sets[1]).collect();
    assert!(
        both.is_empty(),
        "{} hosts in both shards: {both:?}",
        both.len()
    );
    let union: BTreeSet<String> = sets[0].union(&sets[1]).cloned().collect();
    assert_eq!(union, all, "the shards' union is not the fleet");
    for (n, set) in sets.iter().enumerate() {
        // md5 spreads 1 000 names evenly: far from empty, far from all.
        assert!(
            (HOSTS / 4..HOSTS * 3 / 4).contains(&set.len()),
            "shard {n} has {} hosts",
            set.len()
        );
    }
    eprintln!(
        "shards of {} and {} hosts after {:?}",
        sets[0].len(),
        sets[1].len(),
        began.elapsed()
    );

    // The global view: every host up, under job ruptime, from its shard.
    let up = net.inside(|| {
        global.wait_for(
            "count(probe_success{job='ruptime'} == 1)",
            SEEN,
            counted(HOSTS),
        );
        global.wait_for("count(ruptime_load1{job='ruptime'})", SEEN, counted(HOSTS));
        global.query(query)
    });
    assert_eq!(up.len(), HOSTS, "{} series", up.len());
    for (labels, value) in &up {
        let instance = labels["instance"].as_str().unwrap_or_default();
        let shard: usize = labels["shard"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no shard label: {labels}"));
        assert_eq!(*value, 1.0, "{labels}");
        assert_eq!(labels["job"], "ruptime", "{labels}");
        assert!(
            sets[shard].contains(instance),
            "{labels}: not shard {shard}'s"
        );
        assert!(
            labels.as_object().is_some_and(|l| l.len() == 4),
            "labels beyond __name__, instance, job and shard: {labels}"
        );
    }
    eprintln!(
        "all {HOSTS} up in the global view after {:?}",
        began.elapsed()
    );

    // The daemon dies: every host down in the global view.
    let (status, _) = daemon.stop(Signal::SIGKILL);
    assert!(!status.success(), "{status:?}");
    let killed = Instant::now();
    let down = net.inside(|| {
        global.wait_for(
            "count(probe_success{job='ruptime'} == 0)",
            SEEN,
            counted(HOSTS),
        );
        global.query(query)
    });
    let down = by_instance(&down);
    assert_eq!(down.keys().cloned().collect::<BTreeSet<_>>(), all);
    assert!(down.values().all(|v| *v == 0.0), "{down:?}");
    eprintln!(
        "all {HOSTS} down in the global view {:?} after the kill; {:?} in all",
        killed.elapsed(),
        began.elapsed()
    );
    let logs: Vec<String> = shards
        .into_iter()
        .chain([global])
        .map(Prometheus::stop)
        .collect();
    for log in logs {
        assert!(
            !log.contains("level=error"),
            "Prometheus logged errors: {log}"
        );
    }
}
