//! Socket activation and inetd style, with systemd's own activator
//! (`systemd-socket-activate`) passing the sockets as systemd does.

use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::thread;
use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::process::{Background, ruptime, ruptimed};
use ruptime_tests::skip::have_tools;
use ruptime_tests::uptime;

const ACTIVATE: &str = "/usr/bin/systemd-socket-activate";
const WAIT: Duration = Duration::from_secs(20);

/// A free TCP port on 127.0.0.1, its address and the daemon's path; `None`
/// (with the reason printed) when systemd's activator is missing.
fn setup(what: &str) -> Option<(String, String, String)> {
    if !have_tools(what, &["systemd-socket-activate"]) {
        return None;
    }
    let probe = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port().to_string();
    let addr = format!("127.0.0.1:{port}");
    Some((port, addr, bin("ruptimed").to_str().unwrap().to_owned()))
}

/// systemd's activator, run with `args`.
fn activate(args: &[&str]) -> Background {
    Background::start(Path::new(ACTIVATE), args)
}

/// Waits until something (the activator) has bound the port of `addr`, as
/// /proc/net tells: a listening TCP socket, or a bound UDP one.
fn wait_bound(addr: &str, udp: bool) {
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    let (table, state) = if udp {
        ("/proc/net/udp", "07")
    } else {
        ("/proc/net/tcp", "0A")
    };
    let wanted = format!(":{port:04X}");
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(table).unwrap();
        let bound = text.lines().skip(1).any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 3 && fields[1].ends_with(&wanted) && fields[3] == state
        });
        if bound {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "nothing bound {addr}");
        thread::sleep(Duration::from_millis(10));
    }
}

fn ask(mode: &str, port: &str) -> ruptime_tests::process::Finished {
    ruptime(&["-m", mode, "-w", "10", "-p", port, "127.0.0.1"])
}

#[test]
fn a_passed_stream_socket_is_served_without_binding() {
    let Some((port, addr, daemon)) = setup("socket activation") else {
        return;
    };
    let activator = activate(&["-l", &addr, &daemon, "-f"]);
    wait_bound(&addr, false);
    for _ in 0..2 {
        let out = ask("stream", &port);
        assert_eq!(out.code(), 0, "{out:?}");
        uptime::assert_line(&out.stdout);
    }
    let out = activator.kill();
    assert_eq!(out.stdout_text(), format!("listening on {addr} (stream)\n"));
}

#[test]
fn stream_and_datagram_sockets_are_served_by_one_process() {
    let Some((port, addr, daemon)) = setup("socket activation") else {
        return;
    };
    // The outer activator passes a UDP socket on; the inner adds a TCP one.
    let activator = activate(&[
        "-d", "-l", &addr, ACTIVATE, "-l", &addr, &daemon, "-f", "-m", "fork",
    ]);
    wait_bound(&addr, true);
    let dgram = {
        let port = port.clone();
        thread::spawn(move || ask("dgram", &port))
    };
    wait_bound(&addr, false);
    let stream = ask("fork", &port);
    let dgram = dgram.join().unwrap();
    for out in [stream, dgram] {
        assert_eq!(out.code(), 0, "{out:?}");
        uptime::assert_line(&out.stdout);
    }
    let out = activator.kill();
    assert_eq!(
        out.stdout_text(),
        format!("listening on {addr} (dgram)\nlistening on {addr} (fork)\n")
    );
}

#[test]
fn sockets_for_another_process_are_ignored() {
    let mut command = std::process::Command::new(bin("ruptimed"));
    command.env("LISTEN_PID", "1").env("LISTEN_FDS", "1");
    let daemon = ruptime_tests::daemon::Daemon::start_command(command, &["-l", "127.0.0.1"]);
    let out = ask("stream", &daemon.port().to_string());
    uptime::assert_line(&out.stdout);
}

#[test]
fn a_connected_socket_is_refused_with_a_hint() {
    let Some((port, addr, daemon)) = setup("socket activation") else {
        return;
    };
    let activator = activate(&["--accept", "-l", &addr, &daemon, "-f"]);
    wait_bound(&addr, false);
    let out = ask("stream", &port);
    assert_eq!(out.stdout_text(), "", "{out:?}");
    // The connection closes as the daemon turns it down, a moment before
    // the line; the activator's end would end the daemon (SIGTERM).
    let hint = "ruptimed: socket activation: fd 3: a connected socket (Accept=yes wants --inetd)\n";
    activator.wait_for_stderr(hint, 1, WAIT);
    let out = activator.kill();
    assert!(out.stderr.contains(hint), "{}", out.stderr);
}

#[test]
fn inetd_style_serves_one_connection_per_process() {
    let Some((port, addr, daemon)) = setup("inetd style") else {
        return;
    };
    let activator = activate(&["--accept", "--inetd", "-l", &addr, &daemon, "--inetd"]);
    wait_bound(&addr, false);
    for _ in 0..3 {
        let out = ask("stream", &port);
        assert_eq!(out.code(), 0, "{out:?}");
        uptime::assert_line(&out.stdout);
    }
    activator.wait_for_stderr("died with code 0", 3, WAIT);
}

#[test]
fn inetd_style_serves_datagrams_until_idle_then_exits() {
    let Some((_, _, daemon)) = setup("inetd style") else {
        return;
    };
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port().to_string();
    drop(probe);
    let addr = format!("127.0.0.1:{port}");
    // `-d`: the activator execs the daemon with the socket, once.
    let activator = activate(&["-d", "--inetd", "-l", &addr, &daemon, "--inetd"]);
    wait_bound(&addr, true);
    // The datagram server's guard: an over-long request gets nothing.
    let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
    raw.connect(&addr).unwrap();
    raw.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    raw.send(&[0u8; 2000]).unwrap();
    let mut reply = [0u8; 2048];
    assert!(
        raw.recv(&mut reply).is_err(),
        "a 2000-byte request is ignored"
    );
    for _ in 0..3 {
        // The one process keeps the socket: each query is answered by it.
        let out = ask("dgram", &port);
        assert_eq!(out.code(), 0, "{out:?}");
        uptime::assert_line(&out.stdout);
    }
    let last = std::time::Instant::now();
    let done = activator.finish(WAIT);
    assert!(done.status.success(), "{done:?}");
    let idle = last.elapsed();
    assert!(
        idle >= Duration::from_millis(2500),
        "exits once idle for 3 s, not at once: {idle:?}"
    );
}

#[test]
fn inetd_style_needs_a_socket_on_standard_input() {
    let out = ruptimed(&["--inetd"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stderr,
        "ruptimed: --inetd: standard input is not a socket: Socket operation on non-socket\n"
    );
    let out = ruptimed(&["--inetd", "--listen", "127.0.0.1"]);
    assert_eq!(out.code(), 2, "--inetd takes no --listen: {out:?}");
}

#[test]
fn systemd_s_variables_reach_no_command_and_stopping_comes_with_sigterm() {
    let Some((port, addr, daemon)) = setup("systemd's variables") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let notify_path = dir.path().join("notify");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
    notify.set_read_timeout(Some(WAIT)).unwrap();
    let env = format!("NOTIFY_SOCKET={}", notify_path.display());
    // The command prints its environment, then keeps its child busy for 3 s.
    let activator = activate(&[
        "-l",
        &addr,
        "-E",
        &env,
        &daemon,
        "-f",
        "-m",
        "fork",
        "--command",
        "/bin/sh",
        "--command-arg",
        "-c",
        "--command-arg",
        "env; sleep 3",
    ]);
    wait_bound(&addr, false);
    // The activator starts the daemon at the first connection.
    let query = thread::spawn(move || ask("fork", &port));
    let mut got = [0u8; 256];
    let n = notify.recv(&mut got).unwrap();
    assert_eq!(&got[..n], b"READY=1\n");
    thread::sleep(Duration::from_millis(500));
    nix::sys::signal::kill(activator.pid(), nix::sys::signal::Signal::SIGTERM).unwrap();
    let signalled = std::time::Instant::now();
    let n = notify.recv(&mut got).unwrap();
    assert_eq!(&got[..n], b"STOPPING=1\n");
    assert!(
        signalled.elapsed() < Duration::from_millis(1500),
        "STOPPING=1 comes with SIGTERM, not after the child: {:?}",
        signalled.elapsed()
    );
    let out = query.join().unwrap();
    let env = out.stdout_text();
    assert!(env.contains("PATH="), "the command's environment: {env}");
    for name in [
        "LISTEN_FDS",
        "LISTEN_PID",
        "LISTEN_FDNAMES",
        "NOTIFY_SOCKET",
    ] {
        assert!(!env.contains(name), "{name} reached the command: {env}");
    }
    let done = activator.finish(WAIT);
    assert!(done.status.success(), "{done:?}");
}

#[test]
fn allow_holds_under_socket_activation_and_inetd_style() {
    // A passed listening socket, then Accept=yes with --inetd.
    for inetd in [false, true] {
        let Some((port, addr, daemon)) = setup("--allow under activation") else {
            return;
        };
        let mut args = vec!["-l", &addr, &daemon, "-f", "--allow", "10.0.0.0/8"];
        if inetd {
            args = vec![
                "--accept",
                "--inetd",
                "-l",
                &addr,
                &daemon,
                "--inetd",
                "--allow",
                "10.0.0.0/8",
            ];
        }
        let activator = activate(&args);
        wait_bound(&addr, false);
        let out = ruptime(&["-w", "10", "-p", &port, "--json", "127.0.0.1"]);
        assert_eq!(out.code(), 1, "inetd {inetd}: {out:?}");
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            rows[0]["error"], "ruptimed: not allowed from 127.0.0.1 (see --allow)",
            "inetd {inetd}"
        );
        drop(activator.kill());
    }
}
