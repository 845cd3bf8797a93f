//! Bad input: a clear line and a meaningful exit status, never a panic.

use std::net::{TcpListener, UdpSocket};

use ruptime_tests::process::{ruptime, ruptimed};

#[test]
fn unknown_flags_and_modes_give_a_usage_error_and_status_2() {
    for (out, what) in [
        (ruptime(&["--bogus", "localhost"]), "ruptime --bogus"),
        (ruptime(&["-m", "pigeon", "localhost"]), "ruptime -m pigeon"),
        (ruptime(&["-w", "0", "localhost"]), "ruptime -w 0"),
        (ruptime(&["-w", "1e19", "localhost"]), "ruptime -w 1e19"),
        (
            ruptime(&["--pace", "1e19", "localhost"]),
            "ruptime --pace 1e19",
        ),
        (
            ruptimed(&["-f", "--send-timeout", "1e19"]),
            "ruptimed --send-timeout 1e19",
        ),
        (
            ruptimed(&["-f", "-m", "fork", "--request-timeout", "1e19"]),
            "ruptimed --request-timeout 1e19",
        ),
        (ruptime(&["-4", "-6", "localhost"]), "ruptime -4 -6"),
        (ruptimed(&["--bogus"]), "ruptimed --bogus"),
        (ruptimed(&["-m", "pigeon"]), "ruptimed -m pigeon"),
        (
            ruptimed(&["--max-children", "0"]),
            "ruptimed --max-children 0",
        ),
    ] {
        assert_eq!(out.code(), 2, "{what}: {out:?}");
        assert!(out.stderr.starts_with("error: "), "{what}: {}", out.stderr);
        assert!(out.stderr.contains("--help"), "{what}: {}", out.stderr);
        assert_eq!(out.stdout_text(), "", "{what}");
    }
}

#[test]
fn an_unknown_port_name_is_a_usage_error_for_the_client() {
    let out = ruptime(&["-p", "no-such-service", "localhost"]);
    assert_eq!(out.code(), 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "ruptime: --port no-such-service: unknown port 'no-such-service': not a number, nor a tcp service in /etc/services\n"
    );
    let out = ruptimed(&["-f", "-m", "dgram", "-p", "no-such-service"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stderr,
        "ruptimed: --port no-such-service: unknown port 'no-such-service': not a number, nor a udp service in /etc/services\n"
    );
}

#[test]
fn an_unresolvable_host_gives_one_clear_line_and_status_1() {
    for mode in ["stream", "fork", "dgram"] {
        let out = ruptime(&["-m", mode, "no-such-host.invalid"]);
        assert_eq!(out.code(), 1, "{mode}: {out:?}");
        assert!(
            out.stderr
                .starts_with("ruptime: no-such-host.invalid: cannot resolve: "),
            "{}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert_eq!(out.stdout_text(), "");
    }
}

#[test]
fn a_port_in_use_gives_one_clear_line_and_status_1() {
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tcp.local_addr().unwrap().port().to_string();
    for mode in ["stream", "fork"] {
        for foreground in [true, false] {
            let mut args = vec!["-m", mode, "-l", "127.0.0.1", "-p", &port];
            if foreground {
                args.push("-f");
            }
            let out = ruptimed(&args);
            assert_eq!(out.code(), 1, "{out:?}");
            assert_eq!(
                out.stderr,
                format!(
                    "ruptimed: cannot listen on 127.0.0.1:{port} ({mode}): Address already in use\n"
                )
            );
        }
    }
    let udp = UdpSocket::bind("[::1]:0").unwrap();
    let port = udp.local_addr().unwrap().port().to_string();
    let out = ruptimed(&["-f", "-m", "dgram", "-l", "::1", "-p", &port]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stderr,
        format!("ruptimed: cannot listen on [::1]:{port} (dgram): Address already in use\n")
    );
}

#[test]
fn ports_out_of_range_and_port_0_are_told_plainly() {
    let out = ruptime(&["-p", "99999", "localhost"]);
    assert_eq!(out.code(), 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "ruptime: --port 99999: port 99999 is out of range: 0 to 65535\n"
    );
    let out = ruptime(&["-p", "0", "localhost"]);
    assert_eq!(out.code(), 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "ruptime: --port 0: port 0 cannot be asked: 1 to 65535\n"
    );
    let out = ruptime(&["127.0.0.1:0"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stderr,
        "ruptime: 127.0.0.1:0: port 0 cannot be asked: 1 to 65535\n"
    );
    let out = ruptimed(&["-f", "-p", "99999"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stderr,
        "ruptimed: --port 99999: port 99999 is out of range: 0 to 65535\n"
    );
}

#[test]
fn each_program_s_help_speaks_of_itself() {
    let daemon = ruptimed(&["--help"]);
    assert_eq!(daemon.code(), 0);
    assert!(
        !daemon.stdout_text().contains("per host"),
        "{}",
        daemon.stdout_text()
    );
    assert!(
        daemon
            .stdout_text()
            .contains("a child process per connection")
    );
    let client = ruptime(&["--help"]);
    assert!(
        !client.stdout_text().contains("per connection"),
        "{}",
        client.stdout_text()
    );
}
