//! The datagram server is no reflector: a flood from thousands of loopback
//! source addresses gets replies within the per-source and global limits,
//! and a well-behaved client still gets its answer; malformed requests and
//! senders no reply could reach get nothing.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::{raise_descriptor_limit, ruptime};
use ruptime_tests::skip::can_run;
use ruptime_tests::uptime;
use socket2::{Domain, Protocol, Socket, Type};

const SOURCES: usize = 2000;
const REQUESTS_EACH: usize = 50;
/// The daemon's defaults: replies per second and burst per source, and per
/// second in all.
const RATE: f64 = 10.0;
const BURST: f64 = 20.0;
const GLOBAL: f64 = 1000.0;

#[test]
fn a_flood_from_many_sources_gets_no_more_than_the_limits() {
    raise_descriptor_limit();
    let daemon = Daemon::start(&["-m", "dgram", "-l", "0.0.0.0"]);
    let server: SocketAddr = (Ipv4Addr::LOCALHOST, daemon.port()).into();
    let sources: Vec<UdpSocket> = (0..SOURCES)
        .map(|i| {
            let socket = UdpSocket::bind((
                Ipv4Addr::new(127, 1, (i / 250) as u8, 1 + (i % 250) as u8),
                0,
            ))
            .unwrap();
            socket.set_nonblocking(true).unwrap();
            socket
        })
        .collect();
    let port = daemon.port().to_string();
    let start = Instant::now();
    let mut well_behaved = None;
    let mut sent = 0;
    for round in 0..REQUESTS_EACH {
        if round == REQUESTS_EACH / 2 {
            let port = port.clone();
            well_behaved = Some(thread::spawn(move || {
                ruptime(&["-m", "dgram", "-w", "10", "-p", &port, "127.0.0.1"])
            }));
        }
        for socket in &sources {
            if socket.send_to(&[0], server).is_ok() {
                sent += 1;
            }
        }
    }
    let client = well_behaved.unwrap().join().unwrap();
    thread::sleep(Duration::from_millis(500));
    let elapsed = start.elapsed().as_secs_f64();
    let mut buf = [0u8; 2048];
    let (mut replies, mut reply_bytes, mut busiest) = (0usize, 0usize, 0usize);
    for socket in &sources {
        let mut got = 0;
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            assert_eq!(from, server, "replies come from the address asked");
            got += 1;
            reply_bytes += n;
        }
        replies += got;
        busiest = busiest.max(got);
    }
    assert_eq!(
        client.code(),
        0,
        "the well-behaved client gets its answer: {client:?}"
    );
    uptime::assert_line(&client.stdout);
    let per_source = BURST + RATE * elapsed;
    assert!(
        busiest as f64 <= per_source + 1.0,
        "a source got {busiest} replies; its limit is {per_source:.0}"
    );
    let global = GLOBAL * (1.0 + elapsed);
    assert!(
        replies as f64 <= global,
        "{replies} replies; the global limit is {global:.0} in {elapsed:.2} s"
    );
    assert!(
        reply_bytes <= 3 * sent,
        "{reply_bytes} bytes sent for {sent} bytes received: more than 3x (the original's is about 60x)"
    );
    let (status, stderr) = daemon.terminate();
    assert!(status.success());
    let summaries: Vec<&str> = stderr.lines().filter(|l| l.contains("dropped ")).collect();
    assert!(
        !summaries.is_empty() && summaries.len() <= 2,
        "one summary per 10 s, not one line per packet: {summaries:?}"
    );
    eprintln!(
        "{sent} requests from {SOURCES} sources in {elapsed:.2} s: {replies} replies ({reply_bytes} bytes), \
         busiest source {busiest}; {}",
        summaries.join(" | ")
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
        (&[0u8; 1000][..], false),
        (&[0u8; 33][..], false),
        (&[0u8; 32][..], true),
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
    socket.send(&[0]).unwrap();
    assert!(answered(&socket), "the daemon still answers");
    let (status, stderr) = daemon.terminate();
    assert!(status.success(), "{stderr}");
    let summary = format!(
        "dropped {} datagram requests: 0 over a source's rate limit, 0 over the global rate limit, 3 malformed, \
         {from_port_zero} from senders no reply could reach",
        3 + from_port_zero
    );
    assert!(stderr.contains(&summary), "{stderr}");
}

#[test]
fn one_source_gets_its_burst_then_its_rate() {
    let daemon = Daemon::start(&["-m", "dgram", "-l", "127.0.0.1"]);
    let socket = UdpSocket::bind("127.0.0.9:0").unwrap();
    socket.connect(daemon.addrs[0]).unwrap();
    socket.set_nonblocking(true).unwrap();
    let start = Instant::now();
    let mut replies = 0;
    let mut buf = [0u8; 2048];
    // 200 requests over 1 s, reading replies as they come.
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
            "dropped {} datagram requests: {} over a source's rate limit",
            200 - replies,
            200 - replies
        )),
        "{stderr}"
    );
}
