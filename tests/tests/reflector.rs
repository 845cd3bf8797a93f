//! The datagram server cannot amplify: spoofed floods from 1 000 loopback
//! source addresses, 20 000 datagrams in about 2 s, against a daemon with its
//! default flags. One-byte (legacy) requests get at most 2 bytes back per
//! byte, padded ones at most 1; an honest `ruptime -m dgram` asking during
//! either flood gets its line. Malformed requests and senders no reply could
//! reach get nothing, and one legacy source gets its burst, then its rate.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use ruptime_common::protocol::request::padded_request;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::{raise_descriptor_limit, ruptime};
use ruptime_tests::skip::can_run;
use ruptime_tests::uptime;
use socket2::{Domain, Protocol, Socket, Type};

const SOURCES: usize = 1000;
const ROUNDS: usize = 20;
/// The daemon's defaults for legacy requests: replies per second and burst
/// per source.
const RATE: f64 = 10.0;
const BURST: f64 = 20.0;
/// The longest uptime line this machine's daemon can send.
const LONGEST_LINE: usize = 100;

/// What a flood drew.
struct Drawn {
    bytes_in: usize,
    bytes_out: usize,
    replies: usize,
    elapsed: f64,
    summaries: Vec<String>,
}

/// Floods a default daemon with `request` from [`SOURCES`] addresses,
/// [`ROUNDS`] times in 100 ms each (100 datagrams every 10 ms, so that the
/// daemon's socket buffer takes them all), while an honest client asks once.
fn flood(request: &[u8]) -> Drawn {
    raise_descriptor_limit();
    let daemon = Daemon::start(&["-m", "dgram", "-l", "0.0.0.0"]);
    let server: SocketAddr = (Ipv4Addr::LOCALHOST, daemon.port()).into();
    let sources: Vec<UdpSocket> = (0..SOURCES)
        .map(|i| {
            let addr = Ipv4Addr::new(127, 1, (i / 250) as u8, 1 + (i % 250) as u8);
            let socket = UdpSocket::bind((addr, 0)).unwrap();
            socket.set_nonblocking(true).unwrap();
            socket
        })
        .collect();
    let port = daemon.port().to_string();
    let start = Instant::now();
    let mut honest = None;
    let mut sent = 0;
    for round in 0..ROUNDS {
        if round == ROUNDS / 2 {
            let port = port.clone();
            honest = Some(thread::spawn(move || {
                ruptime(&["-m", "dgram", "-w", "10", "-p", &port, "127.0.0.1"])
            }));
        }
        for chunk in sources.chunks(100) {
            for socket in chunk {
                if socket.send_to(request, server).is_ok() {
                    sent += 1;
                }
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
    let client = honest.unwrap().join().unwrap();
    assert_eq!(
        client.code(),
        0,
        "the honest client gets its answer: {client:?}"
    );
    uptime::assert_line(&client.stdout);
    thread::sleep(Duration::from_millis(300));
    let elapsed = start.elapsed().as_secs_f64();
    let mut buf = [0u8; 2048];
    let (mut replies, mut bytes_out) = (0, 0);
    for socket in &sources {
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            assert_eq!(from, server, "replies come from the address asked");
            assert!(n <= request.len().max(LONGEST_LINE), "a reply of {n} bytes");
            replies += 1;
            bytes_out += n;
        }
    }
    let (status, stderr) = daemon.terminate();
    assert!(status.success(), "{stderr}");
    Drawn {
        bytes_in: sent * request.len(),
        bytes_out,
        replies,
        elapsed,
        summaries: stderr
            .lines()
            .filter(|l| l.contains("dropped "))
            .map(String::from)
            .collect(),
    }
}

#[test]
fn a_flood_of_one_byte_requests_gets_at_most_two_bytes_back_per_byte() {
    let drawn = flood(&[0]);
    let ratio = drawn.bytes_out as f64 / drawn.bytes_in as f64;
    assert!(
        ratio <= 2.0,
        "{} bytes out for {} in: {ratio:.2}x (the original: about 70x)",
        drawn.bytes_out,
        drawn.bytes_in
    );
    assert!(drawn.replies > 0, "legacy requests are still answered");
    assert!(
        !drawn.summaries.is_empty() && drawn.summaries.len() <= 2,
        "one summary per 10 s, not one line per packet: {:?}",
        drawn.summaries
    );
    eprintln!(
        "legacy flood: {} bytes in, {} replies, {} bytes out ({ratio:.3}x) in {:.2} s; {}",
        drawn.bytes_in,
        drawn.replies,
        drawn.bytes_out,
        drawn.elapsed,
        drawn.summaries.join(" | ")
    );
}

#[test]
fn a_flood_of_padded_requests_gets_no_more_bytes_than_it_sent() {
    let drawn = flood(&padded_request());
    let ratio = drawn.bytes_out as f64 / drawn.bytes_in as f64;
    assert!(
        ratio <= 1.0,
        "{} bytes out for {} in: {ratio:.2}x",
        drawn.bytes_out,
        drawn.bytes_in
    );
    eprintln!(
        "padded flood: {} bytes in, {} replies, {} bytes out ({ratio:.3}x) in {:.2} s",
        drawn.bytes_in, drawn.replies, drawn.bytes_out, drawn.elapsed
    );
}

/// Whether a datagram comes back to `socket` within 300 ms.
fn answered(socket: &UdpSocket) -> bool {
    socket
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 2048];
    socket.recv(&mut buf).is_ok()
}

#[test]
fn malformed_requests_get_nothing_and_harm_nothing() {
    let daemon = Daemon::start(&["-m", "dgram", "-l", "127.0.0.1"]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(daemon.addrs[0]).unwrap();
    for (request, reply) in [
        (&[][..], false),
        (&[0u8; 1025][..], false),
        (&[0u8; 4000][..], false),
        (&[0u8; 1024][..], true),
        (&[0u8; 512][..], true),
        (&[0u8][..], true),
    ] {
        socket.send(request).unwrap();
        assert_eq!(
            answered(&socket),
            reply,
            "a request of {} bytes",
            request.len()
        );
    }
    let mut from_port_zero = 0;
    if can_run("a datagram from port 0 (a raw socket)", &[]) {
        // A UDP header by hand: source port 0, the daemon's port, length 9, no checksum.
        let raw = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::UDP)).unwrap();
        let mut datagram = vec![0, 0];
        datagram.extend_from_slice(&daemon.port().to_be_bytes());
        datagram.extend_from_slice(&[0, 9, 0, 0, 0]);
        raw.send_to(&datagram, &daemon.addrs[0].into()).unwrap();
        from_port_zero = 1;
    }
    socket.send(&padded_request()).unwrap();
    assert!(answered(&socket), "the daemon still answers");
    let (status, stderr) = daemon.terminate();
    assert!(status.success(), "{stderr}");
    let summary = format!(
        "dropped {} datagram requests: 0 legacy over a source's rate limit, 0 legacy over the legacy \
         budget, 0 over the global rate limit, 3 malformed, {from_port_zero} from senders no reply \
         could reach, 0 from senders not in --allow",
        3 + from_port_zero
    );
    assert!(stderr.contains(&summary), "{stderr}");
}

#[test]
fn one_legacy_source_gets_its_burst_then_its_rate() {
    let daemon = Daemon::start(&["-m", "dgram", "-l", "127.0.0.1"]);
    let socket = UdpSocket::bind("127.0.0.9:0").unwrap();
    socket.connect(daemon.addrs[0]).unwrap();
    socket.set_nonblocking(true).unwrap();
    let start = Instant::now();
    let mut replies = 0;
    let mut buf = [0u8; 2048];
    // 200 one-byte requests over 1 s, reading replies as they come.
    for _ in 0..200 {
        socket.send(&[0]).unwrap();
        thread::sleep(Duration::from_millis(5));
        while socket.recv(&mut buf).is_ok() {
            replies += 1;
        }
    }
    thread::sleep(Duration::from_millis(200));
    while socket.recv(&mut buf).is_ok() {
        replies += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let limit = BURST + RATE * elapsed;
    assert!(
        replies as f64 <= limit + 1.0,
        "{replies} replies; the limit is {limit:.0}"
    );
    assert!(
        replies as f64 >= BURST,
        "{replies} replies: the burst is {BURST}"
    );
    let (_, stderr) = daemon.terminate();
    assert!(
        stderr.contains(&format!(
            "dropped {} datagram requests: {} legacy over a source's rate limit",
            200 - replies,
            200 - replies
        )),
        "{stderr}"
    );
}
