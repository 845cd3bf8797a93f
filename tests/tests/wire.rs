//! The bytes on the wire: the original protocol, unchanged, both ways.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::Duration;

use ruptime_common::protocol::request::padded_request;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::ruptime;
use ruptime_tests::uptime;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn the_stream_server_writes_one_line_and_closes() {
    for mode in ["stream", "fork"] {
        let daemon = Daemon::start(&["-m", mode, "-l", "127.0.0.1"]);
        let mut conn = TcpStream::connect(daemon.addrs[0]).unwrap();
        conn.set_read_timeout(Some(WAIT)).unwrap();
        let mut reply = Vec::new();
        conn.read_to_end(&mut reply).unwrap();
        uptime::assert_line(&reply);
    }
}

#[test]
fn the_dgram_server_answers_each_one_byte_datagram_of_the_original_client() {
    let daemon = Daemon::start(&["-m", "dgram", "-l", "127.0.0.1"]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket.connect(daemon.addrs[0]).unwrap();
    for _ in 0..3 {
        socket.send(&[0]).unwrap();
        let mut reply = [0u8; 2048];
        let n = socket.recv(&mut reply).unwrap();
        uptime::assert_line(&reply[..n]);
    }
}

#[test]
fn stream_and_fork_clients_print_exactly_what_an_original_server_sends() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = thread::spawn(move || {
        for _ in 0..2 {
            let (mut conn, _) = listener.accept().unwrap();
            conn.write_all(b" 12:00:00 up 1 day, 0 min,").unwrap();
            thread::sleep(Duration::from_millis(50));
            conn.write_all(b"  1 user,  load average: 0.00, 0.00, 0.00\n")
                .unwrap();
        }
    });
    for mode in ["stream", "fork"] {
        let out = ruptime(&["-m", mode, "-p", &port, "127.0.0.1"]);
        assert_eq!(out.code(), 0, "{out:?}");
        assert_eq!(
            out.stdout_text(),
            " 12:00:00 up 1 day, 0 min,  1 user,  load average: 0.00, 0.00, 0.00\n"
        );
    }
    server.join().unwrap();
}

#[test]
fn an_original_daemon_answers_the_padded_request() {
    // As the original daemon: whatever the request holds, the line comes back.
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    server.set_read_timeout(Some(WAIT)).unwrap();
    let port = server.local_addr().unwrap().port();
    let answer = thread::spawn(move || {
        let mut request = [0u8; 2048];
        let (n, peer) = server.recv_from(&mut request).unwrap();
        server
            .send_to(
                b" 12:00:00 up 3 min,  0 user,  load average: 0.00, 0.00, 0.00\n",
                peer,
            )
            .unwrap();
        request[..n].to_vec()
    });
    let out = ruptime(&["-m", "dgram", "-p", &port.to_string(), "127.0.0.1"]);
    assert_eq!(out.code(), 0, "{out:?}");
    assert_eq!(
        out.stdout_text(),
        " 12:00:00 up 3 min,  0 user,  load average: 0.00, 0.00, 0.00\n"
    );
    let request = answer.join().unwrap();
    assert_eq!(request, padded_request(), "a NUL, the marker, zeros");
    assert_eq!(request.len(), 256);
}

#[test]
fn a_reply_is_never_longer_than_a_padded_request() {
    let long = "x".repeat(400);
    let daemon = Daemon::start(&[
        "-m",
        "dgram",
        "-l",
        "127.0.0.1",
        "--command",
        "/bin/echo",
        "--command-arg",
        &long,
    ]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket.connect(daemon.addrs[0]).unwrap();
    let mut reply = [0u8; 2048];
    // Our client's 256 bytes: the 401-byte line, cut to 256.
    socket.send(&padded_request()).unwrap();
    let n = socket.recv(&mut reply).unwrap();
    assert_eq!(&reply[..n], &long.as_bytes()[..256]);
    // Another client's zero padding, longer than the line: the whole line.
    socket.send(&[0u8; 512]).unwrap();
    let n = socket.recv(&mut reply).unwrap();
    assert_eq!(&reply[..n], format!("{long}\n").as_bytes());
    // The original client's byte is legacy: the whole line, from its budget.
    socket.send(&[0]).unwrap();
    let n = socket.recv(&mut reply).unwrap();
    assert_eq!(n, 401);
}

#[test]
fn the_dgram_server_replies_from_the_address_asked() {
    let daemon = Daemon::start(&["-m", "dgram", "-l", "0.0.0.0", "-l", "::"]);
    let port = daemon.port();
    for (asked, local) in [
        ("127.0.0.7", "127.0.0.1:0"),
        ("127.1.2.3", "127.0.0.1:0"),
        ("::1", "[::1]:0"),
        // IPv4 again after IPv6: the daemon's receive buffers, shared by
        // its sockets, must not keep the lengths of the last family's.
        ("127.0.0.7", "127.0.0.1:0"),
    ] {
        let socket = UdpSocket::bind(local).unwrap();
        socket.set_read_timeout(Some(WAIT)).unwrap();
        let to: std::net::IpAddr = asked.parse().unwrap();
        socket.send_to(&[0], (to, port)).unwrap();
        let mut reply = [0u8; 2048];
        let (n, from) = socket.recv_from(&mut reply).unwrap();
        assert_eq!(from.ip(), to, "the reply comes from the address asked");
        uptime::assert_line(&reply[..n]);
    }
}

#[test]
fn a_burst_to_several_addresses_is_answered_from_each_address_asked() {
    // Requests that arrive together are answered together, one send per run
    // of requests to the same address: interleaving the addresses asked
    // makes every run short.
    let daemon = Daemon::start(&["-m", "dgram", "-l", "0.0.0.0"]);
    let port = daemon.port();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    let asked = ["127.0.0.7", "127.0.0.8", "127.0.0.9"];
    let rounds = 6;
    for _ in 0..rounds {
        for to in asked {
            socket.send_to(&padded_request(), (to, port)).unwrap();
        }
    }
    let mut answers = std::collections::BTreeMap::new();
    for _ in 0..rounds * asked.len() {
        let mut reply = [0u8; 2048];
        let (n, from) = socket.recv_from(&mut reply).unwrap();
        uptime::assert_line(&reply[..n]);
        *answers.entry(from.ip().to_string()).or_insert(0) += 1;
    }
    let expected: std::collections::BTreeMap<_, _> =
        asked.iter().map(|a| (a.to_string(), rounds)).collect();
    assert_eq!(
        answers, expected,
        "one reply per request, from the address asked"
    );
}
