//! Every query ends by its deadline: not earlier, not much later.

use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

use ruptime_tests::process::ruptime;

fn assert_about(took: Duration, secs: f64) {
    let secs = Duration::from_secs_f64(secs);
    assert!(
        took >= secs && took < secs + Duration::from_millis(900),
        "took {took:?}, expected about {secs:?}"
    );
}

#[test]
fn a_dgram_query_to_a_silent_port_times_out_near_the_deadline() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let out = ruptime(&["-m", "dgram", "-w", "2", "-p", &port, "127.0.0.1"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(out.stderr, "ruptime: 127.0.0.1: no reply within 2 s\n");
    assert_about(out.elapsed, 2.0);
    // The request was sent again within the deadline, padded each time.
    silent.set_nonblocking(true).unwrap();
    let mut requests = 0;
    let mut buf = [0u8; 2048];
    while let Ok(n) = silent.recv(&mut buf) {
        assert_eq!(
            &buf[..n],
            ruptime_common::protocol::request::padded_request()
        );
        requests += 1;
    }
    assert!((2..=6).contains(&requests), "{requests} requests");
}

#[test]
fn a_server_that_accepts_and_never_writes_times_out_in_stream_and_fork_modes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    for mode in ["stream", "fork"] {
        let out = ruptime(&["-m", mode, "-w", "1.5", "-p", &port, "127.0.0.1"]);
        assert_eq!(out.code(), 1, "{out:?}");
        assert_eq!(
            out.stderr,
            "ruptime: 127.0.0.1: connected, but no reply within 1.5 s\n"
        );
        assert_about(out.elapsed, 1.5);
    }
    drop(listener);
}

#[test]
fn many_silent_hosts_take_one_timeout_not_one_each() {
    let silent: Vec<UdpSocket> = (0..20)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let hosts: Vec<String> = silent
        .iter()
        .map(|s| s.local_addr().unwrap().to_string())
        .collect();
    let mut args = vec!["-m", "dgram", "-w", "1"];
    args.extend(hosts.iter().map(String::as_str));
    let out = ruptime(&args);
    assert_eq!(out.code(), 1);
    let table = out.stdout_text();
    assert_eq!(
        table
            .lines()
            .filter(|l| l.ends_with(" down         (no reply within 1 s)"))
            .count(),
        20,
        "{table}"
    );
    assert_about(out.elapsed, 1.0);
}

#[test]
fn a_host_list_arriving_later_than_the_timeout_is_still_asked() {
    use std::io::Write;
    use std::process::Command;
    use std::time::Instant;

    use ruptime_tests::bins::bin;
    use ruptime_tests::daemon::Daemon;
    use ruptime_tests::process::{collect, spawn_piped, wait_until};

    for (server, clients) in [
        ("stream", &["stream", "fork"][..]),
        ("dgram", &["dgram"][..]),
    ] {
        let daemon = Daemon::start(&["-m", server, "-l", "0.0.0.0"]);
        let port = daemon.port().to_string();
        for client in clients {
            let mut command = Command::new(bin("ruptime"));
            command.args(["-m", client, "-p", &port, "-w", "1", "--json", "-f", "-"]);
            let start = Instant::now();
            let mut child = spawn_piped(&mut command, true);
            let stdout = collect(child.stdout.take());
            let stderr = collect(child.stderr.take());
            let mut stdin = child.stdin.take().unwrap();
            // A slow inventory: the first host at once, the rest after the timeout.
            writeln!(stdin, "127.0.0.1").unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            writeln!(stdin, "127.0.0.2\n127.0.0.3").unwrap();
            drop(stdin);
            let status = wait_until(&mut child, start + Duration::from_secs(30));
            let elapsed = start.elapsed();
            let stdout = stdout.join().unwrap();
            let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
            assert_eq!(status.and_then(|s| s.code()), Some(0), "{client}: {stderr}");
            let rows: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
            let up: Vec<_> = rows
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["up"].clone())
                .collect();
            assert_eq!(up, [true, true, true], "{client}: {rows}");
            assert!(
                elapsed >= Duration::from_millis(1500),
                "{client}: {elapsed:?}"
            );
        }
    }
}
