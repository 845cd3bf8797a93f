//! 200 clients at once against each server mode: every one is answered.

use std::sync::{Arc, Barrier};
use std::thread;

use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::ruptime;
use ruptime_tests::uptime;

const CLIENTS: usize = 200;

fn burst(server: &str, client: &str) {
    // Every client comes from 127.0.0.1, and the daemon has its default
    // flags: padded requests are never throttled per source.
    let daemon = Daemon::start(&["-m", server, "-l", "127.0.0.1"]);
    let port = daemon.port().to_string();
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let runs: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (barrier, port, client) = (Arc::clone(&barrier), port.clone(), client.to_owned());
            thread::spawn(move || {
                barrier.wait();
                ruptime(&["-m", &client, "-w", "30", "-p", &port, "127.0.0.1"])
            })
        })
        .collect();
    for run in runs {
        let Ok(out) = run.join() else {
            panic!("a client thread panicked")
        };
        assert_eq!(out.code(), 0, "{server} server, {client} client: {out:?}");
        uptime::assert_line(&out.stdout);
    }
}

#[test]
fn two_hundred_clients_of_the_iterative_server() {
    burst("stream", "stream");
}

#[test]
fn two_hundred_clients_of_the_forking_server() {
    burst("fork", "fork");
}

#[test]
fn two_hundred_clients_of_the_datagram_server() {
    burst("dgram", "dgram");
}
