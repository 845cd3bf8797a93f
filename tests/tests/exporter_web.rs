//! `ruptime-exporter --web.config.file`: TLS by rustls, client
//! certificates, bcrypt passwords, as curl and a real Prometheus use them;
//! a broken file stops the start; a changed one is read again; and the
//! sockets systemd passes (`--web.systemd-socket`).

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use ruptime_tests::bins::bin;
use ruptime_tests::curl::{Fetched, curl};
use ruptime_tests::daemon::Daemon;
use ruptime_tests::pki::Pki;
use ruptime_tests::process::{Background, run};
use ruptime_tests::prometheus::{Prometheus, agent, exporter, free_port, get};
use ruptime_tests::skip::have_tools;

/// bcrypt at its lowest cost: the tests check many passwords.
fn hash(password: &str) -> String {
    bcrypt::hash(password, 4).expect("a bcrypt hash")
}

/// Writes `text` as `web.yml` in `dir`; its path.
fn web_file(dir: &Path, text: &str) -> PathBuf {
    named_file(dir, "web.yml", text)
}

/// Writes `text` as `name` in `dir`; its path.
fn named_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).expect("a web configuration");
    path
}

/// The TLS part of a web configuration with `client_auth_type`.
fn tls_config(pki: &Pki, client_auth: &str) -> String {
    let ca = if matches!(
        client_auth,
        "VerifyClientCertIfGiven" | "RequireAndVerifyClientCert"
    ) {
        format!("  client_ca_file: {}\n", pki.ca.cert.display())
    } else {
        String::new()
    };
    format!(
        "tls_server_config:\n  cert_file: {}\n  key_file: {}\n  client_auth_type: {client_auth}\n{ca}",
        pki.server.cert.display(),
        pki.server.key.display(),
    )
}

/// curl's arguments to trust the test authority, with `client`'s
/// certificate if any.
fn tls_args(pki: &Pki, client: Option<&ruptime_tests::pki::Pair>) -> Vec<String> {
    let mut args = vec!["--cacert".to_owned(), pki.ca.cert.display().to_string()];
    if let Some(pair) = client {
        args.extend([
            "--cert".to_owned(),
            pair.cert.display().to_string(),
            "--key".to_owned(),
            pair.key.display().to_string(),
        ]);
    }
    args
}

fn fetch(url: &str, args: &[String]) -> Fetched {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(url, &args)
}

#[test]
fn certificates_and_passwords_guard_every_page() {
    if !have_tools("the exporter over TLS", &["curl"]) {
        return;
    }
    let pki = Pki::new();
    let daemon = Daemon::start(&["-l", "127.0.0.1"]);
    let config = format!(
        "{}basic_auth_users:\n  prometheus: '{}'\n  other: '{}'\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n",
        tls_config(&pki, "RequireAndVerifyClientCert"),
        hash("s3cret"),
        hash("another"),
    );
    let file = web_file(pki.dir.path(), &config);
    let exporter = exporter(&["--web.config.file", file.to_str().expect("UTF-8")]);
    let port = exporter.addrs[0].port();
    let base = format!("https://localhost:{port}");
    let probe = format!("{base}/probe?target=127.0.0.1:{}", daemon.port());
    let mut with_cert = tls_args(&pki, Some(&pki.client));

    // No certificate, or one nobody signed: no TLS session, no answer.
    for args in [tls_args(&pki, None), tls_args(&pki, Some(&pki.stranger))] {
        let got = fetch(&probe, &args);
        assert_ne!(got.exit, 0, "{got:?}");
        assert_eq!(got.status, None, "{got:?}");
    }
    // Plain HTTP on the TLS port gets no answer either.
    let plain = curl(&format!("http://127.0.0.1:{port}/metrics"), &[]);
    assert_eq!(plain.status, None, "{plain:?}");

    // A certificate, but no password, a wrong one, or a stranger: 401.
    for credentials in [None, Some("prometheus:guess"), Some("mallory:s3cret")] {
        let mut args = with_cert.clone();
        if let Some(credentials) = credentials {
            args.extend(["-u".to_owned(), credentials.to_owned()]);
        }
        for page in ["/", "/metrics", &probe[base.len()..]] {
            let got = fetch(&format!("{base}{page}"), &args);
            assert_eq!(got.status, Some(401), "{credentials:?} {page}: {got:?}");
            assert!(
                got.headers
                    .to_ascii_lowercase()
                    .contains("www-authenticate: basic realm=\"ruptime-exporter\""),
                "{got:?}"
            );
            assert!(!got.body.contains("probe_success"), "{got:?}");
        }
    }
    with_cert.extend(["-u".to_owned(), "prometheus:s3cret".to_owned()]);
    let got = fetch(&probe, &with_cert);
    assert_eq!(got.status, Some(200), "{got:?}");
    assert!(got.body.contains("\nprobe_success 1\n"), "{got:?}");
    assert!(
        got.headers
            .to_ascii_lowercase()
            .contains("x-frame-options: deny"),
        "{got:?}"
    );
    let metrics = fetch(&format!("{base}/metrics"), &with_cert);
    assert!(
        metrics
            .body
            .contains("ruptime_exporter_rejected_requests_total{reason=\"unauthorized\"} 9\n"),
        "{metrics:?}"
    );
}

#[test]
fn each_client_auth_type_asks_for_what_it_says() {
    if !have_tools("the exporter's client authentication", &["curl"]) {
        return;
    }
    let pki = Pki::new();
    // Whether a request with no certificate, the signed one, the stranger's
    // is answered.
    for (auth, answered) in [
        ("NoClientCert", [true, true, true]),
        ("RequestClientCert", [true, true, true]),
        ("RequireAnyClientCert", [false, true, true]),
        ("VerifyClientCertIfGiven", [true, true, false]),
        ("RequireAndVerifyClientCert", [false, true, false]),
    ] {
        let file = web_file(pki.dir.path(), &tls_config(&pki, auth));
        let exporter = exporter(&["--web.config.file", file.to_str().expect("UTF-8")]);
        let url = format!("https://localhost:{}/metrics", exporter.addrs[0].port());
        for (client, wanted) in [None, Some(&pki.client), Some(&pki.stranger)]
            .into_iter()
            .zip(answered)
        {
            let got = fetch(&url, &tls_args(&pki, client));
            assert_eq!(
                got.status == Some(200),
                wanted,
                "{auth} with {client:?}: {got:?}"
            );
        }
    }
}

#[test]
fn tls_versions_are_as_the_file_says() {
    if !have_tools("the exporter's TLS versions", &["curl"]) {
        return;
    }
    let pki = Pki::new();
    let config = format!("{}  min_version: TLS13\n", tls_config(&pki, "NoClientCert"));
    let file = web_file(pki.dir.path(), &config);
    let exporter = exporter(&["--web.config.file", file.to_str().expect("UTF-8")]);
    let url = format!("https://localhost:{}/metrics", exporter.addrs[0].port());
    let mut args = tls_args(&pki, None);
    assert_eq!(fetch(&url, &args).status, Some(200));
    args.extend(["--tls-max".to_owned(), "1.2".to_owned()]);
    let old = fetch(&url, &args);
    assert_eq!(old.status, None, "TLS 1.2 was spoken: {old:?}");
}

#[test]
fn prometheus_scrapes_over_tls_with_a_certificate_and_a_password() {
    if !have_tools(
        "Prometheus scraping the exporter over TLS",
        &["prometheus", "promtool"],
    ) {
        return;
    }
    let pki = Pki::new();
    let daemon = Daemon::start(&["-l", "127.0.0.1"]);
    let config = format!(
        "{}basic_auth_users:\n  prometheus: '{}'\n",
        tls_config(&pki, "RequireAndVerifyClientCert"),
        hash("s3cret"),
    );
    let file = web_file(pki.dir.path(), &config);
    let exporter = exporter(&["--web.config.file", file.to_str().expect("UTF-8")]);
    let target = format!("127.0.0.1:{}", daemon.port());
    let scrape = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:
  - job_name: ruptime
    metrics_path: /probe
    scheme: https
    tls_config:
      ca_file: {ca}
      cert_file: {cert}
      key_file: {key}
      server_name: localhost
    basic_auth:
      username: prometheus
      password: s3cret
    static_configs:
      - targets: ['{target}']
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: '{exporter}'
",
        ca = pki.ca.cert.display(),
        cert = pki.client.cert.display(),
        key = pki.client.key.display(),
        exporter = exporter.addrs[0],
    );
    let dir = tempfile::tempdir().expect("a directory");
    let prometheus = Prometheus::start(dir.path(), &scrape);
    let success = prometheus.wait_for(
        "probe_success{job='ruptime'}",
        Duration::from_secs(60),
        |series| series.iter().any(|(_, v)| *v == 1.0),
    );
    assert_eq!(success.len(), 1, "{success:?}");
    assert_eq!(success[0].0["instance"], target.as_str());
    let up = prometheus.query("up{job='ruptime'}");
    assert_eq!(up.first().map(|(_, v)| *v), Some(1.0), "{up:?}");
}

#[test]
fn a_broken_web_configuration_stops_the_start_naming_the_file() {
    let pki = Pki::new();
    let dir = pki.dir.path();
    let good_tls = tls_config(&pki, "NoClientCert");
    let missing = dir.join("missing.yml");
    let empty_cert = dir.join("empty.crt");
    fs::write(&empty_cert, "").expect("an empty file");
    let cases: Vec<(PathBuf, &str)> = vec![
        (missing, "No such file or directory"),
        (dir.to_path_buf(), "Is a directory"),
        (
            named_file(dir, "key.yml", "tls_server_config:\n  cert: x\n"),
            "unknown field `cert`",
        ),
        (
            named_file(dir, "hash.yml", "basic_auth_users:\n  alice: secret\n"),
            "basic_auth_users: alice: not a bcrypt hash",
        ),
        (
            named_file(
                dir,
                "gone.yml",
                &good_tls.replace("server.crt", "nowhere.crt"),
            ),
            "nowhere.crt: No such file or directory",
        ),
        (
            named_file(
                dir,
                "empty.yml",
                &good_tls.replace(
                    &pki.server.cert.display().to_string(),
                    &empty_cert.display().to_string(),
                ),
            ),
            "empty.crt: no certificate in it",
        ),
        (
            named_file(
                dir,
                "pair.yml",
                &good_tls.replace("server.key", "client.key"),
            ),
            "client.key",
        ),
        (
            named_file(dir, "yaml.yml", "tls_server_config: [\n"),
            "line 1",
        ),
        (
            named_file(dir, "list.yml", "tls_server_config: []\n"),
            "at line 1, column 20",
        ),
    ];
    for (path, why) in cases {
        let text = fs::read_to_string(&path).unwrap_or_default();
        let done = run(
            &bin("ruptime-exporter"),
            &[
                "--web.listen-address",
                "127.0.0.1:0",
                "--web.config.file",
                path.to_str().expect("UTF-8"),
            ],
            Duration::from_secs(30),
        );
        assert_eq!(done.code(), 2, "{text}: {done:?}");
        assert_eq!(done.stdout_text(), "", "it listened: {done:?}");
        let prefix = format!("ruptime-exporter: --web.config.file {}: ", path.display());
        assert!(
            done.stderr.starts_with(&prefix) && done.stderr.contains(why),
            "{text}: {:?}",
            done.stderr
        );
        assert_eq!(done.stderr.lines().count(), 1, "{:?}", done.stderr);
    }
}

/// Waits up to 10 s for `fetch` to give `status`.
fn until_status(status: u16, fetch: impl Fn() -> Option<u16>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = fetch();
        if got == Some(status) {
            return;
        }
        assert!(Instant::now() < deadline, "{got:?}, not {status}");
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_changed_configuration_is_read_again_and_a_broken_one_turns_everyone_away() {
    let dir = tempfile::tempdir().expect("a directory");
    let users = |password: &str| format!("basic_auth_users:\n  prometheus: '{}'\n", hash(password));
    let file = web_file(dir.path(), &users("first"));
    let exporter = exporter(&["--web.config.file", file.to_str().expect("UTF-8")]);
    let url = format!("http://{}/metrics", exporter.addrs[0]);
    let as_user = |password: &str| {
        let credentials = format!("prometheus:{password}");
        curl(&url, &["-u", &credentials]).status
    };
    assert_eq!(as_user("first"), Some(200));
    assert_eq!(as_user("second"), Some(401));
    web_file(dir.path(), &users("second"));
    until_status(200, || as_user("second"));
    assert_eq!(as_user("first"), Some(401));
    // Broken: everyone is turned away, and the log says why, once.
    web_file(dir.path(), "basic_auth_users: [\n");
    until_status(500, || as_user("second"));
    let http = agent(Duration::from_secs(10));
    assert_eq!(get(&http, &url, &[]).status, 500);
    web_file(dir.path(), &users("third"));
    until_status(200, || as_user("third"));
    let (status, stderr) = exporter.terminate();
    assert!(status.success(), "{stderr}");
    let broken: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("turning every request away"))
        .collect();
    assert_eq!(broken.len(), 1, "{stderr}");
    assert!(broken[0].contains(&file.display().to_string()), "{stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.ends_with(": read again"))
            .count(),
        2,
        "{stderr}"
    );
}

#[test]
fn the_socket_systemd_passes_is_served() {
    if !have_tools(
        "the exporter under socket activation",
        &["systemd-socket-activate"],
    ) {
        return;
    }
    let daemon = Daemon::start(&["-l", "127.0.0.1"]);
    let addr = format!("127.0.0.1:{}", free_port());
    let exporter = bin("ruptime-exporter");
    let activator = Background::start(
        Path::new("systemd-socket-activate"),
        &[
            "-l",
            &addr,
            exporter.to_str().expect("UTF-8"),
            "--web.systemd-socket",
        ],
    );
    activator.wait_for_stderr("Listening on", 1, Duration::from_secs(20));
    let http = agent(Duration::from_secs(20));
    let url = format!("http://{addr}/probe?target=127.0.0.1:{}", daemon.port());
    let answer = get(&http, &url, &[]);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.body.contains("\nprobe_success 1\n"), "{answer:?}");
    drop(activator);
    // Told to serve systemd's socket, with none passed: it says so.
    let done = run(
        &exporter,
        &["--web.systemd-socket"],
        Duration::from_secs(30),
    );
    assert_eq!(done.code(), 1, "{done:?}");
    assert_eq!(
        done.stderr,
        "ruptime-exporter: --web.systemd-socket: systemd passed no socket (LISTEN_FDS)\n"
    );
}

/// More connections than are served at once, each silent in its TLS
/// handshake: those told to go to make room go at once, their sockets with
/// them, not at the end of the handshake's 10 s.
#[test]
fn connections_silent_in_their_handshake_make_room_at_once() {
    ruptime_tests::process::raise_descriptor_limit();
    let pki = Pki::new();
    let file = web_file(pki.dir.path(), &tls_config(&pki, "NoClientCert"));
    let exporter = exporter(&["--web.config.file", file.to_str().expect("UTF-8")]);
    let pid = exporter.pid().as_raw().unsigned_abs();
    let before = ruptime_tests::procfs::fds(pid).len();
    let silent: Vec<std::net::TcpStream> = (0..2000)
        .map(|_| std::net::TcpStream::connect(exporter.addrs[0]).expect("connect"))
        .collect();
    // The first 1 024 idle for a second, then each let go for one more.
    thread::sleep(Duration::from_secs(4));
    let held = ruptime_tests::procfs::fds(pid).len() - before;
    assert!(held <= 1024 + 16, "{held} connections held");
    drop(silent);
}

/// Requests waiting for their password check hold no room: a flood of them
/// on more connections than are served still leaves Prometheus a place,
/// its password checked once and kept.
#[test]
fn a_flood_of_passwords_to_check_leaves_room_for_a_scrape() {
    use base64::Engine;
    use std::io::Write;
    if !have_tools("the exporter under a flood of passwords", &["curl"]) {
        return;
    }
    ruptime_tests::process::raise_descriptor_limit();
    let dir = tempfile::tempdir().expect("a directory");
    let slow = bcrypt::hash("s3cret", 10).expect("a bcrypt hash");
    let file = web_file(
        dir.path(),
        &format!("basic_auth_users:\n  prometheus: '{slow}'\n"),
    );
    let exporter = exporter(&["--web.config.file", file.to_str().expect("UTF-8")]);
    let addr = exporter.addrs[0];
    let url = format!("http://{addr}/metrics");
    let prometheus = ["-u", "prometheus:s3cret"];
    assert_eq!(curl(&url, &prometheus).status, Some(200));
    let flood: Vec<std::net::TcpStream> = (0..1100)
        .map(|i| {
            let mut conn = std::net::TcpStream::connect(addr).expect("connect");
            let guess = base64::engine::general_purpose::STANDARD.encode(format!("mallory:{i}"));
            write!(
                conn,
                "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {guess}\r\n\r\n"
            )
            .expect("a request");
            conn
        })
        .collect();
    // Each a bcrypt check, one at a time: they wait (idle for a second).
    thread::sleep(Duration::from_millis(1500));
    let start = Instant::now();
    let got = curl(&url, &prometheus);
    let took = start.elapsed();
    assert_eq!(got.status, Some(200), "{got:?}");
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    drop(flood);
}
