//! `ruptime` against servers that misbehave on purpose: whatever they do, it
//! ends by its deadline with one clear line and exit status 1, and its memory
//! stays bounded.

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use ruptime_tests::bins::bin;
use ruptime_tests::fake::FakeServer;
use ruptime_tests::procfs;

/// What a run of `ruptime` did, and its peak memory.
struct Run {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
    peak_kib: u64,
}

/// Runs `ruptime ARGS HOST` (with -w 2), sampling its memory high-water mark.
fn ask(mode: &str, host: &str) -> Run {
    let ruptime = bin("ruptime");
    let start = Instant::now();
    let mut child = Command::new(ruptime)
        .args(["-m", mode, "-w", "2", host])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak_kib = 0;
    let status = loop {
        peak_kib = peak_kib.max(procfs::status_field(pid, "VmHWM:"));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "ruptime hung");
        thread::sleep(Duration::from_millis(1));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    Run {
        code: status.code(),
        stderr,
        elapsed: start.elapsed(),
        peak_kib,
    }
}

/// Asserts the run ended within the 2 s deadline (plus a margin) with exit
/// 1, `reason`, and little memory.
fn assert_failed(run: &Run, host: &str, reason: &str) {
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.stderr, format!("ruptime: {host}: {reason}\n"));
    assert!(
        run.elapsed < Duration::from_millis(2900),
        "took {:?}",
        run.elapsed
    );
    assert!(
        run.peak_kib < 16 * 1024,
        "{} KiB: memory is not bounded",
        run.peak_kib
    );
}

#[test]
fn a_server_that_writes_forever_is_cut_off_at_64_kib() {
    let server = FakeServer::tcp(|mut conn| {
        let chunk = [b'x'; 4096];
        while conn.write_all(&chunk).is_ok() {}
    });
    for mode in ["stream", "fork"] {
        let run = ask(mode, &server.host());
        assert_failed(&run, &server.host(), "reply longer than 64 KiB");
        assert!(
            run.elapsed < Duration::from_secs(1),
            "{mode}: cut off at once, not at the deadline"
        );
    }
}

#[test]
fn a_server_that_trickles_a_byte_a_second_is_given_up_at_the_deadline() {
    let server = FakeServer::tcp(|mut conn: TcpStream| {
        for _ in 0..10 {
            if conn.write_all(b".").is_err() {
                return;
            }
            thread::sleep(Duration::from_secs(1));
        }
    });
    for mode in ["stream", "fork"] {
        let run = ask(mode, &server.host());
        assert_failed(&run, &server.host(), "reply incomplete after 2 s (2 bytes)");
        assert!(
            run.elapsed >= Duration::from_secs(2),
            "{mode}: not before the deadline"
        );
    }
}

#[test]
fn a_server_that_accepts_and_never_writes_is_given_up_at_the_deadline() {
    let server = FakeServer::tcp(|conn: TcpStream| {
        thread::sleep(Duration::from_secs(10));
        drop(conn);
    });
    for mode in ["stream", "fork"] {
        let run = ask(mode, &server.host());
        assert_failed(&run, &server.host(), "connected, but no reply within 2 s");
    }
}

#[test]
fn a_datagram_reply_from_another_address_is_not_taken() {
    let server = FakeServer::udp(|_, _, peer| {
        let elsewhere = UdpSocket::bind("127.0.0.1:0").unwrap();
        let _ = elsewhere.send_to(
            b" 12:00:00 up 1 min,  0 user,  load average: 0.00, 0.00, 0.00\n",
            peer,
        );
    });
    let run = ask("dgram", &server.host());
    assert_failed(&run, &server.host(), "no reply within 2 s");
}

#[test]
fn a_64_kib_datagram_is_refused() {
    let server = FakeServer::udp(|socket, _, peer| {
        let _ = socket.send_to(&vec![b'x'; 65_000], peer);
    });
    let run = ask("dgram", &server.host());
    assert_failed(&run, &server.host(), "reply longer than 4 KiB");
}

#[test]
fn escape_sequences_and_bad_utf8_are_an_answer_shown_raw() {
    let reply: &[u8] = b"\x1b]0;owned\x07\x1b[2J\xff\xfe up 1 min\n";
    let tcp = FakeServer::line(reply);
    let udp = FakeServer::udp(move |socket, _, peer| {
        let _ = socket.send_to(reply, peer);
    });
    for (mode, server) in [("stream", &tcp), ("fork", &tcp), ("dgram", &udp)] {
        let run = ask(mode, &server.host());
        assert_eq!(run.code, Some(0), "{mode}: {}", run.stderr);
        assert_eq!(run.stderr, "", "{mode}");
    }
}

#[test]
fn nothing_at_all_is_a_failure_told_on_stderr() {
    let closer = FakeServer::tcp(drop);
    for mode in ["stream", "fork"] {
        let run = ask(mode, &closer.host());
        assert_failed(&run, &closer.host(), "connection closed without a reply");
    }
    let empty = FakeServer::udp(|socket, _, peer| {
        let _ = socket.send_to(&[], peer);
    });
    let run = ask("dgram", &empty.host());
    assert_failed(&run, &empty.host(), "an empty datagram came back");
}

#[test]
fn a_reply_followed_by_a_reset_is_the_answer_only_when_whole() {
    let line = b" 10:00:00 up 7 min,  1 user,  load average: 1.25, 0.80, 0.31\n";
    // Closed abortively: the bytes, then a reset in place of a FIN.
    let reset = |bytes: &'static [u8]| {
        FakeServer::tcp(move |mut conn: TcpStream| {
            conn.write_all(bytes).unwrap();
            socket2::SockRef::from(&conn)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
        })
    };
    let (whole, whole_too) = (reset(line), reset(line));
    let (part, part_too) = (reset(&line[..20]), reset(&line[..20]));
    // One host (asked by the blocking driver, or a child in fork mode), and
    // two (the fleet loop, where the reset comes with the first event).
    for mode in ["stream", "fork"] {
        for (a, b, up) in [(&whole, &whole_too, true), (&part, &part_too, false)] {
            for hosts in [vec![a.host()], vec![a.host(), b.host()]] {
                let mut args = vec!["-m", mode, "-w", "5", "--json"];
                args.extend(hosts.iter().map(String::as_str));
                let out = ruptime_tests::process::ruptime(&args);
                let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                for row in rows.as_array().unwrap() {
                    assert_eq!(row["up"], up, "{mode}: {row}");
                    if up {
                        assert_eq!(row["uptime_seconds"], 420, "{mode}: {row}");
                    } else {
                        assert_eq!(
                            row["error"], "recv error: Connection reset by peer",
                            "{mode}: {row}"
                        );
                    }
                }
            }
        }
    }
}
