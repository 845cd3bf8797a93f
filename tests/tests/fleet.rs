//! Many hosts at once: the table, sorting, host lists, JSON, exit statuses,
//! and remote bytes kept off the terminal. The hosts are scripted servers on
//! loopback that answer with lines the test chose.

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::fake::FakeServer;
use ruptime_tests::process::{Finished, run, ruptime, ruptime_with_input};
use ruptime_tests::skip::have_tools;
use serde_json::{Value, json};

const ALPHA: &[u8] = b" 10:00:00 up 2 days,  3:04,  3 users,  load average: 0.00, 0.01, 0.05\n";
const BRAVO: &[u8] = b" 10:00:00 up 7 min,  1 user,  load average: 1.25, 0.80, 0.31\n";
const FOXTROT: &[u8] = b" 10:00:00 up 1 day, 0 min,  0 user,  load average: 5,00, 4,00, 3,00\n";
const ODD: &[u8] = b"something else\n";
const BROKEN: &[u8] = b"ruptimed: cannot get system uptime: /proc/uptime holds no valid number\n";

/// A loopback address with nothing listening.
fn dead() -> String {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string()
}

fn ask(args: &[&str]) -> Finished {
    let mut all = vec!["-w", "1"];
    all.extend_from_slice(args);
    ruptime(&all)
}

/// The hosts of a table, in order.
fn hosts(out: &Finished) -> Vec<String> {
    out.stdout_text()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect()
}

#[test]
fn several_hosts_make_an_aligned_table_in_the_order_given() {
    let (alpha, bravo, odd, broken) = (
        FakeServer::line(ALPHA),
        FakeServer::line(BRAVO),
        FakeServer::line(ODD),
        FakeServer::line(BROKEN),
    );
    let charlie = dead();
    let names = [
        alpha.host(),
        bravo.host(),
        charlie.clone(),
        odd.host(),
        broken.host(),
    ];
    let args: Vec<&str> = names.iter().map(String::as_str).collect();
    for mode in ["stream", "fork"] {
        let mut with_mode = vec!["-m", mode];
        with_mode.extend_from_slice(&args);
        let out = ask(&with_mode);
        assert_eq!(out.code(), 1, "two hosts failed: {out:?}");
        assert_eq!(
            out.stderr,
            "5 hosts: 3 up, 2 down (1 can't connect: Connection refused; \
             1 ruptimed: cannot get system uptime: /proc/uptime holds no valid number)\n",
            "the table, then its summary"
        );
        let w = names.iter().map(String::len).max().unwrap().max(12);
        assert_eq!(
            out.stdout_text(),
            format!(
                "{:<w$} up  2+03:04,   3 users,  load 0.00, 0.01, 0.05\n\
                 {:<w$} up     0:07,   1 user,   load 1.25, 0.80, 0.31\n\
                 {:<w$} down         (can't connect: Connection refused)\n\
                 {:<w$} up           something else\n\
                 {:<w$} down         (ruptimed: cannot get system uptime: /proc/uptime holds no valid number)\n",
                names[0], names[1], names[2], names[3], names[4]
            ),
            "{mode}"
        );
    }
}

#[test]
fn sort_flags_order_the_table_with_failures_last() {
    let (alpha, bravo, foxtrot) = (
        FakeServer::line(ALPHA),
        FakeServer::line(BRAVO),
        FakeServer::line(FOXTROT),
    );
    let down = dead();
    let (a, b, f) = (alpha.host(), bravo.host(), foxtrot.host());
    let given = [down.as_str(), &a, &b, &f];
    for (flags, order) in [
        (vec![], vec![&down, &a, &b, &f]),
        (vec!["-r"], vec![&f, &b, &a, &down]),
        (vec!["-l"], vec![&f, &b, &a, &down]),
        (vec!["-t"], vec![&a, &f, &b, &down]),
        (vec!["-u"], vec![&a, &b, &f, &down]),
        (vec!["-u", "-r"], vec![&f, &b, &a, &down]),
        (vec!["-l", "-r"], vec![&a, &b, &f, &down]),
    ] {
        let mut args = flags.clone();
        args.extend_from_slice(&given);
        let out = ask(&args);
        assert_eq!(
            hosts(&out),
            order.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            "{flags:?}"
        );
    }
    let out = ask(&["-l", "-t", &a]);
    assert_eq!(out.code(), 2, "one sort at a time: {out:?}");
}

#[test]
fn hosts_come_from_arguments_then_files_and_stdin() {
    let (alpha, bravo, foxtrot) = (
        FakeServer::line(ALPHA),
        FakeServer::line(BRAVO),
        FakeServer::line(FOXTROT),
    );
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("fleet");
    std::fs::write(&list, format!("# the fleet\n{}  # bravo\n\n", bravo.host())).unwrap();
    let out = ruptime_with_input(
        &[
            "-w",
            "1",
            &alpha.host(),
            "-f",
            list.to_str().unwrap(),
            "-f",
            "-",
        ],
        format!("{}\n#{}\n", foxtrot.host(), alpha.host()).as_bytes(),
    );
    assert_eq!(out.code(), 0, "{out:?}");
    assert_eq!(hosts(&out), [alpha.host(), bravo.host(), foxtrot.host()]);

    let out = ask(&["-f", list.to_str().unwrap()]);
    assert_eq!(
        hosts(&out),
        [bravo.host()],
        "a list of one is still a table"
    );
    assert!(out.stdout_text().contains(" up "), "{out:?}");

    let missing = dir.path().join("missing");
    let out = ask(&["-f", missing.to_str().unwrap()]);
    assert_eq!(out.code(), 2);
    assert_eq!(
        out.stderr,
        format!(
            "ruptime: {}: No such file or directory\n",
            missing.display()
        )
    );
    let out = ruptime_with_input(&["-f", "-"], b"# nobody\n");
    assert_eq!(
        (out.code(), out.stderr.as_str()),
        (2, "ruptime: no host to ask\n")
    );
}

#[test]
fn json_gives_every_field_and_nulls_for_the_unknown() {
    let (alpha, odd) = (FakeServer::line(ALPHA), FakeServer::line(ODD));
    let charlie = dead();
    let out = ask(&["--json", "-m", "fork", &alpha.host(), &charlie, &odd.host()]);
    assert_eq!(out.code(), 1);
    let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        parsed,
        json!([
            {"host": alpha.host(), "address": alpha.host(), "mode": "fork", "up": true,
             "uptime_seconds": 2 * 86400 + 3 * 3600 + 4 * 60, "users": 3, "load": [0.0, 0.01, 0.05],
             "raw": String::from_utf8_lossy(ALPHA), "error": null},
            {"host": charlie, "address": charlie, "mode": "fork", "up": false, "uptime_seconds": null,
             "users": null, "load": null, "raw": null, "error": "can't connect: Connection refused"},
            {"host": odd.host(), "address": odd.host(), "mode": "fork", "up": true, "uptime_seconds": null,
             "users": null, "load": null, "raw": "something else\n", "error": null},
        ])
    );
    let single = ask(&["--json", &alpha.host()]);
    assert_eq!(single.code(), 0);
    assert!(
        serde_json::from_slice::<Value>(&single.stdout)
            .unwrap()
            .is_array(),
        "one host is an array too"
    );
}

#[test]
fn one_host_keeps_the_original_output_and_a_meaningful_status() {
    for (reply, status, printed) in [
        (ALPHA, 0, ALPHA),
        // Something else is still an answer, as with the original client.
        (ODD, 0, ODD),
        // The daemon's error line is a failure: on stderr, stdout empty.
        (BROKEN, 1, b""),
    ] {
        let server = FakeServer::line(reply);
        let out = ask(&[&server.host()]);
        assert_eq!(out.stdout, printed);
        assert_eq!(out.code(), status, "{}", String::from_utf8_lossy(reply));
        let explained = if status == 0 {
            String::new()
        } else {
            format!(
                "ruptime: {}: {}",
                server.host(),
                String::from_utf8_lossy(reply)
            )
        };
        assert_eq!(out.stderr, explained);
    }
}

/// `ruptime ARGS` with its stdout on a terminal (a pty made by `script`).
fn on_a_terminal(args: &[&str]) -> String {
    let line = std::iter::once(bin("ruptime").display().to_string())
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let out = run(
        Path::new("script"),
        &["-qec", &line, "/dev/null"],
        Duration::from_secs(60),
    );
    out.stdout_text().replace("\r\n", "\n")
}

#[test]
fn escape_sequences_are_shown_not_obeyed_on_a_terminal() {
    if !have_tools("the terminal test", &["script"]) {
        return;
    }
    let hostile = FakeServer::line(b"\x1b]0;pwned\x07\x1b[2J up \xff\xfe\n");
    let other = FakeServer::line(BRAVO);
    let host = hostile.host();
    assert_eq!(
        on_a_terminal(&[&host]),
        "\\x1b]0;pwned\\x07\\x1b[2J up \\xff\\xfe\n"
    );
    let table = on_a_terminal(&[&host, &other.host()]);
    assert!(
        table.contains("\x1b[32mup\x1b[0m           \\x1b]0;pwned\\x07\\x1b[2J up \\xff\\xfe\n"),
        "{table:?}"
    );
    // Only the state words' own colours are escapes.
    let uncoloured = table
        .replace("\x1b[32m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[0m", "");
    assert!(!uncoloured.contains('\x1b'), "{table:?}");
    assert!(on_a_terminal(&["--raw", &host]).contains("\x1b]0;pwned\x07\x1b[2J"));
    let piped = ask(&[&host]);
    assert_eq!(
        piped.stdout, b"\x1b]0;pwned\x07\x1b[2J up \xff\xfe\n",
        "a pipe gets the bytes"
    );
}
