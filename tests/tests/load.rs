//! The daemon under load: a flood of connections, idle connections held
//! open, the fork server's cap on children, and a client that never reads.

use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use ruptime_tests::daemon::Daemon;
use ruptime_tests::load::{self, Load, Transport};
use ruptime_tests::process::{raise_descriptor_limit, ruptime};
use ruptime_tests::procfs;
use ruptime_tests::uptime;

const SETTLE: Duration = Duration::from_secs(10);

fn pid_of(daemon: &Daemon) -> u32 {
    daemon.pid().as_raw() as u32
}

/// Waits until `check` holds (panics with `what` after [`SETTLE`]).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + SETTLE;
    while !check() {
        assert!(Instant::now() < deadline, "{what}");
        thread::sleep(Duration::from_millis(20));
    }
}

fn still_answers(daemon: &Daemon, mode: &str) {
    let out = ruptime(&[
        "-m",
        mode,
        "-w",
        "10",
        "-p",
        &daemon.port().to_string(),
        "127.0.0.1",
    ]);
    assert_eq!(out.code(), 0, "{mode}: {out:?}");
    uptime::assert_line(&out.stdout);
}

#[test]
fn a_flood_of_20000_connections_is_answered_and_leaves_nothing_behind() {
    raise_descriptor_limit();
    for mode in ["stream", "fork"] {
        let daemon = Daemon::start(&["-m", mode, "-l", "127.0.0.1"]);
        let pid = pid_of(&daemon);
        let before = procfs::fds(pid);
        let flood = Load {
            addr: daemon.addrs[0],
            transport: Transport::Tcp,
            concurrency: 256,
            count: 20_000,
            duration: Duration::from_secs(300),
            timeout: Duration::from_secs(20),
        };
        let outcome = load::run(&flood).unwrap();
        assert_eq!(outcome.timeouts, 0, "{mode}: none hung");
        assert_eq!(outcome.ok + outcome.errors, 20_000, "{mode}");
        assert_eq!(
            outcome.errors, 0,
            "{mode}: the backlog holds this burst, so none is refused"
        );
        eventually(&format!("{mode}: children are reaped"), || {
            procfs::children(pid).is_empty()
        });
        eventually(&format!("{mode}: descriptors as before"), || {
            procfs::fds(pid) == before
        });
        still_answers(&daemon, mode);
        eprintln!(
            "{mode}: 20000 connections at concurrency 256 in {:?}",
            outcome.elapsed
        );
    }
}

#[test]
fn a_thousand_idle_connections_do_not_hold_the_daemon() {
    raise_descriptor_limit();
    for mode in ["stream", "fork"] {
        let daemon = Daemon::start(&["-m", mode, "-l", "127.0.0.1"]);
        let pid = pid_of(&daemon);
        let before = procfs::fds(pid);
        let idle: Vec<TcpStream> = (0..1000)
            .map(|_| TcpStream::connect(daemon.addrs[0]).unwrap())
            .collect();
        let start = Instant::now();
        still_answers(&daemon, mode);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{mode}: took {:?}",
            start.elapsed()
        );
        eventually(
            &format!("{mode}: no descriptor kept for an idle client"),
            || procfs::fds(pid) == before,
        );
        drop(idle);
    }
}

#[test]
fn the_fork_server_runs_at_most_max_children_and_queues_the_rest() {
    let daemon = Daemon::start(&[
        "-m",
        "fork",
        "-l",
        "127.0.0.1",
        "--max-children",
        "2",
        "--command",
        "/bin/sh",
        "--command-arg",
        "-c",
        "--command-arg",
        "sleep 0.5; echo done",
    ]);
    let (pid, port) = (pid_of(&daemon), daemon.port().to_string());
    let start = Instant::now();
    let clients: Vec<_> = (0..6)
        .map(|_| {
            let port = port.clone();
            thread::spawn(move || ruptime(&["-m", "fork", "-w", "20", "-p", &port, "127.0.0.1"]))
        })
        .collect();
    let mut most = 0;
    while clients.iter().any(|c| !c.is_finished()) {
        most = most.max(procfs::children(pid).len());
        thread::sleep(Duration::from_millis(5));
    }
    for client in clients {
        assert_eq!(client.join().unwrap().stdout_text(), "done\n");
    }
    assert!((1..=2).contains(&most), "{most} children at once");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1400),
        "three rounds of two: took {took:?}"
    );
}

/// On a host whose TCP buffers are small (a namespace with `tcp_wmem` and
/// `tcp_rmem` of 4 KiB), a client that connects and never reads blocks the
/// iterative server's reply of 64 KiB: the send timeout lets the next client in.
#[test]
fn a_client_that_never_reads_cannot_stall_the_iterative_server() {
    use nix::sched::{CloneFlags, setns};
    use ruptime_tests::bins::bin;
    use ruptime_tests::network::Lan;
    use ruptime_tests::process::run_command;
    use ruptime_tests::skip::can_run;
    use std::fs::File;

    if !can_run("the send timeout test", &["ip", "sysctl"]) {
        return;
    }
    let lan = Lan::new(1);
    for setting in [
        "net.ipv4.tcp_wmem=4096 4096 4096",
        "net.ipv4.tcp_rmem=4096 4096 4096",
    ] {
        let out = run_command(lan.command_in(1, "sysctl", &["-qw", setting]), SETTLE);
        assert!(out.status.success(), "{out:?}");
    }
    let ruptimed = bin("ruptimed");
    let command = lan.command_in(1, ruptimed.to_str().unwrap(), &[]);
    let daemon = Daemon::start_command(
        command,
        &[
            "-m",
            "stream",
            "-p",
            "4000",
            "--send-timeout",
            "1",
            "--request-timeout",
            "8",
            "--command",
            "/usr/bin/yes",
        ],
    );
    let server = std::net::SocketAddr::new(lan.host(1).into(), 4000);
    let netns = format!("/run/netns/{}", lan.netns(1));
    let (connected, hold) = std::sync::mpsc::channel();
    let stalling = thread::spawn(move || {
        setns(File::open(netns).unwrap(), CloneFlags::CLONE_NEWNET).unwrap();
        let conn = TcpStream::connect(server).unwrap();
        connected.send(()).unwrap();
        thread::sleep(Duration::from_secs(6));
        drop(conn);
    });
    hold.recv().unwrap();
    thread::sleep(Duration::from_millis(300));
    let ruptime = bin("ruptime");
    let start = Instant::now();
    let args = ["-w", "20", "-p", "4000", &lan.host(1).to_string()];
    let out = run_command(
        lan.command_in(1, ruptime.to_str().unwrap(), &args),
        SETTLE + SETTLE,
    );
    let took = start.elapsed();
    assert_eq!(
        out.stdout.len(),
        64 * 1024,
        "the next client gets its reply: {}",
        out.stderr
    );
    assert!(
        took < Duration::from_secs(4),
        "it waited {took:?}, not the request timeout of 8 s"
    );
    stalling.join().unwrap();
    let (_, stderr) = daemon.terminate();
    assert!(stderr.contains("reply not sent: timed out"), "{stderr}");
}
