//! The Prometheus side of the exporter's tests: `ruptime-exporter` on
//! loopback, HTTP requests to it, and a real Prometheus (Debian's package)
//! scraping it, asked through its HTTP API; all stopped when dropped. Its
//! configurations: the README's scrape job, shards of it by hashmod and a
//! global Prometheus federating them, and the shipped alert rules with a
//! hold short enough for a test.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use ureq::Agent;

use crate::bins::bin;
use crate::daemon::Daemon;
use crate::process::{Background, run};

/// How long Prometheus (or another server of its family) may take to start answering.
pub const STARTUP: Duration = Duration::from_secs(60);

/// An HTTP answer: its status, content type and body.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The Content-Type header, if any.
    pub content_type: String,
    /// The body.
    pub body: String,
}

/// An HTTP client with a timeout, which does not take a 4xx or 5xx for a failure.
pub fn agent(timeout: Duration) -> Agent {
    Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

/// `GET url` with the headers given; panics when no answer comes.
pub fn get(agent: &Agent, url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = agent.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("GET {url}: the body: {e}"));
    Answer {
        status: response.status().as_u16(),
        content_type,
        body,
    }
}

/// `ruptime-exporter --web.listen-address 127.0.0.1:0 ARGS`, once it listens.
pub fn exporter(args: &[&str]) -> Daemon {
    let mut command = Command::new(bin("ruptime-exporter"));
    command
        .args(["--web.listen-address", "127.0.0.1:0"])
        .args(args);
    Daemon::spawn(command, 1)
}

/// A port free on loopback a moment ago, for a server that cannot be told
/// to take port 0 and print it.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The scrape job `ruptime` of a Prometheus configuration: each group's
/// targets (and its `mode`, if any) probed through the exporter at
/// `exporter`, with the README's relabeling.
pub fn probe_job(exporter: SocketAddr, groups: &[(&[String], Option<&str>)]) -> String {
    sharded_probe_job(exporter, groups, None)
}

/// As [`probe_job`], keeping only the targets of shard `shard.0` of
/// `shard.1` (when given): `hashmod` of the target into `__tmp_hash`, then
/// `keep` where it is the shard's number, as the README's "Past one
/// Prometheus" shards a fleet over Prometheus servers.
pub fn sharded_probe_job(
    exporter: SocketAddr,
    groups: &[(&[String], Option<&str>)],
    shard: Option<(u64, u64)>,
) -> String {
    let mut job =
        String::from("  - job_name: ruptime\n    metrics_path: /probe\n    static_configs:\n");
    for (targets, mode) in groups {
        let quoted: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        job.push_str(&format!("      - targets: [{}]\n", quoted.join(", ")));
        if let Some(mode) = mode {
            job.push_str(&format!(
                "        labels:\n          __param_mode: {mode}\n"
            ));
        }
    }
    job.push_str(
        "    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
",
    );
    if let Some((shard, shards)) = shard {
        job.push_str(&format!(
            "      - source_labels: [__param_target]
        modulus: {shards}
        target_label: __tmp_hash
        action: hashmod
      - source_labels: [__tmp_hash]
        regex: '{shard}'
        action: keep
"
        ));
    }
    job.push_str(&format!(
        "      - target_label: __address__
        replacement: '{exporter}'
"
    ));
    job
}

/// The scrape job `federate` of a global Prometheus: `probe_success` and
/// every `ruptime_*` series of the job `ruptime`, from each of `shards`
/// (their `/federate`), with the shards' labels kept (`honor_labels`), so
/// that the job is still `ruptime` and the instance the host.
pub fn federate_job(shards: &[SocketAddr]) -> String {
    let quoted: Vec<String> = shards.iter().map(|s| format!("'{s}'")).collect();
    format!(
        "  - job_name: federate
    honor_labels: true
    metrics_path: /federate
    params:
      'match[]':
        - 'probe_success{{job=\"ruptime\"}}'
        - '{{job=\"ruptime\",__name__=~\"ruptime_.*\"}}'
    static_configs:
      - targets: [{}]
",
        quoted.join(", ")
    )
}

/// The configuration of shard `shard` of `shards` Prometheus servers: the
/// job `ruptime` over `targets` through the exporter at `exporter`, keeping
/// its share of them, scraped every `interval` within `timeout`; the
/// external label `shard` tells a global Prometheus where a series came from.
pub fn shard_config(
    exporter: SocketAddr,
    targets: &[String],
    (shard, shards): (u64, u64),
    interval: Duration,
    timeout: Duration,
) -> String {
    format!(
        "global:\n  scrape_interval: {}s\n  scrape_timeout: {}s\n\
         \x20 external_labels:\n    shard: '{shard}'\nscrape_configs:\n{}",
        interval.as_secs(),
        timeout.as_secs(),
        sharded_probe_job(exporter, &[(targets, None)], Some((shard, shards)))
    )
}

/// The configuration of a global Prometheus federating `shards` every
/// `interval` within `timeout` (see [`federate_job`]).
pub fn global_config(shards: &[SocketAddr], interval: Duration, timeout: Duration) -> String {
    format!(
        "global:\n  scrape_interval: {}s\n  scrape_timeout: {}s\nscrape_configs:\n{}",
        interval.as_secs(),
        timeout.as_secs(),
        federate_job(shards)
    )
}

/// The folder of the shipped alert rules and their promtool tests.
pub fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ruptime/exporter/prometheus")
}

/// A copy of the shipped `ruptime.rules.yml` in `dir`, its one `for: 5m`
/// made `for: {hold}`, so that a test sees the real rules fire within
/// seconds; its path.
pub fn rules_with_for(dir: &Path, hold: &str) -> PathBuf {
    let shipped = rules_dir().join("ruptime.rules.yml");
    let text =
        std::fs::read_to_string(&shipped).unwrap_or_else(|e| panic!("{}: {e}", shipped.display()));
    assert_eq!(
        text.matches("for: 5m").count(),
        1,
        "{}: not one 'for: 5m' to shorten",
        shipped.display()
    );
    let copy = dir.join("ruptime.rules.yml");
    std::fs::write(&copy, text.replace("for: 5m", &format!("for: {hold}")))
        .expect("write the rules' copy");
    copy
}

/// Waits until `url` answers 200, for [`STARTUP`] at most.
pub fn wait_ready(url: &str) {
    let http = agent(Duration::from_secs(5));
    let deadline = Instant::now() + STARTUP;
    loop {
        let answered = http.get(url).call().map(|r| r.status().as_u16());
        if matches!(answered, Ok(200)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{url}: not ready in {STARTUP:?}: {answered:?}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// A Prometheus server, from a configuration, storing in a directory of its own.
#[derive(Debug)]
pub struct Prometheus {
    /// Where its web interface and API listen.
    pub addr: SocketAddr,
    process: Background,
    agent: Agent,
}

impl Prometheus {
    /// Checks `config` with promtool, starts Prometheus with it in `dir`,
    /// and waits until it is ready.
    pub fn start(dir: &Path, config: &str) -> Prometheus {
        let file = dir.join("prometheus.yml");
        std::fs::write(&file, config).expect("write prometheus.yml");
        let checked = run(
            Path::new("promtool"),
            &["check", "config", file.to_str().expect("a UTF-8 path")],
            Duration::from_secs(30),
        );
        assert_eq!(checked.code(), 0, "promtool check config: {checked:?}");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port())
            .parse()
            .expect("an address");
        let storage = dir.join("data");
        let process = Background::start(
            Path::new("prometheus"),
            &[
                &format!("--config.file={}", file.display()),
                &format!("--storage.tsdb.path={}", storage.display()),
                &format!("--web.listen-address={addr}"),
                "--log.level=warn",
            ],
        );
        wait_ready(&format!("http://{addr}/-/ready"));
        Prometheus {
            addr,
            process,
            agent: agent(Duration::from_secs(5)),
        }
    }

    /// Prometheus's answer to an instant query, checked to be a success.
    fn ask(&self, query: &str) -> Value {
        let url = format!("http://{}/api/v1/query", self.addr);
        let mut response = self
            .agent
            .get(&url)
            .query("query", query)
            .call()
            .unwrap_or_else(|e| panic!("query {query}: {e}"));
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 28)
            .read_to_string()
            .expect("an answer");
        let answer: Value = serde_json::from_str(&text).expect("JSON from Prometheus");
        assert_eq!(answer["status"], "success", "{query}: {text}");
        answer
    }

    /// The result of an instant query: each series' labels and value.
    pub fn query(&self, query: &str) -> Vec<(Value, f64)> {
        let answer = self.ask(query);
        let series = answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        series
            .into_iter()
            .map(|s| {
                let value = s["value"][1]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN);
                (s["metric"].clone(), value)
            })
            .collect()
    }

    /// Every sample of a range query (`METRIC[WINDOW]`), of every series.
    pub fn samples(&self, query: &str) -> Vec<f64> {
        let answer = self.ask(query);
        assert_eq!(answer["data"]["resultType"], "matrix", "{query}: {answer}");
        let series = answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        series
            .iter()
            .filter_map(|s| s["values"].as_array())
            .flatten()
            .map(|v| {
                v[1].as_str()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN)
            })
            .collect()
    }

    /// Polls `query` until `done` holds for its result, or panics after `limit`.
    pub fn wait_for(
        &self,
        query: &str,
        limit: Duration,
        done: impl Fn(&[(Value, f64)]) -> bool,
    ) -> Vec<(Value, f64)> {
        let deadline = Instant::now() + limit;
        loop {
            let result = self.query(query);
            if done(&result) {
                return result;
            }
            assert!(
                Instant::now() < deadline,
                "{query}: not as wanted within {limit:?}: {result:?}"
            );
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Its process id.
    pub fn pid(&self) -> nix::unistd::Pid {
        self.process.pid()
    }

    /// Stops it, and what it wrote on stderr.
    pub fn stop(self) -> String {
        self.process.kill().stderr
    }
}
