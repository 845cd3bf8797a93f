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
    // The request was sent again within the deadline, one NUL byte each time.
    silent.set_nonblocking(true).unwrap();
    let mut requests = 0;
    let mut buf = [0u8; 16];
    while let Ok(n) = silent.recv(&mut buf) {
        assert_eq!(&buf[..n], [0]);
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
