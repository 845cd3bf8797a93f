//! `connect_retry` end to end: a client started before the daemon gets its
//! answer once the daemon comes up.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::{CLIENT_LIMIT, collect, wait_until};
use ruptime_tests::uptime;

#[test]
fn a_client_started_before_the_daemon_succeeds_once_it_comes_up() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let start = Instant::now();
    let mut client = Command::new(bin("ruptime"))
        .args(["-w", "20", "-p", &port, "127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = collect(client.stdout.take());
    let stderr = collect(client.stderr.take());
    thread::sleep(Duration::from_millis(1500));
    assert!(
        client.try_wait().unwrap().is_none(),
        "the client is still retrying"
    );
    let _daemon = Daemon::start(&["-l", "127.0.0.1", "-p", &port]);
    let status = wait_until(&mut client, start + CLIENT_LIMIT).expect("the client ends");
    let stderr = String::from_utf8(stderr.join().unwrap()).unwrap();
    assert!(status.success(), "{stderr}");
    uptime::assert_line(&stdout.join().unwrap());
    // Attempts at 0 s, 1 s and 3 s: the third finds the daemon.
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(15),
        "took {took:?}"
    );
}
