//! `ruptime-exporter` and `ruptime --prometheus`, with a real Prometheus
//! (Debian's package) scraping the exporter on loopback, and promtool
//! checking what both write.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::fleetnet::FleetNet;
use ruptime_tests::process::{run_command_with_input, ruptime};
use ruptime_tests::prometheus::{Prometheus, agent, exporter, free_port, get, probe_job};
use ruptime_tests::skip::{can_run, have_tools};
use serde_json::Value;

/// The uptime line of the daemon that answers with fixed figures.
const FIXED: &str = " 10:00:00 up 3 days,  4:05,  7 users,  load average: 0.25, 1.50, 12.75";

/// How long a test waits for Prometheus to have scraped what it wants.
const SCRAPED: Duration = Duration::from_secs(60);

/// A port where nothing listens: bound, then closed.
fn refused_port() -> u16 {
    free_port()
}

/// A TCP port that takes connections (the kernel's backlog) and never answers.
fn silent() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("a silent port")
}

fn port_of(listener: &TcpListener) -> u16 {
    listener.local_addr().expect("its address").port()
}

/// `ruptime --json ARGS`: the one row.
fn json_row(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let done = ruptime(&all);
    let rows: Value = serde_json::from_slice(&done.stdout).expect("JSON");
    rows[0].clone()
}

/// The value of the sample of `name` in exposition `text` (no labels).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

/// Asserts that `answer` is a probe's 200 with `probe_success` at `success`.
fn assert_success(answer: &ruptime_tests::prometheus::Answer, success: f64) {
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        sample(&answer.body, "probe_success"),
        Some(success),
        "{}",
        answer.body
    );
}

fn promtool_check(text: &str) {
    let mut command = Command::new("promtool");
    command.args(["check", "metrics"]);
    let checked = run_command_with_input(command, text.as_bytes(), Duration::from_secs(30));
    assert_eq!(
        checked.code(),
        0,
        "promtool check metrics: {checked:?}\n{text}"
    );
    assert_eq!(checked.stderr.trim(), "", "promtool's lint:\n{text}");
}

#[test]
fn prometheus_scrapes_live_refused_and_silent_hosts() {
    if !have_tools(
        "a real Prometheus scraping the exporter",
        &["prometheus", "promtool"],
    ) {
        return;
    }
    let stream = Daemon::start(&["-l", "127.0.0.1", "-m", "stream"]);
    let dgram = Daemon::start(&["-l", "127.0.0.1", "-m", "dgram"]);
    let fork = Daemon::start(&["-l", "127.0.0.1", "-m", "fork"]);
    let fixed = fixed_daemon();
    let quiet = silent();
    let refused = refused_port();
    let exporter = exporter(&["--probe.timeout", "3"]);
    let at = |port: u16| format!("127.0.0.1:{port}");
    let live_stream = at(stream.port());
    let live_dgram = at(dgram.port());
    let live_fork = at(fork.port());
    let live_fixed = at(fixed.port());
    let (refused, quiet_host) = (at(refused), at(port_of(&quiet)));
    let dir = tempfile::tempdir().expect("a directory");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{}\
         \x20 - job_name: exporter\n    static_configs:\n      - targets: ['{}']\n",
        probe_job(
            exporter.addrs[0],
            &[
                (
                    &[
                        live_stream.clone(),
                        live_fixed.clone(),
                        refused.clone(),
                        quiet_host.clone()
                    ],
                    None,
                ),
                (std::slice::from_ref(&live_dgram), Some("dgram")),
                (std::slice::from_ref(&live_fork), Some("fork")),
            ],
        ),
        exporter.addrs[0]
    );
    let prometheus = Prometheus::start(dir.path(), &config);
    let ups = prometheus.wait_for("probe_success", SCRAPED, |series| series.len() == 6);
    let up_of = |instance: &str| {
        ups.iter()
            .find(|(labels, _)| labels["instance"] == instance)
            .map(|(_, value)| *value)
    };
    for live in [&live_stream, &live_dgram, &live_fork, &live_fixed] {
        assert_eq!(up_of(live), Some(1.0), "{live}: {ups:?}");
    }
    for down in [&refused, &quiet_host] {
        assert_eq!(up_of(down), Some(0.0), "{down}: {ups:?}");
    }
    // Every scrape of the silent host ended within its timeout: it is up.
    let scrapes = prometheus.query(&format!("up{{instance='{quiet_host}'}}"));
    assert_eq!(scrapes.len(), 1, "{scrapes:?}");
    assert_eq!(
        scrapes[0].1, 1.0,
        "the silent host's scrape failed: {scrapes:?}"
    );

    // The fixed daemon's load is exactly what ruptime --json reports.
    let row = json_row(&[&live_fixed]);
    let load = prometheus.query(&format!("ruptime_load1{{instance='{live_fixed}'}}"));
    assert_eq!(load.len(), 1, "{load:?}");
    assert_eq!(Some(load[0].1), row["load"][0].as_f64(), "{row}");
    assert_eq!(load[0].1, 0.25);
    let figures = [
        ("ruptime_load5", 1.5),
        ("ruptime_load15", 12.75),
        ("ruptime_users", 7.0),
        ("ruptime_uptime_seconds", 273_900.0),
    ];
    for (name, want) in figures {
        let got = prometheus.query(&format!("{name}{{instance='{live_fixed}'}}"));
        assert_eq!(got.len(), 1, "{name}: {got:?}");
        assert_eq!(got[0].1, want, "{name}");
    }
    // The boot time is the probe's time less the uptime: within a few
    // seconds (the scrape interval, and the time the query takes) of now
    // less 273 900 s.
    let boot = prometheus.query(&format!(
        "time() - 273900 - ruptime_boot_time_seconds{{instance='{live_fixed}'}}"
    ));
    assert!(
        boot.first()
            .is_some_and(|(_, lag)| (-1.0..5.0).contains(lag)),
        "{boot:?}"
    );
    assert_eq!(row["uptime_seconds"], 273_900);

    // A real daemon's load: Prometheus's latest sample is what --json read
    // just before or just after (the kernel updates it every 5 s).
    let mut agreed = false;
    for _ in 0..5 {
        let before = json_row(&[&live_stream])["load"][0].as_f64();
        let load = prometheus.query(&format!("ruptime_load1{{instance='{live_stream}'}}"));
        let after = json_row(&[&live_stream])["load"][0].as_f64();
        let scraped = load.first().map(|(_, v)| *v);
        if scraped.is_some() && (scraped == before || scraped == after) {
            agreed = true;
            break;
        }
        thread::sleep(Duration::from_millis(1100));
    }
    assert!(
        agreed,
        "Prometheus's ruptime_load1 never matched ruptime --json"
    );

    // Prometheus read the exporter's own metrics too.
    let probes = prometheus.wait_for(
        "ruptime_exporter_probes_total{outcome='up'}",
        SCRAPED,
        |series| series.len() == 3,
    );
    assert!(probes.iter().all(|(_, n)| *n >= 1.0), "{probes:?}");
    let threads = prometheus.query("process_threads{job='exporter'}");
    assert!(
        threads.first().is_some_and(|(_, n)| *n >= 2.0),
        "{threads:?}"
    );
    let cpu = prometheus.query("process_cpu_seconds_total{job='exporter'}");
    assert_eq!(cpu.len(), 1, "{cpu:?}");
    let started = prometheus.query("time() - process_start_time_seconds{job='exporter'}");
    assert!(
        started
            .first()
            .is_some_and(|(_, age)| (0.0..120.0).contains(age)),
        "the exporter started {started:?} s ago"
    );
    let stderr = prometheus.stop();
    let (status, _) = exporter.terminate();
    assert!(
        status.success(),
        "the exporter: {status:?}; Prometheus: {stderr}"
    );
    drop(quiet);
}

/// A daemon whose --command prints [`FIXED`].
fn fixed_daemon() -> Daemon {
    let echo = Path::new("/bin/echo");
    assert!(echo.is_file(), "no /bin/echo");
    let echo = echo.display().to_string();
    Daemon::start(&[
        "-l",
        "127.0.0.1",
        "--command",
        &echo,
        "--command-arg",
        FIXED,
    ])
}

#[test]
fn promtool_accepts_the_probe_and_the_fleet_output() {
    if !have_tools("promtool checking the exposition", &["promtool"]) {
        return;
    }
    let daemon = fixed_daemon();
    let live = format!("127.0.0.1:{}", daemon.port());
    let refused = format!("127.0.0.1:{}", refused_port());
    let exporter = exporter(&["--probe.timeout", "2"]);
    let http = agent(Duration::from_secs(20));
    for target in [&live, &refused] {
        let url = format!("http://{}/probe?target={target}", exporter.addrs[0]);
        let answer = get(&http, &url, &[]);
        assert_eq!(answer.status, 200, "{answer:?}");
        assert!(
            answer
                .content_type
                .starts_with("application/openmetrics-text"),
            "{answer:?}"
        );
        promtool_check(&answer.body);
    }
    // Not /metrics: its counters are OpenMetrics' (`# TYPE x counter`, then
    // `x_total`), which promtool reads as the old text format and calls
    // unexplained; Prometheus reads them right (the test above).

    let done = ruptime(&["--prometheus", "-w", "2", &live, &refused, "localhost:1"]);
    assert_eq!(done.code(), 0, "{done:?}");
    let text = done.stdout_text();
    promtool_check(&text);
    for line in [
        format!("probe_success{{host=\"{live}\"}} 1"),
        format!("probe_success{{host=\"{refused}\"}} 0"),
        "probe_success{host=\"localhost:1\"} 0".to_owned(),
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
    let row = json_row(&[&live]);
    let load5 = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("ruptime_load5{{host=\"{live}\"}} ")))
        .and_then(|v| v.parse::<f64>().ok());
    assert_eq!(load5, row["load"][1].as_f64(), "{text}");
    assert_eq!(load5, Some(1.5));
}

#[test]
fn bad_requests_get_a_reason() {
    let exporter = exporter(&[]);
    let base = format!("http://{}", exporter.addrs[0]);
    let http = agent(Duration::from_secs(20));
    for (query, reason) in [
        ("", "no target: ask /probe?target=HOST[:PORT]"),
        ("?target=", "target '': empty"),
        (
            "?target=a%20b",
            "target 'a b': not a host name or an IP address",
        ),
        (
            "?target=http://x/",
            "target 'http://x/': unknown port '//x/': not a number, nor a tcp service in /etc/services",
        ),
        (
            "?target=127.0.0.1:65536",
            "target '127.0.0.1:65536': port 65536 is out of range: 0 to 65535",
        ),
        (
            "?target=127.0.0.1:0",
            "target '127.0.0.1:0': port 0 cannot be asked: 1 to 65535",
        ),
        (
            "?target=a&mode=udp",
            "mode 'udp' is not stream, fork or dgram",
        ),
        (
            "?target=224.0.0.1&mode=dgram",
            "target '224.0.0.1': a multicast address, not a host",
        ),
        (
            "?target=127.1",
            "target '127.1': not a host name or an IP address",
        ),
    ] {
        let answer = get(&http, &format!("{base}/probe{query}"), &[]);
        assert_eq!(answer.status, 400, "{query}: {answer:?}");
        assert_eq!(answer.body, format!("{reason}\n"), "{query}");
    }
    let header = [("X-Prometheus-Scrape-Timeout-Seconds", "soon")];
    let answer = get(&http, &format!("{base}/probe?target=127.0.0.1"), &header);
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(
        answer.body,
        "X-Prometheus-Scrape-Timeout-Seconds: 'soon' is not a number of seconds\n"
    );
    let answer = get(&http, &format!("{base}/nowhere"), &[]);
    assert_eq!(answer.status, 404, "{answer:?}");
    let answer = get(&http, &format!("{base}/"), &[]);
    assert_eq!(answer.status, 200);
    assert!(answer.content_type.starts_with("text/html"), "{answer:?}");
    for link in ["href=\"/metrics\"", "href=\"/probe?target="] {
        assert!(answer.body.contains(link), "{link}: {}", answer.body);
    }
    let posted = http
        .post(&format!("{base}/probe?target=127.0.0.1"))
        .send("")
        .expect("an answer to POST");
    assert_eq!(posted.status().as_u16(), 405);
    let metrics = get(&http, &format!("{base}/metrics"), &[]);
    assert!(
        metrics
            .body
            .contains("ruptime_exporter_rejected_requests_total{reason=\"bad_request\"} 10\n"),
        "{}",
        metrics.body
    );
}

#[test]
fn a_scrape_timeout_of_one_second_ends_a_silent_probe_within_it() {
    let quiet = silent();
    let exporter = exporter(&["--probe.timeout", "30"]);
    let http = agent(Duration::from_secs(40));
    let url = format!(
        "http://{}/probe?target=127.0.0.1:{}",
        exporter.addrs[0],
        port_of(&quiet)
    );
    let header = [("X-Prometheus-Scrape-Timeout-Seconds", "1")];
    let start = Instant::now();
    let answer = get(&http, &url, &header);
    let took = start.elapsed();
    assert_success(&answer, 0.0);
    let probed = sample(&answer.body, "probe_duration_seconds").unwrap_or(f64::NAN);
    assert!((0.4..0.9).contains(&probed), "probe took {probed} s");
    assert!(took < Duration::from_secs(1), "the answer took {took:?}");
    // Without the header, the exporter's --timeout.
    let exporter = ruptime_tests::prometheus::exporter(&["--probe.timeout", "1.5"]);
    let url = format!(
        "http://{}/probe?target=127.0.0.1:{}&mode=fork",
        exporter.addrs[0],
        port_of(&quiet)
    );
    let answer = get(&http, &url, &[]);
    let probed = sample(&answer.body, "probe_duration_seconds").unwrap_or(f64::NAN);
    assert!((1.4..3.0).contains(&probed), "fork probe took {probed} s");
    assert_success(&answer, 0.0);
}

#[test]
fn probes_beyond_the_limit_wait_then_get_503() {
    let quiet = silent();
    let exporter = exporter(&["--probe.timeout", "4", "--web.max-requests", "2"]);
    let base = format!("http://{}", exporter.addrs[0]);
    let target = format!("{base}/probe?target=127.0.0.1:{}", port_of(&quiet));
    let holders: Vec<_> = (0..2)
        .map(|_| {
            let target = target.clone();
            thread::spawn(move || get(&agent(Duration::from_secs(20)), &target, &[]))
        })
        .collect();
    let http = agent(Duration::from_secs(20));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !get(&http, &format!("{base}/metrics"), &[])
        .body
        .contains("ruptime_exporter_probes_in_flight 2\n")
    {
        assert!(Instant::now() < deadline, "two probes never went on");
        thread::sleep(Duration::from_millis(20));
    }
    let header = [("X-Prometheus-Scrape-Timeout-Seconds", "1")];
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let target = target.clone();
            thread::spawn(move || {
                let start = Instant::now();
                let answer = get(&agent(Duration::from_secs(20)), &target, &header);
                (answer, start.elapsed())
            })
        })
        .collect();
    for waiter in waiters {
        let (answer, took) = waiter.join().expect("a waiter");
        assert_eq!(answer.status, 503, "{answer:?}");
        assert_eq!(
            answer.body,
            "too many probes at once: 2 went on until the deadline\n"
        );
        assert!(took >= Duration::from_millis(450), "gave up after {took:?}");
    }
    for holder in holders {
        let answer = holder.join().expect("a holder");
        assert_success(&answer, 0.0);
    }
    let metrics = get(&http, &format!("{base}/metrics"), &[]).body;
    assert!(
        metrics.contains("ruptime_exporter_rejected_requests_total{reason=\"busy\"} 3\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ruptime_exporter_probes_in_flight 0\n"),
        "{metrics}"
    );
}

#[test]
fn a_client_that_sends_no_request_is_cut_off_and_holds_nothing() {
    let daemon = Daemon::start(&["-l", "127.0.0.1"]);
    let exporter = exporter(&[]);
    let addr = exporter.addrs[0];
    let mut idle = TcpStream::connect(addr).expect("connect");
    let mut partial = TcpStream::connect(addr).expect("connect");
    partial
        .write_all(b"GET /probe?target=127.0.0.1 HTTP/1.1\r\nHost: x\r\n")
        .expect("half a request");
    // Meanwhile others are served.
    let http = agent(Duration::from_secs(20));
    let url = format!("http://{addr}/probe?target=127.0.0.1:{}", daemon.port());
    let answer = get(&http, &url, &[]);
    assert_success(&answer, 1.0);
    let start = Instant::now();
    for stream in [&mut idle, &mut partial] {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout");
        let mut rest = Vec::new();
        let read = stream.read_to_end(&mut rest);
        assert!(read.is_ok(), "not closed: {read:?}");
        let text = String::from_utf8_lossy(&rest);
        assert!(
            !text.contains("probe_success"),
            "a probe was answered: {text}"
        );
    }
    let took = start.elapsed();
    assert!(
        took > Duration::from_secs(5) && took < Duration::from_secs(25),
        "closed after {took:?}"
    );
    let _ = idle.shutdown(Shutdown::Both);
}

#[test]
fn sigterm_and_sigint_end_it_with_status_0() {
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        let exporter = exporter(&[]);
        let addr = exporter.addrs[0];
        let (status, stderr) = exporter.stop(signal);
        assert_eq!(status.code(), Some(0), "{signal}: {stderr}");
        // Its log: the start, nothing else.
        assert_eq!(
            stderr,
            format!(
                "ruptime-exporter: serving on {addr} (ruptime-exporter {})\n",
                env!("CARGO_PKG_VERSION")
            ),
            "{signal}"
        );
    }
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port");
    let spec = format!("127.0.0.1:{}", port_of(&taken));
    let done = exporter_run(&["--web.listen-address", &spec]);
    assert_eq!(done.code(), 1, "{done:?}");
    assert_eq!(
        done.stderr,
        format!("ruptime-exporter: cannot listen on {spec}: Address already in use\n")
    );
    for bad in [
        &["--web.listen-address", "1e19"][..],
        &["--web.listen-address", "[::1]"],
        &["--web.max-requests", "0"],
        &["--probe.timeout", "1e19"],
        &["--probe.port", "nosuchservice"],
        &["--web.systemd-socket", "--web.listen-address", ":80"],
    ] {
        let done = exporter_run(bad);
        assert_eq!(done.code(), 2, "{bad:?}: {done:?}");
        let first = done.stderr.lines().next().unwrap_or_default();
        assert!(first.contains(bad[0]), "{bad:?}: {done:?}");
    }
    // The client serves nothing: the exporter is a program of its own.
    for gone in [&["--exporter"][..], &["--max-probes", "5", "alpha"]] {
        let done = ruptime(gone);
        assert_eq!(done.code(), 2, "{gone:?}: {done:?}");
    }
}

/// `ruptime-exporter ARGS`, to its end (within 30 s).
fn exporter_run(args: &[&str]) -> ruptime_tests::process::Finished {
    ruptime_tests::process::run(&bin("ruptime-exporter"), args, Duration::from_secs(30))
}

/// A daemon on 127.0.0.1 and an exporter asking within `timeout`, in `net`.
fn served_in(net: &FleetNet, timeout: &str) -> (Daemon, Daemon) {
    let daemon = Daemon::start_command(net.command(&bin("ruptimed"), &[]), &["-l", "127.0.0.1"]);
    let args = [
        "--web.listen-address",
        "127.0.0.1:0",
        "--probe.timeout",
        timeout,
    ];
    (
        daemon,
        Daemon::spawn(net.command(&bin("ruptime-exporter"), &args), 1),
    )
}

/// Probes of names whose DNS server never answers leave at most
/// `LOOKUPS` (64) lookup threads behind, not one per probe, and the
/// exporter goes on probing addresses meanwhile.
#[test]
fn hung_lookups_leave_a_bounded_number_of_threads() {
    if !can_run("the exporter's hung resolver test", &["ip"]) {
        return;
    }
    let net = FleetNet::new(1);
    net.hang_dns();
    let (daemon, exporter) = served_in(&net, "1");
    let base = format!("http://{}", exporter.addrs[0]);
    let pid = u32::try_from(exporter.pid().as_raw()).expect("a pid");
    let threads = || ruptime_tests::procfs::status_field(pid, "Threads:");
    for round in 0..2 {
        let answers = net.inside(|| {
            let clients: Vec<_> = (0..200)
                .map(|i| {
                    let url = format!("{base}/probe?target=hang{round}x{i}.nowhere.test");
                    thread::spawn(move || {
                        let start = Instant::now();
                        (
                            get(&agent(Duration::from_secs(20)), &url, &[]),
                            start.elapsed(),
                        )
                    })
                })
                .collect();
            clients
                .into_iter()
                .map(|c| c.join().expect("a client"))
                .collect::<Vec<_>>()
        });
        for (answer, took) in &answers {
            assert_success(answer, 0.0);
            assert!(*took < Duration::from_secs(5), "a probe took {took:?}");
        }
        let now = threads();
        assert!((1..=64 + 40).contains(&now), "round {round}: {now} threads");
        let live = format!("{base}/probe?target=127.0.0.1:{}", daemon.port());
        let answer = net.inside(|| get(&agent(Duration::from_secs(20)), &live, &[]));
        assert_success(&answer, 1.0);
        eprintln!("round {round}: {now} threads");
    }
}

#[test]
fn a_probe_outlives_its_client_holding_its_slot_and_never_its_timeout() {
    let quiet = silent();
    let quiet_udp =
        std::net::UdpSocket::bind(("127.0.0.1", port_of(&quiet))).expect("a silent UDP port");
    let exporter = exporter(&["--probe.timeout", "2", "--web.max-requests", "3"]);
    let base = format!("http://{}", exporter.addrs[0]);
    let target = format!("127.0.0.1:{}", port_of(&quiet));
    let impatient = agent(Duration::from_millis(300));
    let header = ("X-Prometheus-Scrape-Timeout-Seconds", "86400");
    for mode in ["stream", "fork", "dgram"] {
        let url = format!("{base}/probe?target={target}&mode={mode}");
        assert!(
            impatient
                .get(&url)
                .header(header.0, header.1)
                .call()
                .is_err()
        );
    }
    let http = agent(Duration::from_secs(20));
    let metrics = get(&http, &format!("{base}/metrics"), &[]).body;
    assert!(
        metrics.contains("ruptime_exporter_probes_in_flight 3\n"),
        "{metrics}"
    );
    // Every slot is taken by a client gone, but only for -w.
    let start = Instant::now();
    let url = format!("{base}/probe?target={target}");
    let answer = get(&http, &url, &[header]);
    assert_success(&answer, 0.0);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(6), "{took:?}");
    let probed = sample(&answer.body, "probe_duration_seconds").unwrap_or(f64::NAN);
    assert!(
        probed <= 2.1,
        "a header of a day gave a probe of {probed} s"
    );
    let metrics = get(&http, &format!("{base}/metrics"), &[]).body;
    assert!(
        metrics.contains("ruptime_exporter_probes_in_flight 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ruptime_exporter_probes_total{mode=\"fork\",outcome=\"down\"} 1\n"),
        "{metrics}"
    );
    drop(quiet_udp);
}

/// Fork-mode probes ask over TCP from the exporter's own process: no
/// child process, no exec, whatever their number.
#[test]
fn fork_probes_run_in_the_exporter_s_own_process() {
    let quiet = silent();
    let exporter = exporter(&["--probe.timeout", "3"]);
    let base = format!("http://{}", exporter.addrs[0]);
    let target = format!("127.0.0.1:{}", port_of(&quiet));
    let pid = exporter.pid().as_raw().unsigned_abs();
    let impatient = agent(Duration::from_millis(300));
    for _ in 0..5 {
        let url = format!("{base}/probe?target={target}&mode=fork");
        assert!(impatient.get(&url).call().is_err());
    }
    let http = agent(Duration::from_secs(20));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !get(&http, &format!("{base}/metrics"), &[])
        .body
        .contains("ruptime_exporter_probes_in_flight 5\n")
    {
        assert!(Instant::now() < deadline, "five probes never went on");
        thread::sleep(Duration::from_millis(20));
    }
    let children = ruptime_tests::procfs::children(pid);
    assert_eq!(children, Vec::<u32>::new(), "the exporter forked");
    let daemon = Daemon::start(&["-l", "127.0.0.1", "-m", "fork"]);
    let url = format!("{base}/probe?target=127.0.0.1:{}&mode=fork", daemon.port());
    assert_success(&get(&http, &url, &[]), 1.0);
    assert_eq!(ruptime_tests::procfs::children(pid), Vec::<u32>::new());
    let (status, stderr) = exporter.terminate();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn metrics_that_cannot_be_written_fail_the_run() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    for format in ["--prometheus", "--json"] {
        // A refused port: the run ends at once.
        let done = Command::new(bin("ruptime"))
            .args([format, "-w", "1", &format!("127.0.0.1:{}", refused_port())])
            .stdout(full.try_clone().expect("a descriptor"))
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("ruptime runs");
        assert_eq!(done.status.code(), Some(1), "{format}: {done:?}");
        assert_eq!(
            String::from_utf8_lossy(&done.stderr),
            "ruptime: cannot write the results: No space left on device\n",
            "{format}"
        );
    }
}

#[test]
fn a_client_that_never_reads_its_answers_is_cut_off() {
    use std::io::ErrorKind;
    let exporter = exporter(&[]);
    let pid = exporter.pid().as_raw().unsigned_abs();
    let before = ruptime_tests::procfs::fds(pid).len();
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    socket.connect(&exporter.addrs[0].into()).expect("connect");
    let mut stream = TcpStream::from(socket);
    stream.set_nonblocking(true).expect("non-blocking");
    // Requests until the exporter stops reading them: its answers fill
    // both buffers, as nobody reads them.
    let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut sent = 0;
    let mut stalled_since: Option<Instant> = None;
    while sent < 200_000 && Instant::now() < deadline {
        match stream.write(request) {
            Ok(_) => {
                sent += 1;
                stalled_since = None;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let since = *stalled_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_millis(500) {
                    break;
                }
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("write: {e}"),
        }
    }
    assert!(
        stalled_since.is_some(),
        "the exporter read {sent} requests and never stalled"
    );
    assert_eq!(
        ruptime_tests::procfs::fds(pid).len(),
        before + 1,
        "the connection"
    );
    let stalled = Instant::now();
    let deadline = stalled + Duration::from_secs(30);
    while ruptime_tests::procfs::fds(pid).len() > before {
        assert!(Instant::now() < deadline, "the connection is still held");
        thread::sleep(Duration::from_millis(100));
    }
    let took = stalled.elapsed();
    assert!(took > Duration::from_secs(5), "closed after {took:?}");
    eprintln!("{sent} requests, closed {took:?} after the stall");
}

/// More idle connections than the exporter serves at once: the oldest idle
/// ones are let go, and a scrape is answered at once, not after their
/// header deadline.
#[test]
fn idle_connections_make_room_for_a_scrape() {
    ruptime_tests::process::raise_descriptor_limit();
    let daemon = Daemon::start(&["-l", "127.0.0.1"]);
    let exporter = exporter(&[]);
    let addr = exporter.addrs[0];
    let idle: Vec<TcpStream> = (0..1100)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    // The idle ones were all accepted (1 024 at most are served).
    thread::sleep(Duration::from_millis(500));
    let http = agent(Duration::from_secs(30));
    let url = format!("http://{addr}/probe?target=127.0.0.1:{}", daemon.port());
    for _ in 0..3 {
        let start = Instant::now();
        let answer = get(&http, &url, &[]);
        let took = start.elapsed();
        assert_success(&answer, 1.0);
        assert!(took < Duration::from_secs(3), "answered after {took:?}");
    }
    drop(idle);
}

/// A lookup that takes 1.5 s of a 2 s probe leaves it 0.5 s to connect:
/// the probe ends by its deadline, not a whole timeout after the lookup.
#[test]
fn a_slow_lookup_comes_out_of_the_probe_s_time() {
    if !can_run("the exporter's slow resolver test", &["ip"]) {
        return;
    }
    let net = FleetNet::new(1);
    let (dns, quiet) = net.inside(|| {
        (
            std::net::UdpSocket::bind("127.0.0.1:53").expect("port 53 in the namespace"),
            silent(),
        )
    });
    let _dns = ruptime_tests::slowdns::SlowDns::serve(
        dns,
        Duration::from_millis(1500),
        std::net::Ipv4Addr::LOCALHOST,
    );
    net.dns(std::net::Ipv4Addr::LOCALHOST);
    let (daemon, exporter) = served_in(&net, "2");
    let base = format!("http://{}", exporter.addrs[0]);
    let ask = |host: &str, port: u16| {
        let url = format!("{base}/probe?target={host}:{port}");
        net.inside(|| get(&agent(Duration::from_secs(20)), &url, &[]))
    };
    // The name resolves, slowly.
    let answer = ask("slow.test", daemon.port());
    assert_success(&answer, 1.0);
    let probed = sample(&answer.body, "probe_duration_seconds").unwrap_or(f64::NAN);
    assert!(
        probed >= 1.4,
        "the lookup took {probed} s: not the slow server's"
    );
    let answer = ask("slower.test", port_of(&quiet));
    assert_success(&answer, 0.0);
    let probed = sample(&answer.body, "probe_duration_seconds").unwrap_or(f64::NAN);
    assert!(
        (1.4..2.2).contains(&probed),
        "the probe took {probed} s of 2"
    );
}

/// More scrapes at once than connections are served: those past the limit
/// wait for room, and every one is answered.
#[test]
fn a_burst_past_the_connection_limit_is_answered_whole() {
    ruptime_tests::process::raise_descriptor_limit();
    let quiet = silent();
    let exporter = exporter(&["--probe.timeout", "2", "--web.max-requests", "2000"]);
    let addr = exporter.addrs[0];
    let request = format!(
        "GET /probe?target=127.0.0.1:{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        port_of(&quiet)
    );
    let clients: Vec<_> = (0..1074)
        .map(|_| {
            let request = request.clone();
            thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).expect("connect");
                stream
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .expect("a read timeout");
                stream.write_all(request.as_bytes()).expect("a request");
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer);
                String::from_utf8_lossy(&answer).into_owned()
            })
        })
        .collect();
    let answers: Vec<String> = clients
        .into_iter()
        .map(|c| c.join().expect("a client"))
        .collect();
    let unanswered = answers
        .iter()
        .filter(|a| !a.starts_with("HTTP/1.1 200"))
        .count();
    assert_eq!(unanswered, 0, "of {}", answers.len());
    assert!(answers.iter().all(|a| a.contains("\nprobe_success 0\n")));
}

/// `--prometheus` output as node_exporter's textfile collector reads it,
/// and as the Pushgateway takes it: each one serves the host's metrics.
#[test]
fn node_exporter_and_the_pushgateway_take_the_fleet_output() {
    if !have_tools(
        "node_exporter and the Pushgateway taking --prometheus output",
        &["prometheus-node-exporter", "prometheus-pushgateway"],
    ) {
        return;
    }
    let daemon = fixed_daemon();
    let live = format!("127.0.0.1:{}", daemon.port());
    let refused = format!("127.0.0.1:{}", refused_port());
    let done = ruptime(&["--prometheus", "-w", "2", &live, &refused]);
    assert_eq!(done.code(), 0, "{done:?}");
    let dir = tempfile::tempdir().expect("a directory");
    std::fs::write(dir.path().join("ruptime.prom"), &done.stdout).expect("the file");
    let wanted = |text: &str, labels: &str| {
        for line in [
            format!("probe_success{{host=\"{live}\"{labels}}} 1"),
            format!("probe_success{{host=\"{refused}\"{labels}}} 0"),
            format!("ruptime_load15{{host=\"{live}\"{labels}}} 12.75"),
            format!("ruptime_uptime_seconds{{host=\"{live}\"{labels}}} 273900"),
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    };
    let http = agent(Duration::from_secs(20));

    let node = format!("127.0.0.1:{}", free_port());
    let _node_exporter = ruptime_tests::process::Background::start(
        Path::new("prometheus-node-exporter"),
        &[
            "--collector.disable-defaults",
            "--collector.textfile",
            &format!("--collector.textfile.directory={}", dir.path().display()),
            &format!("--web.listen-address={node}"),
        ],
    );
    let metrics = format!("http://{node}/metrics");
    ruptime_tests::prometheus::wait_ready(&metrics);
    let text = get(&http, &metrics, &[]).body;
    assert!(
        text.lines().any(|l| l == "node_textfile_scrape_error 0"),
        "{text}"
    );
    wanted(&text, "");

    let gateway = format!("127.0.0.1:{}", free_port());
    let _pushgateway = ruptime_tests::process::Background::start(
        Path::new("prometheus-pushgateway"),
        &[
            &format!("--web.listen-address={gateway}"),
            &format!(
                "--persistence.file={}",
                dir.path().join("push.data").display()
            ),
        ],
    );
    ruptime_tests::prometheus::wait_ready(&format!("http://{gateway}/-/ready"));
    let pushed = http
        .post(&format!("http://{gateway}/metrics/job/ruptime"))
        .send(&done.stdout[..])
        .expect("a push");
    assert_eq!(pushed.status().as_u16(), 200);
    let text = get(&http, &format!("http://{gateway}/metrics"), &[]).body;
    wanted(&text, ",instance=\"\",job=\"ruptime\"");
}
